//! A simulator of the MplusKASSA Q-API (SOAP 1.1, `urn:mplusqapi`): `ident` and `secret` in the
//! query string (a wrong pair is a SOAP Fault), dispatch on the Body element's local name
//! whatever its prefix and whatever `SOAPAction` says, Faults with HTTP 500, its own WSDL (the
//! subset Tiltas uses, typed as the official one) at `?wsdl`, and HTTP 405 on a plain GET.
//!
//! Serves `getProducts`, `createProduct`, `updateProduct`, `getRelations`, `createRelation`,
//! `updateRelation`, `findRelation`, `getStock`, `setStock`, `getArticleGroups`, `getEmployees`,
//! `getOrders`, `getInvoices`, `createOrderV3` (idempotent: a repeated `idempotencyKey` replays the first
//! answer), `getCurrentSyncMarkers` and `getPriceGroupList`, with each article's B2B prices per
//! price group in its `priceGroupList` ([`prices`]). Every change takes the next value of its entity
//! type's sync marker; lists page by marker (inclusive lower bound) and `syncMarkerLimit`.
mod contract;
mod flags;
mod orders;
mod prices;
mod products;
mod relations;
#[cfg(test)]
mod tests;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
pub use contract::contract_fixture;
pub use flags::Flags;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_connector::soap::{self, Element, Reply};
use tiltas_mplus::wire::NAMESPACE;
use tiltas_sim::{Harness, RequestKind, SimSystem};

/// The faultstring of a record `invalid_item_rate` refuses (the simulator's words; Mplus'
/// own per-record failures are Client faults too).
pub const REFUSED_ITEM: &str = "Article or relation refused as invalid (invalid_item_rate, POST /__sim/faults)";
/// The version the simulator reports in `Mplus-Service-Version` ([I]).
const SERVICE_VERSION: &str = "67.1.3";
/// The WSDL the simulator serves, `{location}` replaced by its endpoint.
const WSDL: &str = include_str!("mplusqapi-subset.wsdl");

#[derive(Debug, Clone)]
struct Article {
    product_number: i64,
    article_number: i64,
    ext_id: String,
    description: String,
    /// The product's `extraText` (a long description).
    extra_text: String,
    barcode: String,
    brand: String,
    unit: String,
    vat_percentage: i64,
    price_incl: i64,
    price_excl: i64,
    group: i64,
    active: bool,
    /// Its prices per price group (`priceGroupList`).
    price_groups: Vec<prices::GroupPrice>,
    marker: i64,
    created: i64,
    changed: i64,
}

#[derive(Debug, Clone)]
struct Relation {
    number: i64,
    fields: BTreeMap<String, String>,
    marker: i64,
    created: i64,
    changed: i64,
}

#[derive(Debug, Clone)]
struct Order {
    id: String,
    ext_id: String,
    relation: i64,
    employee: i64,
    branch: i64,
    /// Article, quantity, unit price incl. and excl. VAT in cents, VAT percentage.
    lines: Vec<(i64, i64, i64, i64, i64)>,
    marker: i64,
    created: i64,
}

#[derive(Debug, Clone, Default)]
struct Db {
    articles: BTreeMap<i64, Article>,
    relations: BTreeMap<i64, Relation>,
    /// (branch, article) → (free, reserved, decimal places of free).
    stock: BTreeMap<(i64, i64), (i64, i64, u32)>,
    orders: Vec<Order>,
    /// Invoices: an order's shape, numbered per year.
    invoices: Vec<Order>,
    markers: BTreeMap<&'static str, i64>,
    next_product: i64,
    next_relation: i64,
    clock: i64,
    replies: HashMap<String, Element>,
}

impl Db {
    fn marker(&mut self, kind: &'static str) -> i64 {
        let marker = self.markers.entry(kind).or_insert(0);
        *marker += 1;
        *marker
    }

