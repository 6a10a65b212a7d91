//! The seeded shop: categories, simple and configurable products (Color × Size children), MSI
//! source items, customers and orders, all from the seed; and `/__sim/mutate`.
use crate::{Seeding, Shop};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

/// 2026-01-01 00:00:00 UTC: shop time starts here and ticks a second per change.
const EPOCH: i64 = 1_767_225_600;

const THINGS: [&str; 8] = ["Hoodie", "Jacket", "Tee", "Pants", "Bag", "Watch", "Bottle", "Cap"];
const ADJECTIVES: [&str; 6] = ["Chaz", "Abominable", "Bruno", "Atlas", "Juno", "Orion"];
const FIRST: [&str; 6] = ["Jonas", "Ona", "Petras", "Rūta", "Mantas", "Eglė"];
const LAST: [&str; 6] = [
    "Kazlauskas",
    "Petraitė",
    "Jankauskas",
    "Žukauskaitė",
    "Stankevičius",
    "Vasiliauskas",
];
/// The `color` attribute (id 93) and its options as (value, label).
const COLORS: [(&str, &str); 3] = [("49", "Black"), ("50", "Blue"), ("58", "Red")];
/// The `size` attribute (id 152) and its options.
const SIZES: [(&str, &str); 3] = [("167", "S"), ("168", "M"), ("169", "L")];

/// The select attributes products are configured by: code → (attribute id, label, options as
/// (value, label)).
pub(crate) fn attributes() -> std::collections::BTreeMap<String, Attribute> {
    let attribute = |id: &str, label: &str, options: &[(&str, &str)]| Attribute {
        id: id.to_owned(),
        label: label.to_owned(),
        options: options
            .iter()
            .map(|(value, label)| ((*value).to_owned(), (*label).to_owned()))
            .collect(),
    };
    std::collections::BTreeMap::from([
        ("color".to_owned(), attribute("93", "Color", &COLORS)),
        ("size".to_owned(), attribute("152", "Size", &SIZES)),
    ])
}

/// A select attribute: its id, label and options (value, label).
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub id: String,
    pub label: String,
    pub options: Vec<(String, String)>,
}

impl Attribute {
    /// `GET /V1/products/attributes/{code}/options`: Magento lists an empty option first.
    pub fn options_json(&self) -> Value {
        let mut list = vec![json!({ "label": " ", "value": "" })];
        list.extend(
            self.options
                .iter()
                .map(|(value, label)| json!({ "label": label, "value": value })),
        );
        Value::Array(list)
    }

    /// `GET /V1/products/attributes/{code}`.
    pub fn json(&self, code: &str) -> Value {
        json!({ "attribute_id": self.id.parse::<u64>().unwrap_or_default(), "attribute_code": code,
                "frontend_input": "select", "default_frontend_label": self.label, "is_required": false,
                "scope": "global", "options": self.options_json() })
    }
}

fn cents(amount: i64) -> Value {
    // Magento answers amounts as JSON numbers; written from text so 12.30 stays exact.
    serde_json::from_str(&format!("{}.{:02}", amount / 100, amount % 100)).unwrap_or(json!(0))
}

fn ascii(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'ą' => 'a',
            'č' => 'c',
            'ę' | 'ė' => 'e',
            'į' => 'i',
            'š' => 's',
            'ų' | 'ū' => 'u',
            'ž' => 'z',
            other => other,
        })
        .collect()
}

fn categories() -> Vec<Value> {
    let category = |id: u64, parent: u64, name: &str, level: u64| {
        json!({ "id": id, "parent_id": parent, "name": name, "is_active": true, "position": id, "level": level,
                "children": "", "created_at": "2025-12-01 10:00:00", "updated_at": "2025-12-01 10:00:00",
                "path": if level > 2 { format!("1/2/{parent}/{id}") } else { format!("1/{parent}/{id}") },
                "include_in_menu": true })
    };
    vec![
        category(2, 1, "Default Category", 1),
        category(3, 2, "Gear", 2),
        category(4, 2, "Men", 2),
        category(5, 2, "Women", 2),
        category(6, 3, "Bags", 3),
    ]
}

