//! The reference system's simulator: the contract of `docs/reference-api.md`, served from
//! memory, seeded deterministically, behind the shared fault harness.
mod contract;
mod flags;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeZone, Utc};
pub use contract::contract_fixture;
pub use flags::Flags;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_model::{natural_key, EntityKind};
use tiltas_reference::{collection_entity, COLLECTIONS, MAX_BATCH, MAX_LOOKUP, MAX_PAGE};
use tiltas_sim::{Harness, RequestKind, SimSystem};

/// The longest `name` the system stores unless told otherwise.
pub const MAX_NAME: usize = 120;

/// The per-item error message of a record `invalid_item_rate` refuses.
pub const REFUSED_ITEM: &str = "record refused as invalid (invalid_item_rate, POST /__sim/faults)";

/// How many records of each kind the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data and of fault decisions.
    pub seed: u64,
    /// Products (each with a stock level in warehouse CENTR).
    pub products: usize,
    /// Customers.
    pub customers: usize,
    /// Orders.
    pub orders: usize,
}

/// One collection: records by id, plus the (updated_at, id) order lists walk.
#[derive(Debug, Clone, Default)]
struct Collection {
    next_id: u64,
    records: HashMap<String, Value>,
    order: BTreeSet<(i64, String)>,
}

impl Collection {
    fn put(&mut self, id: String, mut record: Value, updated_ms: i64) {
        if let Some(previous) = self.records.get(&id) {
            if let Some(ms) = stored_ms(previous) {
                self.order.remove(&(ms, id.clone()));
            }
        }
        record["id"] = Value::String(id.clone());
        record["updated_at"] = Value::String(format_ms(updated_ms));
        self.order.insert((updated_ms, id.clone()));
        self.records.insert(id, record);
    }

    fn new_id(&mut self, prefix: char) -> String {
        self.next_id += 1;
        format!("{prefix}-{:06}", self.next_id)
    }
}