    /// A new order of `lines` (article, quantity) at the articles' prices, in branch 1.
    fn add_order(&mut self, ext_id: String, relation: i64, employee: i64, lines: &[(i64, i64)]) -> Order {
        let lines = lines
            .iter()
            .map(|(article, quantity)| {
                let (incl, excl, vat) = self
                    .articles
                    .get(article)
                    .map_or((0, 0, 21), |a| (a.price_incl, a.price_excl, a.vat_percentage));
                (*article, *quantity, incl, excl, vat)
            })
            .collect();
        let (marker, now) = (self.marker("order"), self.tick());
        let order = Order {
            id: format!("ORD-{marker:06}"),
            ext_id,
            relation,
            employee,
            branch: 1,
            lines,
            marker,
            created: now,
        };
        self.orders.push(order.clone());
        order
    }

    /// The simulator's clock, seconds since 2024-01-01: each change one second later.
    fn tick(&mut self) -> i64 {
        self.clock += 1;
        self.clock
    }
}

/// A valid EAN-13 (check digit computed) from its first 12 digits.
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

fn time(seconds: i64) -> DateTime<Utc> {
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().unwrap_or_default();
    start + chrono::Duration::seconds(seconds)
}

/// How many records the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data.
    pub seed: u64,
    /// Articles (one per product), with stock in branches 1 and 2.
    pub products: usize,
    /// Relations.
    pub customers: usize,
    /// Orders (two lines each, of seeded articles).
    pub orders: usize,
}

