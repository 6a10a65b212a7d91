//! A simulated Inter Cars IC API (`shared/protocols/erp-and-suppliers.md` §5): an OAuth2
//! client-credentials token endpoint (client authentication by Basic header or form fields,
//! expiring tokens, `invalid_client` for a wrong secret), and under `/ic` with a Bearer token
//! the stock of up to 100 SKUs per branch (unknown SKUs listed in `skpSkuList`, availability
//! capped at 10), price quotes for up to 20 lines, the catalogue paged by `limit`/`offset`,
//! requisitions (create, list by creation date, confirm, cancel), orders and invoices with
//! lines. More than `max_in_flight` requests at once are answered 429 with `Retry-After`.
//!
//! The catalogue is drawn from `tiltas_sim::parts` so Inter Cars shares its parts with the
//! other suppliers' simulators started with the same seed; `GET /__sim/records/part` lists
//! them with the canonical `article` and `brand`.
#![forbid(unsafe_code)]
mod api;
mod auth;
mod contract;
pub mod data;
mod flags;

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
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tiltas_sim::{Harness, SimSystem};

/// The client the token endpoint accepts, and how long its tokens live.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// Lifetime of an access token.
    pub token_lifetime: Duration,
}

/// The message of a requisition line the harness' `invalid_item_rate` refuses.
pub const REFUSED_ITEM: &str = "is blocked for sale to this customer";

/// One simulated Inter Cars customer account.
pub struct IntercarsSim {
    credentials: Credentials,
    seeding: Seeding,
    db: Mutex<Db>,
    tokens: Mutex<HashMap<String, std::time::Instant>>,
    in_flight: AtomicUsize,
    /// Confirmations still to apply and then answer with a 500 (tests).
    lost_confirmations: AtomicUsize,
    /// Requests served at once before 429.
    pub max_in_flight: usize,
}

impl IntercarsSim {
    /// A simulator with the seeded records; 8 requests at once before 429.
    pub fn new(credentials: Credentials, seeding: Seeding) -> IntercarsSim {
        IntercarsSim {
            db: Mutex::new(Db::seeded(&seeding)),
            credentials,
            seeding,
            tokens: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            lost_confirmations: AtomicUsize::new(0),
            max_in_flight: 8,
        }
    }

    /// The same simulator answering 429 beyond `limit` requests at once.
    #[must_use]
    pub fn with_max_in_flight(mut self, limit: usize) -> IntercarsSim {
        self.max_in_flight = limit.max(1);
        self
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies the next `count` confirmations and answers each with a 500, as if the answer
    /// were lost after the commit (tests).
    pub fn lose_confirmations(&self, count: usize) {
        self.lost_confirmations
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Ends every issued token's life now (tests: the next call gets a 401).
    pub fn expire_tokens(&self) {
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for expiry in tokens.values_mut() {
            *expiry = std::time::Instant::now();
        }
    }

    /// Withdraws a part: the catalogue still lists it, stock and quotes no longer know it.
    pub fn withdraw(&self, sku: &str) {
        let mut db = self.db();
        if let Some(part) = db.parts.iter_mut().find(|part| part.sku == sku) {
            part.sold = false;
        }
    }

    /// Adds an invoice dated `date` (tests).
    pub fn add_invoice(&self, date: chrono::NaiveDate) -> Option<String> {
        self.db().add_invoice(date)
    }

    /// Adds a part Inter Cars sells that no other record knows (tests: an unknown part).
    pub fn add_part(&self, sku: &str, article: &str, brand: &str) {
        let mut db = self.db();
        let mut part = match db.parts.first() {
            Some(first) => first.clone(),
            None => return,
        };
        part.sku = sku.to_owned();
        part.part.article = article.to_owned();
        part.part.brand = brand.to_owned();
        db.parts.push(part);
    }

    /// Adds an invoice dated today with one line of `sku` (tests).
    pub fn add_invoice_of(&self, sku: &str, quantity: u32) -> Option<String> {
        let mut db = self.db();
        let requisition = tiltas_intercars::wire::Requisition {
            id: "test".into(),
            custom_number: None,
            status: "CONFIRMED".into(),
            creation_date: chrono::Utc::now().to_rfc3339(),
            order_id: None,
            lines: vec![tiltas_intercars::wire::RequisitionLine {
                sku: sku.to_owned(),
                required_quantity: quantity,
            }],
        };
        db.invoice_order(&requisition);
        db.invoices.last().map(|invoice| invoice.head.id.clone())
    }
}

fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

impl SimSystem for IntercarsSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = self.db();
        BTreeMap::from([
            ("part".to_owned(), db.parts.len()),
            ("requisition".to_owned(), db.requisitions.len()),
            ("invoice".to_owned(), db.invoices.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let db = self.db();
        let mut seen = std::collections::HashSet::new();
        db.requisitions
            .iter()
            .filter_map(|r| r.custom_number.as_deref())
            .filter(|number| !seen.insert(number.to_owned()))
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
                "Inter Cars' simulator mutates invoice (new invoices dated today), stock (pieces at every branch) or \
                 product (a new description), not {other:?}"
            )),
        }
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = self.db();
        match entity {
            "part" | "product" => Some(Value::Array(db.parts.iter().map(api::part_record).collect())),
            "requisition" => serde_json::to_value(&db.requisitions).ok(),
            "invoice" => serde_json::to_value(&db.invoices).ok(),
            _ => None,
        }
    }

    fn reset(&self) {
        *self.db() = Db::seeded(&self.seeding);
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    fn error_response(&self, status: StatusCode, code: &str, message: &str) -> Response {
        error_body(status, code, message)
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub sim: Arc<IntercarsSim>,
    pub harness: Arc<Harness>,
}

/// The simulator's routes: the token endpoint, the API under `/ic`, and `/__sim/`.
pub fn router(sim: Arc<IntercarsSim>, harness: Arc<Harness>) -> axum::Router {
    let app = App {
        sim,
        harness: harness.clone(),
    };
    api::routes(app).merge(tiltas_sim::control_router(harness))
}
