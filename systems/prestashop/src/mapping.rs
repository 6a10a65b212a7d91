//! PrestaShop records ↔ canonical records (`shared/protocols/shops.md` §2).
//!
//! Prices: a product's `price` is without tax, so it is `price_net`; a combination's `price` is
//! an impact added to its product's. A product written without `price_net` is sent at
//! `price_gross ÷ (1 + vat_rate)` when the rate is known. Order lines carry their unit price
//! without tax (`unit_price_tax_excl`) and the rate that `unit_price_tax_incl` implies.
use crate::schema::Resource;
use crate::xml::Element;
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// The decimals PrestaShop keeps of prices and totals (`DECIMAL(20,6)`).
pub(crate) const PLACES: u32 = 6;

/// A PrestaShop time (`2024-05-01 10:00:00`, shop-local, read as UTC).
pub(crate) fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text?, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|at| at.and_utc())
}

/// A time as PrestaShop writes it.
pub(crate) fn shop_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A decimal field, `None` when absent, empty or not a number.
pub(crate) fn decimal(record: &Element, field: &str) -> Option<Decimal> {
    Decimal::from_str(record.text_of(field)?.trim()).ok()
}

/// A decimal as canonical text (`20.000000` → `20`).
fn canonical(value: Decimal) -> String {
    value.normalize().to_string()
}

/// A decimal of a JSON payload (string or number).
pub(crate) fn payload_decimal(payload: &Value, field: &str) -> Option<Decimal> {
    match payload.get(field)? {
        Value::String(text) => Decimal::from_str(text.trim()).ok(),
        Value::Number(number) => Decimal::from_str(&number.to_string()).ok(),
        _ => None,
    }
}

/// A text of a JSON payload (numbers as their text), `None` when empty.
pub(crate) fn payload_text(payload: &Value, field: &str) -> Option<String> {
    match payload.get(field)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn put(fields: &mut Map<String, Value>, field: &str, value: Option<impl Into<String>>) {
    if let Some(value) = value {
        fields.insert(field.to_owned(), Value::String(value.into()));
    }
}

/// Names the shop's ids stand for: categories, and option values with their option.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    /// Category id → name (root categories left out: every product is in them).
    pub categories: HashMap<String, String>,
    /// Option value id → (option name, value name): `Size` → `M`.
    pub option_values: HashMap<String, (String, String)>,
    /// Country id → ISO code (`131` → `LT`).
    pub countries: HashMap<String, String>,
    /// Currency id → ISO code (`1` → `EUR`).
    pub currencies: HashMap<String, String>,
}

/// The ids listed in an association (`associations/categories/category/id`).
pub(crate) fn association_ids(record: &Element, association: &str) -> Vec<String> {
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

/// A product (with its combinations) as a canonical product.
pub(crate) fn product_from_shop(
    product: &Element,
    combinations: &[&Element],
    catalog: &Catalog,
    language: &str,
) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "sku", product.text_of("reference"));
    put(&mut fields, "name", product.language_text("name", language));
    put(
        &mut fields,
        "description",
        product.language_text("description_short", language),
    );
    put(
        &mut fields,
        "long_description",
        product.language_text("description", language),
    );
    put(&mut fields, "ean", product.text_of("ean13"));
    let price = decimal(product, "price");
    put(&mut fields, "price_net", price.map(canonical));
    put(
        &mut fields,
        "weight",
        decimal(product, "weight")
            .filter(|weight| !weight.is_zero())
            .map(canonical),
    );
    if let Some(active) = product.text_of("active") {
        fields.insert("active".to_owned(), Value::Bool(active == "1"));
    }
    let categories: Vec<Value> = association_ids(product, "categories")
        .iter()
        .filter_map(|id| catalog.categories.get(id))
        .map(|name| Value::String(name.clone()))
        .collect();
    if !categories.is_empty() {
        fields.insert("categories".to_owned(), Value::Array(categories));
    }
    let variants: Vec<Value> = combinations
        .iter()
        .filter_map(|combination| {
            let mut variant = Map::new();
            put(&mut variant, "sku", Some(combination.text_of("reference")?));
            put(&mut variant, "ean", combination.text_of("ean13"));
            let impact = decimal(combination, "price").unwrap_or_default();
            put(&mut variant, "price_net", price.map(|price| canonical(price + impact)));
            let attributes: BTreeMap<String, String> = association_ids(combination, "product_option_values")
                .iter()
                .filter_map(|id| catalog.option_values.get(id).cloned())
                .collect();
            if !attributes.is_empty() {
                variant.insert("attributes".to_owned(), json!(attributes));
            }
            Some(Value::Object(variant))
        })
        .collect();
    if !variants.is_empty() {
        fields.insert("variants".to_owned(), Value::Array(variants));
    }
    put(
        &mut fields,
        "updated_at",
        parse_time(product.text_of("date_upd")).map(|at| at.to_rfc3339()),
    );
    let mut raw = Map::new();
    for name in [
        "id",
        "id_category_default",
        "id_tax_rules_group",
        "quantity",
        "type",
        "id_manufacturer",
    ] {
        put(&mut raw, name, product.text_of(name));
    }
    fields.insert("raw".to_owned(), Value::Object(raw));
    Value::Object(fields)
}