/// The simulated till.
pub struct MplusSim {
    ident: String,
    secret: String,
    seeded: Db,
    db: Mutex<Db>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

const THINGS: [&str; 8] = [
    "Koffie",
    "Thee",
    "Appeltaart",
    "Croissant",
    "Broodje kaas",
    "Sinaasappelsap",
    "Cappuccino",
    "Muffin",
];
const NAMES: [&str; 6] = ["De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer"];

impl MplusSim {
    /// A till accepting `ident` and `secret`, seeded.
    pub fn new(ident: impl Into<String>, secret: impl Into<String>, seeding: Seeding) -> MplusSim {
        let mut rng = StdRng::seed_from_u64(seeding.seed);
        let mut db = Db {
            next_product: 1,
            next_relation: 1,
            ..Db::default()
        };
        for n in 1..=seeding.products {
            let number = 1000 + n as i64;
            let price_incl = rng.gen_range(100..5000);
            let (marker, changed) = (db.marker("article"), db.tick());
            db.articles.insert(
                number,
                Article {
                    product_number: db.next_product,
                    article_number: number,
                    ext_id: String::new(),
                    description: format!("{} {n}", THINGS[n % THINGS.len()]),
                    extra_text: String::new(),
                    barcode: ean13(871_000_000_000 + n as u64),
                    brand: String::new(),
                    unit: "stuk".into(),
                    vat_percentage: 9,
                    price_incl,
                    price_excl: (price_incl * 100 + 54) / 109,
                    group: 1 + (n % 3) as i64,
                    active: true,
                    price_groups: Vec::new(),
                    marker,
                    created: changed,
                    changed,
                },
            );
            db.next_product += 1;
            for branch in if n % 3 == 0 { &[1, 2][..] } else { &[1][..] } {
                db.stock
                    .insert((*branch, number), (rng.gen_range(0..200), rng.gen_range(0..5), 0));
            }
        }
        for n in 1..=seeding.customers {
            let number = db.next_relation;
            db.next_relation += 1;
            let (marker, changed) = (db.marker("relation"), db.tick());
            let name = NAMES[n % NAMES.len()];
            let fields = BTreeMap::from([
                ("name".to_string(), format!("{name} {n}")),
                ("email".to_string(), format!("klant{n}@example.nl")),
                ("city".to_string(), "Utrecht".to_string()),
                ("country".to_string(), "NL".to_string()),
                ("categoryId".to_string(), (1 + n % 2).to_string()),
            ]);
            db.relations.insert(
                number,
                Relation {
                    number,
                    fields,
                    marker,
                    created: changed,
                    changed,
                },
            );
        }
        for n in 0..seeding.orders {
            let articles: Vec<i64> = db.articles.keys().copied().collect();
            if articles.is_empty() {
                break;
            }
            let lines = (0..2)
                .map(|i| articles[(n * 2 + i) % articles.len()])
                .map(|article| (article, rng.gen_range(1..4)));
            let lines: Vec<(i64, i64)> = lines.collect();
            let relation = if db.relations.is_empty() {
                0
            } else {
                1 + (n as i64 % db.relations.len() as i64)
            };
            let order = db.add_order(String::new(), relation, if n % 2 == 0 { 1 } else { 999_999 }, &lines);
            // Every other order is invoiced.
            if n % 2 == 0 {
                let (marker, now) = (db.marker("invoice"), db.tick());
                db.invoices.push(Order {
                    id: format!("INV-{marker:06}"),
                    ext_id: order.id.clone(),
                    marker,
                    created: now,
                    ..order
                });
            }
        }
        MplusSim {
            ident: ident.into(),
            secret: secret.into(),
            seeded: db.clone(),
            db: Mutex::new(db),
        }
    }
}

impl SimSystem for MplusSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = lock(&self.db);
        BTreeMap::from([
            ("product".to_string(), db.articles.len()),
            ("customer".to_string(), db.relations.len()),
            ("stock".to_string(), db.stock.len()),
            ("order".to_string(), db.orders.len()),
            ("document".to_string(), db.invoices.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let db = lock(&self.db);
        let mut seen = std::collections::HashSet::new();
        let relations = db
            .relations
            .values()
            .filter_map(|relation| relation.fields.get("extRelationId"))
            .filter(|ext| !ext.is_empty() && !seen.insert(format!("r{ext}")))
            .count();
        let articles = db
            .articles
            .values()
            .filter(|article| !article.ext_id.is_empty() && !seen.insert(format!("a{}", article.ext_id)))
            .count();
        let mut ext_orders = std::collections::HashSet::new();
        let orders = db
            .orders
            .iter()
            .filter(|order| !order.ext_id.is_empty() && !ext_orders.insert(order.ext_id.clone()))
            .count();
        relations + articles + orders
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = lock(&self.db);
        let mut changed = 0;
        match entity {
            "product" => {
                let numbers: Vec<i64> = db.articles.keys().copied().take(count).collect();
                for number in numbers {
                    let (marker, now) = (db.marker("article"), db.tick());
                    if let Some(article) = db.articles.get_mut(&number) {
                        article.price_incl += 10;
                        article.price_excl = (article.price_incl * 100 + 54) / 109;
                        article.description.push('*');
                        (article.marker, article.changed) = (marker, now);
                        changed += 1;
                    }
                }
            }
            "customer" => {
                let numbers: Vec<i64> = db.relations.keys().copied().take(count).collect();
                for number in numbers {
                    let (marker, now) = (db.marker("relation"), db.tick());
                    if let Some(relation) = db.relations.get_mut(&number) {
                        relation.fields.insert("telephone".into(), format!("+3130{:07}", now));
                        (relation.marker, relation.changed) = (marker, now);
                        changed += 1;
                    }
                }
            }
            "stock" => {
                let keys: Vec<(i64, i64)> = db.stock.keys().copied().take(count).collect();
                for key in keys {
                    if let Some(amounts) = db.stock.get_mut(&key) {
                        amounts.0 += 7;
                        changed += 1;
                    }
                }
            }
            "order" => {
                let articles: Vec<i64> = db.articles.keys().copied().take(2).collect();
                if articles.is_empty() {
                    return Err("no articles to order: seed some products".into());
                }
                // Every third order a walk-in sale (relation 0); the others name the relations
                // in turn, so a batch of orders covers every buyer the till knows.
                let relations: Vec<i64> = db.relations.keys().copied().collect();
                for n in 0..count {
                    let lines: Vec<(i64, i64)> = articles.iter().map(|article| (*article, 1)).collect();
                    let relation = match n % 3 {
                        _ if relations.is_empty() => 0,
                        0 => 0,
                        _ => relations[(n - n / 3 - 1) % relations.len()],
                    };
                    db.add_order(String::new(), relation, 1, &lines);
                    changed += 1;
                }
            }
            other => {
                return Err(format!(
                    "unknown entity {other:?}: use product, customer, stock or order"
                ))
            }
        }
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = lock(&self.db);
        Some(match entity {
            "product" => Value::Array(
                db.articles
                    .values()
                    .map(|a| json!({"articleNumber": a.article_number, "productNumber": a.product_number, "extArticleId": a.ext_id, "description": a.description, "priceIncl": a.price_incl, "priceGroupList": prices::records(&a.price_groups), "syncMarker": a.marker}))
                    .collect(),
            ),
            "customer" => Value::Array(
                db.relations
                    .values()
                    .map(|r| json!({"relationNumber": r.number, "fields": r.fields, "syncMarker": r.marker}))
                    .collect(),
            ),
            "order" => Value::Array(
                db.orders
                    .iter()
                    .map(|o| json!({"orderId": o.id, "extOrderId": o.ext_id, "relationNumber": o.relation, "employeeNumber": o.employee, "syncMarker": o.marker}))
                    .collect(),
            ),
            _ => return None,
        })
    }

    fn reset(&self) {
        *lock(&self.db) = self.seeded.clone();
    }

    fn error_response(&self, status: StatusCode, _code: &str, message: &str) -> Response {
        let (code, text) = match status.as_u16() {
            401 | 403 => (
                "Client",
                format!("Authentication failed: invalid ident or secret ({message})"),
            ),
            429 => ("Server", format!("Too many requests: {message}")),
            _ => ("Server", message.to_string()),
        };
        fault_with(status, code, &text)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A SOAP 1.1 Fault (unqualified `faultcode`/`faultstring`) with this HTTP status.
fn fault_with(status: StatusCode, code: &str, text: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{}\"><SOAP-ENV:Body><SOAP-ENV:Fault>\
         <faultcode>SOAP-ENV:{code}</faultcode><faultstring>{}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>",
        soap::ENVELOPE_NAMESPACE,
        escape(text)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/xml; charset=utf-8"),
            (
                header::HeaderName::from_static("mplus-service-version"),
                SERVICE_VERSION,
            ),
        ],
        body,
    )
        .into_response()
}

fn fault(code: &str, text: &str) -> Response {
    fault_with(StatusCode::INTERNAL_SERVER_ERROR, code, text)
}

fn answer(body: &Element) -> Response {
    match soap::envelope(NAMESPACE, body) {
        Ok(xml) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/xml; charset=utf-8"),
                (
                    header::HeaderName::from_static("mplus-service-version"),
                    SERVICE_VERSION,
                ),
            ],
            xml,
        )
            .into_response(),
        Err(error) => fault("Server", &error.message),
    }
}

