//! A Magento 2.4 shop's admin REST API (`shared/protocols/shops.md` §3), served from memory
//! behind the shared fault harness: Bearer tokens (and the admin token endpoint),
//! `searchCriteria` with filter groups, sort orders and pages (a page past the end answers the
//! last page again, as Magento does), `/rest/V1` and `/rest/<store>/V1` (a catalogue write to
//! a single store view is counted as a store-level override; `/rest/all/V1` makes none),
//! simple and configurable products with children, MSI source items and the legacy
//! `stockItems`, categories, customers, orders with parent and child rows, and Magento's error
//! body `{"message":"…%1…","parameters":[…]}`. Behind a CDN: a rate limit answers 429 and an
//! injected outage 503, both as the CDN's HTML page with `Retry-After`.
//!
//! [`MagentoSim`] is the shop; [`router`] serves it with the harness' `/__sim/` control API.
mod contract;
mod flags;
mod search;
mod seed;

pub use contract::contract_fixture;
pub use flags::Flags;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_magento::wire;
use tiltas_sim::{Harness, RequestKind, SimSystem};

/// The message of a record `invalid_item_rate` refuses: Magento's `InputException::invalidFieldValue`.
pub const REFUSED_ITEM: &str = "Invalid value of";

/// How much seeded data the shop starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data and of mutations.
    pub seed: u64,
    /// Products (about one in four configurable, with four children that are not counted).
    pub products: usize,
    /// Registered customers.
    pub customers: usize,
    /// Orders placed before the simulator starts.
    pub orders: usize,
}

/// Everything the shop stores; cloned whole for `/__sim/reset`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shop {
    /// Shop time in unix seconds: every change ticks it, so changes are ordered to the second.
    pub clock: i64,
    pub next_product_id: u64,
    pub next_customer_id: u64,
    pub next_order_id: u64,
    pub next_item_id: u64,
    pub products: BTreeMap<u64, Map<String, Value>>,
    pub customers: BTreeMap<u64, Map<String, Value>>,
    pub orders: BTreeMap<u64, Map<String, Value>>,
    /// MSI source items by (sku, source code).
    pub source_items: BTreeMap<(String, String), Value>,
    pub categories: Vec<Value>,
    /// Select attributes by code (`color`, `size`).
    pub attributes: BTreeMap<String, seed::Attribute>,
    pub next_option_id: u64,
    /// SKUs written through a single store view's path (`/rest/V1`, `/rest/default/V1`).
    pub store_overrides: BTreeSet<String>,
    pub mutations: u64,
}

impl Shop {
    /// The next second of shop time, as Magento writes it.
    pub fn tick(&mut self) -> String {
        self.clock += 1;
        let at = chrono::DateTime::from_timestamp(self.clock, 0).unwrap_or_default();
        wire::format_time(at)
    }

    fn product_id(&self, sku: &str) -> Option<u64> {
        self.products
            .iter()
            .find(|(_, product)| product.get("sku").and_then(Value::as_str) == Some(sku))
            .map(|(id, _)| *id)
    }

    /// Ids of every configurable product's children.
    fn child_ids(&self) -> BTreeSet<u64> {
        self.products
            .values()
            .filter_map(|product| {
                product
                    .get("extension_attributes")?
                    .get("configurable_product_links")?
                    .as_array()
            })
            .flatten()
            .filter_map(Value::as_u64)
            .collect()
    }
}

/// The MSI sources the shop has.
const SOURCES: [&str; 3] = ["default", "vilnius", "kaunas"];

/// A simulated Magento shop.
pub struct MagentoSim {
    token: String,
    admin: (String, String),
    /// Admin tokens issued by `integration/admin/token` and still valid (Magento's last 4
    /// hours; the simulator's until `expire_admin_tokens`).
    admin_tokens: std::sync::Mutex<Vec<String>>,
    /// Admin tokens issued in all.
    admin_logins: std::sync::atomic::AtomicU64,
    seeding: Seeding,
    seeded: Shop,
    shop: Mutex<Shop>,
}

fn lock(mutex: &Mutex<Shop>) -> MutexGuard<'_, Shop> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Magento's error answer.
fn error(status: StatusCode, message: &str, parameters: Value) -> Response {
    (status, Json(json!({ "message": message, "parameters": parameters }))).into_response()
}

