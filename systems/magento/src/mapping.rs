//! Magento resources ↔ canonical records (`shared/protocols/shops.md` §3).
//!
//! Prices: Magento's default tax setting stores catalogue prices without tax ("Catalog Prices:
//! Excluding Tax"), so `price` is `price_net` both ways (a product with only `price_gross` is
//! sent with it). Order lines carry their own tax, so nothing is recomputed.
use crate::wire;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::str::FromStr;

/// A field as text: Magento sends ids as numbers or strings, and absent values as `null`/`""`.
pub(crate) fn text(resource: &Value, field: &str) -> Option<String> {
    match resource.get(field)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// An amount (number or string) as exact decimal.
pub(crate) fn decimal(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Decimal::from_str(text.trim()).ok(),
        // Through the number's own text, never through f64 arithmetic.
        Value::Number(number) => Decimal::from_str(&number.to_string())
            .or_else(|_| Decimal::from_scientific(&number.to_string()))
            .ok(),
        _ => None,
    }
}

/// An amount as canonical text (`69`, `74.69`).
fn money(value: Option<&Value>) -> Option<String> {
    decimal(value).map(|amount| amount.normalize().to_string())
}

fn put(fields: &mut Map<String, Value>, field: &str, value: Option<String>) {
    if let Some(value) = value {
        fields.insert(field.to_owned(), Value::String(value));
    }
}

/// A product's `custom_attributes` value by code.
pub(crate) fn custom_attribute(product: &Value, code: &str) -> Option<String> {
    product
        .get("custom_attributes")?
        .as_array()?
        .iter()
        .find(|attribute| attribute.get("attribute_code").and_then(Value::as_str) == Some(code))
        .and_then(|attribute| text(attribute, "value"))
}

/// A configurable option's attribute code, from its label (`Color` → `color`): the admin API
/// names options by attribute id and label only [I].
pub(crate) fn option_code(label: &str) -> String {
    label.trim().to_lowercase().replace(' ', "_")
}

/// The labels of a configurable product's options (`Color`, `Size`) with their attribute codes.
pub(crate) fn configurable_options(product: &Value) -> Vec<(String, String)> {
    product
        .pointer("/extension_attributes/configurable_product_options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|option| {
            let label = text(option, "label")?;
            Some((option_code(&label), label))
        })
        .collect()
}

/// Whether a catalogue item is a configurable product's child ("Not Visible Individually"
/// simple product): it reaches the hub as a variant of its parent, not on its own.
pub(crate) fn is_variant_child(product: &Value) -> bool {
    product.get("type_id").and_then(Value::as_str) == Some("simple")
        && product.get("visibility").and_then(Value::as_u64) == Some(1)
}

/// Option labels by (attribute code, option value), from `/V1/products/attributes/{code}/options`.
pub(crate) type OptionLabels = HashMap<(String, String), String>;

/// A product (with its children, for a configurable one) as a canonical product.
pub(crate) fn product_from_shop(product: &Value, children: &[Value], labels: &OptionLabels) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "sku", text(product, "sku"));
    put(&mut fields, "name", text(product, "name"));
    put(
        &mut fields,
        "description",
        custom_attribute(product, "short_description"),
    );
    put(
        &mut fields,
        "long_description",
        custom_attribute(product, "description"),
    );
    put(&mut fields, "price_net", money(product.get("price")));
    put(&mut fields, "weight", money(product.get("weight")));
    if let Some(status) = product.get("status").and_then(Value::as_u64) {
        fields.insert("active".to_owned(), Value::Bool(status == 1));
    }
    let categories: Vec<Value> = product
        .pointer("/extension_attributes/category_links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|link| text(link, "category_id"))
        .map(Value::String)
        .collect();
    if !categories.is_empty() {
        fields.insert("categories".to_owned(), Value::Array(categories));
    }
    let options = configurable_options(product);
    let variants: Vec<Value> = children
        .iter()
        .filter_map(|child| {
            let mut variant = Map::new();
            variant.insert("sku".to_owned(), Value::String(text(child, "sku")?));
            put(&mut variant, "name", text(child, "name"));
            put(&mut variant, "price_net", money(child.get("price")));
            let attributes: Map<String, Value> = options
                .iter()
                .filter_map(|(code, label)| {
                    let value = custom_attribute(child, code)?;
                    let shown = labels.get(&(code.clone(), value.clone())).cloned().unwrap_or(value);
                    Some((label.clone(), Value::String(shown)))
                })
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
            "type_id": product.get("type_id"),
            "visibility": product.get("visibility"),
            "attribute_set_id": product.get("attribute_set_id"),
            "updated_at": product.get("updated_at"),
        }),
    );
    Value::Object(fields)
}

