//! Smartup objects as canonical records and back: items ↔ products, legal and natural
//! persons ↔ customers, balances → stock, orders ↔ orders, documents → documents, customer
//! payments ← documents.
use crate::client::{text, Object};
use crate::wire;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Map, Value};
use std::str::FromStr;

/// When Smartup last changed an object (`modified_on`), Tashkent time taken as UTC [I].
pub(crate) fn modified(object: &Object) -> Option<chrono::DateTime<Utc>> {
    let value = text(object, "modified_on")?;
    NaiveDateTime::parse_from_str(&value, wire::TIME)
        .ok()
        .map(|at| at.and_utc())
}

/// A `dd.mm.yyyy` date as ISO (`2026-03-02`).
fn iso_date(object: &Object, field: &str) -> Option<String> {
    let value = text(object, field)?;
    let date = NaiveDate::parse_from_str(value.get(..10).unwrap_or(&value), wire::DATE).ok()?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// A number as canonical decimal text (`"12.00"` → `"12"`).
fn number(object: &Object, field: &str) -> Option<String> {
    Decimal::from_str(&text(object, field)?)
        .ok()
        .map(|value| value.normalize().to_string())
}

fn put(data: &mut Map<String, Value>, field: &str, value: Option<String>) {
    if let Some(value) = value {
        data.insert(field.to_owned(), Value::String(value));
    }
}

/// An item as a canonical product; `price` is its price (with VAT) in the flow's price type.
pub(crate) fn product(item: &Object, price: Option<Decimal>) -> Map<String, Value> {
    let mut data = Map::new();
    put(&mut data, "sku", text(item, "code"));
    put(&mut data, "name", text(item, "name"));
    let barcode = text(item, "barcodes").and_then(|codes| codes.split(',').next().map(|code| code.trim().to_owned()));
    put(
        &mut data,
        "ean",
        barcode.filter(|code| tiltas_model::is_valid_gtin(code)),
    );
    put(&mut data, "unit", text(item, "measure_code"));
    put(&mut data, "vat_rate", number(item, "vat_percent"));
    if let Some(gross) = price {
        let rate = number(item, "vat_percent")
            .and_then(|rate| Decimal::from_str(&rate).ok())
            .unwrap_or_default();
        let net = (gross / (Decimal::ONE + rate / Decimal::ONE_HUNDRED))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        put(&mut data, "price_gross", Some(gross.normalize().to_string()));
        put(&mut data, "price_net", Some(net.normalize().to_string()));
    }
    let groups: Vec<Value> = item
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(|group| group.get("group_code").cloned())
                .collect()
        })
        .unwrap_or_default();
    if !groups.is_empty() {
        data.insert("categories".to_owned(), Value::Array(groups));
    }
    data.insert("active".to_owned(), json!(text(item, "state").as_deref() != Some("P")));
    data
}

/// A price type with its items' prices as a canonical price list.
pub(crate) fn price_list(price_type: &Object, items: Vec<Value>) -> Map<String, Value> {
    let mut data = Map::new();
    put(&mut data, "code", text(price_type, "code"));
    put(&mut data, "name", text(price_type, "name"));
    put(&mut data, "currency", text(price_type, "currency_code"));
    data.insert("items".to_owned(), Value::Array(items));
    data
}

