//! The shop's tables: every record an element tree holding all of its resource's fields, in
//! the Webservice's order; seeding, rendering (read-only fields computed), and full-replace
//! writes validated the way PrestaShop validates them.
use crate::PsError;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;
use tiltas_prestashop::schema::{self, Resource};
use tiltas_prestashop::xml::Element;

/// The language every seeded text is in.
pub(crate) const LANGUAGE: &str = "1";
/// Lithuania's standard VAT rate, which seeded orders charge.
const VAT_PERCENT: i64 = 21;

/// Everything the shop stores; cloned whole for `/__sim/reset`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shop {
    /// Records by collection, then id.
    pub tables: BTreeMap<&'static str, BTreeMap<u64, Element>>,
    next_ids: BTreeMap<&'static str, u64>,
    /// Mutations so far (each draws its records from the seed and this count).
    pub mutations: u64,
}

/// How much seeded data the shop starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data, of mutations and of fault decisions.
    pub seed: u64,
    /// Products (about one in four with size and colour combinations).
    pub products: usize,
    /// Customers, each with one address.
    pub customers: usize,
    /// Orders placed before the simulator starts.
    pub orders: usize,
    /// One product in four has combinations (off: one stock row per product, for tests that
    /// count stock levels).
    pub combinations: bool,
}

impl Default for Seeding {
    fn default() -> Self {
        Seeding {
            seed: 1,
            products: 20,
            customers: 10,
            orders: 0,
            combinations: true,
        }
    }
}

/// When seeded records were made: a fixed time, so the same seed gives the same shop.
fn seeded_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().unwrap_or_default()
}

/// A time as PrestaShop writes it.
pub(crate) fn shop_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Now, as PrestaShop writes it.
pub(crate) fn now() -> String {
    shop_time(Utc::now())
}

/// Money as PrestaShop writes it (`20.000000`).
fn money(value: Decimal) -> String {
    let mut value = value.round_dp(6);
    value.rescale(6);
    value.to_string()
}

/// An empty record of `resource`: every field, in order, empty.
pub(crate) fn blank(resource: &Resource) -> Element {
    let mut record = Element::new(resource.element);
    for field in resource.fields {
        let mut child = Element::new(field.name);
        if field.language {
            child
                .children
                .push(Element::new("language").with_attribute("id", LANGUAGE));
        }
        if field.read_only {
            child.attributes.push(("notFilterable".to_owned(), "true".to_owned()));
        }
        record.children.push(child);
    }
    if !resource.associations.is_empty() {
        let mut associations = Element::new("associations");
        for association in resource.associations {
            associations.children.push(
                Element::new(association.name)
                    .with_attribute("nodeType", association.item)
                    .with_attribute("api", association.name),
            );
        }
        record.children.push(associations);
    }
    record
}

/// A record of `resource` with the given texts (language fields in [`LANGUAGE`]).
fn record(resource: &Resource, values: &[(&str, String)]) -> Element {
    let mut record = blank(resource);
    for (name, value) in values {
        match resource.field(name) {
            Some(field) if field.language => record.set_language_text(name, LANGUAGE, value.clone()),
            _ => record.set_text(name, value.clone()),
        }
    }
    record
}

/// Sets an association's items (each a list of `(field, value)`).
pub(crate) fn set_association(record: &mut Element, name: &str, item: &str, items: Vec<Vec<(&str, String)>>) {
    if record.child("associations").is_none() {
        record.children.push(Element::new("associations"));
    }
    let Some(associations) = record.child_mut("associations") else {
        return;
    };
    let mut list = Element::new(name)
        .with_attribute("nodeType", item)
        .with_attribute("api", name);
    for fields in items {
        let mut entry = Element::new(item);
        for (field, value) in fields {
            entry.children.push(Element::leaf(field, value));
        }
        list.children.push(entry);
    }
    match associations.children.iter_mut().find(|child| child.name == name) {
        Some(existing) => *existing = list,
        None => associations.children.push(list),
    }
}

impl Shop {
    fn next_id(&mut self, collection: &'static str) -> u64 {
        let next = self.next_ids.entry(collection).or_insert(0);
        *next += 1;
        *next
    }