/// The price Magento stores for a canonical product or variant: without tax.
fn shop_price(record: &Value) -> Option<Value> {
    let price = decimal(record.get("price_net")).or_else(|| decimal(record.get("price_gross")))?;
    // Magento's JSON takes the price as a number; its text keeps every decimal exactly.
    serde_json::from_str(&price.normalize().to_string()).ok()
}

/// A canonical product as the `product` of `PUT /V1/products/{sku}` (`creating`: the shop has
/// no product with this SKU yet, so type, attribute set and visibility are set too).
pub(crate) fn product_to_shop(product: &Value, creating: bool, type_id: &str) -> Map<String, Value> {
    let mut body = Map::new();
    put(&mut body, "sku", text(product, "sku"));
    put(&mut body, "name", text(product, "name"));
    if let Some(price) = shop_price(product) {
        body.insert("price".to_owned(), price);
    }
    if let Some(weight) = decimal(product.get("weight")) {
        if let Ok(weight) = serde_json::from_str::<Value>(&weight.normalize().to_string()) {
            body.insert("weight".to_owned(), weight);
        }
    }
    match product.get("active").and_then(Value::as_bool) {
        Some(active) => {
            body.insert("status".to_owned(), json!(if active { 1 } else { 2 }));
        }
        None if creating => {
            body.insert("status".to_owned(), json!(1));
        }
        None => {}
    }
    if creating {
        body.insert("type_id".to_owned(), json!(type_id));
        body.insert("attribute_set_id".to_owned(), json!(4));
        body.insert("visibility".to_owned(), json!(4));
    }
    let mut custom = Vec::new();
    for (canonical, code) in [
        ("description", "short_description"),
        ("long_description", "description"),
    ] {
        if let Some(value) = text(product, canonical) {
            custom.push(json!({ "attribute_code": code, "value": value }));
        }
    }
    if !custom.is_empty() {
        body.insert("custom_attributes".to_owned(), Value::Array(custom));
    }
    body
}