/// `GET /V1/categories`: the tree under the default category.
pub(crate) fn category_tree(categories: &[Value]) -> Value {
    let children: Vec<Value> = categories
        .iter()
        .filter(|category| category["parent_id"] == json!(2))
        .map(|category| {
            json!({ "id": category["id"], "parent_id": 2, "name": category["name"], "is_active": category["is_active"],
                    "position": category["position"], "level": category["level"], "product_count": 0, "children_data": [] })
        })
        .collect();
    json!({ "id": 2, "parent_id": 1, "name": "Default Category", "is_active": true, "position": 1, "level": 1,
            "product_count": 0, "children_data": children })
}

/// The legacy `stockItems/{sku}` view of a product: its default source's quantity.
pub(crate) fn stock_item(shop: &Shop, id: u64, sku: &str) -> Value {
    let quantity = shop
        .source_items
        .get(&(sku.to_owned(), "default".to_owned()))
        .map(|item| item["quantity"].clone())
        .unwrap_or(json!(0));
    let in_stock = quantity.as_f64().is_some_and(|quantity| quantity > 0.0);
    json!({ "item_id": id, "product_id": id, "stock_id": 1, "qty": quantity, "is_in_stock": in_stock,
            "is_qty_decimal": false, "manage_stock": true, "use_config_manage_stock": true, "min_qty": 0 })
}

fn product(shop: &mut Shop, fields: Value) -> u64 {
    let at = shop.tick();
    shop.next_product_id += 1;
    let id = shop.next_product_id;
    let mut map = fields.as_object().cloned().unwrap_or_default();
    map.insert("id".to_owned(), json!(id));
    map.insert("attribute_set_id".to_owned(), json!(4));
    map.insert("status".to_owned(), json!(1));
    map.insert("created_at".to_owned(), json!(at));
    map.insert("updated_at".to_owned(), json!(at));
    shop.products.insert(id, map);
    id
}

fn add_products(shop: &mut Shop, rng: &mut StdRng, count: usize) {
    for n in 1..=count {
        let sku = format!("MT-{n:05}");
        let name = format!(
            "{} {} {n}",
            ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())],
            THINGS[rng.gen_range(0..THINGS.len())]
        );
        let price = rng.gen_range(500..20_000);
        let category = rng.gen_range(3..=5).to_string();
        let custom = json!([
            { "attribute_code": "description", "value": format!("<p>{name}, made to last.</p>") },
            { "attribute_code": "short_description", "value": name.clone() },
            { "attribute_code": "url_key", "value": sku.to_lowercase() },
        ]);
        if n % 4 != 0 {
            product(
                shop,
                json!({ "sku": sku, "name": name, "price": cents(price), "visibility": 4, "type_id": "simple",
                        "weight": cents(rng.gen_range(10..300)), "custom_attributes": custom,
                        "extension_attributes": { "website_ids": [1], "category_links": [{ "position": 0, "category_id": category }] } }),
            );
            let quantity = rng.gen_range(0..100);
            shop.source_items.insert(
                (sku.clone(), "default".to_owned()),
                json!({ "sku": sku, "source_code": "default", "quantity": quantity, "status": if quantity > 0 { 1 } else { 0 } }),
            );
            continue;
        }
        let mut links = Vec::new();
        for (color, color_label) in COLORS.iter().take(2) {
            for (size, size_label) in SIZES.iter().take(2) {
                let child_sku = format!("{sku}-{size_label}-{color_label}");
                let id = product(
                    shop,
                    json!({ "sku": child_sku, "name": format!("{name}-{size_label}-{color_label}"), "price": cents(price),
                            "visibility": 1, "type_id": "simple",
                            "custom_attributes": [{ "attribute_code": "color", "value": color }, { "attribute_code": "size", "value": size }],
                            "extension_attributes": { "website_ids": [1] } }),
                );
                links.push(json!(id));
                let quantity = rng.gen_range(0..30);
                shop.source_items.insert(
                    (child_sku.clone(), "default".to_owned()),
                    json!({ "sku": child_sku, "source_code": "default", "quantity": quantity, "status": if quantity > 0 { 1 } else { 0 } }),
                );
            }
        }
        product(
            shop,
            json!({ "sku": sku, "name": name, "price": 0, "visibility": 4, "type_id": "configurable", "custom_attributes": custom,
                    "extension_attributes": { "website_ids": [1], "category_links": [{ "position": 0, "category_id": category }],
                        "configurable_product_options": [
                            { "id": n * 2, "attribute_id": "93", "label": "Color", "position": 0, "values": [{ "value_index": 49 }, { "value_index": 50 }] },
                            { "id": n * 2 + 1, "attribute_id": "152", "label": "Size", "position": 1, "values": [{ "value_index": 167 }, { "value_index": 168 }] }
                        ],
                        "configurable_product_links": links } }),
        );
    }
}

