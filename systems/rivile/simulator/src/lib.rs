//! A simulator of the Manorivile API v2 gateway (`POST /client/v2`), as its documentation and
//! its clients show it: `ApiKey` header, JSON or XML bodies (`<body>` root), XML answers by
//! default and JSON with `Accept: application/json` (no `RET_DOK`, one row as an object, none
//! as `{}`, every value a string, `CHAR` columns padded to their width), `fil` as a T-SQL
//! `WHERE` fragment, 100 rows a page in primary-key order, 10 requests/s with bursts to 30.
//!
//! It serves the `GET_*_LIST` methods of [`TABLES`](tiltas_rivile::schema::TABLES) and the
//! `EDIT_*` methods of products, clients, services and sales documents; the harness'
//! `invalid_item_rate` makes an `EDIT_*` of a chosen record fail with a data error.
mod contract;
mod documents;
mod flags;
mod list;
mod parts;
mod records;
mod seed;
mod wire;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
pub use contract::contract_fixture;
use documents::*;
pub use flags::Flags;
use list::*;
pub use parts::{part_product, SUPPLIERS};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use records::*;
use rust_decimal::Decimal;
use seed::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tiltas_rivile::fil::{self, FilValue};
use tiltas_rivile::schema::{
    table_of_method, Column, ColumnType, Table, I06, I07, I09, I10, I17, I33, N07, N08, N17, N25, N32, N33, N37,
};
use tiltas_sim::{Harness, RequestKind, SimSystem};
use wire::*;

/// Rows per `GET_*_LIST` page.
pub const PAGE_ROWS: usize = 100;
/// Sustained requests per second per key.
pub const RATE_PER_S: u32 = 10;
/// Burst size per key.
pub const BURST: u32 = 30;
/// The empty date of Rivile answers.
const EMPTY_DATE: &str = "1900-01-01T00:00:00";
/// The `dataErrors` code of a record `invalid_item_rate` refuses: the simulator's own, a code
/// Rivile is not known to use, so the connector keeps the text as Rivile's (as for any unknown
/// code).
const REFUSED_ITEM_CODE: &str = "0";
/// The `dataErrors` message of a record `invalid_item_rate` refuses ("record refused as
/// invalid"), in Lithuanian like Rivile's own.
pub const REFUSED_ITEM: &str = "Įrašas atmestas kaip neteisingas (invalid_item_rate, POST /__sim/faults)";

/// A row: column name → stored value (text unpadded, numbers as decimal text, times as
/// `YYYY-MM-DDTHH:MM:SS`; empty for none).
type Row = BTreeMap<&'static str, String>;

#[derive(Debug, Clone, Default)]
struct Db {
    tables: BTreeMap<&'static str, BTreeMap<Vec<String>, Row>>,
    mutations: u64,
    documents: u64,
}