    /// The table of a collection.
    pub(crate) fn table(&self, collection: &str) -> Option<&BTreeMap<u64, Element>> {
        self.tables.get(collection)
    }

    /// Inserts a new record, giving it the next id and its dates.
    pub(crate) fn insert(&mut self, collection: &'static str, mut record: Element, at: &str) -> u64 {
        let id = self.next_id(collection);
        record.set_text("id", id.to_string());
        for field in ["date_add", "date_upd"] {
            if record.child(field).is_some() {
                record.set_text(field, at);
            }
        }
        self.tables.entry(collection).or_default().insert(id, record);
        id
    }

    /// The seeded shop.
    pub(crate) fn seeded(seeding: &Seeding) -> Shop {
        let mut rng = StdRng::seed_from_u64(seeding.seed);
        let mut shop = Shop::default();
        for resource in schema::RESOURCES {
            shop.tables.insert(resource.collection, BTreeMap::new());
        }
        let epoch = seeded_epoch();
        let at = shop_time(epoch);
        for (name, root) in [("Root", "0"), ("Home", "1")] {
            let category = record(
                &schema::CATEGORIES,
                &[
                    ("id_parent", if name == "Root" { "0" } else { "1" }.to_owned()),
                    ("active", "1".to_owned()),
                    ("is_root_category", root.to_owned()),
                    ("name", name.to_owned()),
                    ("link_rewrite", name.to_lowercase()),
                ],
            );
            shop.insert("categories", category, &at);
        }
        let category_names = ["Įrankiai", "Drabužiai", "Sodas", "Virtuvė", "Biuras"];
        for name in category_names {
            let category = record(
                &schema::CATEGORIES,
                &[
                    ("id_parent", "2".to_owned()),
                    ("active", "1".to_owned()),
                    ("name", name.to_owned()),
                    ("link_rewrite", name.to_lowercase()),
                ],
            );
            shop.insert("categories", category, &at);
        }
        let options = [("Dydis", vec!["S", "M", "L"]), ("Spalva", vec!["Juoda", "Mėlyna"])];
        let mut value_ids: Vec<Vec<u64>> = Vec::new();
        for (name, values) in &options {
            let option = record(
                &schema::PRODUCT_OPTIONS,
                &[
                    ("group_type", "select".to_owned()),
                    ("name", (*name).to_owned()),
                    ("public_name", (*name).to_owned()),
                ],
            );
            let group = shop.insert("product_options", option, &at);
            let mut ids = Vec::new();
            for value in values {
                let entry = record(
                    &schema::PRODUCT_OPTION_VALUES,
                    &[("id_attribute_group", group.to_string()), ("name", (*value).to_owned())],
                );
                ids.push(shop.insert("product_option_values", entry, &at));
            }
            value_ids.push(ids);
        }
        for (iso, name) in [
            ("LT", "Lietuva"),
            ("LV", "Latvija"),
            ("FR", "France"),
            ("DE", "Deutschland"),
        ] {
            let country = record(
                &schema::COUNTRIES,
                &[
                    ("iso_code", iso.to_owned()),
                    ("active", "1".to_owned()),
                    ("name", name.to_owned()),
                ],
            );
            shop.insert("countries", country, &at);
        }
        for (iso, rate) in [("EUR", "1.000000"), ("USD", "1.080000")] {
            let currency = record(
                &schema::CURRENCIES,
                &[
                    ("iso_code", iso.to_owned()),
                    ("conversion_rate", rate.to_owned()),
                    ("active", "1".to_owned()),
                    ("name", iso.to_owned()),
                ],
            );
            shop.insert("currencies", currency, &at);
        }
        for state in [
            "Awaiting payment",
            "Payment accepted",
            "Processing in progress",
            "Shipped",
            "Delivered",
            "Canceled",
            "Refunded",
        ] {
            let entry = record(&schema::ORDER_STATES, &[("name", state.to_owned())]);
            shop.insert("order_states", entry, &at);
        }
        let things = [
            "Plaktukas",
            "Kastuvas",
            "Puodelis",
            "Marškinėliai",
            "Segtuvas",
            "Laistytuvas",
            "Peilis",
        ];
        for n in 1..=seeding.products {
            let at = shop_time(epoch + Duration::minutes(n as i64));
            let thing = things[rng.gen_range(0..things.len())];
            let price = Decimal::new(rng.gen_range(199..50_000), 2);
            let category = 3 + rng.gen_range(0..category_names.len()) as u64;
            let sku = format!("PS-{n:05}");
            let name = format!("{thing} {n}");
            let mut product = record(
                &schema::PRODUCTS,
                &[
                    ("id_category_default", category.to_string()),
                    ("type", "simple".to_owned()),
                    ("id_shop_default", "1".to_owned()),
                    ("state", "1".to_owned()),
                    ("reference", sku.clone()),
                    ("ean13", ean13(477_000_000_000 + n as u64)),
                    ("weight", money(Decimal::new(rng.gen_range(1..5000), 3))),
                    ("minimal_quantity", "1".to_owned()),
                    ("price", money(price)),
                    ("active", "1".to_owned()),
                    ("available_for_order", "1".to_owned()),
                    ("condition", "new".to_owned()),
                    ("show_price", "1".to_owned()),
                    ("visibility", "both".to_owned()),
                    ("id_tax_rules_group", "1".to_owned()),
                    ("name", name.clone()),
                    ("link_rewrite", tiltas_slug(&name)),
                    ("description_short", format!("<p>{thing}</p>")),
                ],
            );
            set_association(
                &mut product,
                "categories",
                "category",
                vec![vec![("id", "2".to_owned())], vec![("id", category.to_string())]],
            );
            let id = shop.insert("products", product, &at);
            shop.add_stock(id, 0, rng.gen_range(0..200), &at);
            if seeding.combinations && n % 4 == 0 {
                let colours = value_ids.get(1).cloned().unwrap_or_default();
                let sizes = value_ids.first().cloned().unwrap_or_default();
                let count = rng.gen_range(2..=4usize);
                let mut pairs: Vec<(u64, u64)> = sizes
                    .iter()
                    .flat_map(|size| colours.iter().map(move |colour| (*size, *colour)))
                    .collect();
                pairs.shuffle(&mut rng);
                for (index, (size, colour)) in pairs.into_iter().take(count).enumerate() {
                    let mut combination = record(
                        &schema::COMBINATIONS,
                        &[
                            ("id_product", id.to_string()),
                            ("reference", format!("{sku}-{}", index + 1)),
                            ("price", money(Decimal::new(rng.gen_range(0..3) * 100, 2))),
                            ("minimal_quantity", "1".to_owned()),
                            ("default_on", if index == 0 { "1" } else { "" }.to_owned()),
                        ],
                    );
                    set_association(
                        &mut combination,
                        "product_option_values",
                        "product_option_value",
                        vec![vec![("id", size.to_string())], vec![("id", colour.to_string())]],
                    );
                    let combination_id = shop.insert("combinations", combination, &at);
                    shop.add_stock(id, combination_id, rng.gen_range(0..50), &at);
                }
                shop.sync_product_stock(id);
            }
        }
        let first = ["Ona", "Jonas", "Rūta", "Petras", "Asta", "Tomas"];
        let last = [
            "Kazlauskienė",
            "Petraitis",
            "Jankauskaitė",
            "Stankevičius",
            "Vasiliauskas",
        ];
        for n in 1..=seeding.customers {
            shop.seed_customer(&mut rng, n, &first, &last, epoch);
        }
        for n in 1..=seeding.orders {
            shop.seed_order(&mut rng, n, epoch);
        }
        shop
    }

