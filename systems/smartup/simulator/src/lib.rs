//! A simulator of Smartup ERP's API (`shared/protocols/erp-and-suppliers.md` §4) serving one
//! seeded company: HTTP Basic `login@company:password` with the `project_code` and `filial_id`
//! headers (a single organisation, or a head organisation whose body `filial_code` picks a
//! branch, empty meaning all; a filial the user cannot reach is a 401 with `A02-24-048`);
//! `POST /b/<module>/<entity>$export` with JSON filters and `dd.mm.yyyy` dates, a window of
//! at most 7 days (`day_range_limit`); `$import` of at most 5 000 objects answered with
//! per-object `successes` and `errors` in an HTTP 200; `$change_status` of orders; daily
//! quotas per endpoint class with the `limits` block in every answer; and the company's
//! integration settings (`shared/seeds/002_…`: code choice, exported order statuses, duplicate
//! check per document type, items without codes), read and set through `/__sim/settings`.
//! The harness' faults apply to every call.
mod contract;
mod data;
mod flags;
mod import;
#[cfg(test)]
mod tests;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime, Utc};
pub use contract::contract_fixture;
pub use data::Seeding;
use data::{code_field, render_item, text, with_product_codes, Db, Filial, Record};
pub use flags::Flags;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_sim::{Harness, RequestKind, SimSystem};
pub use tiltas_smartup::wire;
use wire::{Endpoint, IntegrationSettings, QuotaClass};

/// The text of an object `invalid_item_rate` refuses, in Russian like Smartup's own messages.
pub const REFUSED_ITEM: &str = "Объект отклонён как некорректный (invalid_item_rate, POST /__sim/faults)";

/// One simulated Smartup company.
pub struct SmartupSim {
    login: String,
    password: String,
    filials: Vec<Filial>,
    quotas: BTreeMap<QuotaClass, u64>,
    db: Mutex<Db>,
    seeded: Db,
    /// Requests of today per quota class.
    used: Mutex<(NaiveDate, BTreeMap<QuotaClass, u64>)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Smartup's error body: `{"error_code","message"}`.
fn failure(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({ "error_code": code, "message": message }))).into_response()
}

impl SmartupSim {
    /// A company reached with `login` (`user@company`) and `password`, seeded as `seeding` says.
    pub fn new(login: &str, password: &str, seeding: Seeding) -> SmartupSim {
        let seeded = data::seed(&seeding);
        SmartupSim {
            login: login.to_owned(),
            password: password.to_owned(),
            filials: data::filials(seeding.filials),
            quotas: [QuotaClass::Reference, QuotaClass::Rare, QuotaClass::Frequent]
                .into_iter()
                .map(|class| (class, class.daily_quota()))
                .collect(),
            db: Mutex::new(seeded.clone()),
            seeded,
            used: Mutex::new((Utc::now().date_naive(), BTreeMap::new())),
        }
    }

    /// The same company with a daily quota of `requests` for `class`.
    pub fn with_quota(mut self, class: QuotaClass, requests: u64) -> SmartupSim {
        self.quotas.insert(class, requests);
        self
    }

    /// The company's integration settings.
    pub fn settings(&self) -> IntegrationSettings {
        lock(&self.db).settings.clone()
    }

    /// Replaces the company's integration settings.
    pub fn set_settings(&self, settings: IntegrationSettings) {
        lock(&self.db).settings = settings;
    }

    /// Requests of today in `class`.
    pub fn used(&self, class: QuotaClass) -> u64 {
        lock(&self.used).1.get(&class).copied().unwrap_or(0)
    }

    /// The filial id of the organisation (single) or of the head organisation.
    pub fn main_filial_id(&self) -> String {
        self.filials.first().map(|filial| filial.id.clone()).unwrap_or_default()
    }

