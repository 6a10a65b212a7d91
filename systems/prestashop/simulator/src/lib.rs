//! A PrestaShop shop speaking the Webservice (`shared/protocols/shops.md` §2), served from
//! memory behind the shared fault harness: the key as Basic-auth user name or `ws_key`, XML by
//! default and JSON with `output_format=JSON`, `display`, `filter[…]`, `sort`, `limit`,
//! `date=1`, `schema=blank|synopsis`, full-replace PUT refusing read-only fields, language
//! fields, PrestaShop's `<errors>`, and a 404 with an empty body for a missing id.
//!
//! [`PrestaSim`] is the shop; [`router`] serves it with the harness' `/__sim/` control API.
mod api;
mod contract;
mod flags;
mod store;

pub use contract::contract_fixture;
pub use flags::Flags;
pub use store::Seeding;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use store::Shop;
use tiltas_prestashop::xml::Element;
use tiltas_sim::{Harness, SimSystem};

/// A PrestaShop error: the status and the `<error>`'s code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PsError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl PsError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> PsError {
        PsError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(code: u32, message: impl Into<String>) -> PsError {
        PsError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// `<prestashop><errors><error><code/><message/></error></errors></prestashop>`.
    fn into_response(self) -> Response {
        let body = Element::new("errors")
            .with_child(
                Element::new("error")
                    .with_child(Element::leaf("code", self.code.to_string()))
                    .with_child(Element::leaf("message", self.message)),
            )
            .document();
        let mut response = (self.status, api::xml_headers(), body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static(
                    "Basic realm=\"Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required.\"",
                ),
            );
        }
        response
    }
}

/// The simulated PrestaShop shop.
pub struct PrestaSim {
    key: String,
    seeding: Seeding,
    seeded: Shop,
    shop: Mutex<Shop>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked cannot leave the shop half-written in a way that matters here.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PrestaSim {
    /// A shop with seeded data that accepts the Webservice key `key`.
    pub fn new(key: impl Into<String>, seeding: Seeding) -> PrestaSim {
        let shop = Shop::seeded(&seeding);
        PrestaSim {
            key: key.into(),
            seeding,
            seeded: shop.clone(),
            shop: Mutex::new(shop),
        }
    }

    fn shop(&self) -> MutexGuard<'_, Shop> {
        lock(&self.shop)
    }
}

/// The canonical entity names of `/__sim/` and their collections.
const ENTITIES: &[(&str, &str)] = &[
    ("product", "products"),
    ("combination", "combinations"),
    ("stock", "stock_availables"),
    ("category", "categories"),
    ("customer", "customers"),
    ("address", "addresses"),
    ("order", "orders"),
    ("order_history", "order_histories"),
];

impl SimSystem for PrestaSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let shop = self.shop();
        ENTITIES
            .iter()
            .map(|(entity, collection)| ((*entity).to_owned(), shop.table(collection).map_or(0, BTreeMap::len)))
            .collect()
    }

    fn duplicates(&self) -> usize {
        let shop = self.shop();
        let count = |collection: &str, field: &str| -> usize {
            let mut seen: HashMap<String, usize> = HashMap::new();
            for record in shop.table(collection).into_iter().flat_map(BTreeMap::values) {
                if let Some(value) = record.text_of(field) {
                    *seen.entry(value.to_lowercase()).or_default() += 1;
                }
            }
            seen.values().map(|count| count - 1).sum()
        };
        let mut references: HashMap<String, usize> = HashMap::new();
        for collection in ["products", "combinations"] {
            for record in shop.table(collection).into_iter().flat_map(BTreeMap::values) {
                if let Some(reference) = record.text_of("reference") {
                    *references.entry(reference.to_owned()).or_default() += 1;
                }
            }
        }
        references.values().map(|count| count - 1).sum::<usize>() + count("customers", "email")
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut shop = self.shop();
        shop.mutations += 1;
        let mut rng = StdRng::seed_from_u64(self.seeding.seed ^ shop.mutations.wrapping_mul(0x9E37_79B9));
        let at = store::now();
        let collection = match entity {
            "product" => "products",
            "customer" => "customers",
            "stock" => "stock_availables",
            "order" => {
                for n in 0..count {
                    let number = 10_000 + shop.mutations as usize * 1000 + n;
                    let id = shop.seed_order(&mut rng, number, chrono::Utc::now());
                    if let Some(order) = shop.tables.get_mut("orders").and_then(|table| table.get_mut(&id)) {
                        order.set_text("date_add", at.clone());
                        order.set_text("date_upd", at.clone());
                    }
                }
                return Ok(count);
            }
            other => return Err(format!("cannot mutate {other:?}: product, customer, stock or order")),
        };
        let ids: Vec<u64> = shop
            .table(collection)
            .map(|table| table.keys().copied().collect())
            .unwrap_or_default();
        let chosen: Vec<u64> = ids.choose_multiple(&mut rng, count.min(ids.len())).copied().collect();
        let mutation = shop.mutations;
        for id in &chosen {
            let Some(record) = shop.tables.get_mut(collection).and_then(|table| table.get_mut(id)) else {
                continue;
            };
            match collection {
                "products" => {
                    let price = record
                        .text_of("price")
                        .and_then(|price| price.parse::<rust_decimal::Decimal>().ok())
                        .unwrap_or_default();
                    let mut changed = price + rust_decimal::Decimal::ONE;
                    changed.rescale(6);
                    record.set_text("price", changed.to_string());
                }
                "customers" => {
                    let base = record
                        .text_of("lastname")
                        .unwrap_or_default()
                        .split(" #")
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    record.set_text("lastname", format!("{base} #{mutation}"));
                }
                _ => {
                    let quantity: i64 = record.text_of("quantity").and_then(|q| q.parse().ok()).unwrap_or(0);
                    record.set_text("quantity", (quantity + 1).to_string());
                }
            }
            if record.child("date_upd").is_some() {
                record.set_text("date_upd", at.clone());
            }
        }
        Ok(chosen.len())
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let (_, collection) = ENTITIES.iter().find(|(name, _)| *name == entity)?;
        let shop = self.shop();
        let ids: Vec<u64> = shop.table(collection)?.keys().copied().collect();
        let rendered: Vec<Value> = ids
            .into_iter()
            .filter_map(|id| shop.render(collection, id))
            .map(|record| api::to_json(&record))
            .collect();
        Some(Value::Array(rendered))
    }

    fn reset(&self) {
        *self.shop() = self.seeded.clone();
    }

    fn error_response(&self, status: StatusCode, _code: &str, message: &str) -> Response {
        // PrestaShop answers every failure in its own XML (code 0: not one of its own codes).
        PsError::new(status, 0, message).into_response()
    }
}

/// The shop's router: `/api/…` plus the harness' `/__sim/`.
pub fn router(sim: Arc<PrestaSim>, harness: Arc<Harness>) -> Router {
    let state = api::AppState {
        sim,
        harness: harness.clone(),
    };
    Router::new()
        .fallback(api::handle)
        .with_state(state)
        .merge(tiltas_sim::control_router(harness))
}

#[cfg(test)]
mod tests;
