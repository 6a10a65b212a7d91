//! The read side: items, clients, stock per warehouse, sales invoices and payments, each a
//! jqGrid-style list read in id order (keyset pages: `id ge` the next id), incremental on
//! `modifiedAt`.
use crate::client::{text, Client};
use crate::{ConnectorError, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::str::FromStr;

/// B1's time format (`modifiedAt`), in UTC.
pub(crate) const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// What a source reads.
#[derive(Debug, Clone)]
pub(crate) enum Reading {
    Items,
    Clients,
    /// Stock of one warehouse (id or name), or of all.
    Stock {
        warehouse: Option<String>,
    },
    Sales,
    Payments,
}

impl Reading {
    fn path(&self) -> &'static str {
        match self {
            Reading::Items => "reference-book/items/list",
            Reading::Clients => "clients/list",
            Reading::Stock { .. } => "warehouse/balances/list",
            Reading::Sales => "warehouse/sales/list",
            Reading::Payments => "bank/sale-payments/list",
        }
    }
}

/// Reads one list of a B1 company.
pub(crate) struct B1Source {
    client: Client,
    reading: Reading,
    /// The stock warehouse's id, once resolved.
    warehouse_id: Option<i64>,
}

impl B1Source {
    pub fn new(client: Client, reading: Reading) -> B1Source {
        B1Source {
            client,
            reading,
            warehouse_id: None,
        }
    }
}

fn time(record: &Map<String, Value>) -> Option<DateTime<Utc>> {
    let value = text(record, "modifiedAt")?;
    NaiveDateTime::parse_from_str(&value, TIME_FORMAT)
        .ok()
        .map(|at| at.and_utc())
        .or_else(|| {
            DateTime::parse_from_rfc3339(&value)
                .ok()
                .map(|at| at.with_timezone(&Utc))
        })
}

/// A number as canonical decimal text (`"21.00"` → `"21"`).
fn number(record: &Map<String, Value>, field: &str) -> Option<String> {
    Decimal::from_str(&text(record, field)?)
        .ok()
        .map(|value| value.normalize().to_string())
}

fn put(data: &mut Map<String, Value>, field: &str, value: Option<String>) {
    if let Some(value) = value {
        data.insert(field.to_owned(), Value::String(value));
    }
}

/// An item as a canonical product.
pub(crate) fn product(record: &Map<String, Value>) -> Map<String, Value> {
    let mut data = Map::new();
    put(&mut data, "sku", text(record, "code"));
    put(&mut data, "name", text(record, "name"));
    put(&mut data, "ean", text(record, "barcode"));
    put(&mut data, "price_net", number(record, "price"));
    put(&mut data, "vat_rate", number(record, "vatRate"));
    put(&mut data, "unit", text(record, "measurementUnitName"));
    data
}

/// A client as a canonical customer.
pub(crate) fn customer(record: &Map<String, Value>) -> Map<String, Value> {
    let mut data = Map::new();
    let company = record.get("isCompany").and_then(Value::as_bool).unwrap_or(false);
    put(&mut data, "code", text(record, "code"));
    put(
        &mut data,
        "kind",
        Some(if company { "company" } else { "person" }.to_owned()),
    );
    put(&mut data, "name", text(record, "name"));
    if company {
        put(&mut data, "company_name", text(record, "name"));
        put(&mut data, "company_code", text(record, "code"));
    }
    put(&mut data, "vat_code", text(record, "vatCode"));
    put(&mut data, "email", text(record, "email"));
    put(&mut data, "phone", text(record, "phone"));
    let mut billing = Map::new();
    for (field, name) in [
        ("line1", "address"),
        ("city", "cityName"),
        ("postcode", "postCode"),
        ("country", "countryCode"),
    ] {
        put(&mut billing, field, text(record, name));
    }
    if !billing.is_empty() {
        data.insert("billing".to_owned(), Value::Object(billing));
    }
    data
}

fn stock(record: &Map<String, Value>) -> Map<String, Value> {
    let mut data = Map::new();
    let on_hand = number(record, "quantity").unwrap_or_else(|| "0".to_owned());
    let reserved = number(record, "reserved").unwrap_or_else(|| "0".to_owned());
    let available = Decimal::from_str(&on_hand).unwrap_or_default() - Decimal::from_str(&reserved).unwrap_or_default();
    put(&mut data, "sku", text(record, "itemCode"));
    put(&mut data, "warehouse", text(record, "warehouseName"));
    put(&mut data, "on_hand", Some(on_hand));
    put(&mut data, "reserved", Some(reserved));
    put(&mut data, "available", Some(available.normalize().to_string()));
    data
}