    /// Checks Basic credentials, `project_code` and `filial_id`: the filial reached, or the refusal.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Filial, Response> {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let credentials = header("authorization")
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
            .and_then(|decoded| String::from_utf8(decoded).ok());
        let Some((login, password)) = credentials.as_deref().and_then(|text| text.split_once(':')) else {
            return Err(failure(
                401,
                "A02-24-001",
                "Требуется авторизация (Basic login@company:password)",
            ));
        };
        if login != self.login || password != self.password {
            return Err(failure(401, "A02-24-001", "Неверный логин или пароль"));
        }
        match header("project_code") {
            Some("trade" | "anor") => {}
            other => {
                return Err(failure(
                    401,
                    "A02-24-047",
                    &format!("Неизвестный project_code «{}» (trade или anor)", other.unwrap_or("")),
                ))
            }
        }
        let wanted = header("filial_id").unwrap_or("").trim();
        // Without the header the user works in the organisation it logs in to.
        if wanted.is_empty() {
            return self
                .filials
                .first()
                .cloned()
                .ok_or_else(|| failure(401, wire::WRONG_FILIAL, "Нет организаций"));
        }
        self.filials
            .iter()
            .find(|filial| filial.id == wanted)
            .cloned()
            .ok_or_else(|| {
                failure(
                    401,
                    wire::WRONG_FILIAL,
                    &format!("Нет доступа к организации с filial_id «{wanted}»"),
                )
            })
    }

    /// Counts a request against its class' daily quota: the limits after it, or the refusal.
    fn take_quota(&self, class: QuotaClass) -> Result<(u64, u64), Response> {
        let today = Utc::now().date_naive();
        let quota = self.quotas.get(&class).copied().unwrap_or(0);
        let mut used = lock(&self.used);
        if used.0 != today {
            *used = (today, BTreeMap::new());
        }
        let count = used.1.entry(class).or_insert(0);
        if *count >= quota {
            let mut response = Json(json!({
                "error_code": wire::QUOTA_EXHAUSTED,
                "message": format!("Дневной лимит запросов исчерпан: {} ({quota} в день)", class.label()),
                "limits": limits(quota, *count, 0),
            }))
            .into_response();
            *response.status_mut() = StatusCode::FORBIDDEN;
            return Err(response);
        }
        *count += 1;
        Ok((quota, *count))
    }
}

fn limits(quota: u64, used: u64, objects: usize) -> Value {
    json!({
        "has_limit": "Y",
        "limit_quant": quota,
        "request_quant": used,
        "left_limit_quant": quota.saturating_sub(used),
        "object_count": objects,
        "day_range_limit": wire::DAY_RANGE_LIMIT,
    })
}

/// The date part of a record's field (`dd.mm.yyyy` or `dd.mm.yyyy hh:mi:ss`).
fn date_of(record: &Record, field: &str) -> Option<NaiveDate> {
    let value = text(record, field)?;
    NaiveDateTime::parse_from_str(&value, wire::TIME)
        .map(|at| at.date())
        .or_else(|_| NaiveDate::parse_from_str(&value, wire::DATE))
        .ok()
}

/// The date windows of an export's filters: `(field, begin, end)`, each at most 7 days.
fn windows(filters: &Record) -> Result<Vec<(&'static str, NaiveDate, NaiveDate)>, Response> {
    let mut windows = Vec::new();
    for field in ["modified_on", "created_on", "deal_date", "document_date"] {
        let parse = |name: String| match text(filters, &name) {
            None => Ok(None),
            Some(value) => NaiveDate::parse_from_str(&value, wire::DATE).map(Some).map_err(|_| {
                failure(
                    400,
                    "A02-24-100",
                    &format!("{name}: дата «{value}» не в формате дд.мм.гггг"),
                )
            }),
        };
        let (begin, end) = (parse(format!("begin_{field}"))?, parse(format!("end_{field}"))?);
        let (begin, end) = match (begin, end) {
            (None, None) => continue,
            (Some(begin), Some(end)) => (begin, end),
            _ => {
                return Err(failure(
                    400,
                    "A02-24-100",
                    &format!("Укажите обе даты периода: begin_{field} и end_{field}"),
                ))
            }
        };
        if (end - begin).num_days() >= wire::DAY_RANGE_LIMIT || end < begin {
            return Err(failure(
                400,
                wire::RANGE_TOO_LONG,
                &format!(
                    "Период {field} с {} по {} превышает {} дней (day_range_limit)",
                    begin.format(wire::DATE),
                    end.format(wire::DATE),
                    wire::DAY_RANGE_LIMIT
                ),
            ));
        }
        windows.push((field, begin, end));
    }
    Ok(windows)
}

/// Whether the item `id` is exported: it has a code in the company's scope, or items without
/// codes are exported.
fn coded(db: &Db, id: Option<i64>) -> bool {
    db.settings.export_without_code
        || id
            .and_then(|id| db.items.get(&id))
            .is_some_and(|item| text(item, code_field(db.settings.code_use)).is_some())
}