fn format_ms(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn stored_ms(record: &Value) -> Option<i64> {
    let text = record.get("updated_at")?.as_str()?;
    Some(DateTime::parse_from_rfc3339(text).ok()?.timestamp_millis())
}

#[derive(Debug, Clone, Default)]
struct Db {
    collections: BTreeMap<&'static str, Collection>,
    last_ms: i64,
    mutations: u64,
}

impl Db {
    /// A modification time later than every earlier one, so cursors never miss a write.
    fn tick(&mut self) -> i64 {
        self.last_ms = Utc::now().timestamp_millis().max(self.last_ms + 1);
        self.last_ms
    }

    fn collection(&mut self, name: &str) -> Option<&mut Collection> {
        self.collections.get_mut(name)
    }
}

/// The simulated reference system.
pub struct ReferenceSim {
    token: String,
    max_name: usize,
    seeding: Seeding,
    seeded: Db,
    db: Mutex<Db>,
}

fn lock(db: &Mutex<Db>) -> MutexGuard<'_, Db> {
    db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

const FIRST: [&str; 12] = [
    "Jonas", "Ona", "Petras", "Rūta", "Tomas", "Eglė", "Mantas", "Aistė", "Lukas", "Gintarė", "Darius", "Ieva",
];
const LAST: [&str; 10] = [
    "Kazlauskas",
    "Petraitė",
    "Jankauskas",
    "Žukauskaitė",
    "Butkus",
    "Šimkus",
    "Vasiliauskas",
    "Paulauskė",
    "Balčiūnas",
    "Urbonas",
];
const THINGS: [&str; 12] = [
    "Grąžtas",
    "Plaktukas",
    "Atsuktuvas",
    "Replės",
    "Pjūklas",
    "Kaltas",
    "Dažai",
    "Teptukas",
    "Varžtai",
    "Vinys",
    "Pirštinės",
    "Kopėčios",
];
const KINDS: [&str; 8] = [
    "metalui",
    "medžiui",
    "betonui",
    "universalus",
    "profesionalus",
    "mažas",
    "didelis",
    "rinkinys",
];

/// An EAN-13 with a correct check digit, from twelve digits.
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

fn cents(value: i64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

fn product(rng: &mut StdRng, n: usize) -> Value {
    let thing = THINGS[rng.gen_range(0..THINGS.len())];
    let kind = KINDS[rng.gen_range(0..KINDS.len())];
    json!({
        "sku": format!("LT-{n:06}"),
        "name": format!("{thing} {kind} {n}"),
        "ean": ean13(477_000_000_000 + n as u64),
        "unit": "vnt",
        "price_net": cents(rng.gen_range(99..50_000)),
        "vat_rate": "21",
        "currency": "EUR",
        "categories": [format!("Įrankiai/{thing}")],
    })
}

fn customer(rng: &mut StdRng, n: usize) -> Value {
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    let last = LAST[rng.gen_range(0..LAST.len())];
    let ascii: String = format!("{first}.{last}")
        .to_lowercase()
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
        .collect();
    json!({
        "code": format!("K{n:05}"),
        "kind": "person",
        "name": format!("{first} {last}"),
        "first_name": first,
        "last_name": last,
        "email": format!("{ascii}{n}@example.lt"),
        "phone": format!("+3706{:07}", rng.gen_range(0..10_000_000)),
        "billing": { "city": "Vilnius", "country": "LT", "postcode": format!("LT-{:05}", rng.gen_range(1000..99_999)) },
    })
}

fn order(rng: &mut StdRng, n: usize, products: usize) -> Value {
    let lines: Vec<Value> = (0..rng.gen_range(1..4))
        .map(|_| {
            let sku = format!("LT-{:06}", rng.gen_range(1..=products.max(1)));
            json!({ "sku": sku, "quantity": rng.gen_range(1..5).to_string(), "price": cents(rng.gen_range(99..10_000)), "vat_rate": "21" })
        })
        .collect();
    json!({
        "number": format!("{}", 100_000 + n),
        "status": "processing",
        "currency": "EUR",
        "customer": { "email": format!("pirkejas{n}@example.lt") },
        "lines": lines,
    })
}

impl ReferenceSim {
    /// A simulator with seeded data that accepts `token`.
    pub fn new(token: impl Into<String>, seeding: Seeding) -> ReferenceSim {
        let mut rng = StdRng::seed_from_u64(seeding.seed);
        let mut db = Db::default();
        for (name, _) in COLLECTIONS {
            db.collections.insert(name, Collection::default());
        }
        // Seeded records were modified a minute apart, starting on New Year's Day.
        let base = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .map_or(0, |at| at.timestamp_millis());
        let mut at = base;
        let mut add = |db: &mut Db, collection: &'static str, prefix: char, record: Value| {
            at += 60_000;
            if let Some(target) = db.collection(collection) {
                let id = target.new_id(prefix);
                target.put(id, record, at);
            }
        };
        for n in 1..=seeding.products {
            let record = product(&mut rng, n);
            let stock = json!({
                "sku": record["sku"].clone(),
                "warehouse": "CENTR",
                "on_hand": rng.gen_range(0..200).to_string(),
                "reserved": rng.gen_range(0..5).to_string(),
            });
            add(&mut db, "products", 'p', record);
            add(&mut db, "stock", 's', stock);
        }
        for n in 1..=seeding.customers {
            let record = customer(&mut rng, n);
            add(&mut db, "customers", 'c', record);
        }
        for n in 1..=seeding.orders {
            let record = order(&mut rng, n, seeding.products);
            add(&mut db, "orders", 'o', record);
        }
        db.last_ms = at;
        ReferenceSim {
            token: token.into(),
            max_name: MAX_NAME,
            seeding,
            seeded: db.clone(),
            db: Mutex::new(db),
        }
    }

    /// The same simulator with another limit on the length of `name`.
    pub fn with_name_limit(mut self, max_name: usize) -> ReferenceSim {
        self.max_name = max_name;
        self
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|token| token == self.token)
    }
}

impl SimSystem for ReferenceSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = lock(&self.db);
        COLLECTIONS
            .iter()
            .map(|(name, entity)| {
                (
                    entity.as_str().to_owned(),
                    db.collections
                        .get(name)
                        .map_or(0, |collection| collection.records.len()),
                )
            })
            .collect()
    }

    fn duplicates(&self) -> usize {
        let db = lock(&self.db);
        COLLECTIONS
            .iter()
            .map(|(name, entity)| {
                let mut seen: HashMap<String, usize> = HashMap::new();
                if let Some(collection) = db.collections.get(name) {
                    for record in collection.records.values() {
                        if let Some(key) = natural_key(*entity, record) {
                            *seen.entry(key).or_default() += 1;
                        }
                    }
                }
                seen.values().map(|count| count - 1).sum::<usize>()
            })
            .sum()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = lock(&self.db);
        db.mutations += 1;
        let mut rng = StdRng::seed_from_u64(self.seeding.seed.wrapping_add(db.mutations.wrapping_mul(7919)));
        match entity {
            "order" => {
                for _ in 0..count {
                    let at = db.tick();
                    let products = self.seeding.products;
                    let Some(orders) = db.collection("orders") else { break };
                    let n = orders.records.len() + 1;
                    let id = orders.new_id('o');
                    orders.put(id, order(&mut rng, n, products), at);
                }
                Ok(count)
            }
            "product" | "customer" | "stock" => {
                let name = COLLECTIONS
                    .iter()
                    .find(|(_, kind)| kind.as_str() == entity)
                    .map(|(name, _)| *name);
                let Some(name) = name else {
                    return Err(format!("unknown entity {entity:?}"));
                };
                let mut ids: Vec<String> = db
                    .collections
                    .get(name)
                    .map(|c| c.records.keys().cloned().collect())
                    .unwrap_or_default();
                ids.sort();
                let mut chosen = Vec::new();
                while chosen.len() < count.min(ids.len()) {
                    let index = rng.gen_range(0..ids.len());
                    chosen.push(ids.swap_remove(index));
                }
                for id in &chosen {
                    let at = db.tick();
                    let Some(collection) = db.collection(name) else { break };
                    let Some(mut record) = collection.records.get(id).cloned() else {
                        continue;
                    };
                    match entity {
                        "product" => record["price_net"] = Value::String(cents(rng.gen_range(99..50_000))),
                        "customer" => {
                            record["phone"] = Value::String(format!("+3706{:07}", rng.gen_range(0..10_000_000)))
                        }
                        _ => record["on_hand"] = Value::String(rng.gen_range(0..200).to_string()),
                    }
                    collection.put(id.clone(), record, at);
                }
                Ok(chosen.len())
            }
            other => Err(format!(
                "unknown entity {other:?}: use product, customer, stock or order"
            )),
        }
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let name = COLLECTIONS
            .iter()
            .find(|(name, kind)| kind.as_str() == entity || *name == entity)?
            .0;
        let db = lock(&self.db);
        let collection = db.collections.get(name)?;
        Some(Value::Array(
            collection
                .order
                .iter()
                .filter_map(|(_, id)| collection.records.get(id).cloned())
                .collect(),
        ))
    }

    fn reset(&self) {
        *lock(&self.db) = self.seeded.clone();
    }
}