fn address(rng: &mut StdRng, first: &str, last: &str, customer_id: u64, id: u64, billing: bool) -> Value {
    json!({ "id": id, "customer_id": customer_id, "region": { "region_code": null, "region": null, "region_id": 0 },
            "region_id": 0, "country_id": "LT", "street": [format!("Gedimino pr. {}", rng.gen_range(1..120))],
            "telephone": format!("+3706{:07}", rng.gen_range(0..10_000_000)), "postcode": format!("LT-{:05}", rng.gen_range(1000..99_999)),
            "city": "Vilnius", "firstname": first, "lastname": last,
            (if billing { "default_billing" } else { "default_shipping" }): true })
}

fn add_customer(shop: &mut Shop, rng: &mut StdRng, n: usize) {
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    let last = LAST[rng.gen_range(0..LAST.len())];
    let at = shop.tick();
    shop.next_customer_id += 1;
    let id = shop.next_customer_id;
    let mut billing = address(rng, first, last, id, id * 2, true);
    if n % 3 == 0 {
        billing["company"] = json!(format!("UAB {last}"));
    }
    let shipping = address(rng, first, last, id, id * 2 + 1, false);
    let customer = json!({ "id": id, "group_id": 1, "default_billing": (id * 2).to_string(), "default_shipping": (id * 2 + 1).to_string(),
        "created_at": at, "updated_at": at, "created_in": "Default Store View",
        "email": format!("{}.{}{n}@example.lt", ascii(first), ascii(last)), "firstname": first, "lastname": last,
        "gender": 0, "store_id": 1, "website_id": 1, "addresses": [billing, shipping], "disable_auto_group_change": 0,
        "extension_attributes": { "is_subscribed": false } });
    if let Value::Object(map) = customer {
        shop.customers.insert(id, map);
    }
}