fn not_found_route() -> Response {
    error(StatusCode::NOT_FOUND, "Request does not match any route.", json!([]))
}

fn no_product() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The product that was requested doesn't exist. Verify the product and try again.",
        json!([]),
    )
}

fn bad_body(detail: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "Decoding error: %1", json!([detail]))
}

impl MagentoSim {
    /// A shop accepting `token`, seeded as `seeding` says.
    pub fn new(token: impl Into<String>, seeding: Seeding) -> MagentoSim {
        let seeded = seed::shop(&seeding);
        MagentoSim {
            token: token.into(),
            admin: ("admin".to_owned(), "admin123".to_owned()),
            admin_tokens: std::sync::Mutex::new(Vec::new()),
            admin_logins: std::sync::atomic::AtomicU64::new(0),
            seeding,
            shop: Mutex::new(seeded.clone()),
            seeded,
        }
    }

    /// The admin login `POST /rest/V1/integration/admin/token` accepts.
    pub fn with_admin(mut self, user: String, password: String) -> MagentoSim {
        self.admin = (user, password);
        self
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let admin_tokens = self
            .admin_tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|token| token.trim() == self.token || admin_tokens.iter().any(|admin| admin == token.trim()))
    }

    /// Ends every admin token issued so far, as their four hours running out would.
    pub fn expire_admin_tokens(&self) -> usize {
        let mut admin_tokens = self
            .admin_tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *admin_tokens).len()
    }

    /// Admin tokens issued in all (logins that succeeded).
    pub fn admin_logins(&self) -> u64 {
        self.admin_logins.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl SimSystem for MagentoSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let shop = lock(&self.shop);
        let children = shop.child_ids();
        BTreeMap::from([
            (
                "product".to_owned(),
                shop.products.keys().filter(|id| !children.contains(id)).count(),
            ),
            ("customer".to_owned(), shop.customers.len()),
            ("order".to_owned(), shop.orders.len()),
            ("stock".to_owned(), shop.source_items.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let shop = lock(&self.shop);
        let emails: BTreeSet<String> = shop
            .customers
            .values()
            .filter_map(|customer| customer.get("email").and_then(Value::as_str))
            .map(str::to_lowercase)
            .collect();
        let skus: BTreeSet<&str> = shop
            .products
            .values()
            .filter_map(|product| product.get("sku").and_then(Value::as_str))
            .collect();
        (shop.customers.len() - emails.len()) + (shop.products.len() - skus.len())
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut shop = lock(&self.shop);
        seed::mutate(&mut shop, &self.seeding, entity, count)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let shop = lock(&self.shop);
        let children = shop.child_ids();
        let list: Vec<Value> = match entity {
            "product" => shop
                .products
                .iter()
                .filter(|(id, _)| !children.contains(id))
                .map(|(_, product)| Value::Object(product.clone()))
                .collect(),
            "customer" => shop.customers.values().cloned().map(Value::Object).collect(),
            "order" => shop.orders.values().cloned().map(Value::Object).collect(),
            "stock" => shop.source_items.values().cloned().collect(),
            "store_override" => shop.store_overrides.iter().map(|sku| json!(sku)).collect(),
            _ => return None,
        };
        Some(Value::Array(list))
    }

    fn reset(&self) {
        *lock(&self.shop) = self.seeded.clone();
    }

    fn error_response(&self, status: StatusCode, _code: &str, message: &str) -> Response {
        match status {
            // The CDN in front of the shop answers these itself, with its own page.
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                let title = if status == StatusCode::TOO_MANY_REQUESTS {
                    "429 Too Many Requests"
                } else {
                    "503 Service Unavailable"
                };
                let mut response = (
                    status,
                    [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    format!(
                        "<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>\
                         <p>{message}</p><hr><p>Varnish cache server</p></body></html>"
                    ),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
                response
            }
            StatusCode::INTERNAL_SERVER_ERROR => error(
                status,
                "Internal Error. Details are available in Magento log file. Report ID: %1",
                json!([format!("webapi-sim: {message}")]),
            ),
            _ => error(status, message, json!([])),
        }
    }
}

#[derive(Clone)]
struct App {
    sim: Arc<MagentoSim>,
    harness: Arc<Harness>,
}

/// The shop's REST API and the harness' `/__sim/` control API.
pub fn router(sim: Arc<MagentoSim>, harness: Arc<Harness>) -> Router {
    Router::new()
        .fallback(api)
        .with_state(App {
            sim,
            harness: harness.clone(),
        })
        .merge(tiltas_sim::control_router(harness))
}

/// Where a call goes: `/rest/V1/…` (default store view), `/rest/<store>/V1/…`.
struct Call {
    store: String,
    segments: Vec<String>,
}

fn parse_path(uri: &Uri) -> Option<Call> {
    let rest = uri.path().strip_prefix("/rest/")?;
    let mut parts: Vec<String> = rest.split('/').map(percent_decode).collect();
    let store = if parts.first().map(String::as_str) == Some("V1") {
        "default".to_owned()
    } else {
        let store = parts.remove(0);
        if parts.first().map(String::as_str) != Some("V1") {
            return None;
        }
        store
    };
    parts.remove(0);
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    Some(Call { store, segments: parts })
}

fn percent_decode(text: &str) -> String {
    reqwest::Url::parse(&format!("http://x/?v={}", text.replace('+', "%2B")))
        .ok()
        .and_then(|url| url.query_pairs().next().map(|(_, value)| value.into_owned()))
        .unwrap_or_else(|| text.to_owned())
}

async fn api(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(call) = parse_path(&uri) else {
        return not_found_route();
    };
    let path: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    if method == Method::POST && path == ["integration", "admin", "token"] {
        return admin_token(&app, &body).await;
    }
    if !app.sim.authorized(&headers) {
        app.harness.count_rejected();
        return error(
            StatusCode::UNAUTHORIZED,
            "The consumer isn't authorized to access %resources.",
            json!({ "resources": resource(&path) }),
        );
    }
    let kind = if method == Method::GET {
        RequestKind::Read
    } else {
        RequestKind::Write
    };
    let admission = match app.harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let body: Option<Value> = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => Some(value),
            Err(problem) => return bad_body(&problem.to_string()),
        }
    };
    let query = uri.query().unwrap_or("");
    let response = route(&app, &method, &call.store, &path, query, body);
    if admission.fail_after_commit && response.status().is_success() {
        return app.harness.commit_then_fail();
    }
    response
}

/// The ACL resource a path needs, for the refusal's text.
fn resource(path: &[&str]) -> &'static str {
    match path.first() {
        Some(&"orders") => "Magento_Sales::actions_view",
        Some(&"customers") => "Magento_Customer::manage",
        Some(&"inventory") => "Magento_InventoryApi::source",
        _ => "Magento_Catalog::products",
    }
}