fn sale(record: &Map<String, Value>) -> Map<String, Value> {
    let mut data = Map::new();
    put(&mut data, "number", text(record, "number"));
    put(&mut data, "kind", Some("sales_invoice".to_owned()));
    put(
        &mut data,
        "date",
        text(record, "saleDate").map(|date| date.chars().take(10).collect()),
    );
    put(&mut data, "counterparty", text(record, "clientId"));
    put(&mut data, "warehouse", text(record, "warehouseName"));
    put(&mut data, "currency", text(record, "currencyCode"));
    put(&mut data, "total", number(record, "total"));
    let lines: Vec<Value> = record
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|line| {
                    let mut item = Map::new();
                    put(&mut item, "sku", text(line, "code").or_else(|| text(line, "name")));
                    put(&mut item, "quantity", number(line, "quantity"));
                    put(&mut item, "price", number(line, "price"));
                    put(&mut item, "vat_rate", number(line, "vatPercent"));
                    Value::Object(item)
                })
                .collect()
        })
        .unwrap_or_default();
    data.insert("lines".to_owned(), Value::Array(lines));
    data
}

fn payment(record: &Map<String, Value>) -> Map<String, Value> {
    let mut data = Map::new();
    put(
        &mut data,
        "number",
        text(record, "number").or_else(|| text(record, "id").map(|id| format!("P{id}"))),
    );
    put(&mut data, "kind", Some("customer_payment".to_owned()));
    put(
        &mut data,
        "date",
        text(record, "paymentDate").map(|date| date.chars().take(10).collect()),
    );
    put(&mut data, "counterparty", text(record, "clientId"));
    put(&mut data, "currency", text(record, "currencyCode"));
    put(&mut data, "total", number(record, "amount"));
    put(
        &mut data,
        "note",
        text(record, "saleNumber").map(|number| format!("payment of invoice {number}")),
    );
    data
}

impl B1Source {
    fn record(&self, record: &Map<String, Value>) -> Result<SourceRecord, RecordFailure> {
        let id = text(record, "id").ok_or_else(|| {
            RecordFailure::new(
                "(no id)",
                self.reading.path(),
                "a record without `id`: every B1 record has one; the answer is not B1's",
                Value::Object(record.clone()),
            )
        })?;
        let mut data = match &self.reading {
            Reading::Items => product(record),
            Reading::Clients => customer(record),
            Reading::Stock { .. } => stock(record),
            Reading::Sales => sale(record),
            Reading::Payments => payment(record),
        };
        let mut raw = record.clone();
        raw.remove("items");
        data.insert("raw".to_owned(), Value::Object(raw));
        // Stock is keyed by item and warehouse, so a record keeps its key when B1 renumbers
        // balance rows; everything else by B1's id.
        let key = match &self.reading {
            Reading::Stock { .. } => format!(
                "{}@{}",
                text(record, "itemId").unwrap_or_default(),
                text(record, "warehouseId").unwrap_or_default()
            ),
            _ => id,
        };
        Ok(SourceRecord {
            key,
            updated_at: time(record),
            data: Value::Object(data),
        })
    }
}

#[async_trait]
impl Source for B1Source {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let mut api_calls = 0;
        let mut rules = Vec::new();
        if let Reading::Stock {
            warehouse: Some(warehouse),
        } = &self.reading
        {
            let id = match self.warehouse_id {
                Some(id) => id,
                None => {
                    if warehouse.trim().parse::<i64>().is_err() {
                        api_calls += 1;
                    }
                    let id = self.client.warehouse_id(warehouse).await?;
                    self.warehouse_id = Some(id);
                    id
                }
            };
            rules.push(json!({ "field": "warehouseId", "op": "eq", "data": id.to_string() }));
        }
        if let Some(since) = request.changed_since {
            rules.push(json!({ "field": "modifiedAt", "op": "ge", "data": since.format(TIME_FORMAT).to_string() }));
        }
        let after = match request.position.as_deref() {
            None => None,
            Some(position) => Some(
                position
                    .parse::<i64>()
                    .map_err(|_| crate::fatal(format!("unknown read position {position:?}")))?,
            ),
        };
        let rows = self.client.page_rows(request.page_size);
        let records = self.client.list(self.reading.path(), "AND", rules, after, rows).await?;
        api_calls += 1;
        let next = if records.len() >= rows {
            records
                .iter()
                .filter_map(|record| record.get("id")?.as_i64())
                .max()
                .map(|id| id.to_string())
        } else {
            None
        };
        Ok(Page {
            records: records.iter().map(|record| self.record(record)).collect(),
            next,
            api_calls,
        })
    }
}