/// The simulator's router: the API of `docs/reference-api.md` plus `/__sim/`.
pub fn router(sim: Arc<ReferenceSim>, harness: Arc<Harness>) -> Router {
    let api = Router::new()
        .route("/api/{collection}", get(list))
        .route("/api/{collection}/lookup", post(lookup))
        .route("/api/{collection}/batch", post(batch))
        .route("/api/{collection}/{id}", get(get_one))
        .with_state((sim, harness.clone()));
    api.merge(tiltas_sim::control_router(harness))
}

type AppState = State<(Arc<ReferenceSim>, Arc<Harness>)>;

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message.into() } })),
    )
        .into_response()
}

/// Admission and authentication shared by every API handler.
async fn enter(
    sim: &ReferenceSim,
    harness: &Harness,
    headers: &HeaderMap,
    kind: RequestKind,
    collection: &str,
) -> Result<(tiltas_sim::Admission, EntityKind), Response> {
    let admission = harness.admit(kind).await?;
    if !sim.authorized(headers) {
        harness.count_rejected();
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        ));
    }
    let entity = collection_entity(collection).ok_or_else(|| {
        harness.count_rejected();
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no collection {collection:?}: use products, customers, stock or orders"),
        )
    })?;
    Ok((admission, entity))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<usize>,
    updated_after: Option<String>,
    after_id: Option<String>,
}

async fn list(
    State((sim, harness)): AppState,
    Path(collection): Path<String>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Err(response) = enter(&sim, &harness, &headers, RequestKind::Read, &collection).await {
        return response;
    }
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        harness.count_rejected();
        return error(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("limit must be between 1 and {MAX_PAGE}"),
        );
    }
    let after_ms = match &query.updated_after {
        None => None,
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) => Some(at.timestamp_millis()),
            Err(_) => {
                harness.count_rejected();
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    format!("updated_after {text:?} is not an RFC 3339 time"),
                );
            }
        },
    };
    let db = lock(&sim.db);
    let Some(records) = db.collections.get(collection.as_str()) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such collection");
    };
    let start = match (after_ms, &query.after_id) {
        (Some(ms), Some(id)) => std::ops::Bound::Excluded((ms, id.clone())),
        (Some(ms), None) => std::ops::Bound::Included((ms, String::new())),
        (None, _) => std::ops::Bound::Unbounded,
    };
    let page: Vec<&(i64, String)> = records
        .order
        .range((start, std::ops::Bound::Unbounded))
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    let items: Vec<Value> = page
        .iter()
        .take(limit)
        .filter_map(|(_, id)| records.records.get(id).cloned())
        .collect();
    let next = if more {
        page.get(limit - 1)
            .map(|(ms, id)| json!({ "updated_after": format_ms(*ms), "after_id": id }))
    } else {
        None
    };
    Json(json!({ "items": items, "next": next })).into_response()
}

