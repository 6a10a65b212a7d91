//! A simulated Omega public API (`shared/protocols/erp-and-suppliers.md` §5): every call a
//! `POST` under `/public/api/v1.0` whose body (form fields or JSON) carries `Key`; the key is
//! checked on every request and bound to the caller's IP address (`--allowed-ip`; by default
//! any loopback address), and every refusal is `Success: false` with `Errors` inside HTTP 200 —
//! a wrong key, a key used from another address, an unknown product, a bad date. It serves
//! search by code and brand with warehouse rests, the paged phrase search, expense documents
//! (sales invoices) with lines, and the basket → order path. The harness' faults answer in
//! HTTP statuses, as a gateway in front of Omega would.
//!
//! The catalogue is drawn from `tiltas_sim::parts` so Omega shares its parts with the other
//! suppliers' simulators started with the same seed; `GET /__sim/records/part` lists them with
//! the canonical `article` and `brand`.
#![forbid(unsafe_code)]
mod api;
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
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_sim::{Harness, SimSystem};

/// The key the simulator accepts and the address it was issued for.
#[derive(Debug, Clone)]
pub struct Access {
    /// `Key`.
    pub key: String,
    /// The one address the key works from; `None`: any loopback address.
    pub allowed_ip: Option<IpAddr>,
}

/// Omega's words when the harness' `invalid_item_rate` refuses a basket line.
pub const REFUSED_ITEM: &str = "is not available for order on this account";

/// One simulated Omega customer account.
pub struct OmegaSim {
    access: Access,
    seeding: Seeding,
    db: Mutex<Db>,
    /// Orders still to create and then answer with a 500 (tests: an answer lost after commit).
    lost_orders: AtomicUsize,
}

impl OmegaSim {
    /// A simulator with the seeded records.
    pub fn new(access: Access, seeding: Seeding) -> OmegaSim {
        OmegaSim {
            db: Mutex::new(Db::seeded(&seeding)),
            access,
            seeding,
            lost_orders: AtomicUsize::new(0),
        }
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates the next `count` orders and answers each with a 500 (tests).
    pub fn lose_order_answers(&self, count: usize) {
        self.lost_orders.store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Adds a part only Omega carries (tests: a part the books do not know); its product id.
    pub fn add_part(&self, article: &str, brand: &str) -> Option<u64> {
        let mut db = self.db();
        let mut part = db.parts.last()?.clone();
        part.product_id = db.parts.iter().map(|p| p.product_id).max().unwrap_or(0) + 1;
        part.part.article = article.to_owned();
        part.part.brand = brand.to_owned();
        let id = part.product_id;
        db.parts.push(part);
        Some(id)
    }

    /// Refuses the lines of the expense document numbered `number` with `Success: false` (tests).
    pub fn withhold_lines(&self, number: &str) {
        let mut db = self.db();
        let found = db
            .expenses
            .iter()
            .find(|e| e.head.number == number)
            .map(|e| e.head.doc_id.clone());
        db.withheld.extend(found);
    }

    /// Adds an expense document dated today with one line of `product_id` (tests).
    pub fn add_invoice_of(&self, product_id: u64, count: u32) -> Option<String> {
        self.db()
            .invoice(chrono::Utc::now().date_naive(), &[(product_id, count)])
    }
}

/// `Success: false` with one error, inside HTTP 200, as Omega answers every refusal.
pub(crate) fn refusal(code: &str, description: &str) -> Response {
    Json(json!({ "Success": false, "Errors": [{ "Error": code, "Description": description }] })).into_response()
}

impl SimSystem for OmegaSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = self.db();
        BTreeMap::from([
            ("part".to_owned(), db.parts.len()),
            ("order".to_owned(), db.orders.len()),
            ("invoice".to_owned(), db.expenses.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let db = self.db();
        let mut seen = HashSet::new();
        db.orders
            .iter()
            .filter_map(|order| order.comment.as_deref())
            .filter(|comment| !seen.insert(comment.to_owned()))
            .count()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = self.db();
        match entity {
            "invoice" | "document" => {
                let today = chrono::Utc::now().date_naive();
                Ok((0..count).filter_map(|_| db.add_invoice(today)).count())
            }
            "stock" | "supplier_offer" => Ok(db.change_rests(count)),
            "part" | "product" => Ok(db.rename(count)),
            other => Err(format!(
                "Omega's simulator mutates invoice (new expense documents dated today), stock (rests at every \
                 warehouse) or product (a new description), not {other:?}"
            )),
        }
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = self.db();
        match entity {
            "part" | "product" => Some(Value::Array(db.parts.iter().map(api::part_record).collect())),
            "order" => serde_json::to_value(&db.orders).ok(),
            "basket" => serde_json::to_value(&db.basket).ok(),
            "invoice" => Some(Value::Array(
                db.expenses
                    .iter()
                    .map(|e| json!({ "head": e.head, "lines": e.lines }))
                    .collect(),
            )),
            _ => None,
        }
    }

    fn reset(&self) {
        *self.db() = Db::seeded(&self.seeding);
    }

    fn error_response(&self, status: StatusCode, code: &str, message: &str) -> Response {
        (
            status,
            Json(json!({ "Success": false, "Errors": [{ "Error": code, "Description": message }] })),
        )
            .into_response()
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub sim: Arc<OmegaSim>,
    pub harness: Arc<Harness>,
}

/// The simulator's routes: the API under `/public/api/v1.0`, and `/__sim/`.
pub fn router(sim: Arc<OmegaSim>, harness: Arc<Harness>) -> axum::Router {
    let app = App {
        sim,
        harness: harness.clone(),
    };
    api::routes(app).merge(tiltas_sim::control_router(harness))
}