/// The combinations of a product that cannot become variants (no reference), as
/// `(key, message)`: left out of the product, reported rather than dropped.
pub(crate) fn unreadable_combinations(product: &Element, combinations: &[&Element]) -> Vec<(String, String)> {
    let product_id = product.text_of("id").unwrap_or("?");
    combinations
        .iter()
        .filter(|combination| combination.text_of("reference").is_none())
        .map(|combination| {
            let id = combination.text_of("id").unwrap_or("?");
            (
                format!("{product_id}/combinations/{id}"),
                format!(
                    "combination {id} of product {} has no reference (SKU), so it is left out of the product: give it \
                     one in PrestaShop (Catalog → Products → Combinations), then resolve this dead letter",
                    product.text_of("reference").unwrap_or(product_id)
                ),
            )
        })
        .collect()
}

/// The price a canonical product or variant is sold at without tax, to PrestaShop's 6
/// decimals: `price_net`, else `price_gross` less its `vat_rate` (or as it is without one).
pub(crate) fn net_price(record: &Value, vat_rate: Option<Decimal>) -> Option<Decimal> {
    let net = payload_decimal(record, "price_net").or_else(|| {
        let gross = payload_decimal(record, "price_gross")?;
        match vat_rate.or_else(|| payload_decimal(record, "vat_rate")) {
            Some(rate) => Some(gross / (Decimal::ONE + rate / Decimal::ONE_HUNDRED)),
            None => Some(gross),
        }
    })?;
    Some(net.round_dp_with_strategy(PLACES, RoundingStrategy::MidpointAwayFromZero))
}