impl Db {
    fn insert(&mut self, table: &Table, values: &[(&'static str, String)]) {
        let mut row: Row = table
            .columns
            .iter()
            .map(|column| (column.name, String::new()))
            .collect();
        for (name, value) in values {
            row.insert(name, value.clone());
        }
        let key: Vec<String> = table
            .key
            .iter()
            .map(|name| row.get(name).cloned().unwrap_or_default().to_lowercase())
            .collect();
        self.tables.entry(table.code).or_default().insert(key, row);
    }
}

/// How many records the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data.
    pub seed: u64,
    /// Products (N17, with a barcode in N37 and stock in I17).
    pub products: usize,
    /// Clients (N08).
    pub customers: usize,
}

/// The simulated gateway.
pub struct RivileSim {
    api_key: String,
    seeding: Seeding,
    seeded: Db,
    db: Mutex<Db>,
    bucket: Mutex<(f64, Instant)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn table_name_of(entity: &str) -> Option<&'static Table> {
    match entity {
        "product" | "N17" => Some(&N17),
        "customer" | "N08" => Some(&N08),
        "stock" | "I17" => Some(&I17),
        "N37" => Some(&N37),
        "N33" => Some(&N33),
        "I06" => Some(&I06),
        "I07" => Some(&I07),
        "price" | "N32" => Some(&N32),
        "warehouse_price" | "I33" => Some(&I33),
        "internal_document" | "I09" => Some(&I09),
        "N25" => Some(&N25),
        "N07" => Some(&N07),
        _ => None,
    }
}

impl SimSystem for RivileSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = lock(&self.db);
        let count = |code: &str| db.tables.get(code).map_or(0, BTreeMap::len);
        BTreeMap::from([
            ("product".to_owned(), count("N17")),
            ("customer".to_owned(), count("N08")),
            ("stock".to_owned(), count("I17")),
            ("order".to_owned(), count("I06")),
            (
                "purchase".to_owned(),
                db.tables.get("I06").map_or(0, |rows| {
                    rows.values()
                        .filter(|row| row.get("I06_OP_TIP").map(String::as_str) == Some("1"))
                        .count()
                }),
            ),
        ])
    }

    fn duplicates(&self) -> usize {
        // Codes are primary keys; documents can repeat a number of the same operation.
        let db = lock(&self.db);
        let mut numbers: BTreeMap<(String, String), usize> = BTreeMap::new();
        for row in db.tables.get("I06").map(|rows| rows.values()).into_iter().flatten() {
            let number = row.get("I06_DOK_NR").cloned().unwrap_or_default();
            if !number.is_empty() {
                *numbers
                    .entry((row.get("I06_OP_TIP").cloned().unwrap_or_default(), number))
                    .or_default() += 1;
            }
        }
        numbers.values().map(|count| count - 1).sum()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let table = table_name_of(entity)
            .filter(|table| matches!(table.code, "N17" | "N32" | "I33" | "N08" | "I17"))
            .ok_or_else(|| {
                format!("cannot mutate {entity:?}: use product, price, warehouse_price, customer or stock")
            })?;
        let mut db = lock(&self.db);
        db.mutations += 1;
        let mut rng = StdRng::seed_from_u64(self.seeding.seed.wrapping_add(db.mutations * 7919));
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        let rows = db.tables.entry(table.code).or_default();
        let mut keys: Vec<Vec<String>> = rows.keys().cloned().collect();
        let mut changed = 0;
        while changed < count && !keys.is_empty() {
            let key = keys.swap_remove(rng.gen_range(0..keys.len()));
            let Some(row) = rows.get_mut(&key) else { continue };
            match table.code {
                "N17" => row.insert(
                    "N17_PAV",
                    format!(
                        "{} (atnaujinta {})",
                        PRODUCTS[rng.gen_range(0..PRODUCTS.len())],
                        db_suffix(&mut rng)
                    ),
                ),
                "N08" => row.insert("N08_TEL", format!("+3706{:07}", rng.gen_range(0..10_000_000))),
                "N32" => row.insert(
                    "N32_KAINA1",
                    format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                ),
                "I33" => row.insert(
                    "I33_KAINA",
                    format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                ),
                _ => row.insert("I17_KIEKIS", rng.gen_range(0..500).to_string()),
            };
            row.insert(date_column(table), now.clone());
            changed += 1;
        }
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        if entity == "purchase" {
            return Some(Value::Array(self.purchases()));
        }
        let table = table_name_of(entity)?;
        let db = lock(&self.db);
        let rows = db.tables.get(table.code)?;
        Some(Value::Array(
            rows.values()
                .map(|row| {
                    Value::Object(
                        row.iter()
                            .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                            .collect(),
                    )
                })
                .collect(),
        ))
    }

    fn reset(&self) {
        *lock(&self.db) = self.seeded.clone();
    }

    fn error_response(&self, status: StatusCode, _code: &str, message: &str) -> Response {
        reply(status, &error_body(message), false)
    }
}

fn db_suffix(rng: &mut StdRng) -> u32 {
    rng.gen_range(1000..9999)
}

fn date_column(table: &Table) -> &'static str {
    table
        .columns
        .iter()
        .find(|column| column.name.ends_with("_R_DATE"))
        .map_or("", |column| column.name)
}

/// The simulator's router: `POST /client/v2` plus `/__sim/`.
pub fn router(sim: Arc<RivileSim>, harness: Arc<Harness>) -> Router {
    Router::new()
        .route("/client/v2", post(gateway))
        .with_state((sim, harness.clone()))
        .merge(tiltas_sim::control_router(harness))
}

#[cfg(test)]
mod tests;