async fn admin_token(app: &App, body: &Bytes) -> Response {
    if let Err(response) = app.harness.admit(RequestKind::Write).await {
        return response;
    }
    let login: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let user = login.get("username").and_then(Value::as_str);
    let password = login.get("password").and_then(Value::as_str);
    if user == Some(app.sim.admin.0.as_str()) && password == Some(app.sim.admin.1.as_str()) {
        // Each login issues a token of its own (32 characters, like Magento's).
        let number = app.sim.admin_logins.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let token = format!("admin{number:027}");
        app.sim
            .admin_tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(token.clone());
        return Json(json!(token)).into_response();
    }
    app.harness.count_rejected();
    error(
        StatusCode::UNAUTHORIZED,
        "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.",
        json!([]),
    )
}

fn route(app: &App, method: &Method, store: &str, path: &[&str], query: &str, body: Option<Value>) -> Response {
    let sim = &app.sim;
    let mut shop = lock(&sim.shop);
    match (method.as_str(), path) {
        ("GET", ["products"]) => {
            let items: Vec<Value> = shop.products.values().cloned().map(Value::Object).collect();
            search::answer(items, query)
        }
        ("GET", ["products", "attributes", code, "options"]) => match shop.attributes.get(*code) {
            Some(attribute) => Json(attribute.options_json()).into_response(),
            None => no_attribute(code),
        },
        ("GET", ["products", "attributes", code]) => match shop.attributes.get(*code) {
            Some(attribute) => Json(attribute.json(code)).into_response(),
            None => no_attribute(code),
        },
        ("POST", ["products", "attributes", code, "options"]) => {
            let label = body
                .as_ref()
                .and_then(|body| body.pointer("/option/label"))
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or("")
                .to_owned();
            if label.is_empty() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The attribute option label is empty. Enter the value and try again.",
                    json!([]),
                );
            }
            shop.next_option_id += 1;
            let value = shop.next_option_id.to_string();
            let Some(attribute) = shop.attributes.get_mut(*code) else {
                return no_attribute(code);
            };
            if let Some((known, _)) = attribute
                .options
                .iter()
                .find(|(_, known)| known.eq_ignore_ascii_case(&label))
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Admin store attribute option label \"%1\" is already exists.",
                    json!([known]),
                );
            }
            attribute.options.push((value.clone(), label));
            // Magento 2.4 answers the new option's id as a JSON string.
            Json(json!(value)).into_response()
        }
        ("GET", ["products", sku]) => match shop.product_id(sku) {
            Some(id) => Json(Value::Object(shop.products[&id].clone())).into_response(),
            None => no_product(),
        },
        ("PUT", ["products", sku]) => save_product(&mut shop, &app.harness, store, Some(sku), body),
        ("POST", ["products"]) => save_product(&mut shop, &app.harness, store, None, body),
        ("GET", ["configurable-products", sku, "children"]) => {
            let Some(id) = shop.product_id(sku) else {
                return no_product();
            };
            let links: Vec<u64> = shop.products[&id]
                .get("extension_attributes")
                .and_then(|extension| extension.get("configurable_product_links"))
                .and_then(Value::as_array)
                .map(|links| links.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let children: Vec<Value> = links
                .iter()
                .filter_map(|id| shop.products.get(id).cloned().map(Value::Object))
                .collect();
            Json(children).into_response()
        }
        ("GET", ["stockItems", sku]) => match shop.product_id(sku) {
            Some(id) => Json(seed::stock_item(&shop, id, sku)).into_response(),
            None => no_product(),
        },
        ("PUT", ["products", sku, "stockItems", _item]) => {
            let Some(id) = shop.product_id(sku) else {
                return no_product();
            };
            let Some(stock) = body.as_ref().and_then(|body| body.get("stockItem")) else {
                return bad_body("stockItem is required");
            };
            let quantity = stock.get("qty").cloned().unwrap_or(json!(0));
            let in_stock = stock.get("is_in_stock").and_then(Value::as_bool).unwrap_or(true);
            shop.source_items.insert(
                (sku.to_string(), "default".to_owned()),
                json!({ "sku": sku, "source_code": "default", "quantity": quantity, "status": if in_stock { 1 } else { 0 } }),
            );
            // Magento answers the stock item's id as a JSON string.
            Json(json!(id.to_string())).into_response()
        }
        ("GET", ["inventory", "source-items"]) => search::answer(shop.source_items.values().cloned().collect(), query),
        ("POST", ["inventory", "source-items"]) => save_source_items(&mut shop, &app.harness, body),
        ("GET", ["categories"]) => Json(seed::category_tree(&shop.categories)).into_response(),
        ("GET", ["categories", "list"]) => search::answer(shop.categories.clone(), query),
        ("GET", ["customers", "search"]) => {
            search::answer(shop.customers.values().cloned().map(Value::Object).collect(), query)
        }
        ("GET", ["customers", id]) => match id.parse::<u64>().ok().and_then(|id| shop.customers.get(&id)) {
            Some(customer) => Json(Value::Object(customer.clone())).into_response(),
            None => no_customer(id),
        },
        ("POST", ["customers"]) => save_customer(&mut shop, &app.harness, None, body),
        ("PUT", ["customers", id]) => save_customer(&mut shop, &app.harness, Some(id), body),
        ("GET", ["orders"]) => search::answer(shop.orders.values().cloned().map(Value::Object).collect(), query),
        ("GET", ["orders", id]) => match id.parse::<u64>().ok().and_then(|id| shop.orders.get(&id)) {
            Some(order) => Json(Value::Object(order.clone())).into_response(),
            None => error(
                StatusCode::NOT_FOUND,
                "The entity that was requested doesn't exist. Verify the entity and try again.",
                json!([]),
            ),
        },
        _ => not_found_route(),
    }
}