/// The export of a reference (items, persons, price types, prices), or none for a document.
fn exported_references(db: &Db, endpoint: &Endpoint, filters: &Record) -> Option<Vec<Record>> {
    let wanted_code = text(filters, "code");
    let records = match endpoint.key {
        "inventory" => db
            .items
            .iter()
            .filter(|(id, _)| coded(db, Some(**id)))
            .map(|(_, item)| render_item(item, db.settings.code_use))
            .filter(|item| wanted_code.is_none() || text(item, "code") == wanted_code)
            .collect(),
        "legal_person" | "natural_person" => db
            .persons
            .values()
            .filter(|person| text(person, "kind").as_deref() == Some(endpoint.key))
            .filter(|person| wanted_code.is_none() || text(person, "code") == wanted_code)
            .cloned()
            .collect(),
        "price_type" => data::PRICE_TYPES
            .iter()
            .enumerate()
            .map(|(index, (code, name))| {
                json!({ "price_type_id": index + 1, "code": code, "name": name, "currency_code": "UZS" })
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect(),
        "data" => {
            let price_type = text(filters, "price_type_code");
            db.prices
                .iter()
                .filter(|price| coded(db, data::integer(price, "product_id")))
                .filter(|price| price_type.is_none() || text(price, "price_type_code") == price_type)
                .map(|price| with_product_codes(db, price))
                .collect()
        }
        _ => return None,
    };
    Some(records)
}

/// The filial codes a request sees: its branch, or (head) the body's `filial_code`, empty = all.
fn filial_codes(filials: &[Filial], reached: &Filial, filters: &Record) -> Vec<String> {
    if !reached.head {
        return vec![reached.code.clone()];
    }
    let mut wanted: Vec<String> = text(filters, "filial_code").into_iter().collect();
    if let Some(Value::Array(codes)) = filters.get("filial_codes") {
        wanted.extend(codes.iter().filter_map(|code| code.as_str().map(str::to_owned)));
    }
    if wanted.is_empty() {
        filials.iter().map(|filial| filial.code.clone()).collect()
    } else {
        wanted
    }
}

impl SmartupSim {
    /// The records an export of `endpoint` answers with, before the date windows.
    fn exported(&self, db: &Db, endpoint: &Endpoint, filters: &Record, filials: &[String]) -> Vec<Record> {
        if let Some(references) = exported_references(db, endpoint, filters) {
            return references;
        }
        let in_filial = |record: &Record| text(record, "filial_code").is_none_or(|code| filials.contains(&code));
        match endpoint.key {
            "balance" => db
                .balances
                .iter()
                .filter(|balance| in_filial(balance) && coded(db, data::integer(balance, "product_id")))
                .map(|balance| with_product_codes(db, balance))
                .collect(),
            "order" => db
                .orders
                .values()
                .filter(|order| in_filial(order))
                .filter(|order| {
                    db.settings
                        .order_statuses
                        .contains(&text(order, "status").unwrap_or_default())
                })
                .map(|order| with_product_codes(db, order))
                .collect(),
            "integration_setting" => vec![serde_json::to_value(&db.settings)
                .ok()
                .and_then(|value| value.as_object().cloned())
                .unwrap_or_default()],
            key => db
                .documents
                .get(key)
                .map(|documents| {
                    documents
                        .values()
                        .filter(|document| in_filial(document))
                        .map(|document| with_product_codes(db, document))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn export(&self, endpoint: &Endpoint, reached: &Filial, filters: &Record, quota: (u64, u64)) -> Response {
        let windows = match windows(filters) {
            Ok(windows) => windows,
            Err(response) => return response,
        };
        let db = lock(&self.db);
        let filials = filial_codes(&self.filials, reached, filters);
        let records: Vec<Value> = self
            .exported(&db, endpoint, filters, &filials)
            .into_iter()
            .filter(|record| {
                windows.iter().all(|(field, begin, end)| {
                    date_of(record, field).is_some_and(|date| date >= *begin && date <= *end)
                })
            })
            .map(Value::Object)
            .collect();
        let count = records.len();
        let body = if endpoint.key == "integration_setting" {
            json!({ endpoint.key: records.into_iter().next().unwrap_or_default(), "limits": limits(quota.0, quota.1, count) })
        } else {
            json!({ endpoint.key: records, "limits": limits(quota.0, quota.1, count) })
        };
        Json(body).into_response()
    }

    fn import(
        &self,
        harness: &Harness,
        endpoint: &Endpoint,
        reached: &Filial,
        body: &Record,
        quota: (u64, u64),
        status: bool,
    ) -> Response {
        if endpoint.key == "integration_setting"
            || endpoint.key == "data"
            || endpoint.key == "balance"
            || endpoint.key == "price_type"
        {
            return failure(400, "A02-24-003", &format!("{} не принимает $import", endpoint.path));
        }
        let Some(Value::Array(objects)) = body.get(endpoint.key).cloned() else {
            return failure(
                400,
                "A02-24-002",
                &format!("Тело запроса должно содержать список «{}»", endpoint.key),
            );
        };
        if objects.len() > wire::MAX_IMPORT {
            return failure(
                400,
                "A02-24-004",
                &format!(
                    "Не более {} объектов за запрос, получено {}",
                    wire::MAX_IMPORT,
                    objects.len()
                ),
            );
        }
        let filial = if reached.head {
            text(body, "filial_code").unwrap_or_else(|| reached.code.clone())
        } else {
            reached.code.clone()
        };
        let count = objects.len();
        let mut db = lock(&self.db);
        let outcome = if status {
            if endpoint.key != "order" {
                return failure(
                    400,
                    "A02-24-003",
                    &format!("{} не принимает $change_status", endpoint.path),
                );
            }
            import::change_status(&mut db, objects)
        } else {
            import::import(&mut db, harness, endpoint, objects, &filial)
        };
        Json(json!({
            "successes": outcome.successes,
            "errors": outcome.errors,
            "limits": limits(quota.0, quota.1, count),
        }))
        .into_response()
    }
}

async fn api(
    State((sim, harness)): State<(Arc<SmartupSim>, Arc<Harness>)>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (entity, action) = path.trim_matches('/').split_once('$').unwrap_or((path.as_str(), ""));
    let kind = if action == "export" {
        RequestKind::Read
    } else {
        RequestKind::Write
    };
    let admission = match harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let reached = match sim.authenticate(&headers) {
        Ok(filial) => filial,
        Err(response) => {
            harness.count_rejected();
            return response;
        }
    };
    let Some(endpoint) = wire::endpoints().find(|endpoint| endpoint.path == entity) else {
        harness.count_rejected();
        return failure(404, "A02-24-404", &format!("Метод /b/{path} не найден"));
    };
    if !matches!(action, "export" | "import" | "change_status") {
        harness.count_rejected();
        return failure(404, "A02-24-404", &format!("Метод /b/{path} не найден"));
    }
    let quota = match sim.take_quota(endpoint.class) {
        Ok(quota) => quota,
        Err(response) => {
            harness.count_rejected();
            return response;
        }
    };
    let request: Record = match serde_json::from_slice(&body) {
        Ok(Value::Object(request)) => request,
        _ if body.is_empty() && action == "export" => Record::new(),
        _ => {
            harness.count_rejected();
            return failure(400, "A02-24-002", "Тело запроса должно быть JSON-объектом");
        }
    };
    let response = match action {
        "export" => sim.export(&endpoint, &reached, &request, quota),
        _ => sim.import(
            &harness,
            &endpoint,
            &reached,
            &request,
            quota,
            action == "change_status",
        ),
    };
    if admission.fail_after_commit && response.status().is_success() {
        return harness.commit_then_fail();
    }
    response
}

async fn settings_get(State(sim): State<Arc<SmartupSim>>) -> Response {
    Json(sim.settings()).into_response()
}

async fn settings_set(State(sim): State<Arc<SmartupSim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<IntegrationSettings>(&body) {
        Err(error) => failure(400, "bad_request", &format!("settings: {error}")),
        Ok(settings) => {
            if let Some(unknown) = settings
                .order_statuses
                .iter()
                .find(|status| !wire::ORDER_STATUSES.iter().any(|(code, _)| code == status))
            {
                return failure(
                    400,
                    "bad_request",
                    &format!("settings: unknown order status {unknown:?}"),
                );
            }
            sim.set_settings(settings.clone());
            Json(settings).into_response()
        }
    }
}

/// The company's router: `/b/…` (POST, or GET with a body as some clients send), the
/// harness' `/__sim/` and `/__sim/settings`.
pub fn router(sim: Arc<SmartupSim>, harness: Arc<Harness>) -> Router {
    Router::new()
        .route("/b/{*path}", post(api).get(api))
        .with_state((sim.clone(), harness.clone()))
        .route("/__sim/settings", get(settings_get).post(settings_set).with_state(sim))
        .merge(tiltas_sim::control_router(harness))
}

impl SmartupSim {
    /// `count` new orders in status N, from the first person with the first coded items.
    fn new_orders(&self, db: &mut Db, count: usize, at: &str) -> usize {
        let person = db.persons.keys().next().copied().unwrap_or_default();
        let lines: Vec<Value> = db
            .items
            .iter()
            .filter(|(_, item)| text(item, "global_code").is_some())
            .take(2)
            .map(|(id, _)| json!({ "product_id": id, "quantity": "1", "product_price": "10000" }))
            .collect();
        let filial = self
            .filials
            .iter()
            .find(|filial| !filial.head)
            .map(|filial| filial.code.clone());
        for _ in 0..count {
            let id = db.id();
            let order = json!({
                "deal_id": id, "external_id": format!("SO-N{id}"), "deal_date": at[..10].to_owned(),
                "person_id": person, "status": "N", "currency_code": "UZS", "filial_code": filial,
                "warehouse_code": filial.as_ref().map(|code| format!("WH-{code}")), "products": lines,
                "note": "", "created_on": at, "modified_on": at,
            });
            db.orders.insert(id, order.as_object().cloned().unwrap_or_default());
        }
        count
    }
}

impl SimSystem for SmartupSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = lock(&self.db);
        let mut counts = BTreeMap::from([
            ("product".to_owned(), db.items.len()),
            ("customer".to_owned(), db.persons.len()),
            ("stock".to_owned(), db.balances.len()),
            ("price".to_owned(), db.prices.len()),
            ("order".to_owned(), db.orders.len()),
        ]);
        for (key, documents) in &db.documents {
            counts.insert(key.clone(), documents.len());
        }
        counts
    }

    fn duplicates(&self) -> usize {
        let db = lock(&self.db);
        let mut seen = std::collections::BTreeSet::new();
        let keys = db
            .items
            .values()
            .filter_map(|item| text(item, "global_code").map(|code| format!("item:{code}")))
            .chain(
                db.persons
                    .values()
                    .filter_map(|person| text(person, "code").map(|code| format!("person:{code}"))),
            )
            .chain(
                db.orders
                    .values()
                    .filter_map(|order| text(order, "external_id").map(|id| format!("order:{id}"))),
            )
            .chain(db.documents.iter().flat_map(|(key, documents)| {
                documents
                    .values()
                    .filter_map(move |document| text(document, "external_id").map(|id| format!("{key}:{id}")))
            }));
        keys.filter(|key| !seen.insert(key.clone())).count()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = lock(&self.db);
        let at = data::stamp(Utc::now());
        let mut changed = 0;
        match entity {
            "product" | "item" => {
                for item in db.items.values_mut().take(count) {
                    let name = format!("{} (изм.)", text(item, "name").unwrap_or_default());
                    item.insert("name".into(), json!(name));
                    item.insert("modified_on".into(), json!(at));
                    changed += 1;
                }
            }
            "customer" | "person" => {
                for person in db.persons.values_mut().take(count) {
                    person.insert("main_phone".into(), json!(format!("+99899{:07}", 9_000_000 + changed)));
                    person.insert("modified_on".into(), json!(at));
                    changed += 1;
                }
            }
            "stock" | "balance" => {
                for balance in db.balances.iter_mut().take(count) {
                    let quantity =
                        data::decimal(balance, "quantity").unwrap_or_default() + rust_decimal::Decimal::from(7);
                    balance.insert("quantity".into(), json!(quantity.to_string()));
                    balance.insert("modified_on".into(), json!(at));
                    changed += 1;
                }
            }
            "order" => changed = self.new_orders(&mut db, count, &at),
            other => {
                return Err(format!(
                    "the Smartup simulator mutates product, customer, stock or order, not {other:?}"
                ))
            }
        }
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = lock(&self.db);
        let values = |records: &BTreeMap<i64, Record>| records.values().cloned().map(Value::Object).collect();
        Some(Value::Array(match entity {
            "product" | "item" | "inventory" => values(&db.items),
            "customer" | "person" => values(&db.persons),
            "stock" | "balance" => db.balances.iter().cloned().map(Value::Object).collect(),
            "price" => db.prices.iter().cloned().map(Value::Object).collect(),
            "order" => values(&db.orders),
            key => values(db.documents.get(key)?),
        }))
    }

    fn reset(&self) {
        *lock(&self.db) = self.seeded.clone();
        *lock(&self.used) = (Utc::now().date_naive(), BTreeMap::new());
    }

    fn error_response(&self, status: StatusCode, code: &str, message: &str) -> Response {
        failure(status.as_u16(), code, message)
    }
}