/// A decimal as PrestaShop writes it (`20.000000`).
pub(crate) fn shop_decimal(value: Decimal) -> String {
    let mut value = value.round_dp_with_strategy(PLACES, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(PLACES);
    value.to_string()
}

/// A URL slug of a name, for `link_rewrite` (PrestaShop requires one per language).
pub(crate) fn slug(name: &str) -> String {
    let mut slug = String::new();
    for character in name.to_lowercase().chars() {
        let character = match character {
            'ą' => 'a',
            'č' => 'c',
            'ę' | 'ė' => 'e',
            'į' => 'i',
            'š' => 's',
            'ų' | 'ū' => 'u',
            'ž' => 'z',
            other => other,
        };
        if character.is_ascii_alphanumeric() {
            slug.push(character);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    if slug.is_empty() {
        "product".to_owned()
    } else {
        slug
    }
}

/// Drops the fields PrestaShop computes itself, which a PUT must not carry ("not writable").
pub(crate) fn strip_read_only(record: &mut Element, resource: &Resource) {
    record
        .children
        .retain(|child| resource.field(&child.name).is_none_or(|field| !field.read_only));
}

/// Writes a canonical product's fields onto a product record (the current one for an update:
/// everything not mapped stays as the shop had it). `category_ids` are the ids of its categories.
pub(crate) fn product_to_shop(record: &mut Element, payload: &Value, language: &str, category_ids: &[String]) {
    if let Some(sku) = payload_text(payload, "sku") {
        record.set_text("reference", sku);
    }
    if let Some(name) = payload_text(payload, "name") {
        if record.language_text("link_rewrite", language).is_none() {
            record.set_language_text("link_rewrite", language, slug(&name));
        }
        record.set_language_text("name", language, name);
    }
    if let Some(text) = payload_text(payload, "description") {
        record.set_language_text("description_short", language, text);
    }
    if let Some(text) = payload_text(payload, "long_description") {
        record.set_language_text("description", language, text);
    }
    if let Some(ean) = payload_text(payload, "ean") {
        record.set_text("ean13", ean);
    }
    if let Some(price) = net_price(payload, None) {
        record.set_text("price", shop_decimal(price));
    }
    if let Some(weight) = payload_decimal(payload, "weight") {
        record.set_text("weight", shop_decimal(weight));
    }
    if let Some(active) = payload.get("active").and_then(Value::as_bool) {
        record.set_text("active", if active { "1" } else { "0" });
    } else if record.text_of("active").is_none() {
        record.set_text("active", "1");
    }
    if !category_ids.is_empty() {
        record.set_text("id_category_default", category_ids[0].clone());
        let mut list = Element::new("categories");
        for id in category_ids {
            list.children
                .push(Element::new("category").with_child(Element::leaf("id", id.clone())));
        }
        let mut associations = record
            .child("associations")
            .cloned()
            .unwrap_or_else(|| Element::new("associations"));
        // A full-replace PUT sends back only what Tiltas manages: categories.
        associations.children.retain(|child| child.name == "categories");
        associations.remove("categories");
        associations.children.push(list);
        record.remove("associations");
        record.children.push(associations);
    } else if let Some(associations) = record.child_mut("associations") {
        associations.children.retain(|child| child.name == "categories");
    }
}

/// A `stock_availables` row as a canonical stock level of `sku` in `warehouse`: PrestaShop
/// keeps one quantity, what can be sold, so it is both on hand and available.
pub(crate) fn stock_from_shop(row: &Element, sku: &str, warehouse: &str) -> Value {
    let quantity = decimal(row, "quantity").unwrap_or_default();
    let mut raw = Map::new();
    for name in ["id", "id_product", "id_product_attribute", "id_shop", "out_of_stock"] {
        put(&mut raw, name, row.text_of(name));
    }
    json!({
        "sku": sku,
        "warehouse": warehouse,
        "on_hand": canonical(quantity),
        "reserved": "0",
        "available": canonical(quantity),
        "raw": raw,
    })
}

/// An address as a canonical address (its country as the ISO code the catalog names).
fn address_from_shop(address: &Element, catalog: &Catalog) -> Value {
    let mut fields = Map::new();
    let name = [address.text_of("firstname"), address.text_of("lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(&mut fields, "name", Some(name).filter(|name| !name.is_empty()));
    for (canonical, shop) in [
        ("company", "company"),
        ("line1", "address1"),
        ("line2", "address2"),
        ("city", "city"),
        ("postcode", "postcode"),
    ] {
        put(&mut fields, canonical, address.text_of(shop));
    }
    put(
        &mut fields,
        "phone",
        address.text_of("phone").or_else(|| address.text_of("phone_mobile")),
    );
    put(
        &mut fields,
        "country",
        address
            .text_of("id_country")
            .and_then(|id| catalog.countries.get(id))
            .cloned(),
    );
    Value::Object(fields)
}

/// A customer (with its addresses, the first one its billing address) as a canonical customer.
pub(crate) fn customer_from_shop(customer: &Element, addresses: &[&Element], catalog: &Catalog) -> Value {
    let mut fields = Map::new();
    let first_address = addresses.iter().find(|address| address.text_of("deleted") != Some("1"));
    let company = customer
        .text_of("company")
        .or_else(|| first_address.and_then(|address| address.text_of("company")));
    put(&mut fields, "email", customer.text_of("email"));
    put(&mut fields, "first_name", customer.text_of("firstname"));
    put(&mut fields, "last_name", customer.text_of("lastname"));
    let name = [customer.text_of("firstname"), customer.text_of("lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(
        &mut fields,
        "name",
        company
            .map(str::to_owned)
            .or(Some(name).filter(|name| !name.is_empty())),
    );
    fields.insert(
        "kind".to_owned(),
        json!(if company.is_some() { "company" } else { "person" }),
    );
    put(&mut fields, "company_name", company);
    put(
        &mut fields,
        "vat_code",
        first_address.and_then(|address| address.text_of("vat_number")),
    );
    if let Some(address) = first_address {
        let billing = address_from_shop(address, catalog);
        put(&mut fields, "phone", billing.get("phone").and_then(Value::as_str));
        fields.insert("billing".to_owned(), billing);
    }
    put(
        &mut fields,
        "updated_at",
        parse_time(customer.text_of("date_upd")).map(|at| at.to_rfc3339()),
    );
    let mut raw = Map::new();
    for name in ["id", "id_default_group", "active", "newsletter"] {
        put(&mut raw, name, customer.text_of(name));
    }
    if let Some(country) = first_address.and_then(|address| address.text_of("id_country")) {
        raw.insert("id_country".to_owned(), json!(country));
    }
    fields.insert("raw".to_owned(), Value::Object(raw));
    Value::Object(fields)
}

/// Writes a canonical customer's fields onto a customer record.
pub(crate) fn customer_to_shop(record: &mut Element, payload: &Value) {
    if let Some(email) = payload_text(payload, "email") {
        record.set_text("email", email);
    }
    let (first, last) = match (payload_text(payload, "first_name"), payload_text(payload, "last_name")) {
        (None, None) => {
            // A company, or a person known by one name: PrestaShop wants both names.
            let name = payload_text(payload, "name").or_else(|| payload_text(payload, "company_name"));
            match name.as_deref().and_then(|name| name.split_once(' ')) {
                Some((first, last)) => (Some(first.to_owned()), Some(last.to_owned())),
                None => (name.clone(), name),
            }
        }
        (first, None) => (first.clone(), first),
        (None, last) => (last.clone(), last),
        pair => pair,
    };
    if let Some(first) = first {
        record.set_text("firstname", first);
    }
    if let Some(last) = last {
        record.set_text("lastname", last);
    }
    if let Some(company) = payload_text(payload, "company_name") {
        record.set_text("company", company);
    }
    if record.text_of("active").is_none() {
        record.set_text("active", "1");
    }
}

/// An order (with its customer and addresses when found) as a canonical order.
pub(crate) fn order_from_shop(
    order: &Element,
    customer: Option<&Element>,
    invoice: Option<&Element>,
    delivery: Option<&Element>,
    catalog: &Catalog,
) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "number", order.text_of("id"));
    put(&mut fields, "status", order.text_of("current_state"));
    put(
        &mut fields,
        "created_at",
        parse_time(order.text_of("date_add")).map(|at| at.to_rfc3339()),
    );
    put(
        &mut fields,
        "updated_at",
        parse_time(order.text_of("date_upd")).map(|at| at.to_rfc3339()),
    );
    put(
        &mut fields,
        "currency",
        order
            .text_of("id_currency")
            .and_then(|id| catalog.currencies.get(id))
            .cloned(),
    );
    let mut buyer = Map::new();
    if let Some(customer) = customer {
        put(&mut buyer, "email", customer.text_of("email"));
        let name = [customer.text_of("firstname"), customer.text_of("lastname")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        put(&mut buyer, "name", Some(name).filter(|name| !name.is_empty()));
    }
    if let Some(invoice) = invoice {
        put(&mut buyer, "company_name", invoice.text_of("company"));
        put(&mut buyer, "vat_code", invoice.text_of("vat_number"));
        put(
            &mut buyer,
            "phone",
            invoice.text_of("phone").or_else(|| invoice.text_of("phone_mobile")),
        );
        fields.insert("billing".to_owned(), address_from_shop(invoice, catalog));
    }
    if let Some(delivery) = delivery {
        fields.insert("shipping".to_owned(), address_from_shop(delivery, catalog));
    }
    if !buyer.is_empty() {
        fields.insert("customer".to_owned(), Value::Object(buyer));
    }
    let rows: Vec<&Element> = order
        .child("associations")
        .and_then(|associations| associations.child("order_rows"))
        .map(|rows| rows.children_named("order_row").collect())
        .unwrap_or_default();
    let lines: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut line = Map::new();
            put(&mut line, "sku", row.text_of("product_reference"));
            put(&mut line, "name", row.text_of("product_name"));
            let quantity = decimal(row, "product_quantity");
            put(&mut line, "quantity", quantity.map(canonical));
            let net = decimal(row, "unit_price_tax_excl");
            let gross = decimal(row, "unit_price_tax_incl");
            put(&mut line, "price", net.map(canonical));
            if let (Some(net), Some(gross), Some(quantity)) = (net, gross, quantity) {
                put(&mut line, "total", Some(canonical(net * quantity)));
                put(&mut line, "total_tax", Some(canonical((gross - net) * quantity)));
                if !net.is_zero() {
                    let rate = ((gross - net) / net * Decimal::ONE_HUNDRED).round_dp(1);
                    put(&mut line, "vat_rate", Some(canonical(rate)));
                }
            }
            Value::Object(line)
        })
        .collect();
    fields.insert("lines".to_owned(), Value::Array(lines));
    put(&mut fields, "payment_method", order.text_of("payment"));
    put(&mut fields, "shipping_method", order.text_of("id_carrier"));
    let gross = decimal(order, "total_paid_tax_incl").or_else(|| decimal(order, "total_paid"));
    let net = decimal(order, "total_paid_tax_excl");
    let mut totals = Map::new();
    put(&mut totals, "gross", gross.map(canonical));
    put(&mut totals, "net", net.map(canonical));
    put(
        &mut totals,
        "vat",
        gross.zip(net).map(|(gross, net)| canonical(gross - net)),
    );
    let shipping = decimal(order, "total_shipping_tax_excl");
    put(&mut totals, "shipping", shipping.map(canonical));
    put(
        &mut totals,
        "shipping_tax",
        decimal(order, "total_shipping_tax_incl")
            .zip(shipping)
            .map(|(gross, net)| canonical(gross - net)),
    );
    put(
        &mut totals,
        "discount",
        decimal(order, "total_discounts_tax_excl")
            .filter(|discount| !discount.is_zero())
            .map(canonical),
    );
    fields.insert("totals".to_owned(), Value::Object(totals));
    let mut raw = Map::new();
    for name in ["id", "reference", "id_customer", "id_currency", "module", "id_cart"] {
        put(&mut raw, name, order.text_of(name));
    }
    fields.insert("raw".to_owned(), Value::Object(raw));
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gross_price_is_sent_net_to_six_places() {
        let product = json!({"sku": "A", "price_gross": "12.10", "vat_rate": "21"});
        assert_eq!(net_price(&product, None), Some(Decimal::new(10, 0)));
        assert_eq!(shop_decimal(Decimal::new(10, 0)), "10.000000");
        let odd = json!({"price_gross": "10", "vat_rate": "21"});
        assert_eq!(
            net_price(&odd, None).map(|price| price.to_string()).as_deref(),
            Some("8.264463")
        );
    }

    #[test]
    fn a_slug_is_ascii() {
        assert_eq!(slug("Žalias  Medžio stalas!"), "zalias-medzio-stalas");
    }
}