/// A canonical variant as the simple child product of a configurable one; `options` are its
/// attribute values as Magento option ids, `(attribute code, option value)`.
pub(crate) fn variant_to_shop(variant: &Value, parent: &Value, options: &[(String, String)]) -> Map<String, Value> {
    let mut body = Map::new();
    put(&mut body, "sku", text(variant, "sku"));
    put(
        &mut body,
        "name",
        text(variant, "name").or_else(|| {
            let name = text(parent, "name")?;
            let values: Vec<&str> = variant
                .get("attributes")
                .and_then(Value::as_object)
                .map(|values| values.values().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Some(if values.is_empty() {
                name
            } else {
                format!("{name}-{}", values.join("-"))
            })
        }),
    );
    if let Some(price) = shop_price(variant).or_else(|| shop_price(parent)) {
        body.insert("price".to_owned(), price);
    }
    body.insert("type_id".to_owned(), json!("simple"));
    body.insert("attribute_set_id".to_owned(), json!(4));
    body.insert("status".to_owned(), json!(1));
    // Not Visible Individually: sold through its parent.
    body.insert("visibility".to_owned(), json!(1));
    let custom: Vec<Value> = options
        .iter()
        .map(|(code, value)| json!({ "attribute_code": code, "value": value }))
        .collect();
    if !custom.is_empty() {
        body.insert("custom_attributes".to_owned(), Value::Array(custom));
    }
    body
}

/// A Magento address (customer or order) as a canonical address.
fn address_from_shop(address: &Value) -> Option<Value> {
    let mut fields = Map::new();
    let name = [text(address, "firstname"), text(address, "lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(&mut fields, "name", Some(name).filter(|name| !name.is_empty()));
    put(&mut fields, "company", text(address, "company"));
    let street: Vec<String> = address
        .get("street")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    put(&mut fields, "line1", street.first().cloned());
    put(
        &mut fields,
        "line2",
        Some(street.iter().skip(1).cloned().collect::<Vec<_>>().join(", ")).filter(|line| !line.is_empty()),
    );
    put(&mut fields, "city", text(address, "city"));
    put(&mut fields, "postcode", text(address, "postcode"));
    put(&mut fields, "country", text(address, "country_id"));
    put(&mut fields, "phone", text(address, "telephone"));
    put(&mut fields, "email", text(address, "email"));
    (!fields.is_empty()).then_some(Value::Object(fields))
}

/// A canonical address as a Magento customer address.
fn address_to_shop(address: &Value, first: &str, last: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("firstname".to_owned(), json!(first));
    fields.insert("lastname".to_owned(), json!(last));
    put(&mut fields, "company", text(address, "company"));
    let street: Vec<Value> = [text(address, "line1"), text(address, "line2")]
        .into_iter()
        .flatten()
        .map(Value::String)
        .collect();
    // Magento requires street, city, country and telephone on an address [V spec].
    fields.insert(
        "street".to_owned(),
        if street.is_empty() {
            json!(["-"])
        } else {
            Value::Array(street)
        },
    );
    put(&mut fields, "city", text(address, "city").or(Some("-".to_owned())));
    put(&mut fields, "postcode", text(address, "postcode"));
    put(
        &mut fields,
        "country_id",
        text(address, "country").or(Some("LT".to_owned())),
    );
    put(
        &mut fields,
        "telephone",
        text(address, "phone").or(Some("-".to_owned())),
    );
    fields
}

/// Magento's two roots: the Root Catalog (1) and a store's root ("Default Category", level 1)
/// hold the tree, they are not categories of the shop's catalogue.
const ROOT_LEVEL: u64 = 1;

/// A category as a canonical category (`code` = Magento's id, `parent_code` the parent's id;
/// none under a store's root); `None` for the roots themselves.
pub(crate) fn category_from_shop(category: &Value) -> Option<Value> {
    let level = category.get("level").and_then(Value::as_u64).unwrap_or(ROOT_LEVEL + 1);
    if level <= ROOT_LEVEL {
        return None;
    }
    let mut fields = Map::new();
    put(&mut fields, "code", text(category, "id"));
    put(&mut fields, "name", text(category, "name"));
    let parent_level = level.saturating_sub(1);
    if parent_level > ROOT_LEVEL {
        put(&mut fields, "parent_code", text(category, "parent_id"));
    }
    put(&mut fields, "description", custom_attribute(category, "description"));
    fields.insert(
        "raw".to_owned(),
        json!({ "id": category.get("id"), "path": category.get("path"), "is_active": category.get("is_active"),
                "position": category.get("position"), "updated_at": category.get("updated_at") }),
    );
    Some(Value::Object(fields))
}

/// A customer as a canonical customer: a company when the default billing address names one.
pub(crate) fn customer_from_shop(customer: &Value) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "code", text(customer, "id"));
    put(&mut fields, "email", text(customer, "email"));
    put(&mut fields, "first_name", text(customer, "firstname"));
    put(&mut fields, "last_name", text(customer, "lastname"));
    let name = [text(customer, "firstname"), text(customer, "lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(&mut fields, "name", Some(name).filter(|name| !name.is_empty()));
    put(&mut fields, "group", text(customer, "group_id"));
    put(&mut fields, "vat_code", text(customer, "taxvat"));
    let addresses: Vec<&Value> = customer
        .get("addresses")
        .and_then(Value::as_array)
        .map(|list| list.iter().collect())
        .unwrap_or_default();
    let flagged = |flag: &str, id_field: &str| {
        let default_id = text(customer, id_field);
        addresses
            .iter()
            .find(|address| {
                address.get(flag).and_then(Value::as_bool) == Some(true)
                    || (default_id.is_some() && text(address, "id") == default_id)
            })
            .copied()
    };
    let billing = flagged("default_billing", "default_billing");
    let shipping = flagged("default_shipping", "default_shipping");
    if let Some(company) = billing.and_then(|address| text(address, "company")) {
        fields.insert("kind".to_owned(), json!("company"));
        fields.insert("company_name".to_owned(), json!(company));
    } else {
        fields.insert("kind".to_owned(), json!("person"));
    }
    put(
        &mut fields,
        "phone",
        billing.and_then(|address| text(address, "telephone")),
    );
    for (side, address) in [("billing", billing), ("shipping", shipping)] {
        if let Some(address) = address.and_then(address_from_shop) {
            fields.insert(side.to_owned(), address);
        }
    }
    fields.insert(
        "raw".to_owned(),
        json!({ "id": customer.get("id"), "website_id": customer.get("website_id"), "updated_at": customer.get("updated_at") }),
    );
    Value::Object(fields)
}

/// First and last name of a canonical customer: its own, else split from `name` (Magento
/// requires both).
fn names(customer: &Value) -> (String, String) {
    let name = text(customer, "name")
        .or_else(|| text(customer, "company_name"))
        .unwrap_or_else(|| "-".to_owned());
    let mut words = name.splitn(2, ' ');
    let first_guess = words.next().unwrap_or("-").to_owned();
    let last_guess = words.next().map(str::to_owned).unwrap_or_else(|| first_guess.clone());
    (
        text(customer, "first_name").unwrap_or(first_guess),
        text(customer, "last_name").unwrap_or(last_guess),
    )
}

/// A canonical customer as the `customer` of `POST /V1/customers` (addresses only on create:
/// Magento adds the addresses of an update as new ones).
pub(crate) fn customer_to_shop(customer: &Value, id: Option<&str>) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(id) = id.and_then(|id| id.parse::<u64>().ok()) {
        body.insert("id".to_owned(), json!(id));
    }
    put(&mut body, "email", text(customer, "email"));
    let (first, last) = names(customer);
    body.insert("firstname".to_owned(), json!(first));
    body.insert("lastname".to_owned(), json!(last));
    put(&mut body, "taxvat", text(customer, "vat_code"));
    body.insert("website_id".to_owned(), json!(1));
    if id.is_none() {
        let mut addresses = Vec::new();
        for side in ["billing", "shipping"] {
            if let Some(address) = customer.get(side).filter(|address| address.is_object()) {
                let mut fields = address_to_shop(address, &first, &last);
                fields.insert(format!("default_{side}"), json!(true));
                addresses.push(Value::Object(fields));
            }
        }
        if !addresses.is_empty() {
            body.insert("addresses".to_owned(), Value::Array(addresses));
        }
    }
    body
}

/// An order as a canonical order. A configurable line is two rows — the parent (type
/// `configurable`, with the price and quantity, named by the child's SKU) and the child simple
/// row (`parent_item_id` set, price 0) — so rows with a parent are left out: each sold item is
/// booked once.
pub(crate) fn order_from_shop(order: &Value) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "number", text(order, "increment_id"));
    put(&mut fields, "status", text(order, "status"));
    put(
        &mut fields,
        "created_at",
        wire::parse_time(order.get("created_at")).map(|at| at.to_rfc3339()),
    );
    put(&mut fields, "currency", text(order, "order_currency_code"));
    let billing = order.get("billing_address");
    let mut customer = Map::new();
    // Magento's `customer_id` stays under `raw`: as `customer.code` an accounting target would
    // take the shop's id for one of its own clients.
    put(&mut customer, "email", text(order, "customer_email"));
    let name = [text(order, "customer_firstname"), text(order, "customer_lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(&mut customer, "name", Some(name).filter(|name| !name.is_empty()));
    put(
        &mut customer,
        "company_name",
        billing.and_then(|address| text(address, "company")),
    );
    put(
        &mut customer,
        "vat_code",
        billing.and_then(|address| text(address, "vat_id")),
    );
    put(
        &mut customer,
        "phone",
        billing.and_then(|address| text(address, "telephone")),
    );
    fields.insert("customer".to_owned(), Value::Object(customer));
    if let Some(address) = billing.and_then(address_from_shop) {
        fields.insert("billing".to_owned(), address);
    }
    let assignment = order.pointer("/extension_attributes/shipping_assignments/0/shipping");
    if let Some(address) = assignment
        .and_then(|shipping| shipping.get("address"))
        .and_then(address_from_shop)
    {
        fields.insert("shipping".to_owned(), address);
    }
    put(
        &mut fields,
        "shipping_method",
        assignment.and_then(|shipping| text(shipping, "method")),
    );
    put(
        &mut fields,
        "payment_method",
        order.get("payment").and_then(|payment| text(payment, "method")),
    );
    let lines: Vec<Value> = order
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|item| item.get("parent_item_id").is_none_or(Value::is_null))
        .map(|item| {
            let mut line = Map::new();
            put(&mut line, "sku", text(item, "sku"));
            put(&mut line, "name", text(item, "name"));
            put(&mut line, "quantity", money(item.get("qty_ordered")));
            put(&mut line, "price", money(item.get("price")));
            put(&mut line, "vat_rate", money(item.get("tax_percent")));
            put(&mut line, "subtotal", money(item.get("row_total")));
            let discount = decimal(item.get("discount_amount")).map(|amount| amount.abs());
            if let Some(discount) = discount.filter(|amount| !amount.is_zero()) {
                line.insert("discount".to_owned(), json!(discount.normalize().to_string()));
            }
            if let Some(row) = decimal(item.get("row_total")) {
                let total = row - discount.unwrap_or_default();
                line.insert("total".to_owned(), json!(total.normalize().to_string()));
            }
            put(&mut line, "total_tax", money(item.get("tax_amount")));
            Value::Object(line)
        })
        .collect();
    fields.insert("lines".to_owned(), Value::Array(lines));
    let mut totals = Map::new();
    put(&mut totals, "gross", money(order.get("grand_total")));
    put(&mut totals, "vat", money(order.get("tax_amount")));
    put(&mut totals, "shipping", money(order.get("shipping_amount")));
    put(&mut totals, "shipping_tax", money(order.get("shipping_tax_amount")));
    if let Some(discount) = decimal(order.get("discount_amount")).filter(|amount| !amount.is_zero()) {
        totals.insert("discount".to_owned(), json!(discount.abs().normalize().to_string()));
    }
    if let (Some(gross), Some(vat)) = (decimal(order.get("grand_total")), decimal(order.get("tax_amount"))) {
        totals.insert("net".to_owned(), json!((gross - vat).normalize().to_string()));
    }
    fields.insert("totals".to_owned(), Value::Object(totals));
    let histories: Vec<Value> = order
        .get("status_histories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|history| json!({ "comment": history.get("comment"), "status": history.get("status"), "created_at": history.get("created_at") }))
        .collect();
    fields.insert(
        "raw".to_owned(),
        json!({
            "entity_id": order.get("entity_id"),
            "customer_id": order.get("customer_id"),
            "state": order.get("state"),
            "updated_at": order.get("updated_at"),
            "status_histories": histories,
        }),
    );
    Value::Object(fields)
}
