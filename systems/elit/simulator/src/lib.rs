//! A simulated Elit eConnector (`shared/protocols/erp-and-suppliers.md` §5) in the style of the
//! JAX-WS (Metro) service it is: `POST /InterCompany-1.87/BusinessService` (namespace
//! `http://ecat.elit.cz/`: `getItemInfoAgregByTime`, and the inferred `createOrder` and
//! `getOrders`) and `POST /InterCompany-1.87/BuyerService` (`http://buyer.elit.cz/`:
//! `getItemInfo`), each with its WSDL at `?wsdl`. The company, login and password are checked in
//! every body: an unknown company, a wrong login or password, or a company the account does not
//! belong to is a SOAP Fault (`S:Server`, the exception's message in `faultstring`, HTTP 500),
//! as a Metro service answers an exception. The harness' faults answer as SOAP Faults too.
//!
//! The catalogue is drawn from `tiltas_sim::parts`, so Elit shares its parts with the other
//! suppliers' simulators started with the same seed; `GET /__sim/records/part` lists them with
//! the canonical `article` and `brand`, `GET /__sim/records/order` the orders placed.
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

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use data::{Company, Db};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use tiltas_connector::soap;
use tiltas_sim::{Harness, SimSystem};

/// The account the simulator accepts.
#[derive(Debug, Clone)]
pub struct Access {
    /// `Login` / `login`.
    pub login: String,
    /// `Password` / `password`.
    pub password: String,
    /// The company the account belongs to (`ELIT_LT`); it must be one of [`data::COMPANIES`].
    pub company: String,
}

/// Elit's words when the harness' `invalid_item_rate` refuses an order's item.
pub const REFUSED_ITEM: &str = "cannot be ordered: item is blocked for sale";

/// One simulated Elit account.
pub struct ElitSim {
    access: Access,
    company: &'static Company,
    seeding: Seeding,
    db: Mutex<Db>,
    /// Orders still to create and then answer with a 500 (tests: an answer lost after commit).
    lost_orders: AtomicUsize,
}

impl ElitSim {
    /// A simulator with the seeded records; `None` when the account's company is not one Elit has.
    pub fn new(access: Access, seeding: Seeding) -> Option<ElitSim> {
        let company = data::company(&access.company)?;
        Some(ElitSim::of_company(access, company, seeding))
    }

    /// A simulator of an account of `company` (whatever `access.company` says).
    pub fn of_company(access: Access, company: &'static Company, seeding: Seeding) -> ElitSim {
        ElitSim {
            company,
            db: Mutex::new(Db::seeded(&seeding)),
            access,
            seeding,
            lost_orders: AtomicUsize::new(0),
        }
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The account's company.
    pub fn company(&self) -> &'static Company {
        self.company
    }

    /// Creates the next `count` orders and answers each with a 500 (tests).
    pub fn lose_order_answers(&self, count: usize) {
        self.lost_orders.store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Keeps only the first `count` parts (contract fixtures).
    pub fn truncate(&self, count: usize) {
        self.db().parts.truncate(count);
    }

    /// Elit's item numbers, in catalogue order.
    pub fn item_numbers(&self) -> Vec<String> {
        self.db().parts.iter().map(|p| p.item_no.clone()).collect()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A SOAP 1.1 Fault as a Metro service answers an exception: `S:Server` (or `S:Client` for a
/// request it cannot read), the message in `faultstring` and again in `detail`, HTTP `status`.
pub(crate) fn fault_with(status: StatusCode, code: &str, namespace: &str, text: &str) -> Response {
    let text = escape(text);
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><S:Envelope xmlns:S=\"{}\"><S:Body><S:Fault \
         xmlns:ns4=\"http://www.w3.org/2003/05/soap-envelope\"><faultcode>S:{code}</faultcode>\
         <faultstring>{text}</faultstring><detail><ns2:ElitServiceException xmlns:ns2=\"{namespace}\">\
         <message>{text}</message></ns2:ElitServiceException></detail></S:Fault></S:Body></S:Envelope>",
        soap::ENVELOPE_NAMESPACE
    );
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

impl SimSystem for ElitSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = self.db();
        BTreeMap::from([
            ("part".to_owned(), db.parts.len()),
            ("stock".to_owned(), db.parts.len() * 3),
            ("supplier_offer".to_owned(), db.parts.len()),
            ("order".to_owned(), db.orders.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let db = self.db();
        let mut seen = HashSet::new();
        db.orders.iter().filter(|o| !seen.insert(o.order_no.clone())).count()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = self.db();
        match entity {
            "stock" => Ok(db.change_stock(count)),
            "supplier_offer" | "price" => Ok(db.change_prices(count)),
            other => Err(format!(
                "Elit's simulator mutates stock (pieces at every warehouse) or supplier_offer (prices up 5 %), not {other:?}"
            )),
        }
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = self.db();
        match entity {
            "part" | "supplier_offer" => Some(Value::Array(
                db.parts
                    .iter()
                    .map(|part| api::part_record(part, self.company))
                    .collect(),
            )),
            "order" => Some(Value::Array(db.orders.iter().map(api::order_record).collect())),
            _ => None,
        }
    }

    fn reset(&self) {
        *self.db() = Db::seeded(&self.seeding);
    }

    fn error_response(&self, status: StatusCode, _code: &str, message: &str) -> Response {
        let text = match status.as_u16() {
            401 | 403 => format!("Invalid login or password ({message})"),
            429 => format!("Too many requests: {message}"),
            _ => message.to_owned(),
        };
        fault_with(status, "Server", data_namespace(), &text)
    }
}

fn data_namespace() -> &'static str {
    tiltas_elit::wire::BUSINESS_NAMESPACE
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub sim: Arc<ElitSim>,
    pub harness: Arc<Harness>,
}

/// The simulator's routes: both services under `/InterCompany-1.87/`, and `/__sim/`.
pub fn router(sim: Arc<ElitSim>, harness: Arc<Harness>) -> axum::Router {
    let app = App {
        sim,
        harness: harness.clone(),
    };
    api::routes(app).merge(tiltas_sim::control_router(harness))
}

/// `json!` of a value's text, for `/__sim/records`.
pub(crate) fn text(value: impl ToString) -> Value {
    json!(value.to_string())
}