    fn seed_customer(
        &mut self,
        rng: &mut StdRng,
        n: usize,
        first: &[&str],
        last: &[&str],
        epoch: DateTime<Utc>,
    ) -> u64 {
        let at = shop_time(epoch + Duration::minutes(n as i64));
        let firstname = first[rng.gen_range(0..first.len())];
        let lastname = last[rng.gen_range(0..last.len())];
        let customer = record(
            &schema::CUSTOMERS,
            &[
                ("id_default_group", "3".to_owned()),
                ("id_lang", LANGUAGE.to_owned()),
                ("deleted", "0".to_owned()),
                ("passwd", format!("$2y$10$seeded{n:010}")),
                ("secure_key", format!("{:032x}", rng.gen::<u128>())),
                ("lastname", lastname.to_owned()),
                ("firstname", firstname.to_owned()),
                ("email", format!("pirkejas{n}@example.lt")),
                ("active", "1".to_owned()),
                ("is_guest", "0".to_owned()),
                ("id_shop", "1".to_owned()),
            ],
        );
        let id = self.insert("customers", customer, &at);
        let address = record(
            &schema::ADDRESSES,
            &[
                ("id_customer", id.to_string()),
                ("id_country", "1".to_owned()),
                ("alias", "Namai".to_owned()),
                ("lastname", lastname.to_owned()),
                ("firstname", firstname.to_owned()),
                ("address1", format!("Gedimino pr. {}", rng.gen_range(1..100))),
                ("postcode", format!("LT-{:05}", rng.gen_range(1000..99_999))),
                ("city", "Vilnius".to_owned()),
                ("phone", format!("+3706{:07}", rng.gen_range(0..10_000_000))),
                ("deleted", "0".to_owned()),
            ],
        );
        self.insert("addresses", address, &at);
        id
    }

