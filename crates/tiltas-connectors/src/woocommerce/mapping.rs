//! WooCommerce resources ↔ canonical records (`shared/protocols/shops.md` §1).
//!
//! Prices: WooCommerce stores one `regular_price` whose tax meaning is a shop setting; Tiltas
//! treats it as the price the buyer sees, `price_gross` (EU shops enter prices with VAT). A
//! product without `price_gross` is sent with `price_net`.
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::str::FromStr;

/// A WooCommerce `*_gmt` time (`2024-05-01T10:00:00`, no zone) as UTC.
pub(crate) fn gmt(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|at| at.and_utc())
}

/// A resource's id as text.
pub(crate) fn id_of(resource: &Value) -> Option<String> {
    match resource.get("id")? {
        Value::Number(number) if number.as_u64().is_some_and(|id| id > 0) => Some(number.to_string()),
        Value::String(text) if !text.is_empty() && text != "0" => Some(text.clone()),
        _ => None,
    }
}

fn text(resource: &Value, field: &str) -> Option<String> {
    resource
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// A money value (string or number) as normalised decimal text.
fn money(value: Option<&Value>) -> Option<String> {
    let decimal = match value? {
        Value::String(text) if !text.trim().is_empty() => Decimal::from_str(text.trim()).ok()?,
        Value::Number(number) => Decimal::from_str(&number.to_string()).ok()?,
        _ => return None,
    };
    Some(decimal.normalize().to_string())
}

fn decimal(value: Option<&Value>) -> Option<Decimal> {
    money(value).and_then(|text| Decimal::from_str(&text).ok())
}

/// Puts `value` at `field` when there is one.
fn put(fields: &mut Map<String, Value>, field: &str, value: Option<String>) {
    if let Some(value) = value {
        fields.insert(field.to_owned(), Value::String(value));
    }
}

/// A product (with its variations, for a variable one) as a canonical product.
pub(crate) fn product_from_shop(product: &Value, variations: &[Value]) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "sku", text(product, "sku"));
    put(&mut fields, "name", text(product, "name"));
    put(&mut fields, "description", text(product, "short_description"));
    put(&mut fields, "long_description", text(product, "description"));
    put(&mut fields, "price_gross", money(product.get("regular_price")));
    put(&mut fields, "weight", money(product.get("weight")));
    let categories: Vec<Value> = product
        .get("categories")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| text(item, "name"))
                .map(Value::String)
                .collect()
        })
        .unwrap_or_default();
    if !categories.is_empty() {
        fields.insert("categories".to_owned(), Value::Array(categories));
    }
    let mut attributes = Map::new();
    for attribute in product
        .get("attributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let variation = attribute.get("variation").and_then(Value::as_bool).unwrap_or(false);
        let options: Vec<&str> = attribute
            .get("options")
            .and_then(Value::as_array)
            .map(|options| options.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let (false, Some(name)) = (variation, text(attribute, "name")) {
            attributes.insert(name, Value::String(options.join(", ")));
        }
    }
    if !attributes.is_empty() {
        fields.insert("attributes".to_owned(), Value::Object(attributes));
    }
    if let Some(status) = text(product, "status") {
        fields.insert("active".to_owned(), Value::Bool(status == "publish"));
    }
    let variants: Vec<Value> = variations
        .iter()
        .filter_map(|variation| {
            let sku = text(variation, "sku")?;
            let mut variant = Map::new();
            variant.insert("sku".to_owned(), Value::String(sku));
            put(&mut variant, "price_gross", money(variation.get("regular_price")));
            let attributes: Map<String, Value> = variation
                .get("attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|attribute| Some((text(attribute, "name")?, Value::String(text(attribute, "option")?))))
                .collect();
            if !attributes.is_empty() {
                variant.insert("attributes".to_owned(), Value::Object(attributes));
            }
            Some(Value::Object(variant))
        })
        .collect();
    if !variants.is_empty() {
        fields.insert("variants".to_owned(), Value::Array(variants));
    }
    fields.insert(
        "raw".to_owned(),
        json!({
            "id": product.get("id"),
            "type": product.get("type"),
            "status": product.get("status"),
            "stock_quantity": product.get("stock_quantity"),
        }),
    );
    Value::Object(fields)
}

/// The price a canonical product or variant is sold at in the shop, in cents (`"12.10"`): a
/// computed gross price (`net × 1.21`) is rounded half away from zero, as shops show it.
fn shop_price(record: &Value) -> Option<String> {
    let price = decimal(record.get("price_gross")).or_else(|| decimal(record.get("price_net")))?;
    let cents = price.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    Some(format!("{cents:.2}"))
}

/// A canonical product as a WooCommerce product body (without categories, which need ids).
pub(crate) fn product_to_shop(product: &Value, creating: bool) -> Map<String, Value> {
    let mut body = Map::new();
    put(&mut body, "sku", text(product, "sku"));
    put(&mut body, "name", text(product, "name"));
    put(&mut body, "short_description", text(product, "description"));
    put(&mut body, "description", text(product, "long_description"));
    put(&mut body, "weight", money(product.get("weight")));
    let variants = product
        .get("variants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut attributes: Vec<Value> = Vec::new();
    if let Some(Value::Object(plain)) = product.get("attributes") {
        for (name, value) in plain {
            if let Some(value) = value.as_str() {
                attributes.push(json!({ "name": name, "visible": true, "variation": false, "options": [value] }));
            }
        }
    }
    if variants.is_empty() {
        body.insert("type".to_owned(), json!("simple"));
        put(&mut body, "regular_price", shop_price(product));
    } else {
        body.insert("type".to_owned(), json!("variable"));
        // Every attribute the variants differ in, with every option in first-seen order.
        let mut names: Vec<(String, Vec<String>)> = Vec::new();
        for variant in &variants {
            if let Some(Value::Object(values)) = variant.get("attributes") {
                for (name, option) in values {
                    let Some(option) = option.as_str() else { continue };
                    match names.iter_mut().find(|(known, _)| known == name) {
                        Some((_, options)) if !options.iter().any(|known| known == option) => {
                            options.push(option.to_owned())
                        }
                        Some(_) => {}
                        None => names.push((name.clone(), vec![option.to_owned()])),
                    }
                }
            }
        }
        for (name, options) in names {
            attributes.push(json!({ "name": name, "visible": true, "variation": true, "options": options }));
        }
    }
    if !attributes.is_empty() {
        body.insert("attributes".to_owned(), Value::Array(attributes));
    }
    match product.get("active").and_then(Value::as_bool) {
        Some(active) => {
            body.insert("status".to_owned(), json!(if active { "publish" } else { "draft" }));
        }
        None if creating => {
            body.insert("status".to_owned(), json!("publish"));
        }
        None => {}
    }
    body
}

/// A canonical variant as a WooCommerce variation body.
pub(crate) fn variation_to_shop(variant: &Value) -> Map<String, Value> {
    let mut body = Map::new();
    put(&mut body, "sku", text(variant, "sku"));
    put(&mut body, "regular_price", shop_price(variant));
    if let Some(Value::Object(values)) = variant.get("attributes") {
        let attributes: Vec<Value> = values
            .iter()
            .filter_map(|(name, option)| Some(json!({ "name": name, "option": option.as_str()? })))
            .collect();
        body.insert("attributes".to_owned(), Value::Array(attributes));
    }
    body
}

/// A WooCommerce address (`billing` / `shipping`) as a canonical address.
fn address_from_shop(address: Option<&Value>) -> Option<Value> {
    let address = address?;
    let mut fields = Map::new();
    let name = [text(address, "first_name"), text(address, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(&mut fields, "name", Some(name).filter(|name| !name.is_empty()));
    for (canonical, shop) in [
        ("company", "company"),
        ("line1", "address_1"),
        ("line2", "address_2"),
        ("city", "city"),
        ("postcode", "postcode"),
        ("country", "country"),
        ("phone", "phone"),
        ("email", "email"),
    ] {
        put(&mut fields, canonical, text(address, shop));
    }
    (!fields.is_empty()).then_some(Value::Object(fields))
}

/// A canonical address as a WooCommerce address.
fn address_to_shop(address: Option<&Value>, first: Option<String>, last: Option<String>) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "first_name", first);
    put(&mut fields, "last_name", last);
    if let Some(address) = address {
        for (canonical, shop) in [
            ("company", "company"),
            ("line1", "address_1"),
            ("line2", "address_2"),
            ("city", "city"),
            ("postcode", "postcode"),
            ("country", "country"),
            ("phone", "phone"),
            ("email", "email"),
        ] {
            put(&mut fields, shop, text(address, canonical));
        }
    }
    Value::Object(fields)
}

/// An order as a canonical order: the buyer from `billing` (a company when it names one),
/// lines with their unit price without VAT and the VAT rate their taxes imply.
pub(crate) fn order_from_shop(order: &Value) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "number", text(order, "number").or_else(|| id_of(order)));
    put(&mut fields, "status", text(order, "status"));
    put(
        &mut fields,
        "created_at",
        gmt(order.get("date_created_gmt")).map(|at| at.to_rfc3339()),
    );
    put(&mut fields, "currency", text(order, "currency"));
    let billing = order.get("billing");
    let mut customer = Map::new();
    put(
        &mut customer,
        "email",
        billing.and_then(|billing| text(billing, "email")),
    );
    put(
        &mut customer,
        "phone",
        billing.and_then(|billing| text(billing, "phone")),
    );
    put(
        &mut customer,
        "company_name",
        billing.and_then(|billing| text(billing, "company")),
    );
    let name = billing
        .map(|billing| {
            [text(billing, "first_name"), text(billing, "last_name")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|name| !name.is_empty());
    put(&mut customer, "name", name);
    if !customer.is_empty() {
        fields.insert("customer".to_owned(), Value::Object(customer));
    }
    for side in ["billing", "shipping"] {
        if let Some(address) = address_from_shop(order.get(side)) {
            fields.insert(side.to_owned(), address);
        }
    }
    let lines: Vec<Value> = order
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|line| {
            let mut item = Map::new();
            put(&mut item, "sku", text(line, "sku"));
            put(&mut item, "name", text(line, "name"));
            put(&mut item, "quantity", money(line.get("quantity")));
            put(&mut item, "price", money(line.get("price")));
            put(&mut item, "total", money(line.get("total")));
            let (total, tax) = (decimal(line.get("total")), decimal(line.get("total_tax")));
            if let (Some(total), Some(tax)) = (total, tax) {
                if !total.is_zero() {
                    let rate = (tax / total * Decimal::ONE_HUNDRED).round_dp(1).normalize();
                    item.insert("vat_rate".to_owned(), Value::String(rate.to_string()));
                }
            }
            Value::Object(item)
        })
        .collect();
    fields.insert("lines".to_owned(), Value::Array(lines));
    put(
        &mut fields,
        "shipping_method",
        order
            .get("shipping_lines")
            .and_then(Value::as_array)
            .and_then(|lines| lines.first())
            .and_then(|line| text(line, "method_id")),
    );
    put(&mut fields, "payment_method", text(order, "payment_method"));
    put(&mut fields, "note", text(order, "customer_note"));
    let gross = decimal(order.get("total"));
    let vat = decimal(order.get("total_tax"));
    let mut totals = Map::new();
    put(&mut totals, "gross", gross.map(|gross| gross.to_string()));
    put(&mut totals, "vat", vat.map(|vat| vat.to_string()));
    put(
        &mut totals,
        "net",
        gross.zip(vat).map(|(gross, vat)| (gross - vat).normalize().to_string()),
    );
    put(&mut totals, "shipping", money(order.get("shipping_total")));
    fields.insert("totals".to_owned(), Value::Object(totals));
    fields.insert(
        "raw".to_owned(),
        json!({ "id": order.get("id"), "customer_id": order.get("customer_id") }),
    );
    Value::Object(fields)
}

/// A shop customer as a canonical customer (a company when the billing address names one).
pub(crate) fn customer_from_shop(customer: &Value) -> Value {
    let mut fields = Map::new();
    let company = customer.get("billing").and_then(|billing| text(billing, "company"));
    put(&mut fields, "email", text(customer, "email"));
    put(&mut fields, "first_name", text(customer, "first_name"));
    put(&mut fields, "last_name", text(customer, "last_name"));
    let name = [text(customer, "first_name"), text(customer, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(
        &mut fields,
        "name",
        company.clone().or(Some(name).filter(|name| !name.is_empty())),
    );
    fields.insert(
        "kind".to_owned(),
        json!(if company.is_some() { "company" } else { "person" }),
    );
    put(&mut fields, "company_name", company);
    put(
        &mut fields,
        "phone",
        customer.get("billing").and_then(|billing| text(billing, "phone")),
    );
    for side in ["billing", "shipping"] {
        if let Some(mut address) = address_from_shop(customer.get(side)) {
            if let Some(address) = address.as_object_mut() {
                address.remove("email");
            }
            fields.insert(side.to_owned(), address);
        }
    }
    fields.insert(
        "raw".to_owned(),
        json!({ "id": customer.get("id"), "date_modified_gmt": customer.get("date_modified_gmt") }),
    );
    Value::Object(fields)
}

/// A canonical customer as a WooCommerce customer body.
pub(crate) fn customer_to_shop(customer: &Value) -> Map<String, Value> {
    let mut body = Map::new();
    put(&mut body, "email", text(customer, "email"));
    let (first, last) = match (text(customer, "first_name"), text(customer, "last_name")) {
        (None, None) => {
            // A company, or a person known by one name: WooCommerce wants first/last.
            let name = text(customer, "name").or_else(|| text(customer, "company_name"));
            match name.as_deref().and_then(|name| name.split_once(' ')) {
                Some((first, last)) if text(customer, "company_name").is_none() => {
                    (Some(first.to_owned()), Some(last.to_owned()))
                }
                _ => (name, None),
            }
        }
        pair => pair,
    };
    put(&mut body, "first_name", first.clone());
    put(&mut body, "last_name", last.clone());
    let mut billing = address_to_shop(customer.get("billing"), first.clone(), last.clone());
    if let Value::Object(billing) = &mut billing {
        put(billing, "company", text(customer, "company_name"));
        put(billing, "email", text(customer, "email"));
        put(billing, "phone", text(customer, "phone"));
    }
    body.insert("billing".to_owned(), billing);
    if customer.get("shipping").is_some() {
        body.insert(
            "shipping".to_owned(),
            address_to_shop(customer.get("shipping"), first, last),
        );
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_becomes_a_canonical_order_with_net_line_prices_and_vat_rates() {
        let order = json!({
            "id": 727, "number": "727", "status": "processing", "currency": "EUR",
            "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:05:00",
            "total": "29.04", "total_tax": "5.04", "shipping_total": "0.00", "payment_method": "bacs",
            "billing": {"first_name": "Ona", "last_name": "Onaitė", "company": "", "address_1": "Gedimino pr. 1",
                        "city": "Vilnius", "postcode": "LT-01103", "country": "LT", "email": "ona@example.lt", "phone": "+37060000000"},
            "shipping_lines": [{"method_id": "flat_rate", "total": "0.00"}],
            "line_items": [{"id": 1, "sku": "A00101", "name": "Kava", "quantity": 2, "price": 12, "subtotal": "24.00", "total": "24.00", "total_tax": "5.04"}]
        });
        let canonical = order_from_shop(&order);
        assert_eq!(canonical["number"], "727");
        assert_eq!(canonical["customer"]["email"], "ona@example.lt");
        assert_eq!(canonical["customer"]["name"], "Ona Onaitė");
        assert!(
            canonical["customer"].get("company_name").is_none(),
            "an empty company is none"
        );
        assert_eq!(canonical["lines"][0]["price"], "12");
        assert_eq!(canonical["lines"][0]["quantity"], "2");
        assert_eq!(canonical["lines"][0]["vat_rate"], "21");
        assert_eq!(canonical["totals"]["net"], "24");
        assert_eq!(canonical["shipping_method"], "flat_rate");
        assert_eq!(canonical["billing"]["line1"], "Gedimino pr. 1");
        tiltas_model::validate_json(tiltas_model::EntityKind::Order, &canonical).unwrap();
    }

    #[test]
    fn a_product_with_variants_becomes_a_variable_product_with_variation_attributes() {
        let product = json!({
            "sku": "TEE", "name": "Marškinėliai", "price_gross": "20", "categories": ["Drabužiai"],
            "variants": [
                {"sku": "TEE-S-BLK", "price_gross": "20", "attributes": {"Dydis": "S", "Spalva": "Juoda"}},
                {"sku": "TEE-M-BLK", "price_gross": "22", "attributes": {"Dydis": "M", "Spalva": "Juoda"}}
            ]
        });
        let body = product_to_shop(&product, true);
        assert_eq!(body["type"], "variable");
        assert_eq!(body["status"], "publish");
        assert!(
            body.get("regular_price").is_none(),
            "a variable product's prices are its variations'"
        );
        assert_eq!(
            body["attributes"][0],
            json!({"name": "Dydis", "visible": true, "variation": true, "options": ["S", "M"]})
        );
        assert_eq!(body["attributes"][1]["options"], json!(["Juoda"]));
        let variation = variation_to_shop(&product["variants"][1]);
        assert_eq!(variation["regular_price"], "22.00");
        assert_eq!(variation["attributes"][0], json!({"name": "Dydis", "option": "M"}));
    }
}
