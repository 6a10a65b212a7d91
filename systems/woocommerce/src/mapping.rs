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

/// A field as text: shops and plugins send SKUs, codes and ids as JSON numbers too
/// (`"sku": 123`), and an absent value as `null` or `""`.
fn text(resource: &Value, field: &str) -> Option<String> {
    match resource.get(field)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
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

/// The variations of a variable product that cannot become variants (no SKU), as
/// `(key, message, variation)`: they are left out of the product, and reported rather than
/// dropped.
pub(crate) fn unreadable_variations(product: &Value, variations: &[Value]) -> Vec<(String, String, Value)> {
    let product_id = id_of(product).unwrap_or_else(|| "?".to_owned());
    let product_name = text(product, "sku")
        .map(|sku| format!("product {sku}"))
        .or_else(|| text(product, "name").map(|name| format!("product {name:?}")))
        .unwrap_or_else(|| format!("product {product_id}"));
    variations
        .iter()
        .filter(|variation| text(variation, "sku").is_none())
        .map(|variation| {
            let id = id_of(variation).unwrap_or_else(|| "?".to_owned());
            let options: Vec<String> = variation
                .get("attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|attribute| text(attribute, "option"))
                .collect();
            let described = if options.is_empty() {
                String::new()
            } else {
                format!(" ({})", options.join(", "))
            };
            (
                format!("{product_id}/variations/{id}"),
                format!(
                    "variation {id}{described} of {product_name} has no SKU (sku is {:?}), so it is left out of the \
                     product: give it a SKU in WooCommerce (Products → Edit → Variations), then resolve this dead letter",
                    variation.get("sku").unwrap_or(&Value::Null)
                ),
                variation.clone(),
            )
        })
        .collect()
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
    let rates = tax_rates(order);
    let lines: Vec<Value> = list(order, "line_items")
        .map(|line| {
            let mut item = Map::new();
            put(&mut item, "sku", text(line, "sku"));
            put(&mut item, "name", text(line, "name"));
            // The line's own amounts, after coupons: what the buyer was charged for it.
            put_amounts(
                &mut item,
                line,
                &[
                    ("quantity", "quantity"),
                    ("price", "price"),
                    ("subtotal", "subtotal"),
                    ("total", "total"),
                    ("total_tax", "total_tax"),
                ],
            );
            let before = (decimal(line.get("subtotal")), decimal(line.get("total")));
            if let (Some(subtotal), Some(total)) = before {
                if subtotal > total {
                    put(&mut item, "discount", Some((subtotal - total).normalize().to_string()));
                }
            }
            put(&mut item, "vat_rate", vat_rate(line, &rates));
            Value::Object(item)
        })
        .collect();
    fields.insert("lines".to_owned(), Value::Array(lines));
    let fees: Vec<Value> = list(order, "fee_lines")
        .map(|fee| {
            let mut item = Map::new();
            put(&mut item, "name", text(fee, "name"));
            put_amounts(&mut item, fee, &[("total", "total"), ("total_tax", "total_tax")]);
            put(&mut item, "vat_rate", vat_rate(fee, &rates));
            Value::Object(item)
        })
        .collect();
    if !fees.is_empty() {
        fields.insert("fees".to_owned(), Value::Array(fees));
    }
    let discounts: Vec<Value> = list(order, "coupon_lines")
        .map(|coupon| {
            let mut item = Map::new();
            put(&mut item, "code", text(coupon, "code"));
            put_amounts(
                &mut item,
                coupon,
                &[("total", "discount"), ("total_tax", "discount_tax")],
            );
            Value::Object(item)
        })
        .collect();
    if !discounts.is_empty() {
        fields.insert("discounts".to_owned(), Value::Array(discounts));
    }
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
    put(&mut totals, "shipping_tax", money(order.get("shipping_tax")));
    put(
        &mut totals,
        "discount",
        money(order.get("discount_total")).filter(|amount| amount != "0"),
    );
    fields.insert("totals".to_owned(), Value::Object(totals));
    fields.insert(
        "raw".to_owned(),
        json!({
            "id": order.get("id"),
            "customer_id": order.get("customer_id"),
            // Refunds are credit notes of their own; the order's totals stay what was sold.
            "refunds": order.get("refunds").filter(|refunds| refunds.as_array().is_some_and(|items| !items.is_empty())),
        }),
    );
    if let Some(Value::Object(raw)) = fields.get_mut("raw") {
        raw.retain(|_, value| !value.is_null());
    }
    Value::Object(fields)
}

/// The items of a list field of a resource (`line_items`, `fee_lines`), none when absent.
fn list<'a>(resource: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    resource.get(field).and_then(Value::as_array).into_iter().flatten()
}

/// Copies amounts (`(canonical, shop)` field pairs) as normalised decimal text.
fn put_amounts(item: &mut Map<String, Value>, source: &Value, pairs: &[(&str, &str)]) {
    for (canonical, shop) in pairs {
        put(item, canonical, money(source.get(*shop)));
    }
}

/// The order's tax rates by id (`tax_lines[].rate_id` → `rate_percent`, WooCommerce 3.7+).
fn tax_rates(order: &Value) -> Vec<(String, Decimal)> {
    order
        .get("tax_lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tax| Some((text(tax, "rate_id")?, decimal(tax.get("rate_percent"))?)))
        .collect()
}

/// A line's VAT rate: the rate of the tax it names in `taxes` when the order lists its rates,
/// else the rate its amounts imply (tax ÷ total, to one decimal).
fn vat_rate(line: &Value, rates: &[(String, Decimal)]) -> Option<String> {
    let named = line
        .get("taxes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|tax| decimal(tax.get("total")).is_some_and(|amount| !amount.is_zero()))
        .find_map(|tax| {
            let id = text(tax, "id")?;
            rates.iter().find(|(rate_id, _)| *rate_id == id).map(|(_, rate)| *rate)
        });
    if let Some(rate) = named {
        return Some(rate.normalize().to_string());
    }
    let (total, tax) = (decimal(line.get("total")), decimal(line.get("total_tax")));
    match (total, tax) {
        (Some(total), Some(tax)) if !total.is_zero() => {
            Some((tax / total * Decimal::ONE_HUNDRED).round_dp(1).normalize().to_string())
        }
        _ => None,
    }
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
    fn fees_coupons_rates_and_numeric_codes_reach_the_canonical_order() {
        let order = json!({
            "id": 730, "number": 730, "status": "completed", "currency": "USD",
            "total": "24.14", "total_tax": "1.99", "shipping_total": "3.00", "shipping_tax": "0.27",
            "discount_total": "2.00", "discount_tax": "0.18",
            "billing": {"email": "jonas@example.lt", "phone": 37060000000u64, "postcode": null, "company": ""},
            "line_items": [{"sku": 123, "name": "Knyga", "quantity": "2", "price": 8.0,
                            "subtotal": "18.00", "total": "16.00", "total_tax": "1.44",
                            "taxes": [{"id": 4, "total": "1.44", "subtotal": "1.62"}]}],
            "fee_lines": [{"name": "Pakavimas", "total": "3.15", "total_tax": "0.28", "taxes": [{"id": 4, "total": "0.28"}]}],
            "coupon_lines": [{"code": "KNYGOS", "discount": "2.00", "discount_tax": "0.18"}],
            "tax_lines": [{"rate_id": 4, "label": "PVM 9%", "rate_percent": 9}],
            "refunds": [{"id": 5, "reason": "", "total": "-3.00"}]
        });
        let canonical = order_from_shop(&order);
        assert_eq!(canonical["number"], "730");
        assert_eq!(canonical["currency"], "USD");
        assert_eq!(canonical["lines"][0]["sku"], "123", "a numeric SKU is its text");
        assert_eq!(canonical["lines"][0]["total"], "16");
        assert_eq!(canonical["lines"][0]["total_tax"], "1.44");
        assert_eq!(canonical["lines"][0]["discount"], "2");
        assert_eq!(canonical["lines"][0]["vat_rate"], "9", "the rate the tax line names");
        assert_eq!(
            canonical["fees"][0],
            json!({"name": "Pakavimas", "total": "3.15", "total_tax": "0.28", "vat_rate": "9"})
        );
        assert_eq!(
            canonical["discounts"][0],
            json!({"code": "KNYGOS", "total": "2", "total_tax": "0.18"})
        );
        assert_eq!(canonical["totals"]["shipping_tax"], "0.27");
        assert_eq!(canonical["totals"]["discount"], "2");
        assert_eq!(canonical["raw"]["refunds"][0]["total"], "-3.00");
        assert_eq!(canonical["customer"]["phone"], "37060000000");
        tiltas_model::validate_json(tiltas_model::EntityKind::Order, &canonical).unwrap();
        let typed: tiltas_model::Order = serde_json::from_value(canonical).unwrap();
        assert_eq!(tiltas_model::check_order_totals(&typed), Ok(()));
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