    /// A new order of a customer (a new one when the shop has none), 1–3 rows, 21% VAT.
    pub(crate) fn seed_order(&mut self, rng: &mut StdRng, n: usize, epoch: DateTime<Utc>) -> u64 {
        let at = shop_time(epoch + Duration::minutes(n as i64));
        let customers: Vec<u64> = self
            .tables
            .get("customers")
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        let customer = match customers.choose(rng) {
            Some(id) => *id,
            None => self.seed_customer(rng, 1000 + n, &["Ona"], &["Pirkėja"], epoch),
        };
        let address = self
            .tables
            .get("addresses")
            .and_then(|table| {
                table
                    .iter()
                    .find(|(_, address)| address.text_of("id_customer") == Some(&customer.to_string()))
                    .map(|(id, _)| *id)
            })
            .unwrap_or(0);
        // Sellable lines: products without combinations, and combinations.
        let mut sellable: Vec<(u64, u64, String, String, Decimal)> = Vec::new();
        if let Some(products) = self.tables.get("products") {
            for (id, product) in products {
                let price = Decimal::from_str(product.text_of("price").unwrap_or("0")).unwrap_or_default();
                let name = product.language_text("name", LANGUAGE).unwrap_or_default().to_owned();
                let combinations: Vec<(u64, &Element)> = self
                    .tables
                    .get("combinations")
                    .map(|table| {
                        table
                            .iter()
                            .filter(|(_, combination)| combination.text_of("id_product") == Some(&id.to_string()))
                            .map(|(cid, combination)| (*cid, combination))
                            .collect()
                    })
                    .unwrap_or_default();
                if combinations.is_empty() {
                    sellable.push((
                        *id,
                        0,
                        product.text_of("reference").unwrap_or_default().to_owned(),
                        name,
                        price,
                    ));
                } else {
                    for (cid, combination) in combinations {
                        let impact = Decimal::from_str(combination.text_of("price").unwrap_or("0")).unwrap_or_default();
                        sellable.push((
                            *id,
                            cid,
                            combination.text_of("reference").unwrap_or_default().to_owned(),
                            name.clone(),
                            price + impact,
                        ));
                    }
                }
            }
        }
        let rate = Decimal::new(VAT_PERCENT, 2);
        let mut rows = Vec::new();
        let (mut net, mut gross) = (Decimal::ZERO, Decimal::ZERO);
        for row in 0..rng.gen_range(1..=3usize) {
            let Some((product, combination, reference, name, price)) = sellable.choose(rng).cloned() else {
                break;
            };
            let quantity = rng.gen_range(1..4i64);
            let unit_gross = (price * (Decimal::ONE + rate)).round_dp(2);
            net += price * Decimal::from(quantity);
            gross += unit_gross * Decimal::from(quantity);
            rows.push(vec![
                ("id", (n * 10 + row).to_string()),
                ("product_id", product.to_string()),
                ("product_attribute_id", combination.to_string()),
                ("product_quantity", quantity.to_string()),
                ("product_name", name),
                ("product_reference", reference),
                ("product_ean13", String::new()),
                ("product_price", money(price)),
                ("id_customization", "0".to_owned()),
                ("unit_price_tax_incl", money(unit_gross)),
                ("unit_price_tax_excl", money(price)),
            ]);
        }
        let shipping_net = Decimal::new(300, 2);
        let shipping_gross = (shipping_net * (Decimal::ONE + rate)).round_dp(2);
        let paid = gross + shipping_gross;
        let mut order = record(
            &schema::ORDERS,
            &[
                ("id_address_delivery", address.to_string()),
                ("id_address_invoice", address.to_string()),
                ("id_cart", n.to_string()),
                ("id_currency", "1".to_owned()),
                ("id_lang", LANGUAGE.to_owned()),
                ("id_customer", customer.to_string()),
                ("id_carrier", "2".to_owned()),
                ("current_state", "2".to_owned()),
                ("module", "ps_wirepayment".to_owned()),
                ("valid", "1".to_owned()),
                ("id_shop_group", "1".to_owned()),
                ("id_shop", "1".to_owned()),
                ("payment", "Bank transfer".to_owned()),
                ("total_discounts", money(Decimal::ZERO)),
                ("total_discounts_tax_incl", money(Decimal::ZERO)),
                ("total_discounts_tax_excl", money(Decimal::ZERO)),
                ("total_paid", money(paid)),
                ("total_paid_tax_incl", money(paid)),
                ("total_paid_tax_excl", money(net + shipping_net)),
                ("total_paid_real", money(paid)),
                ("total_products", money(net)),
                ("total_products_wt", money(gross)),
                ("total_shipping", money(shipping_gross)),
                ("total_shipping_tax_incl", money(shipping_gross)),
                ("total_shipping_tax_excl", money(shipping_net)),
                ("carrier_tax_rate", money(Decimal::from(VAT_PERCENT))),
                ("conversion_rate", money(Decimal::ONE)),
                ("reference", format!("{:09}", 100_000_000 + n)),
            ],
        );
        set_association(&mut order, "order_rows", "order_row", rows);
        let id = self.insert("orders", order, &at);
        let history = record(
            &schema::ORDER_HISTORIES,
            &[
                ("id_order", id.to_string()),
                ("id_order_state", "2".to_owned()),
                ("id_employee", "0".to_owned()),
            ],
        );
        self.insert("order_histories", history, &at);
        id
    }

