//! A WooCommerce shop speaking REST API v3 (`shared/protocols/shops.md` §1), served from memory
//! behind the shared fault harness: OAuth 1.0a over plain HTTP (Basic and query keys with
//! `assume_https`), products and variations, categories, customers, orders, batches, paging
//! headers, the WordPress error format, and signed webhooks delivered in order per webhook.
//!
//! [`WooSim`] is the shop; [`router`] serves it with the harness' `/__sim/` control API.
mod flags;
pub use flags::Flags;
mod api;
mod contract;
pub use contract::contract_fixture;
mod auth;
mod catalog;
mod clock;
mod customers;
mod input;
mod listing;
mod orders;
mod query;
mod seed;
mod webhooks;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_sim::{Harness, SimSystem};

pub use webhooks::WebhookTarget;

/// The API key the shop accepts (WooCommerce → Settings → Advanced → REST API).
#[derive(Clone)]
pub struct Credentials {
    /// `ck_…`.
    pub consumer_key: String,
    /// `cs_…`.
    pub consumer_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"***")
            .finish()
    }
}

/// How much seeded data the shop starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data, of mutations and of fault decisions.
    pub seed: u64,
    /// Products (about one in four variable, with size and colour variations).
    pub products: usize,
    /// Registered customers.
    pub customers: usize,
    /// Orders placed before the simulator starts.
    pub orders: usize,
    /// About one simple product in ten has no SKU yet, as in real shops (contract tests that
    /// count delivered products turn this off).
    pub some_without_sku: bool,
}

impl Default for Seeding {
    fn default() -> Self {
        Seeding {
            seed: 1,
            products: 20,
            customers: 10,
            orders: 0,
            some_without_sku: true,
        }
    }
}

/// One stored resource: its REST fields (without `id` and dates, added when rendered) and
/// its creation and modification times in unix seconds.
#[derive(Debug, Clone)]
struct Record {
    body: Map<String, Value>,
    created: i64,
    modified: i64,
}

impl Record {
    fn new(body: Map<String, Value>, at: i64) -> Record {
        Record {
            body,
            created: at,
            modified: at,
        }
    }

    fn str(&self, field: &str) -> &str {
        self.body.get(field).and_then(Value::as_str).unwrap_or("")
    }

    /// The REST representation: id and the four dates first, then the stored fields.
    fn render(&self, id: u64) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("id".into(), json!(id));
        map.insert("date_created".into(), json!(clock::local(self.created)));
        map.insert("date_created_gmt".into(), json!(clock::gmt(self.created)));
        map.insert("date_modified".into(), json!(clock::local(self.modified)));
        map.insert("date_modified_gmt".into(), json!(clock::gmt(self.modified)));
        for (key, value) in &self.body {
            map.insert(key.clone(), value.clone());
        }
        map
    }
}

/// Everything the shop stores; cloned whole for `/__sim/reset`.
#[derive(Debug, Clone, Default)]
struct Shop {
    /// WordPress posts share one id sequence: products, variations and orders never collide.
    next_post_id: u64,
    next_term_id: u64,
    next_user_id: u64,
    next_webhook_id: u64,
    next_item_id: u64,
    products: BTreeMap<u64, Record>,
    variations: BTreeMap<u64, Record>,
    categories: BTreeMap<u64, Record>,
    customers: BTreeMap<u64, Record>,
    orders: BTreeMap<u64, Record>,
    webhooks: BTreeMap<u64, webhooks::Webhook>,
    /// Orders whose stock was taken (`_order_stock_reduced`).
    stock_reduced: BTreeSet<u64>,
    /// Used OAuth nonces by timestamp, as WooCommerce keeps them per key (a later nonce with
    /// the same timestamp replaces the earlier one).
    nonces: BTreeMap<i64, String>,
    mutations: u64,
}

impl Shop {
    fn new_post_id(&mut self) -> u64 {
        self.next_post_id += 1;
        self.next_post_id
    }

    fn new_item_id(&mut self) -> u64 {
        self.next_item_id += 1;
        self.next_item_id
    }
}

/// A change that webhooks subscribe to: `topic` (`order.created`) and the resource as a REST
/// GET returns it.
#[derive(Debug, Clone)]
struct Event {
    topic: String,
    body: Value,
}

impl Event {
    fn new(topic: &str, body: Value) -> Event {
        Event {
            topic: topic.to_owned(),
            body,
        }
    }
}

/// A WordPress REST error: `{"code","message","data":{"status"}}`.
#[derive(Debug, Clone)]
struct WcError {
    status: StatusCode,
    code: String,
    message: String,
    data: Map<String, Value>,
}

impl WcError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> WcError {
        WcError {
            status,
            code: code.to_owned(),
            message: message.into(),
            data: Map::new(),
        }
    }

    /// 400 `rest_invalid_param` naming the parameters, as WordPress validates arguments.
    fn invalid_params(problems: &[(&str, String)]) -> WcError {
        let names: Vec<&str> = problems.iter().map(|(name, _)| *name).collect();
        let mut error = WcError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_param",
            format!("Invalid parameter(s): {}", names.join(", ")),
        );
        let params: Map<String, Value> = problems
            .iter()
            .map(|(name, why)| ((*name).to_owned(), json!(why)))
            .collect();
        error.data.insert("params".into(), Value::Object(params));
        error
    }

    fn invalid_param(name: &str, why: impl Into<String>) -> WcError {
        WcError::invalid_params(&[(name, why.into())])
    }

    fn missing_params(names: &[&str]) -> WcError {
        let mut error = WcError::new(
            StatusCode::BAD_REQUEST,
            "rest_missing_callback_param",
            format!("Missing parameter(s): {}", names.join(", ")),
        );
        error.data.insert("params".into(), json!(names));
        error
    }

    fn with_data(mut self, key: &str, value: Value) -> WcError {
        self.data.insert(key.to_owned(), value);
        self
    }

    fn body(&self) -> Value {
        let mut data = Map::new();
        data.insert("status".into(), json!(self.status.as_u16()));
        for (key, value) in &self.data {
            data.insert(key.clone(), value.clone());
        }
        json!({ "code": self.code, "message": self.message, "data": data })
    }

    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// The simulated WooCommerce shop.
