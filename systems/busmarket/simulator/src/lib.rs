//! A simulated Bus Market REST API (`shared/protocols/erp-and-suppliers.md` §5; paths from the
//! official bmapi-js client): the raw token in `Authorization` checked on every request (401
//! otherwise), product search paged by `page`/`per_page` with prices in the asked currency
//! (EUR, UAH, PLN by a fixed rate table), products by UUID or by code (`id_type=code`), stock
//! per warehouse, prices, carts and their products, reserves (the order: listed by
//! `/__sim/records/order`), and invoices with lines under `/documents`. Every answer carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`; past the limit it is a
//! 429 with `Retry-After`.
//!
//! The assortment is drawn from `tiltas_sim::parts` so Bus Market shares its parts with the
//! other suppliers' simulators started with the same seed; `GET /__sim/records/part` lists
//! them with the canonical `article` and `brand`.
#![forbid(unsafe_code)]
mod api;
mod auth;
mod contract;
pub mod data;
mod flags;
mod shopping;

#[cfg(test)]
mod tests;

pub use contract::contract_fixture;
pub use data::Seeding;
pub use flags::Flags;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use data::Db;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tiltas_sim::{Harness, SimSystem};

/// The message of a cart line the harness' `invalid_item_rate` refuses.
pub const REFUSED_ITEM: &str = "is not sold to this customer";

/// How many requests a window allows.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Requests per window.
    pub requests: u32,
    /// The window.
    pub window: Duration,
}

/// One simulated Bus Market customer account.
pub struct BusmarketSim {
    token: String,
    seeding: Seeding,
    db: Mutex<Db>,
    rate_limit: RateLimit,
    /// When the current window started and the requests counted in it.
    window: Mutex<(Instant, u32)>,
}

impl BusmarketSim {
    /// A simulator with the seeded records accepting `token`; 300 requests a minute.
    pub fn new(token: &str, seeding: Seeding) -> BusmarketSim {
        BusmarketSim {
            token: token.to_owned(),
            db: Mutex::new(Db::seeded(&seeding)),
            seeding,
            rate_limit: RateLimit {
                requests: 300,
                window: Duration::from_secs(60),
            },
            window: Mutex::new((Instant::now(), 0)),
        }
    }

    /// The same simulator with another rate limit.
    #[must_use]
    pub fn with_rate_limit(mut self, requests: u32, window: Duration) -> BusmarketSim {
        self.rate_limit = RateLimit {
            requests: requests.max(1),
            window: window.max(Duration::from_millis(100)),
        };
        self
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Withdraws a part: the search still lists it, `/product/{id}…` answers 404.
    pub fn withdraw(&self, code: &str) {
        if let Some(part) = self.db().parts.iter_mut().find(|part| part.code == code) {
            part.sold = false;
        }
    }

    /// Adds a part Bus Market sells that no other record knows (tests: an unknown part); its code.
    pub fn add_part(&self, code: &str, article: &str, brand: &str) -> Option<String> {
        let mut db = self.db();
        let mut part = db.parts.first()?.clone();
        part.uuid = db.new_uuid("added-product");
        part.code = code.to_owned();
        part.part.article = article.to_owned();
        part.part.brand = brand.to_owned();
        db.parts.push(part);
        Some(code.to_owned())
    }

    /// Adds an invoice dated today with one line of the part with code `code` (tests).
    pub fn add_invoice_of(&self, code: &str, quantity: u32) -> Option<String> {
        let mut db = self.db();
        let part = db.part(code, true)?.clone();
        let reserve = tiltas_busmarket::wire::Reserve {
            uuid: String::new(),
            number: String::new(),
            comment: String::new(),
            warehouse_uuid: String::new(),
            created_at: String::new(),
            products: vec![tiltas_busmarket::wire::Line {
                product_uuid: part.uuid,
                code: part.code,
                quantity,
            }],
        };
        db.invoice_reserve(&reserve);
        db.invoices.last().map(|invoice| invoice.head.uuid.clone())
    }
}

/// An error in Bus Market's shape [I]: `{"error": {"code": …, "message": …}}`.
pub(crate) fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

impl SimSystem for BusmarketSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = self.db();
        BTreeMap::from([
            ("part".to_owned(), db.parts.len()),
            ("cart".to_owned(), db.carts.len()),
            ("order".to_owned(), db.reserves.len()),
            ("invoice".to_owned(), db.invoices.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let db = self.db();
        let mut seen = std::collections::HashSet::new();
        db.reserves
            .iter()
            .filter(|reserve| !seen.insert(reserve.comment.clone()))
            .count()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = self.db();
        match entity {
            "invoice" | "document" => {
                let today = chrono::Utc::now().date_naive();
                Ok((0..count).filter_map(|_| db.add_invoice(today)).count())
            }
            "stock" | "supplier_offer" => Ok(db.change_stock(count)),
            "part" | "product" => Ok(db.rename(count)),
            other => Err(format!(
                "Bus Market's simulator mutates invoice (new invoices dated today), stock (pieces at every warehouse) \
                 or product (a new name), not {other:?}"
            )),
        }
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = self.db();
        match entity {
            "part" | "product" => Some(Value::Array(db.parts.iter().map(api::part_record).collect())),
            "order" | "reserve" => serde_json::to_value(&db.reserves).ok(),
            "cart" => serde_json::to_value(&db.carts).ok(),
            "invoice" | "document" => serde_json::to_value(&db.invoices).ok(),
            _ => None,
        }
    }

    fn reset(&self) {
        *self.db() = Db::seeded(&self.seeding);
        *self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (Instant::now(), 0);
    }

    fn error_response(&self, status: StatusCode, code: &str, message: &str) -> Response {
        error_body(status, code, message)
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub sim: Arc<BusmarketSim>,
    pub harness: Arc<Harness>,
}

/// The simulator's routes: the API (rate-limited, headers on every answer) and `/__sim/`.
pub fn router(sim: Arc<BusmarketSim>, harness: Arc<Harness>) -> axum::Router {
    let app = App {
        sim,
        harness: harness.clone(),
    };
    let api = api::routes()
        .merge(shopping::routes())
        .layer(axum::middleware::from_fn_with_state(app.clone(), auth::rate_limited))
        .with_state(app);
    api.merge(tiltas_sim::control_router(harness))
}