fn no_attribute(code: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The attribute with a \"%1\" attributeCode doesn't exist. Verify the attribute and try again.",
        json!([code]),
    )
}

fn no_customer(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "No such entity with %fieldName = %fieldValue",
        json!({ "fieldName": "customerId", "fieldValue": id }),
    )
}

fn refused(field: &str, value: &Value) -> Response {
    let value = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    error(
        StatusCode::BAD_REQUEST,
        "Invalid value of \"%value\" provided for the %fieldName field.",
        json!({ "fieldName": field, "value": value }),
    )
}

/// `PUT /V1/products/{sku}` (creates or updates) and `POST /V1/products`.
fn save_product(shop: &mut Shop, harness: &Harness, store: &str, sku: Option<&str>, body: Option<Value>) -> Response {
    let Some(Value::Object(fields)) = body.as_ref().and_then(|body| body.get("product")).cloned() else {
        return bad_body("product is required");
    };
    let sku = match sku {
        Some(sku) => sku.to_owned(),
        None => match fields.get("sku").and_then(Value::as_str) {
            Some(sku) if !sku.trim().is_empty() => sku.to_owned(),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The \"%1\" attribute value is empty. Set the attribute and try again.",
                    json!(["sku"]),
                )
            }
        },
    };
    if let Some(price) = fields.get("price") {
        if !price.is_number() && price.as_str().is_none_or(|text| text.trim().parse::<f64>().is_err()) {
            return refused("price", price);
        }
    }
    let existing = shop.product_id(&sku);
    if existing.is_none() {
        if let Some(name) = ["name", "price"].into_iter().find(|field| !fields.contains_key(*field)) {
            return error(
                StatusCode::BAD_REQUEST,
                "The \"%1\" attribute value is empty. Set the attribute and try again.",
                json!([name]),
            );
        }
    }
    if harness.refuses_item(&sku) {
        return refused("price", fields.get("price").unwrap_or(&Value::Null));
    }
    let at = shop.tick();
    let id = existing.unwrap_or_else(|| {
        shop.next_product_id += 1;
        shop.next_product_id
    });
    if store != "all" {
        shop.store_overrides.insert(sku.clone());
    }
    let product = shop.products.entry(id).or_insert_with(|| {
        let mut fresh = Map::new();
        fresh.insert("id".to_owned(), json!(id));
        fresh.insert("sku".to_owned(), json!(sku));
        fresh.insert("attribute_set_id".to_owned(), json!(4));
        fresh.insert("status".to_owned(), json!(1));
        fresh.insert("visibility".to_owned(), json!(4));
        fresh.insert("type_id".to_owned(), json!("simple"));
        fresh.insert("created_at".to_owned(), json!(at));
        fresh
    });
    for (field, value) in fields {
        match field.as_str() {
            "id" | "sku" | "created_at" | "updated_at" => {}
            "extension_attributes" => {
                let extension = product.entry("extension_attributes").or_insert_with(|| json!({}));
                if let (Some(target), Value::Object(given)) = (extension.as_object_mut(), value) {
                    for (key, value) in given {
                        target.insert(key, value);
                    }
                }
            }
            _ => {
                product.insert(field, value);
            }
        }
    }
    product.insert("updated_at".to_owned(), json!(at));
    Json(Value::Object(product.clone())).into_response()
}