/// An order of one to three products; a configurable product is sold as a parent row plus
/// its child row, as Magento stores it.
fn add_order(shop: &mut Shop, rng: &mut StdRng) {
    let at = shop.tick();
    shop.next_order_id += 1;
    let id = shop.next_order_id;
    let sellable: Vec<Map<String, Value>> = shop
        .products
        .values()
        .filter(|product| product.get("visibility").and_then(Value::as_u64) == Some(4))
        .cloned()
        .collect();
    let customer = if shop.customers.is_empty() {
        None
    } else {
        let index = rng.gen_range(0..shop.customers.len());
        shop.customers.values().nth(index).cloned()
    };
    let mut items = Vec::new();
    let (mut subtotal, mut tax) = (0i64, 0i64);
    for _ in 0..rng.gen_range(1..=3) {
        if sellable.is_empty() {
            break;
        }
        let product = &sellable[rng.gen_range(0..sellable.len())];
        let quantity = rng.gen_range(1..=3);
        let configurable = product.get("type_id").and_then(Value::as_str) == Some("configurable");
        let (sku, name, price) = if configurable {
            let child_id = product["extension_attributes"]["configurable_product_links"][0]
                .as_u64()
                .unwrap_or_default();
            let child = shop.products.get(&child_id).cloned().unwrap_or_default();
            (
                child.get("sku").cloned(),
                product.get("name").cloned(),
                child.get("price").cloned(),
            )
        } else {
            (
                product.get("sku").cloned(),
                product.get("name").cloned(),
                product.get("price").cloned(),
            )
        };
        let price_cents = price
            .as_ref()
            .and_then(|price| price.to_string().replace('.', "").parse::<i64>().ok())
            .map(|raw| {
                // The price was written from cents with two decimals or as a whole number.
                let text = price.as_ref().map(Value::to_string).unwrap_or_default();
                match text.split_once('.') {
                    Some((_, fraction)) if fraction.len() == 1 => raw * 10,
                    Some(_) => raw,
                    None => raw * 100,
                }
            })
            .unwrap_or(1000);
        let row = price_cents * quantity;
        let row_tax = (row * 21 + 50) / 100;
        subtotal += row;
        tax += row_tax;
        shop.next_item_id += 1;
        let item_id = shop.next_item_id;
        items.push(json!({ "item_id": item_id, "order_id": id, "sku": sku, "name": name,
            "product_type": if configurable { "configurable" } else { "simple" }, "product_id": product["id"],
            "qty_ordered": quantity, "price": cents(price_cents), "base_price": cents(price_cents),
            "price_incl_tax": cents(price_cents + (price_cents * 21 + 50) / 100), "row_total": cents(row),
            "row_total_incl_tax": cents(row + row_tax), "tax_amount": cents(row_tax), "tax_percent": 21,
            "discount_amount": 0, "discount_percent": 0, "created_at": at, "updated_at": at }));
        if configurable {
            shop.next_item_id += 1;
            items.push(json!({ "item_id": shop.next_item_id, "order_id": id, "parent_item_id": item_id, "sku": sku,
                "name": name, "product_type": "simple", "qty_ordered": quantity, "price": 0, "base_price": 0,
                "row_total": 0, "tax_amount": 0, "tax_percent": 0, "discount_amount": 0, "created_at": at, "updated_at": at,
                "parent_item": { "item_id": item_id, "sku": sku, "product_type": "configurable" } }));
        }
    }
    let shipping = 499;
    let (email, first, last, customer_id) = match &customer {
        Some(customer) => (
            customer["email"].clone(),
            customer["firstname"].clone(),
            customer["lastname"].clone(),
            customer["id"].clone(),
        ),
        None => (
            json!("guest@example.lt"),
            json!("Svečias"),
            json!("Pirkėjas"),
            Value::Null,
        ),
    };
    let billing = json!({ "address_type": "billing", "city": "Vilnius", "country_id": "LT", "email": email,
        "entity_id": id * 2, "firstname": first, "lastname": last, "parent_id": id, "postcode": "LT-01100",
        "street": ["Gedimino pr. 1"], "telephone": "+37060000000" });
    let mut shipping_address = billing.clone();
    shipping_address["address_type"] = json!("shipping");
    shipping_address["entity_id"] = json!(id * 2 + 1);
    let order = json!({ "entity_id": id, "increment_id": format!("{:09}", id), "state": "processing", "status": "processing",
        "created_at": at, "updated_at": at, "customer_email": email, "customer_firstname": first, "customer_lastname": last,
        "customer_id": customer_id, "customer_is_guest": if customer.is_some() { 0 } else { 1 },
        "order_currency_code": "EUR", "base_currency_code": "EUR", "store_id": 1,
        "subtotal": cents(subtotal), "tax_amount": cents(tax), "shipping_amount": cents(shipping), "shipping_tax_amount": 0,
        "discount_amount": 0, "grand_total": cents(subtotal + tax + shipping), "total_qty_ordered": items.len(),
        "items": items, "billing_address": billing, "payment": { "method": "checkmo", "amount_ordered": cents(subtotal + tax + shipping) },
        "status_histories": [{ "comment": "Order placed", "status": "processing", "created_at": at, "entity_id": id, "parent_id": id,
                               "is_customer_notified": 0, "is_visible_on_front": 0 }],
        "extension_attributes": { "shipping_assignments": [{ "shipping": { "address": shipping_address, "method": "flatrate_flatrate",
            "total": { "shipping_amount": cents(shipping) } }, "items": [] }] } });
    if let Value::Object(map) = order {
        shop.orders.insert(id, map);
    }
}

