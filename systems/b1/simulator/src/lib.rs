//! A simulator of the B1.lt API (`shared/protocols/erp-and-suppliers.md` §2) serving one
//! seeded company: every call `POST /api/<module>/<entity>/<action>` with a JSON body,
//! `B1-Api-Key` and, when signed, `B1-Time` (±5 minutes) and `B1-Signature` in any documented
//! form ([`tiltas_b1::sign::verify`]); jqGrid-style lists (`page`, `rows` from B1's allowed set,
//! `filters` with `eq`, `cn`, `ge`, `le`, groups AND/OR) answered `{code, data, page, pages,
//! records}`; creates answered `{code: 200, data: {id}}`; a sale whose lines name unknown items
//! is created without them and answered 480 (partial completion); references to a missing
//! client, warehouse, operation type, currency, employee or VAT rate fail on the
//! `PARDAVIMAI_fkN` foreign keys of B1's help page; the company's daily request package is
//! enforced (`--package`). The harness' faults apply to every call.
mod contract;
mod flags;
mod package;
mod seed;
use seed::seed;
#[cfg(test)]
mod tests;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
pub use contract::contract_fixture;
pub use flags::Flags;
pub use package::Package;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_b1::sign;
use tiltas_sim::{Harness, RequestKind, SimSystem};

/// The text of a record `invalid_item_rate` refuses ("record refused as invalid"), in
/// Lithuanian like B1's own validation messages.
pub const REFUSED_ITEM: &str = "Įrašas atmestas kaip neteisingas (invalid_item_rate, POST /__sim/faults)";

/// B1's VAT rates (percent) a sale line may name.
const VAT_RATES: [&str; 4] = ["0", "5", "9", "21"];
/// Currencies the company has rates for.
const CURRENCIES: [&str; 4] = ["EUR", "USD", "PLN", "GBP"];
/// Operation types of the company (1 sale of goods, 2 services, 3 returns).
const OPERATION_TYPES: [i64; 3] = [1, 2, 3];
/// Employees of the company.
const EMPLOYEES: [i64; 2] = [1, 2];

/// A stored record: B1's fields as its API renders them.
type Record = Map<String, Value>;

/// The company's data.
#[derive(Debug, Clone, Default)]
struct Db {
    items: BTreeMap<i64, Record>,
    clients: BTreeMap<i64, Record>,
    warehouses: BTreeMap<i64, Record>,
    balances: BTreeMap<i64, Record>,
    sales: BTreeMap<i64, Record>,
    payments: BTreeMap<i64, Record>,
    next_id: i64,
}

impl Db {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn table(&mut self, name: &str) -> Option<&mut BTreeMap<i64, Record>> {
        Some(match name {
            "items" => &mut self.items,
            "clients" => &mut self.clients,
            "warehouses" => &mut self.warehouses,
            "balances" => &mut self.balances,
            "sales" => &mut self.sales,
            "payments" => &mut self.payments,
            _ => return None,
        })
    }
}

/// How many records the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data.
    pub seed: u64,
    /// Items (products with VAT, unit, barcode, price).
    pub items: usize,
    /// Clients (companies and persons, each with a code).
    pub clients: usize,
    /// Warehouses, each holding a balance of every item.
    pub warehouses: usize,
    /// Sales invoices (about half of them paid).
    pub invoices: usize,
}