pub struct WooSim {
    credentials: Credentials,
    seeding: Seeding,
    assume_https: bool,
    seeded: Shop,
    shop: Arc<Mutex<Shop>>,
    /// `scheme://host[:port]` the clients reach the shop at, learnt from the `Host` header
    /// (the webhook `X-WC-Webhook-Source` and links need it).
    site_url: Mutex<Option<String>>,
    deliveries: webhooks::Dispatcher,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked cannot leave the shop half-written in a way that matters here.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl WooSim {
    /// A shop with seeded data that accepts `credentials`; `webhook` subscribes one delivery
    /// URL to every product, order and customer topic; `assume_https` makes the shop behave
    /// as if served over HTTPS (query keys and Basic auth accepted).
    pub fn new(
        credentials: Credentials,
        seeding: Seeding,
        webhook: Option<WebhookTarget>,
        assume_https: bool,
    ) -> WooSim {
        let mut shop = seed::seeded_shop(&seeding);
        if let Some(target) = webhook {
            webhooks::subscribe_all_topics(&mut shop, &target, seed::seeded_epoch());
        }
        WooSim {
            credentials,
            seeding,
            assume_https,
            seeded: shop.clone(),
            shop: Arc::new(Mutex::new(shop)),
            site_url: Mutex::new(None),
            deliveries: webhooks::Dispatcher::default(),
        }
    }

    /// Sets the address the shop believes it is served at (otherwise learnt from `Host`).
    pub fn set_site_url(&self, url: impl Into<String>) {
        *lock(&self.site_url) = Some(url.into().trim_end_matches('/').to_owned());
    }

    /// `scheme://host[:port]` without a trailing slash.
    fn site_url(&self) -> String {
        lock(&self.site_url)
            .clone()
            .unwrap_or_else(|| format!("{}://127.0.0.1", self.scheme()))
    }

    fn scheme(&self) -> &'static str {
        if self.assume_https {
            "https"
        } else {
            "http"
        }
    }

    /// Records the `Host` a request came to, for the site URL.
    fn learn_host(&self, host: &str) {
        let mut site = lock(&self.site_url);
        if site.is_none() {
            *site = Some(format!("{}://{host}", self.scheme()));
        }
    }

    /// Queues `events` for every active webhook subscribed to their topic.
    fn publish(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let source = format!("{}/", self.site_url());
        self.deliveries.publish(&self.shop, events, &source);
    }
}

impl SimSystem for WooSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let shop = lock(&self.shop);
        BTreeMap::from([
            ("product".to_owned(), shop.products.len()),
            ("variation".to_owned(), shop.variations.len()),
            ("category".to_owned(), shop.categories.len()),
            ("customer".to_owned(), shop.customers.len()),
            ("order".to_owned(), shop.orders.len()),
            ("webhook".to_owned(), shop.webhooks.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let shop = lock(&self.shop);
        let mut skus: HashMap<&str, usize> = HashMap::new();
        for record in shop.products.values().chain(shop.variations.values()) {
            if !record.str("sku").is_empty() {
                *skus.entry(record.str("sku")).or_default() += 1;
            }
        }
        let mut emails: HashMap<String, usize> = HashMap::new();
        for record in shop.customers.values() {
            *emails.entry(record.str("email").to_lowercase()).or_default() += 1;
        }
        skus.values().chain(emails.values()).map(|count| count - 1).sum()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let (changed, events) = {
            let mut shop = lock(&self.shop);
            seed::mutate(&mut shop, &self.seeding, &self.site_url(), entity, count)?
        };
        self.publish(events);
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let shop = lock(&self.shop);
        let site = self.site_url();
        let rendered: Vec<Value> = match entity {
            "product" => shop
                .products
                .keys()
                .filter_map(|id| catalog::render_product(&shop, *id))
                .collect(),
            "variation" => shop
                .variations
                .keys()
                .filter_map(|id| catalog::render_variation(&shop, *id))
                .collect(),
            "category" => shop
                .categories
                .keys()
                .filter_map(|id| catalog::render_category(&shop, *id))
                .collect(),
            "customer" => shop
                .customers
                .keys()
                .filter_map(|id| customers::render(&shop, *id))
                .collect(),
            "order" => shop.orders.keys().filter_map(|id| orders::render(&shop, *id)).collect(),
            "webhook" => shop.webhooks.values().map(|hook| hook.record(&site)).collect(),
            _ => return None,
        };
        Some(Value::Array(rendered))
    }

    fn reset(&self) {
        *lock(&self.shop) = self.seeded.clone();
    }

    fn error_response(&self, status: StatusCode, code: &str, message: &str) -> Response {
        WcError::new(status, code, message).into_response()
    }
}

/// The shop's router: `/wp-json/wc/v3/…` plus the harness' `/__sim/`.
pub fn router(sim: Arc<WooSim>, harness: Arc<Harness>) -> Router {
    let state = api::AppState {
        sim: sim.clone(),
        harness: harness.clone(),
    };
    Router::new()
        .fallback(api::handle)
        .with_state(state)
        .merge(tiltas_sim::control_router(harness))
        .layer(axum::middleware::from_fn_with_state(sim, api::learn_site_url))
}

#[cfg(test)]
mod tests;