/// The shop as seeded.
pub(crate) fn shop(seeding: &Seeding) -> Shop {
    let mut rng = StdRng::seed_from_u64(seeding.seed);
    let mut shop = Shop {
        clock: EPOCH,
        categories: categories(),
        attributes: attributes(),
        next_option_id: 300,
        ..Shop::default()
    };
    add_products(&mut shop, &mut rng, seeding.products);
    for n in 1..=seeding.customers {
        add_customer(&mut shop, &mut rng, n);
    }
    for _ in 0..seeding.orders {
        add_order(&mut shop, &mut rng);
    }
    shop
}

/// `/__sim/mutate`: changes `count` products (price), customers (last name) or stock levels
/// (quantity), or places `count` new orders; every change bumps `updated_at`.
pub(crate) fn mutate(shop: &mut Shop, seeding: &Seeding, entity: &str, count: usize) -> Result<usize, String> {
    shop.mutations += 1;
    let mut rng = StdRng::seed_from_u64(seeding.seed.wrapping_add(shop.mutations.wrapping_mul(7919)));
    let pick = |rng: &mut StdRng, mut ids: Vec<u64>| {
        let mut chosen = Vec::new();
        while chosen.len() < count.min(ids.len()) {
            let index = rng.gen_range(0..ids.len());
            chosen.push(ids.swap_remove(index));
        }
        chosen.sort_unstable();
        chosen
    };
    match entity {
        "product" => {
            let children = shop.child_ids();
            let ids: Vec<u64> = shop
                .products
                .keys()
                .copied()
                .filter(|id| !children.contains(id))
                .collect();
            let chosen = pick(&mut rng, ids);
            for id in &chosen {
                let at = shop.tick();
                let price = rng.gen_range(500..20_000);
                if let Some(product) = shop.products.get_mut(id) {
                    if product.get("type_id").and_then(Value::as_str) != Some("configurable") {
                        product.insert("price".to_owned(), cents(price));
                    } else {
                        product.insert(
                            "name".to_owned(),
                            json!(format!("{} (new)", product["name"].as_str().unwrap_or(""))),
                        );
                    }
                    product.insert("updated_at".to_owned(), json!(at));
                }
            }
            Ok(chosen.len())
        }
        "customer" => {
            let ids: Vec<u64> = shop.customers.keys().copied().collect();
            let chosen = pick(&mut rng, ids);
            for id in &chosen {
                let at = shop.tick();
                let last = LAST[rng.gen_range(0..LAST.len())];
                if let Some(customer) = shop.customers.get_mut(id) {
                    customer.insert("lastname".to_owned(), json!(format!("{last}-{}", shop.mutations)));
                    customer.insert("updated_at".to_owned(), json!(at));
                }
            }
            Ok(chosen.len())
        }
        "stock" => {
            let keys: Vec<(String, String)> = shop.source_items.keys().cloned().collect();
            let chosen = pick(&mut rng, (0..keys.len() as u64).collect());
            for index in &chosen {
                let quantity = rng.gen_range(0..200);
                if let Some(item) = keys.get(*index as usize).and_then(|key| shop.source_items.get_mut(key)) {
                    item["quantity"] = json!(quantity);
                    item["status"] = json!(if quantity > 0 { 1 } else { 0 });
                }
            }
            Ok(chosen.len())
        }
        "order" => {
            for _ in 0..count {
                add_order(shop, &mut rng);
            }
            Ok(count)
        }
        other => Err(format!(
            "unknown entity {other:?}: use product, customer, stock or order"
        )),
    }
}