/// `POST /V1/inventory/source-items`: the whole list is validated before any item is saved.
fn save_source_items(shop: &mut Shop, harness: &Harness, body: Option<Value>) -> Response {
    let Some(items) = body
        .as_ref()
        .and_then(|body| body.get("sourceItems"))
        .and_then(Value::as_array)
        .cloned()
    else {
        return bad_body("sourceItems is required");
    };
    let mut errors = Vec::new();
    for item in &items {
        let sku = item.get("sku").and_then(Value::as_str).unwrap_or("").trim();
        let source = item.get("source_code").and_then(Value::as_str).unwrap_or("");
        if sku.is_empty() {
            errors.push(json!({ "message": "\"%field\" can not be empty.", "parameters": { "field": "sku" } }));
        } else if !SOURCES.contains(&source) {
            errors.push(json!({ "message": "Source item with sku \"%sku\" refers to unknown source \"%source\".", "parameters": { "sku": sku, "source": source } }));
        } else if !item.get("quantity").is_some_and(Value::is_number) {
            errors.push(json!({ "message": "\"%field\" should be numeric.", "parameters": { "field": "quantity" } }));
        } else if harness.refuses_item(&format!("{sku}@{source}")) {
            errors.push(json!({ "message": "Invalid value of \"%value\" provided for the %fieldName field.", "parameters": { "fieldName": "quantity", "value": item["quantity"].to_string() } }));
        }
    }
    if !errors.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "message": "Validation Failed", "errors": errors })),
        )
            .into_response();
    }
    for item in items {
        let sku = item["sku"].as_str().unwrap_or_default().to_owned();
        let source = item["source_code"].as_str().unwrap_or_default().to_owned();
        let stored = json!({
            "sku": sku,
            "source_code": source,
            "quantity": item["quantity"],
            "status": item.get("status").cloned().unwrap_or(json!(1)),
        });
        shop.source_items.insert((sku, source), stored);
    }
    Json(json!([])).into_response()
}