/// The simulator's router: the endpoint at `/` (POST calls, `GET ?wsdl`) plus `/__sim/`.
pub fn router(sim: Arc<MplusSim>, harness: Arc<Harness>) -> Router {
    Router::new()
        .route("/", post(call).get(wsdl))
        .with_state((sim, harness.clone()))
        .merge(tiltas_sim::control_router(harness))
}

type AppState = State<(Arc<MplusSim>, Arc<Harness>)>;

async fn wsdl(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if query
        .as_deref()
        .is_some_and(|query| query.split('&').any(|part| part.eq_ignore_ascii_case("wsdl")))
    {
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or("127.0.0.1");
        let location = format!("http://{host}/");
        return (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            WSDL.replace("{location}", &escape(&location)),
        )
            .into_response();
    }
    // The official client checks that a plain GET answers 405.
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "the Q-API takes SOAP calls by POST; the WSDL is at ?wsdl",
    )
        .into_response()
}

fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    let query = query?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn call(State((sim, harness)): AppState, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let operation = match soap::read_reply(&text) {
        Ok(Reply::Body(element)) => element,
        Ok(Reply::Fault(_)) | Err(_) => {
            harness.count_rejected();
            return fault(
                "Client",
                "the request is not a SOAP 1.1 envelope with an operation in its Body",
            );
        }
    };
    let kind = if operation.name.starts_with("get") || operation.name.starts_with("find") {
        RequestKind::Read
    } else {
        RequestKind::Write
    };
    let admission = match harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let ident = query_value(query.as_deref(), "ident");
    let secret = query_value(query.as_deref(), "secret");
    if ident.as_deref() != Some(sim.ident.as_str()) || secret.as_deref() != Some(sim.secret.as_str()) {
        harness.count_rejected();
        return fault("Client", "Authentication failed: invalid ident or secret");
    }
    let request = operation.child("request");
    let mut db = lock(&sim.db);
    let reply = match operation.name.as_str() {
        "getProducts" => products::get_products(&db, request),
        "getRelations" => relations::get_relations(&db, request),
        "findRelation" => relations::find_relation(&db, operation.child("relation")),
        "getStock" => get_stock(&db, request),
        "getArticleGroups" => article_groups(request),
        "getEmployees" => Ok(employees()),
        "getOrders" => orders::get_orders(&db, request),
        "getInvoices" => orders::get_invoices(&db, request),
        "getCurrentSyncMarkers" => Ok(sync_markers(&db)),
        "getPriceGroupList" => Ok(prices::price_group_list()),
        "createProduct" | "updateProduct" => products::write_product(&mut db, &harness, &operation),
        "createRelation" | "updateRelation" => relations::write_relation(&mut db, &harness, &operation),
        "createOrderV3" => orders::create_order(&mut db, request),
        "setStock" => set_stock(&mut db, &harness, request),
        other => Err((
            "Client",
            format!("Unknown operation {other} (this simulator serves the subset in its WSDL)"),
        )),
    };
    drop(db);
    match reply {
        Ok(body) if admission.fail_after_commit => {
            let _ = body;
            harness.commit_then_fail()
        }
        Ok(body) => answer(&body),
        Err((code, text)) => {
            harness.count_rejected();
            fault(code, &text)
        }
    }
}

