//! Feed rows as canonical records: a price list row as a product, its stock per branch, or a
//! supplier offer; a bad row as a record failure naming the supplier, the file, the line and
//! the column.
use crate::layout::{FeedOffer, RowProblem, Supplier};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tiltas_connector::{RecordFailure, SourceRecord};
use tiltas_model::{BranchAvailability, Product, StockLevel, SupplierOffer};

/// What a price list is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// One product per row (the supplier's code as `sku`).
    Products,
    /// One stock level per row and branch (`sku@branch`).
    Stock,
    /// One supplier offer per row.
    Offers,
}

/// Which feed file a record came from, and when it was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedFile {
    /// The file's name (or the URL's last segment).
    pub name: String,
    /// When the supplier wrote it (the file's modification time, or `Last-Modified`), else
    /// when it was fetched.
    pub date: DateTime<Utc>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn raw(offer: &FeedOffer, file: &FeedFile) -> serde_json::Map<String, Value> {
    let mut raw = serde_json::Map::new();
    raw.insert("article".into(), json!(offer.article));
    raw.insert("feed_file".into(), json!(file.name));
    raw.insert("feed_date".into(), json!(file.date.to_rfc3339()));
    raw.insert("line".into(), json!(offer.line));
    raw
}

/// A price list row as a supplier offer (`raw.feed_date` says how old the price is).
pub fn supplier_offer(supplier: &Supplier, offer: &FeedOffer, file: &FeedFile) -> SupplierOffer {
    SupplierOffer {
        supplier: supplier.system.to_owned(),
        part_code: offer.code.clone(),
        brand: Some(offer.brand.clone()),
        article: Some(offer.article.clone()),
        ean: offer.ean.clone(),
        name: offer.name.clone(),
        price: Some(offer.price),
        price_gross: None,
        currency: Some(offer.currency.clone()),
        availability: offer
            .stock
            .iter()
            .map(|(branch, quantity)| BranchAvailability {
                branch: branch.clone(),
                quantity: *quantity,
                delivery_date: None,
            })
            .collect(),
        updated_at: Some(file.date),
        raw: raw(offer, file),
    }
}

/// The records of one price list row.
pub fn row_records(
    supplier: &Supplier,
    reading: Reading,
    row: &Result<FeedOffer, RowProblem>,
    file: &FeedFile,
    connection: &str,
) -> Vec<Result<SourceRecord, RecordFailure>> {
    let offer = match row {
        Ok(offer) => offer,
        Err(problem) => return vec![Err(row_failure(supplier, connection, &file.name, problem))],
    };
    let record = |key: String, data: Value| {
        Ok(SourceRecord {
            key,
            updated_at: Some(file.date),
            data,
        })
    };
    match reading {
        Reading::Products => vec![record(
            offer.code.clone(),
            to_json(&Product {
                sku: offer.code.clone(),
                name: offer.name.clone(),
                brand: Some(offer.brand.clone()),
                ean: offer.ean.clone(),
                price_net: Some(offer.price),
                currency: Some(offer.currency.clone()),
                raw: raw(offer, file),
                ..Product::default()
            }),
        )],
        Reading::Stock => offer
            .stock
            .iter()
            .map(|(branch, quantity)| {
                record(
                    format!("{}@{branch}", offer.code),
                    to_json(&StockLevel {
                        sku: offer.code.clone(),
                        warehouse: branch.clone(),
                        on_hand: *quantity,
                        reserved: rust_decimal::Decimal::ZERO,
                        available: Some(*quantity),
                        updated_at: Some(file.date),
                        raw: raw(offer, file),
                    }),
                )
            })
            .collect(),
        Reading::Offers => vec![record(
            offer.code.clone(),
            to_json(&supplier_offer(supplier, offer, file)),
        )],
    }
}

/// The failure of a bad row: supplier, connection, file, line, column, what and the fix.
pub fn row_failure(supplier: &Supplier, connection: &str, file: &str, problem: &RowProblem) -> RecordFailure {
    let key = problem
        .key
        .clone()
        .unwrap_or_else(|| format!("{file}:{}", problem.line));
    RecordFailure::new(
        key,
        format!("{file}:{}", problem.line),
        format!(
            "connection \"{connection}\": {} feed {file}, line {}, column {:?}: {}: correct the row in the \
             file (or ask {} to) — the rest of the file is read",
            supplier.label, problem.line, problem.column, problem.problem, supplier.label
        ),
        json!({ "file": file, "line": problem.line, "column": problem.column }),
    )
    .at_field(problem.column.clone())
}