    /// Adds the `stock_availables` row of a product or combination.
    pub(crate) fn add_stock(&mut self, product: u64, combination: u64, quantity: i64, at: &str) {
        let row = record(
            &schema::STOCK_AVAILABLES,
            &[
                ("id_product", product.to_string()),
                ("id_product_attribute", combination.to_string()),
                ("id_shop", "1".to_owned()),
                ("id_shop_group", "0".to_owned()),
                ("quantity", quantity.to_string()),
                ("depends_on_stock", "0".to_owned()),
                ("out_of_stock", "2".to_owned()),
            ],
        );
        self.insert("stock_availables", row, at);
    }

    /// A product with combinations has, in its own row, the sum of theirs (as PrestaShop keeps it).
    pub(crate) fn sync_product_stock(&mut self, product: u64) {
        let Some(rows) = self.tables.get_mut("stock_availables") else {
            return;
        };
        let product_text = product.to_string();
        let combined: Vec<i64> = rows
            .values()
            .filter(|row| {
                row.text_of("id_product") == Some(&product_text)
                    && row.text_of("id_product_attribute").unwrap_or("0") != "0"
            })
            .map(|row| row.text_of("quantity").and_then(|q| q.parse().ok()).unwrap_or(0))
            .collect();
        if combined.is_empty() {
            return;
        }
        let total: i64 = combined.iter().sum();
        if let Some(row) = rows.values_mut().find(|row| {
            row.text_of("id_product") == Some(&product_text) && row.text_of("id_product_attribute") == Some("0")
        }) {
            row.set_text("quantity", total.to_string());
        }
    }