async fn get_one(
    State((sim, harness)): AppState,
    Path((collection, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = enter(&sim, &harness, &headers, RequestKind::Read, &collection).await {
        return response;
    }
    let db = lock(&sim.db);
    match db
        .collections
        .get(collection.as_str())
        .and_then(|records| records.records.get(&id))
    {
        Some(record) => Json(record.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {collection} record {id:?}"),
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupBody {
    field: String,
    values: Vec<String>,
}

/// The value a record has for a look-up field: `natural_key`, or a dotted field path.
fn field_value(entity: EntityKind, record: &Value, field: &str) -> Option<String> {
    if field == "natural_key" {
        return natural_key(entity, record);
    }
    let mut value = record;
    for segment in field.split('.') {
        value = value.get(segment)?;
    }
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

async fn lookup(
    State((sim, harness)): AppState,
    Path(collection): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let entity = match enter(&sim, &harness, &headers, RequestKind::Read, &collection).await {
        Ok((_, entity)) => entity,
        Err(response) => return response,
    };
    let body: LookupBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(problem) => {
            harness.count_rejected();
            return error(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("body: {problem}; send {{\"field\":\"sku\",\"values\":[…]}}"),
            );
        }
    };
    if body.values.len() > MAX_LOOKUP {
        harness.count_rejected();
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {MAX_LOOKUP} values per look-up"),
        );
    }
    let wanted: std::collections::HashSet<&str> = body.values.iter().map(String::as_str).collect();
    let db = lock(&sim.db);
    let found: Vec<Value> = db
        .collections
        .get(collection.as_str())
        .map(|records| {
            records
                .order
                .iter()
                .filter_map(|(_, id)| records.records.get(id))
                .filter(|record| {
                    field_value(entity, record, &body.field).is_some_and(|value| wanted.contains(value.as_str()))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Json(json!({ "found": found })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    items: Vec<BatchItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchItem {
    op: String,
    id: Option<String>,
    record: Value,
}

async fn batch(
    State((sim, harness)): AppState,
    Path(collection): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (admission, entity) = match enter(&sim, &harness, &headers, RequestKind::Write, &collection).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let body: BatchBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(problem) => {
            harness.count_rejected();
            return error(StatusCode::BAD_REQUEST, "invalid", format!("body: {problem}"));
        }
    };
    if body.items.len() > MAX_BATCH {
        harness.count_rejected();
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("{} items; a batch holds at most {MAX_BATCH}", body.items.len()),
        );
    }
    let prefix = collection.chars().next().unwrap_or('x');
    let mut db = lock(&sim.db);
    let mut results = Vec::with_capacity(body.items.len());
    for item in body.items {
        let mut record = match item.record {
            Value::Object(fields) => fields,
            _ => {
                results.push(
                    json!({ "status": 400, "error": { "code": "invalid", "message": "record must be a JSON object" } }),
                );
                continue;
            }
        };
        for server_field in ["id", "updated_at", "raw"] {
            record.remove(server_field);
        }
        // Like most real systems, names have a length limit the canonical model does not know.
        let max_name = sim.max_name;
        if let Some(name) = record
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| name.chars().count() > max_name)
        {
            results.push(json!({ "status": 400, "error": {
                "code": "invalid",
                "message": format!("name is {} characters; at most {max_name} are allowed", name.chars().count()),
                "field": "name"
            } }));
            continue;
        }
        let record = Value::Object(record);
        if let Err(errors) = tiltas_model::validate_json(entity, &record) {
            let field = errors.0.first().map(|problem| problem.field.clone());
            results.push(
                json!({ "status": 400, "error": { "code": "invalid", "message": errors.to_string(), "field": field } }),
            );
            continue;
        }
        if natural_key(entity, &record).is_some_and(|key| harness.refuses_item(&key)) {
            results.push(json!({ "status": 400, "error": { "code": "invalid", "message": REFUSED_ITEM } }));
            continue;
        }
        let at = db.tick();
        let Some(records) = db.collection(&collection) else {
            break;
        };
        match (item.op.as_str(), item.id) {
            ("create", _) => {
                let id = records.new_id(prefix);
                records.put(id.clone(), record, at);
                results.push(json!({ "status": 201, "id": id }));
            }
            ("update", Some(id)) if records.records.contains_key(&id) => {
                records.put(id.clone(), record, at);
                results.push(json!({ "status": 200, "id": id }));
            }
            ("update", Some(id)) => {
                results.push(json!({ "status": 404, "error": { "code": "not_found", "message": format!("no {collection} record {id:?}") } }));
            }
            (op, _) => results.push(json!({
                "status": 400,
                "error": { "code": "invalid", "message": format!("op {op:?} needs to be \"create\", or \"update\" with an id") }
            })),
        }
    }
    drop(db);
    if admission.fail_after_commit {
        return harness.commit_then_fail();
    }
    Json(json!({ "results": results })).into_response()
}

impl Seeding {
    /// A seeding with only products.
    pub fn products(seed: u64, products: usize) -> Seeding {
        Seeding {
            seed,
            products,
            customers: 0,
            orders: 0,
        }
    }
}