/// The simulated B1 company.
pub struct B1Sim {
    api_key: String,
    private_key: String,
    /// The daily request package its requests come off (its own, or a payer's it shares).
    package: Arc<Package>,
    seeded: Db,
    db: Mutex<Db>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked cannot leave these values half-written: keep serving.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Now in B1's time format.
fn now() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn json_record(value: Value) -> Record {
    match value {
        Value::Object(record) => record,
        _ => Record::new(),
    }
}

fn with_id(mut record: Record, id: i64) -> Record {
    record.insert("id".to_owned(), json!(id));
    record
}

fn balance(db: &Db, item: i64, warehouse: i64, quantity: i64, reserved: i64, at: &str) -> Record {
    let item_record = db.items.get(&item);
    json_record(json!({
        "itemId": item,
        "itemCode": item_record.and_then(|item| item.get("code")).cloned().unwrap_or(Value::Null),
        "itemName": item_record.and_then(|item| item.get("name")).cloned().unwrap_or(Value::Null),
        "warehouseId": warehouse,
        "warehouseName": db.warehouses.get(&warehouse).and_then(|w| w.get("name")).cloned().unwrap_or(Value::Null),
        "quantity": quantity.to_string(),
        "reserved": reserved.to_string(),
        "modifiedAt": at,
    }))
}

fn text(record: &Record, field: &str) -> Option<String> {
    match record.get(field)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn integer(record: &Record, field: &str) -> Option<i64> {
    match record.get(field)? {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn decimal(record: &Record, field: &str) -> Option<Decimal> {
    Decimal::from_str(&text(record, field)?).ok()
}

/// A B1 error answer: `{code, message, errors}` with that HTTP status.
fn error(status: u16, message: &str, errors: Value) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status_code,
        Json(json!({ "code": status, "message": message, "errors": errors })),
    )
        .into_response()
}

/// A foreign-key violation of the sales table, as B1's database reports it.
fn foreign_key(constraint: &str, table: &str) -> String {
    format!(
        "SQLSTATE[23503]: Foreign key violation: 7 ERROR: insert or update on table \"{table}\" violates foreign key constraint \"{constraint}\""
    )
}

/// Creates a sale with its lines: `Err` is a refused sale (a foreign key of the header), `Ok`
/// the id and the errors of lines that were not created (unknown items).
/// A refusal: HTTP status, message, field errors.
type Refusal = (u16, String, Value);

fn create_sale(db: &mut Db, mut sale: Record, at: &str) -> Result<(i64, Map<String, Value>), Refusal> {
    let refuse = |constraint: &str| Err((400, foreign_key(constraint, "pardavimai"), json!({})));
    let number = text(&sale, "number").unwrap_or_default();
    if number.is_empty() {
        return Err((
            400,
            "Validation failed".to_owned(),
            json!({ "number": ["Laukas privalomas"] }),
        ));
    }
    if db
        .sales
        .values()
        .any(|other| text(other, "number").as_deref() == Some(number.as_str()))
    {
        return Err((
            409,
            "Object already exists".to_owned(),
            json!({ "number": [format!("Dokumentas {number} jau yra")] }),
        ));
    }
    let client = integer(&sale, "clientId").and_then(|id| db.clients.get(&id).cloned());
    let Some(client) = client else {
        return refuse("PARDAVIMAI_fk1");
    };
    if integer(&sale, "operationTypeId").is_some_and(|id| !OPERATION_TYPES.contains(&id)) {
        return refuse("PARDAVIMAI_fk2");
    }
    let currency = text(&sale, "currencyCode").unwrap_or_else(|| "EUR".to_owned());
    if !CURRENCIES.contains(&currency.to_uppercase().as_str()) {
        return refuse("PARDAVIMAI_fk3");
    }
    if integer(&sale, "employeeId").is_some_and(|id| !EMPLOYEES.contains(&id)) {
        return refuse("PARDAVIMAI_fk4");
    }
    if integer(&sale, "statusId").is_some_and(|id| !(1..=3).contains(&id)) {
        return refuse("PARDAVIMAI_fk5");
    }
    let lines: Vec<Record> = sale
        .remove("items")
        .and_then(|items| items.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|line| line.as_object().cloned())
        .collect();
    for line in &lines {
        let rate = decimal(line, "vatPercent").unwrap_or_default().normalize().to_string();
        if !VAT_RATES.contains(&rate.as_str()) {
            return refuse("PARDAVIMAI_fk6");
        }
    }
    if integer(&sale, "clientAddressId").is_some() {
        return refuse("PARDAVIMAI_fk7");
    }
    let warehouse_id = integer(&sale, "warehouseId");
    let Some(warehouse) = warehouse_id.and_then(|id| db.warehouses.get(&id).cloned()) else {
        return refuse("PARDAVIMAI_fk8");
    };
    for (field, constraint) in [
        ("carId", "PARDAVIMAI_fk10"),
        ("payerId", "PARDAVIMAI_fk11"),
        ("factoringId", "PARDAVIMAI_fk12"),
    ] {
        if sale.contains_key(field) {
            return refuse(constraint);
        }
    }
    let id = db.id();
    let mut kept = Vec::new();
    let mut line_errors = Map::new();
    let (mut net, mut vat) = (Decimal::ZERO, Decimal::ZERO);
    for (index, line) in lines.into_iter().enumerate() {
        let code = text(&line, "code");
        let item = code.as_ref().and_then(|code| {
            db.items
                .iter()
                .find(|(_, item)| text(item, "code").is_some_and(|known| known.eq_ignore_ascii_case(code)))
                .map(|(id, _)| *id)
        });
        if code.is_some() && item.is_none() {
            line_errors.insert(
                format!("items.{index}"),
                json!([foreign_key("PARDAVIMU_PREKES_fk1", "pardavimu_prekes")]),
            );
            continue;
        }
        let quantity = decimal(&line, "quantity").unwrap_or(Decimal::ONE);
        let price = decimal(&line, "price").unwrap_or_default();
        let sum = decimal(&line, "sum").unwrap_or_else(|| (price * quantity).round_dp(2));
        let rate = decimal(&line, "vatPercent").unwrap_or_default();
        net += sum;
        vat += (sum * rate / Decimal::ONE_HUNDRED).round_dp(2);
        if let (Some(item), Some(warehouse)) = (item, warehouse_id) {
            // A sale takes its goods out of the warehouse.
            if let Some(balance) = db.balances.values_mut().find(|balance| {
                integer(balance, "itemId") == Some(item) && integer(balance, "warehouseId") == Some(warehouse)
            }) {
                let left = decimal(balance, "quantity").unwrap_or_default() - quantity;
                balance.insert("quantity".to_owned(), json!(left.normalize().to_string()));
                balance.insert("modifiedAt".to_owned(), json!(at));
            }
        }
        let mut stored = line.clone();
        stored.insert("itemId".to_owned(), json!(item));
        stored.insert("sum".to_owned(), json!(sum.normalize().to_string()));
        kept.push(Value::Object(stored));
    }
    sale.insert("id".to_owned(), json!(id));
    sale.insert(
        "clientName".to_owned(),
        client.get("name").cloned().unwrap_or(Value::Null),
    );
    sale.insert(
        "warehouseName".to_owned(),
        warehouse.get("name").cloned().unwrap_or(Value::Null),
    );
    sale.insert("currencyCode".to_owned(), json!(currency.to_uppercase()));
    sale.insert("totalWithoutVat".to_owned(), json!(net.normalize().to_string()));
    sale.insert("vat".to_owned(), json!(vat.normalize().to_string()));
    sale.insert("total".to_owned(), json!((net + vat).normalize().to_string()));
    sale.insert("items".to_owned(), Value::Array(kept));
    sale.insert("modifiedAt".to_owned(), json!(at));
    db.sales.insert(id, sale);
    Ok((id, line_errors))
}

impl B1Sim {
    /// A company seeded as `seeding` says, accepting `api_key` and requests signed with
    /// `private_key`.
    pub fn new(api_key: &str, private_key: &str, seeding: Seeding) -> B1Sim {
        let seeded = seed(&seeding);
        B1Sim {
            api_key: api_key.to_owned(),
            private_key: private_key.to_owned(),
            package: Arc::new(Package::new(10_000)),
            db: Mutex::new(seeded.clone()),
            seeded,
        }
    }

    /// The same company with a daily request package of `requests`.
    pub fn with_package(mut self, requests: u64) -> B1Sim {
        self.package = Arc::new(Package::new(requests));
        self
    }

    /// The same company drawing from `payer`'s package (shared packages: one payer company,
    /// several companies using it).
    pub fn sharing_package_of(mut self, payer: &B1Sim) -> B1Sim {
        self.package = payer.package.clone();
        self
    }

    /// Requests counted against today's package (shared ones: by every company using it).
    pub fn package_used(&self) -> u64 {
        self.package.used()
    }

    /// Checks the key, the time and the signature: `Err` is B1's refusal.
    fn authenticate(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let Some(key) = header(sign::API_KEY) else {
            return Err(error(401, "API key is required (B1-Api-Key)", json!({})));
        };
        if key != self.api_key {
            return Err(error(401, "Invalid API key", json!({})));
        }
        let Some(signature) = header(sign::SIGNATURE) else {
            // Newer clients send the key alone and are served.
            return Ok(());
        };
        let time = header(sign::TIME).and_then(|time| time.trim().parse::<i64>().ok());
        match time {
            Some(time) if (Utc::now().timestamp() - time).abs() <= sign::MAX_SKEW_S => {}
            _ => {
                return Err(error(
                    401,
                    "Request time is invalid or differs from the server time by more than 5 minutes (B1-Time)",
                    json!({}),
                ))
            }
        }
        // Every B1- header sent is signed, with Content-Type and Content-Length.
        let signed: Vec<(&str, &str)> = headers
            .iter()
            .filter(|(name, _)| {
                let name = name.as_str();
                (name.starts_with("b1-") && name != "b1-signature")
                    || name == "content-type"
                    || name == "content-length"
            })
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        if sign::verify(&self.private_key, &signed, body, signature) {
            Ok(())
        } else {
            Err(error(401, "Invalid signature (B1-Signature)", json!({})))
        }
    }
}

/// The `rows` B1 accepts.
fn rows_allowed(rows: u64) -> bool {
    tiltas_b1::ALLOWED_ROWS
        .iter()
        .any(|allowed| allowed.parse() == Ok(rows))
}

/// Whether a record passes a jqGrid filter (rules and nested groups, AND or OR).
fn passes(record: &Record, filter: &Value) -> Result<bool, String> {
    let Some(filter) = filter.as_object() else {
        return Ok(true);
    };
    let any = filter
        .get("groupOp")
        .and_then(Value::as_str)
        .is_some_and(|op| op.eq_ignore_ascii_case("OR"));
    let mut results = Vec::new();
    for rule in filter.get("rules").and_then(Value::as_array).into_iter().flatten() {
        let field = rule
            .get("field")
            .and_then(Value::as_str)
            .ok_or("a rule without `field`")?;
        let op = rule.get("op").and_then(Value::as_str).ok_or("a rule without `op`")?;
        let wanted = match rule.get("data") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => String::new(),
        };
        let value = text(record, field).unwrap_or_default();
        let order = match (Decimal::from_str(&value), Decimal::from_str(&wanted)) {
            (Ok(left), Ok(right)) => left.cmp(&right),
            _ => value.to_lowercase().cmp(&wanted.to_lowercase()),
        };
        results.push(match op {
            "eq" => value.eq_ignore_ascii_case(&wanted) || order.is_eq(),
            "cn" => value.to_lowercase().contains(&wanted.to_lowercase()),
            "ge" => order.is_ge(),
            "le" => order.is_le(),
            other => return Err(format!("operator {other:?} is not supported")),
        });
    }
    for group in filter.get("groups").and_then(Value::as_array).into_iter().flatten() {
        results.push(passes(record, group)?);
    }
    Ok(if any {
        results.is_empty() || results.iter().any(|passed| *passed)
    } else {
        results.iter().all(|passed| *passed)
    })
}

/// A list answer: the page of the records passing the filter, in id order.
fn list(records: &BTreeMap<i64, Record>, body: &Record) -> Response {
    let rows = body.get("rows").and_then(Value::as_u64).unwrap_or(10);
    if !rows_allowed(rows) {
        return error(
            400,
            "Validation failed",
            json!({ "rows": [format!("Leidžiamos reikšmės: {}", tiltas_b1::ALLOWED_ROWS.join(", "))] }),
        );
    }
    let page = body.get("page").and_then(Value::as_u64).unwrap_or(1).max(1);
    let filter = body.get("filters").cloned().unwrap_or(Value::Null);
    let mut matching = Vec::new();
    for record in records.values() {
        match passes(record, &filter) {
            Ok(true) => matching.push(Value::Object(record.clone())),
            Ok(false) => {}
            Err(message) => return error(400, "Validation failed", json!({ "filters": [message] })),
        }
    }
    let total = matching.len() as u64;
    let pages = total.div_ceil(rows);
    let data: Vec<Value> = matching
        .into_iter()
        .skip(((page - 1) * rows) as usize)
        .take(rows as usize)
        .collect();
    Json(json!({ "code": 200, "data": data, "page": page, "pages": pages, "records": total })).into_response()
}

fn saved(id: i64) -> Response {
    Json(json!({ "code": 200, "message": "Duomenys išsaugoti", "data": { "id": id } })).into_response()
}

/// A record refused by `invalid_item_rate`: HTTP 200 with the failure in the body, as B1 also answers.
fn refused(field: &str) -> Response {
    Json(json!({ "code": 400, "message": "Validation failed", "errors": { field: [REFUSED_ITEM] } })).into_response()
}

/// The natural key of a client (its code, else its e-mail).
fn client_key(record: &Record) -> Option<String> {
    text(record, "code").or_else(|| text(record, "email").map(|email| email.to_lowercase()))
}

impl B1Sim {
    fn dispatch(&self, harness: &Harness, path: &str, body: Record) -> Response {
        let mut db = lock(&self.db);
        let at = now();
        match path {
            "reference-book/items/list" => list(&db.items, &body),
            "reference-book/warehouses/list" => list(&db.warehouses, &body),
            "clients/list" => list(&db.clients, &body),
            "warehouse/balances/list" => list(&db.balances, &body),
            "warehouse/sales/list" => list(&db.sales, &body),
            "bank/sale-payments/list" => list(&db.payments, &body),
            "reference-book/items/create" | "reference-book/items/update" => {
                let update = path.ends_with("update");
                let mut missing = Map::new();
                for field in ["name", "attributeId", "measurementUnitId"] {
                    if text(&body, field).is_none() {
                        missing.insert(field.to_owned(), json!(["Laukas privalomas"]));
                    }
                }
                if !missing.is_empty() {
                    return error(400, "Validation failed", Value::Object(missing));
                }
                let code = text(&body, "code").unwrap_or_default();
                let id = if update { integer(&body, "id") } else { None };
                if update && id.is_none_or(|id| !db.items.contains_key(&id)) {
                    return error(404, "Object not found", json!({}));
                }
                let taken = db.items.iter().any(|(other, item)| {
                    Some(*other) != id
                        && !code.is_empty()
                        && text(item, "code").is_some_and(|known| known.eq_ignore_ascii_case(&code))
                });
                if taken {
                    return error(
                        409,
                        "Object already exists",
                        json!({ "code": ["Prekė su tokiu kodu jau yra"] }),
                    );
                }
                if harness.refuses_item(&code) {
                    return refused("name");
                }
                let unit = integer(&body, "measurementUnitId").unwrap_or(1);
                let id = id.unwrap_or_else(|| db.id());
                let mut item = db.items.get(&id).cloned().unwrap_or_default();
                for (field, value) in body {
                    item.insert(field, value);
                }
                item.insert("id".to_owned(), json!(id));
                item.insert(
                    "measurementUnitName".to_owned(),
                    json!(tiltas_b1::UNITS
                        .iter()
                        .find(|(known, _)| *known == unit)
                        .map_or("vnt", |(_, name)| *name)),
                );
                item.insert("modifiedAt".to_owned(), json!(at));
                db.items.insert(id, item);
                saved(id)
            }
            "clients/create" | "clients/update" => {
                let update = path.ends_with("update");
                if text(&body, "name").is_none() {
                    return error(400, "Validation failed", json!({ "name": ["Laukas privalomas"] }));
                }
                let id = if update { integer(&body, "id") } else { None };
                if update && id.is_none_or(|id| !db.clients.contains_key(&id)) {
                    return error(404, "Object not found", json!({}));
                }
                let code = text(&body, "code");
                let taken = code.as_ref().is_some_and(|code| {
                    db.clients.iter().any(|(other, client)| {
                        Some(*other) != id && text(client, "code").is_some_and(|known| known.eq_ignore_ascii_case(code))
                    })
                });
                if taken {
                    return error(
                        409,
                        "Object already exists",
                        json!({ "code": ["Klientas su tokiu kodu jau yra"] }),
                    );
                }
                if harness.refuses_item(&client_key(&body).unwrap_or_default()) {
                    return refused("name");
                }
                let id = id.unwrap_or_else(|| db.id());
                let mut client = db.clients.get(&id).cloned().unwrap_or_default();
                for (field, value) in body {
                    client.insert(field, value);
                }
                client.insert("id".to_owned(), json!(id));
                client.insert("modifiedAt".to_owned(), json!(at));
                db.clients.insert(id, client);
                saved(id)
            }
            "e-commerce/orders/create-sale" => {
                if harness.refuses_item(&text(&body, "number").unwrap_or_default()) {
                    return refused("number");
                }
                match create_sale(&mut db, body, &at) {
                    Err((status, message, errors)) => error(status, &message, errors),
                    Ok((id, line_errors)) if line_errors.is_empty() => saved(id),
                    Ok((id, line_errors)) => {
                        let mut response = Json(json!({
                            "code": 480,
                            "message": "Partial completion: the sale was created, some of its lines were not",
                            "data": { "id": id },
                            "errors": line_errors,
                        }))
                        .into_response();
                        *response.status_mut() = StatusCode::from_u16(480).unwrap_or(StatusCode::OK);
                        response
                    }
                }
            }
            "bank/sale-invoice/payment" => {
                let sale = integer(&body, "saleId").and_then(|id| db.sales.get(&id).cloned());
                let Some(sale) = sale else {
                    return error(404, "Object not found", json!({ "saleId": ["Pardavimas nerastas"] }));
                };
                let Some(amount) = decimal(&body, "amount") else {
                    return error(400, "Validation failed", json!({ "amount": ["Laukas privalomas"] }));
                };
                let id = db.id();
                let payment = json_record(json!({
                    "id": id,
                    "saleId": sale.get("id"),
                    "saleNumber": sale.get("number"),
                    "clientId": sale.get("clientId"),
                    "paymentDate": text(&body, "paymentDate").unwrap_or_else(|| at.chars().take(10).collect()),
                    "amount": amount.normalize().to_string(),
                    "currencyCode": sale.get("currencyCode"),
                    "description": text(&body, "description"),
                    "modifiedAt": at,
                }));
                db.payments.insert(id, payment);
                saved(id)
            }
            _ if path.ends_with("/delete") => {
                let table = match path {
                    "reference-book/items/delete" => "items",
                    "clients/delete" => "clients",
                    "warehouse/sales/delete" => "sales",
                    _ => return error(404, "Not found", json!({})),
                };
                let ids: Vec<i64> = body
                    .get("ids")
                    .and_then(Value::as_array)
                    .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default();
                if let Some(records) = db.table(table) {
                    for id in ids {
                        records.remove(&id);
                    }
                }
                Json(json!({ "code": 200, "message": "Duomenys ištrinti" })).into_response()
            }
            _ => error(404, "Not found", json!({})),
        }
    }
}

async fn api(
    State((sim, harness)): State<(Arc<B1Sim>, Arc<Harness>)>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = path.trim_matches('/').to_owned();
    let reads = path.ends_with("/list");
    let kind = if reads { RequestKind::Read } else { RequestKind::Write };
    let admission = match harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    if let Err(response) = sim.authenticate(&headers, &body) {
        harness.count_rejected();
        return response;
    }
    if let Err(response) = sim.package.take() {
        harness.count_rejected();
        return response;
    }
    let request: Record = match serde_json::from_slice(&body) {
        Ok(Value::Object(request)) => request,
        _ => {
            harness.count_rejected();
            return error(400, "Request body must be a JSON object", json!({}));
        }
    };
    let response = sim.dispatch(&harness, &path, request);
    if admission.fail_after_commit && response.status().is_success() {
        return harness.commit_then_fail();
    }
    response
}

/// The company's router: `/api/…` plus the harness' `/__sim/`.
pub fn router(sim: Arc<B1Sim>, harness: Arc<Harness>) -> Router {
    Router::new()
        .route("/api/{*path}", post(api))
        .with_state((sim, harness.clone()))
        .merge(tiltas_sim::control_router(harness))
}

impl SimSystem for B1Sim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = lock(&self.db);
        BTreeMap::from([
            ("product".to_owned(), db.items.len()),
            ("customer".to_owned(), db.clients.len()),
            ("stock".to_owned(), db.balances.len()),
            ("order".to_owned(), db.sales.len()),
            ("payment".to_owned(), db.payments.len()),
            ("warehouse".to_owned(), db.warehouses.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let db = lock(&self.db);
        let mut seen = std::collections::BTreeSet::new();
        let mut duplicates = 0;
        let keys = db
            .items
            .values()
            .filter_map(|item| text(item, "code").map(|code| format!("item:{}", code.to_lowercase())))
            .chain(
                db.clients
                    .values()
                    .filter_map(|client| client_key(client).map(|key| format!("client:{}", key.to_lowercase()))),
            )
            .chain(
                db.sales
                    .values()
                    .filter_map(|sale| text(sale, "number").map(|number| format!("sale:{number}"))),
            );
        for key in keys {
            if !seen.insert(key) {
                duplicates += 1;
            }
        }
        duplicates
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = lock(&self.db);
        let at = now();
        let table = match entity {
            "product" | "item" => "items",
            "customer" | "client" => "clients",
            "stock" => "balances",
            other => {
                return Err(format!(
                    "the B1 simulator mutates product, customer or stock, not {other:?}"
                ))
            }
        };
        let records = db.table(table).ok_or("no such table")?;
        let mut changed = 0;
        for record in records.values_mut().take(count) {
            match table {
                "items" => {
                    let price = decimal(record, "price").unwrap_or_default() + Decimal::ONE;
                    record.insert("price".to_owned(), json!(price.normalize().to_string()));
                }
                "clients" => {
                    let phone = format!("+3706{:07}", 9_000_000 + changed);
                    record.insert("phone".to_owned(), json!(phone));
                }
                _ => {
                    let quantity = decimal(record, "quantity").unwrap_or_default() + Decimal::from(7);
                    record.insert("quantity".to_owned(), json!(quantity.normalize().to_string()));
                }
            }
            record.insert("modifiedAt".to_owned(), json!(at));
            changed += 1;
        }
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = lock(&self.db);
        let records = match entity {
            "product" | "item" => &db.items,
            "customer" | "client" => &db.clients,
            "stock" => &db.balances,
            "warehouse" => &db.warehouses,
            "order" | "invoice" | "sale" => &db.sales,
            "payment" => &db.payments,
            _ => return None,
        };
        Some(Value::Array(records.values().cloned().map(Value::Object).collect()))
    }

    fn reset(&self) {
        *lock(&self.db) = self.seeded.clone();
        self.package.reset();
    }

    fn error_response(&self, status: StatusCode, _code: &str, message: &str) -> Response {
        error(status.as_u16(), message, json!({}))
    }
}