/// `POST /V1/customers` and `PUT /V1/customers/{id}`.
fn save_customer(shop: &mut Shop, harness: &Harness, id: Option<&str>, body: Option<Value>) -> Response {
    let Some(Value::Object(fields)) = body.as_ref().and_then(|body| body.get("customer")).cloned() else {
        return bad_body("customer is required");
    };
    for required in ["email", "firstname", "lastname"] {
        if fields
            .get(required)
            .and_then(Value::as_str)
            .is_none_or(|text| text.trim().is_empty())
        {
            return error(
                StatusCode::BAD_REQUEST,
                "\"%fieldName\" is required. Enter and try again.",
                json!({ "fieldName": required }),
            );
        }
    }
    let email = fields["email"].as_str().unwrap_or_default().trim().to_owned();
    if !email.contains('@') {
        return refused("email", &json!(email));
    }
    let existing = match id {
        Some(id) => match id.parse::<u64>().ok().filter(|id| shop.customers.contains_key(id)) {
            Some(id) => Some(id),
            None => return no_customer(id),
        },
        None => None,
    };
    let taken = shop.customers.iter().any(|(other, customer)| {
        Some(*other) != existing
            && customer
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|known| known.eq_ignore_ascii_case(&email))
    });
    if taken {
        return error(
            StatusCode::BAD_REQUEST,
            "A customer with the same email address already exists in an associated website.",
            json!([]),
        );
    }
    if harness.refuses_item(&email.to_lowercase()) {
        return refused("email", &json!(email));
    }
    let at = shop.tick();
    let id = existing.unwrap_or_else(|| {
        shop.next_customer_id += 1;
        shop.next_customer_id
    });
    let mut next_address = shop.next_item_id;
    let customer = shop.customers.entry(id).or_insert_with(|| {
        let mut fresh = Map::new();
        fresh.insert("id".to_owned(), json!(id));
        fresh.insert("group_id".to_owned(), json!(1));
        fresh.insert("created_at".to_owned(), json!(at));
        fresh.insert("created_in".to_owned(), json!("Default Store View"));
        fresh.insert("store_id".to_owned(), json!(1));
        fresh.insert("website_id".to_owned(), json!(1));
        fresh.insert("addresses".to_owned(), json!([]));
        fresh
    });
    for (field, value) in fields {
        match field.as_str() {
            "id" | "created_at" | "updated_at" => {}
            "addresses" => {
                // Magento adds addresses without an id as new ones.
                let list = customer.entry("addresses").or_insert_with(|| json!([]));
                if let (Some(list), Value::Array(given)) = (list.as_array_mut(), value) {
                    for mut address in given {
                        if let Some(fields) = address.as_object_mut() {
                            next_address += 1;
                            fields.entry("id").or_insert(json!(next_address));
                            fields.insert("customer_id".to_owned(), json!(id));
                        }
                        list.push(address);
                    }
                }
            }
            _ => {
                customer.insert(field, value);
            }
        }
    }
    customer.insert("updated_at".to_owned(), json!(at));
    let answer = Value::Object(customer.clone());
    shop.next_item_id = next_address;
    Json(answer).into_response()
}

#[cfg(test)]
mod tests;