/// A legal or natural person as a canonical customer.
pub(crate) fn customer(person: &Object, legal: bool) -> Map<String, Value> {
    let mut data = Map::new();
    put(&mut data, "code", text(person, "code"));
    put(
        &mut data,
        "kind",
        Some(if legal { "company" } else { "person" }.to_owned()),
    );
    if legal {
        put(&mut data, "name", text(person, "name"));
        put(&mut data, "company_name", text(person, "name"));
        put(&mut data, "vat_code", text(person, "tin"));
    } else {
        let name = [text(person, "first_name"), text(person, "last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        put(&mut data, "name", Some(name).filter(|name| !name.is_empty()));
        put(&mut data, "first_name", text(person, "first_name"));
        put(&mut data, "last_name", text(person, "last_name"));
    }
    put(&mut data, "email", text(person, "email"));
    put(&mut data, "phone", text(person, "main_phone"));
    if let Some(address) = text(person, "address") {
        data.insert("billing".to_owned(), json!({ "line1": address }));
    }
    data
}

/// A warehouse balance as canonical stock.
pub(crate) fn stock(balance: &Object) -> Map<String, Value> {
    let mut data = Map::new();
    let on_hand = number(balance, "quantity").unwrap_or_else(|| "0".to_owned());
    let reserved = number(balance, "booked_quantity").unwrap_or_else(|| "0".to_owned());
    let available = Decimal::from_str(&on_hand).unwrap_or_default() - Decimal::from_str(&reserved).unwrap_or_default();
    put(&mut data, "sku", text(balance, "product_code"));
    put(&mut data, "warehouse", text(balance, "warehouse_code"));
    put(&mut data, "on_hand", Some(on_hand));
    put(&mut data, "reserved", Some(reserved));
    put(&mut data, "available", Some(available.normalize().to_string()));
    data
}

fn lines(object: &Object) -> Vec<Value> {
    object
        .get("products")
        .and_then(Value::as_array)
        .map(|products| {
            products
                .iter()
                .filter_map(Value::as_object)
                .map(|line| {
                    let mut item = Map::new();
                    put(&mut item, "sku", text(line, "product_code"));
                    put(&mut item, "quantity", number(line, "quantity"));
                    put(&mut item, "price", number(line, "product_price"));
                    Value::Object(item)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An order (deal) as a canonical order.
pub(crate) fn order(deal: &Object) -> Map<String, Value> {
    let mut data = Map::new();
    put(
        &mut data,
        "number",
        text(deal, "external_id").or_else(|| text(deal, "deal_id")),
    );
    put(&mut data, "status", text(deal, "status"));
    put(
        &mut data,
        "created_at",
        iso_date(deal, "deal_date").map(|date| format!("{date}T00:00:00Z")),
    );
    put(&mut data, "currency", text(deal, "currency_code"));
    put(&mut data, "warehouse", text(deal, "warehouse_code"));
    put(&mut data, "note", text(deal, "note"));
    if let Some(code) = text(deal, "person_code") {
        data.insert("customer".to_owned(), json!({ "code": code }));
    }
    data.insert("lines".to_owned(), Value::Array(lines(deal)));
    data
}

/// The canonical kind of a Smartup document type.
fn kind(document: &str) -> &'static str {
    match document {
        "order_return" => "return",
        "input" => "incoming_receipt",
        "movement" => "transfer",
        "purchase" => "purchase",
        "return" => "supplier_return",
        "stocktaking" => "inventory",
        "writeoff" => "write_off",
        "payment" => "customer_payment",
        _ => "cash",
    }
}

/// A document of `endpoint` as a canonical document.
pub(crate) fn document(endpoint: &wire::Endpoint, object: &Object) -> Map<String, Value> {
    let mut data = Map::new();
    put(
        &mut data,
        "number",
        text(object, "document_number").or_else(|| text(object, "external_id")),
    );
    put(&mut data, "kind", Some(kind(endpoint.key).to_owned()));
    put(&mut data, "date", iso_date(object, "document_date"));
    put(&mut data, "counterparty", text(object, "person_code"));
    put(&mut data, "warehouse", text(object, "warehouse_code"));
    put(&mut data, "currency", text(object, "currency_code"));
    put(&mut data, "total", number(object, "amount"));
    put(&mut data, "note", text(object, "note"));
    data.insert("lines".to_owned(), Value::Array(lines(object)));
    data
}

/// A payload's field as text (dotted path), none when blank.
pub(crate) fn field(payload: &Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(payload, |value, segment| value.get(segment))?;
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// An ISO date or time as `dd.mm.yyyy` (today when absent).
fn smartup_date(value: Option<String>) -> Result<String, String> {
    let Some(value) = value else {
        return Ok(Utc::now().format(wire::DATE).to_string());
    };
    NaiveDate::parse_from_str(value.get(..10).unwrap_or(&value), "%Y-%m-%d")
        .map(|date| date.format(wire::DATE).to_string())
        .map_err(|_| format!("the date {value:?} is not an ISO date (YYYY-MM-DD)"))
}

/// A canonical product as an inventory object.
pub(crate) fn item(payload: &Value) -> Result<Value, String> {
    let code = field(payload, "sku").ok_or("the product has no sku: Smartup identifies items by their code")?;
    let unit = field(payload, "unit")
        .unwrap_or_else(|| "pcs".to_owned())
        .to_lowercase();
    let measure = match unit.trim_end_matches('.') {
        "vnt" | "pc" | "pcs" | "шт" | "piece" => "pcs".to_owned(),
        other => other.to_owned(),
    };
    let mut object = json!({
        "code": code,
        "name": field(payload, "name").unwrap_or_else(|| code.clone()),
        "measure_code": measure,
        "state": if payload.get("active") == Some(&Value::Bool(false)) { "P" } else { "A" },
        "inventory_kind": "G",
    });
    if let Some(ean) = field(payload, "ean") {
        object["barcodes"] = json!(ean);
    }
    if let Some(rate) = field(payload, "vat_rate") {
        object["vat_percent"] = json!(rate);
    }
    Ok(object)
}

/// A canonical customer as a legal (`true`) or natural person object.
pub(crate) fn person(payload: &Value) -> Result<(bool, Value), String> {
    let legal = field(payload, "kind").as_deref() == Some("company") || field(payload, "company_name").is_some();
    // Smartup requires a unique code: the customer's own, else its e-mail [I].
    let code = field(payload, "code")
        .or_else(|| field(payload, "company_code"))
        .or_else(|| field(payload, "email").map(|email| email.to_lowercase()))
        .ok_or("the customer has no code and no e-mail: Smartup requires a unique code for a person")?;
    let mut object = json!({ "code": code, "state": "A" });
    if legal {
        let name = field(payload, "company_name")
            .or_else(|| field(payload, "name"))
            .ok_or("the company has no name: Smartup requires a legal person's name")?;
        object["name"] = json!(name);
        if let Some(tin) = field(payload, "vat_code").or_else(|| field(payload, "company_code")) {
            object["tin"] = json!(tin);
        }
    } else {
        let first = field(payload, "first_name")
            .or_else(|| field(payload, "name"))
            .or_else(|| field(payload, "email"))
            .ok_or("the person has no name or e-mail: Smartup requires a natural person's first name")?;
        object["first_name"] = json!(first);
        if let Some(last) = field(payload, "last_name") {
            object["last_name"] = json!(last);
        }
    }
    for (canonical, smartup) in [
        ("email", "email"),
        ("phone", "main_phone"),
        ("billing.line1", "address"),
    ] {
        if let Some(value) = field(payload, canonical) {
            object[smartup] = json!(value);
        }
    }
    Ok((legal, object))
}

/// A canonical order as an order (deal) object, in `status`, booked in `warehouse`.
pub(crate) fn deal(payload: &Value, status: &str, warehouse: Option<&str>) -> Result<Value, String> {
    let order: tiltas_model::Order =
        serde_json::from_value(payload.clone()).map_err(|error| format!("not an order: {error}"))?;
    let person = field(payload, "customer.code").ok_or(
        "the order has no buyer (customer.code): let the order pipeline find or create it, or set default_customer \
         to a Smartup person id",
    )?;
    let mut products = Vec::new();
    for (index, line) in order.lines.iter().enumerate() {
        let net = tiltas_model::line_net(line).ok_or_else(|| {
            format!(
                "line {} ({}): the line has neither a total nor a price",
                index + 1,
                line.sku
            )
        })?;
        if line.quantity.is_zero() {
            return Err(format!("line {} ({}): the quantity is 0", index + 1, line.sku));
        }
        let gross = net + line.total_tax.unwrap_or_default();
        let price = (gross / line.quantity).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        products.push(json!({
            "product_code": line.sku.trim(),
            "quantity": line.quantity.normalize().to_string(),
            "product_price": price.normalize().to_string(),
        }));
    }
    if products.is_empty() {
        return Err("the order has no lines".to_owned());
    }
    let mut deal = json!({
        "external_id": order.number,
        "deal_date": smartup_date(field(payload, "created_at"))?,
        "status": status,
        "currency_code": order.currency.clone().unwrap_or_else(|| "UZS".to_owned()).to_uppercase(),
        "products": products,
    });
    match person.parse::<i64>() {
        Ok(id) => deal["person_id"] = json!(id),
        Err(_) => deal["person_code"] = json!(person),
    }
    if let Some(warehouse) = field(payload, "warehouse").or(warehouse.map(str::to_owned)) {
        deal["warehouse_code"] = json!(warehouse);
    }
    if let Some(note) = field(payload, "note") {
        deal["note"] = json!(note);
    }
    Ok(deal)
}

/// A canonical customer payment as a payment document.
pub(crate) fn payment(payload: &Value) -> Result<Value, String> {
    let kind = field(payload, "kind").unwrap_or_default();
    if kind != "customer_payment" {
        return Err(format!(
            "the document is a {kind:?}, not a customer_payment: this flow writes customer payments to Smartup"
        ));
    }
    let number = field(payload, "number").ok_or("the payment has no number: it is its external_id in Smartup")?;
    let person = field(payload, "counterparty")
        .ok_or("the payment names no counterparty: map `counterparty` to the Smartup person's code")?;
    let amount = field(payload, "total").ok_or("the payment has no total")?;
    let mut object = json!({
        "external_id": number,
        "document_number": number,
        "document_date": smartup_date(field(payload, "date"))?,
        "person_code": person,
        "amount": amount,
        "currency_code": field(payload, "currency").unwrap_or_else(|| "UZS".to_owned()),
    });
    if let Some(note) = field(payload, "note") {
        object["note"] = json!(note);
    }
    Ok(object)
}

/// A canonical incoming receipt (a supplier invoice turned INC) as an `input` document, booked
/// in its warehouse or the flow's.
pub(crate) fn receipt(payload: &Value, warehouse: Option<&str>) -> Result<Value, String> {
    let document: tiltas_model::Document =
        serde_json::from_value(payload.clone()).map_err(|error| format!("not a document: {error}"))?;
    if document.kind != tiltas_model::DocumentKind::IncomingReceipt {
        return Err(format!(
            "the document is a {:?}, not an incoming_receipt: this flow writes receipts (input) to Smartup",
            field(payload, "kind").unwrap_or_default()
        ));
    }
    let warehouse = document
        .warehouse
        .clone()
        .or(warehouse.map(str::to_owned))
        .ok_or("the receipt names no warehouse: set `warehouse` on the flow's `to` or map `warehouse`")?;
    let mut products = Vec::new();
    for (index, line) in document.lines.iter().enumerate() {
        if line.sku.trim().is_empty() || line.quantity <= Decimal::ZERO {
            return Err(format!(
                "line {}: a receipt line needs an item code (sku) and a quantity above 0",
                index + 1
            ));
        }
        let mut product = json!({ "product_code": line.sku.trim(), "quantity": line.quantity.normalize().to_string() });
        if let Some(price) = line.price {
            product["product_price"] = json!(price.normalize().to_string());
        }
        products.push(product);
    }
    if products.is_empty() {
        return Err("the receipt has no lines".to_owned());
    }
    let mut object = json!({
        "external_id": document.number,
        "document_number": document.number,
        "document_date": smartup_date(field(payload, "date"))?,
        "warehouse_code": warehouse,
        "currency_code": document.currency.clone().unwrap_or_else(|| "UZS".to_owned()),
        "products": products,
    });
    if let Some(supplier) = document.counterparty.clone() {
        object["person_code"] = json!(supplier);
    }
    if let Some(note) = document.note.clone() {
        object["note"] = json!(note);
    }
    Ok(object)
}