    /// A record as the Webservice shows it: read-only fields and computed associations filled.
    pub(crate) fn render(&self, collection: &str, id: u64) -> Option<Element> {
        let mut record = self.tables.get(collection)?.get(&id)?.clone();
        let id_text = id.to_string();
        let stock_of = |product: &str, combination: &str| -> Option<String> {
            self.tables.get("stock_availables")?.values().find_map(|row| {
                (row.text_of("id_product") == Some(product)
                    && row.text_of("id_product_attribute").unwrap_or("0") == combination)
                    .then(|| row.text_of("quantity").unwrap_or("0").to_owned())
            })
        };
        match collection {
            "products" => {
                record.set_text("quantity", stock_of(&id_text, "0").unwrap_or_else(|| "0".to_owned()));
                let combinations: Vec<(u64, &Element)> = self
                    .tables
                    .get("combinations")
                    .map(|table| {
                        table
                            .iter()
                            .filter(|(_, combination)| combination.text_of("id_product") == Some(&id_text))
                            .map(|(cid, combination)| (*cid, combination))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut values: Vec<String> = combinations
                    .iter()
                    .flat_map(|(_, combination)| tiltas_association_ids(combination, "product_option_values"))
                    .collect();
                values.sort();
                values.dedup();
                let stock: Vec<Vec<(&str, String)>> = self
                    .tables
                    .get("stock_availables")
                    .map(|rows| {
                        rows.iter()
                            .filter(|(_, row)| row.text_of("id_product") == Some(&id_text))
                            .map(|(sid, row)| {
                                vec![
                                    ("id", sid.to_string()),
                                    (
                                        "id_product_attribute",
                                        row.text_of("id_product_attribute").unwrap_or("0").to_owned(),
                                    ),
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                set_association(
                    &mut record,
                    "combinations",
                    "combination",
                    combinations
                        .iter()
                        .map(|(cid, _)| vec![("id", cid.to_string())])
                        .collect(),
                );
                set_association(
                    &mut record,
                    "product_option_values",
                    "product_option_value",
                    values.into_iter().map(|value| vec![("id", value)]).collect(),
                );
                set_association(&mut record, "stock_availables", "stock_available", stock);
                record.set_text(
                    "cache_default_attribute",
                    combinations
                        .first()
                        .map(|(cid, _)| cid.to_string())
                        .unwrap_or_else(|| "0".to_owned()),
                );
            }
            "combinations" => {
                let product = record.text_of("id_product").unwrap_or_default().to_owned();
                record.set_text(
                    "quantity",
                    stock_of(&product, &id_text).unwrap_or_else(|| "0".to_owned()),
                );
            }
            "categories" => {
                let depth = match record.text_of("id_parent") {
                    Some("0") => "0",
                    Some("1") => "1",
                    _ => "2",
                };
                record.set_text("level_depth", depth);
                record.set_text("nb_products_recursive", "-1");
            }
            _ => {}
        }
        // Read-only fields keep PrestaShop's marker.
        if let Some(resource) = schema::resource(collection) {
            for child in &mut record.children {
                if resource.field(&child.name).is_some_and(|field| field.read_only)
                    && child.attribute("notFilterable").is_none()
                {
                    child.attributes.push(("notFilterable".to_owned(), "true".to_owned()));
                }
            }
        }
        Some(record)
    }

    /// Deletes a record and what hangs on it (a product's combinations and stock rows).
    pub(crate) fn delete(&mut self, collection: &str, id: u64) -> bool {
        let Some(table) = self.tables.get_mut(collection) else {
            return false;
        };
        if table.remove(&id).is_none() {
            return false;
        }
        let id_text = id.to_string();
        match collection {
            "products" => {
                for dependent in ["combinations", "stock_availables"] {
                    if let Some(table) = self.tables.get_mut(dependent) {
                        table.retain(|_, record| record.text_of("id_product") != Some(&id_text));
                    }
                }
            }
            "combinations" => {
                if let Some(table) = self.tables.get_mut("stock_availables") {
                    table.retain(|_, row| row.text_of("id_product_attribute") != Some(&id_text));
                }
            }
            _ => {}
        }
        true
    }

    /// Validates a written record against its resource and builds what is stored: every field
    /// in order, those the body omits empty (PUT replaces the whole record).
    pub(crate) fn build(resource: &'static Resource, body: &Element, creating: bool) -> Result<Element, PsError> {
        for child in &body.children {
            if let Some(field) = resource.field(&child.name) {
                if field.read_only {
                    return Err(PsError::bad_request(
                        93,
                        format!(
                            "parameter \"{}\" not writable. Please remove this attribute of this XML",
                            child.name
                        ),
                    ));
                }
            }
        }
        let id = body.text_of("id");
        if creating && id.is_some() {
            return Err(PsError::bad_request(91, "id is forbidden when adding a new resource"));
        }
        let mut stored = blank(resource);
        for field in resource.fields {
            let Some(given) = body.child(field.name) else {
                if field.required && !field.read_only {
                    return Err(PsError::bad_request(
                        41,
                        format!("parameter \"{}\" required", field.name),
                    ));
                }
                continue;
            };
            let empty = given.text.is_empty() && given.children.iter().all(|language| language.text.is_empty());
            if field.required && empty {
                return Err(PsError::bad_request(
                    41,
                    format!("parameter \"{}\" required", field.name),
                ));
            }
            if let Some(slot) = stored.child_mut(field.name) {
                slot.text = given.text.clone();
                slot.children = given
                    .children
                    .iter()
                    .filter(|language| language.name == "language")
                    .map(|language| {
                        Element::leaf("language", language.text.clone())
                            .with_attribute("id", language.attribute("id").unwrap_or(LANGUAGE))
                    })
                    .collect();
                if !field.language {
                    slot.children.clear();
                }
            }
        }
        validate(resource, &stored)?;
        if let Some(associations) = body.child("associations") {
            for association in resource.associations {
                if let Some(list) = associations.child(association.name) {
                    let items = list
                        .children
                        .iter()
                        .map(|item| {
                            association
                                .fields
                                .iter()
                                .filter_map(|field| Some((*field, item.text_of(field)?.to_owned())))
                                .collect()
                        })
                        .collect();
                    set_association(&mut stored, association.name, association.item, items);
                }
            }
        }
        Ok(stored)
    }
}

/// PrestaShop's field validation (`ObjectModel::validateFields`) for the fields Tiltas writes.
fn validate(resource: &Resource, record: &Element) -> Result<(), PsError> {
    let class = match resource.collection {
        "products" => "Product",
        "combinations" => "Combination",
        "customers" => "Customer",
        "categories" => "Category",
        "stock_availables" => "StockAvailable",
        _ => return Ok(()),
    };
    let invalid = |field: &str| {
        PsError::bad_request(
            85,
            format!("Validation error: \"Property {class}->{field} is not valid\""),
        )
    };
    for field in ["price", "weight", "wholesale_price"] {
        if let Some(text) = record.text_of(field) {
            if Decimal::from_str(text).is_err() {
                return Err(invalid(field));
            }
        }
    }
    if resource.collection == "products" {
        if let Some(reference) = record.text_of("reference") {
            if reference.len() > 64 || reference.contains(['<', '>', ';', '=', '#', '{', '}']) {
                return Err(invalid("reference"));
            }
        }
        if let Some(ean) = record.text_of("ean13") {
            if ean.len() > 13 || !ean.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid("ean13"));
            }
        }
    }
    if resource.collection == "customers" {
        let email = record.text_of("email").unwrap_or_default();
        if !email.contains('@') || email.contains(' ') {
            return Err(invalid("email"));
        }
    }
    if resource.collection == "stock_availables"
        && record.text_of("quantity").is_some_and(|q| q.parse::<i64>().is_err())
    {
        return Err(invalid("quantity"));
    }
    Ok(())
}

/// A valid EAN-13 (check digit computed) from 12 digits.
fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// The ids listed in an association.
pub(crate) fn tiltas_association_ids(record: &Element, association: &str) -> Vec<String> {
    record
        .child("associations")
        .and_then(|associations| associations.child(association))
        .map(|list| {
            list.children
                .iter()
                .filter_map(|item| item.text_of("id").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An ASCII slug for `link_rewrite`.
pub(crate) fn tiltas_slug(name: &str) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug.trim_matches('-').to_owned()
}