type Answer = Result<Element, (&'static str, String)>;

pub(crate) fn parsed<T: std::str::FromStr>(
    element: Option<&Element>,
    name: &str,
) -> Result<Option<T>, (&'static str, String)> {
    match element.and_then(|element| element.child_text(name)) {
        None => Ok(None),
        Some(text) => text.trim().parse().map(Some).map_err(|_| {
            (
                "Client",
                format!("Validation constraint violation: {name} \"{text}\" is not a number"),
            )
        }),
    }
}

/// The official WSDL's response element of an operation: `GetProductsResponse` for `getProducts`.
fn response_name(operation: &str) -> String {
    let mut name = operation.to_string();
    name[..1].make_ascii_uppercase();
    name + "Response"
}

pub(crate) fn leaf(name: &str, value: impl ToString) -> Element {
    Element::leaf(name, value.to_string())
}

fn limit_of(request: Option<&Element>) -> Result<usize, (&'static str, String)> {
    Ok(parsed::<usize>(request, "syncMarkerLimit")?
        .unwrap_or(usize::MAX)
        .max(1))
}

fn get_stock(db: &Db, request: Option<&Element>) -> Answer {
    let branch = parsed::<i64>(request, "branchNumber")?.unwrap_or(1);
    // `articleNumbers` is an ArticleNumberList; an empty one asks for every article ([I]).
    let wanted: Vec<i64> = request
        .and_then(|request| request.child("articleNumbers"))
        .into_iter()
        .flat_map(|list| list.children_named("articleNumbers"))
        .filter_map(|number| number.text.trim().parse().ok())
        .collect();
    let mut response = Element::new("GetStockResponse");
    for ((stock_branch, article), (free, reserved, places)) in &db.stock {
        if *stock_branch != branch || !(wanted.is_empty() || wanted.contains(article)) {
            continue;
        }
        response.children.push(
            Element::new("articleStocks")
                .with_child(leaf("branchNumber", branch))
                .with_child(leaf("articleNumber", article))
                // Required by the official ArticleStock; the simulator keeps no stock journal.
                .with_child(leaf("stockId", article * 10 + branch))
                .with_child(leaf("amountFree", free))
                .with_child(leaf("decimalPlacesFree", places))
                .with_child(leaf("amountReserved", reserved))
                .with_child(leaf("decimalPlacesReserved", 0))
                .with_child(leaf("amountIncoming", 0))
                .with_child(leaf("decimalPlacesIncoming", 0))
                .with_child(leaf("isDayStockArticle", false)),
        );
    }
    Ok(response)
}

fn article_groups(request: Option<&Element>) -> Answer {
    let from = parsed::<i64>(request, "syncMarker")?.unwrap_or(0);
    let limit = limit_of(request)?;
    let mut list = Element::new("articleGroupList");
    let groups = [(1, "Dranken"), (2, "Gebak"), (3, "Broodjes")];
    for (number, name) in groups.into_iter().filter(|(number, _)| *number >= from).take(limit) {
        // Drinks hold a subgroup: hot drinks.
        let mut subgroups = Element::new("subGroupList");
        if number == 1 {
            subgroups.children.push(
                Element::new("articleGroups")
                    .with_child(leaf("groupNumber", 11))
                    .with_child(leaf("syncMarker", 1))
                    .with_child(leaf("name", "Warme dranken"))
                    .with_child(leaf("text", "Warme dranken"))
                    .with_child(Element::new("subGroupList"))
                    .with_child(leaf("sortOrder", 1)),
            );
        }
        list.children.push(
            Element::new("articleGroups")
                .with_child(leaf("groupNumber", number))
                .with_child(leaf("syncMarker", number))
                .with_child(leaf("name", name))
                .with_child(leaf("text", name))
                .with_child(subgroups)
                .with_child(leaf("sortOrder", number)),
        );
    }
    Ok(Element::new("GetArticleGroupsResponse").with_child(list))
}

fn employees() -> Element {
    let mut list = Element::new("employeeList");
    for (number, name) in [(1, "Anna Kassa"), (999_999, "Webshop")] {
        list.children.push(
            Element::new("employee")
                .with_child(leaf("employeeNumber", number))
                .with_child(leaf("syncMarker", number))
                .with_child(leaf("name", name)),
        );
    }
    Element::new("GetEmployeesResponse").with_child(list)
}

fn sync_markers(db: &Db) -> Element {
    let marker = |kind: &str| db.markers.get(kind).copied().unwrap_or(0);
    Element::new("getCurrentSyncMarkersResponse")
        .with_child(leaf("articleSyncMarker", marker("article")))
        .with_child(leaf("articleGroupSyncMarker", 3))
        .with_child(leaf("relationSyncMarker", marker("relation")))
        .with_child(leaf("employeeSyncMarker", 2))
        .with_child(leaf("invoiceSyncMarker", marker("invoice")))
        .with_child(leaf("receiptSyncMarker", 0))
        .with_child(leaf("orderSyncMarker", marker("order")))
}

/// `setStock`: the stock of an article in a branch becomes `amount` (with `decimalPlaces`);
/// what is reserved stays reserved, the rest is free.
fn set_stock(db: &mut Db, harness: &Harness, request: Option<&Element>) -> Answer {
    let response = |result: &str| Ok(Element::new("SetStockResponse").with_child(leaf("result", result)));
    let (Some(branch), Some(article), Some(amount)) = (
        parsed::<i64>(request, "branchNumber")?,
        parsed::<i64>(request, "articleNumber")?,
        parsed::<i64>(request, "amount")?,
    ) else {
        return Err((
            "Client",
            "Validation constraint violation: branchNumber, articleNumber and amount are required".into(),
        ));
    };
    let places = parsed::<u32>(request, "decimalPlaces")?.unwrap_or(0).min(6);
    if !(1..=2).contains(&branch) {
        return response("SET-STOCK-RESULT-BRANCH-NOT-FOUND");
    }
    if !db.articles.contains_key(&article) {
        return response("SET-STOCK-RESULT-ARTICLE-NOT-FOUND");
    }
    if harness.refuses_item(&format!("{article}@{branch}")) {
        return Err(("Client", REFUSED_ITEM.to_string()));
    }
    let reserved = db.stock.get(&(branch, article)).map_or(0, |stock| stock.1);
    let free = amount - reserved * 10_i64.pow(places);
    db.stock.insert((branch, article), (free, reserved, places));
    Ok(Element::new("SetStockResponse")
        .with_child(leaf("result", "SET-STOCK-RESULT-OK"))
        .with_child(leaf("stockId", db.tick())))
}
