//! The OpenCart source: products and orders by `date_modified` (keyset pages on
//! `(date_modified, id)`), customers by id. Every column is selected as text (`CAST … AS
//! CHAR`), so a row is a JSON object of strings whatever type the shop's column has, amounts
//! keep every decimal, and a zero date is text rather than a decode failure.
use crate::db::ShopDb;
use crate::orders;
use crate::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use sqlx::mysql::MySqlRow;
use sqlx::{Column, Row};
use std::str::FromStr;
use tiltas_model::EntityKind;

/// The largest page read: one query of this many rows (and, for orders, four more for their
/// lines, options, totals and history).
pub(crate) const MAX_PAGE: usize = 1000;

/// `alias.column` as text under the column's own name, for each column.
pub(crate) fn select_list(alias: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|column| format!("CAST({alias}.`{column}` AS CHAR) AS `{column}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row of text columns as a JSON object (`null` for SQL NULL).
pub(crate) fn row_object(row: &MySqlRow) -> Value {
    let mut object = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let value = row.try_get::<Option<String>, _>(index).ok().flatten();
        object.insert(column.name().to_owned(), value.map_or(Value::Null, Value::String));
    }
    Value::Object(object)
}

/// A column as trimmed text, `None` when NULL or empty.
pub(crate) fn text(row: &Value, column: &str) -> Option<String> {
    row.get(column)?
        .as_str()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// A decimal column exactly.
pub(crate) fn decimal(row: &Value, column: &str) -> Option<Decimal> {
    Decimal::from_str(&text(row, column)?).ok()
}

/// A decimal column as canonical text (`12.5`, not `12.5000`).
pub(crate) fn money(row: &Value, column: &str) -> Option<String> {
    decimal(row, column).map(|amount| amount.normalize().to_string())
}

/// A DATETIME column (the shop's time, read as UTC); `None` for OpenCart's zero date.
pub(crate) fn time(row: &Value, column: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&text(row, column)?, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|at| at.and_utc())
}

/// A time as OpenCart's DATETIME text, for binding.
pub(crate) fn datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn put(fields: &mut Map<String, Value>, field: &str, value: Option<String>) {
    if let Some(value) = value {
        fields.insert(field.to_owned(), Value::String(value));
    }
}

/// A keyset position: the last row's `date_modified` and id (`2026-01-01 10:00:00|42`), or
/// just the id for customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub modified: Option<String>,
    pub id: u64,
}

impl Position {
    pub fn parse(text: Option<&str>) -> Result<Option<Position>, ConnectorError> {
        let Some(text) = text else {
            return Ok(None);
        };
        let (modified, id) = match text.rsplit_once('|') {
            Some((modified, id)) => (Some(modified.to_owned()), id),
            None => (None, text),
        };
        let id = id.parse().map_err(|_| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("read position {text:?} is not an OpenCart position: reset the flow's cursor"),
            )
        })?;
        Ok(Some(Position { modified, id }))
    }

    pub fn format(&self) -> String {
        match &self.modified {
            Some(modified) => format!("{modified}|{}", self.id),
            None => self.id.to_string(),
        }
    }
}

/// The `WHERE` conditions and their bound values of a keyset read on `alias.date_modified`
/// and `alias.id_column`.
pub(crate) fn keyset(
    alias: &str,
    id_column: &str,
    since: Option<DateTime<Utc>>,
    after: Option<&Position>,
) -> (Vec<String>, Vec<String>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    if let Some(since) = since {
        conditions.push(format!("{alias}.date_modified >= ?"));
        values.push(datetime(since));
    }
    if let Some(after) = after {
        match &after.modified {
            Some(modified) => {
                conditions.push(format!(
                    "({alias}.date_modified > ? OR ({alias}.date_modified = ? AND {alias}.{id_column} > ?))"
                ));
                values.extend([modified.clone(), modified.clone(), after.id.to_string()]);
            }
            None => {
                conditions.push(format!("{alias}.{id_column} > ?"));
                values.push(after.id.to_string());
            }
        }
    }
    (conditions, values)
}

const PRODUCT_COLUMNS: &[&str] = &[
    "product_id",
    "model",
    "sku",
    "ean",
    "quantity",
    "price",
    "weight",
    "tax_class_id",
    "status",
    "date_added",
    "date_modified",
];

/// Reads products, customers or orders of one OpenCart store.
pub(crate) struct OpenCartSource {
    db: ShopDb,
    entity: EntityKind,
}

impl OpenCartSource {
    pub fn new(db: ShopDb, entity: EntityKind) -> OpenCartSource {
        OpenCartSource { db, entity }
    }

    async fn products(
        &self,
        request: &ReadRequest,
        after: Option<&Position>,
        limit: usize,
    ) -> Result<Vec<Value>, ConnectorError> {
        let (mut conditions, values) = keyset("p", "product_id", request.changed_since, after);
        conditions.insert(
            0,
            format!(
                "EXISTS (SELECT 1 FROM {} s WHERE s.product_id = p.product_id AND s.store_id = ?)",
                self.db.table("product_to_store")
            ),
        );
        let sql = format!(
            "SELECT {}, pd.name AS name, pd.description AS description FROM {} p \
             LEFT JOIN {} pd ON pd.product_id = p.product_id AND pd.language_id = ? \
             WHERE {} ORDER BY p.date_modified, p.product_id LIMIT ?",
            select_list("p", PRODUCT_COLUMNS),
            self.db.table("product"),
            self.db.table("product_description"),
            conditions.join(" AND "),
        );
        let mut query = sqlx::query(&sql).bind(self.db.language_id).bind(self.db.store_id);
        for value in values {
            query = query.bind(value);
        }
        let rows = query
            .bind(limit as u64)
            .fetch_all(self.db.pool().await?)
            .await
            .map_err(|error| self.db.error("reading products", error))?;
        Ok(rows.iter().map(row_object).collect())
    }

    fn product_record(&self, row: &Value) -> Result<SourceRecord, RecordFailure> {
        let key = text(row, "product_id").unwrap_or_default();
        let Some(sku) = text(row, self.db.sku_column) else {
            return Err(RecordFailure::new(
                key,
                format!(
                    "{} (product_id {})",
                    self.db.table("product"),
                    text(row, "product_id").unwrap_or_default()
                ),
                format!("a product without a {}", self.db.sku_column),
                row.clone(),
            )
            .at_field("sku")
            .with_fix(format!(
                "give the product a code in OpenCart (Catalog → Products → Data → {}), or set sku_column",
                if self.db.sku_column == "sku" { "SKU" } else { "Model" }
            )));
        };
        let mut fields = Map::new();
        fields.insert("sku".to_owned(), json!(sku));
        put(&mut fields, "name", text(row, "name"));
        put(&mut fields, "description", text(row, "description"));
        put(&mut fields, "ean", text(row, "ean"));
        put(&mut fields, "price_net", money(row, "price"));
        put(
            &mut fields,
            "weight",
            money(row, "weight").filter(|weight| weight != "0"),
        );
        fields.insert("active".to_owned(), json!(text(row, "status").as_deref() == Some("1")));
        fields.insert("raw".to_owned(), row.clone());
        Ok(SourceRecord {
            key,
            updated_at: time(row, "date_modified"),
            data: Value::Object(fields),
        })
    }

    async fn customers(&self, after: Option<&Position>, limit: usize) -> Result<Vec<Value>, ConnectorError> {
        let sql = format!(
            "SELECT {}, {}, co.iso_code_2 AS country FROM {} c \
             LEFT JOIN {} a ON a.address_id = c.address_id \
             LEFT JOIN {} co ON co.country_id = a.country_id \
             WHERE c.store_id = ? AND c.customer_id > ? ORDER BY c.customer_id LIMIT ?",
            select_list(
                "c",
                &[
                    "customer_id",
                    "customer_group_id",
                    "firstname",
                    "lastname",
                    "email",
                    "telephone",
                    "status",
                    "date_added",
                ]
            ),
            select_list("a", &["company", "address_1", "address_2", "city", "postcode"]),
            self.db.table("customer"),
            self.db.table("address"),
            self.db.table("country"),
        );
        let rows = sqlx::query(&sql)
            .bind(self.db.store_id)
            .bind(after.map_or(0, |after| after.id))
            .bind(limit as u64)
            .fetch_all(self.db.pool().await?)
            .await
            .map_err(|error| self.db.error("reading customers", error))?;
        Ok(rows.iter().map(row_object).collect())
    }
}

/// A customer row (with its default address) as a canonical customer.
pub(crate) fn customer_from_row(row: &Value) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "code", text(row, "customer_id"));
    put(&mut fields, "email", text(row, "email"));
    put(&mut fields, "first_name", text(row, "firstname"));
    put(&mut fields, "last_name", text(row, "lastname"));
    let name = [text(row, "firstname"), text(row, "lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    put(&mut fields, "name", Some(name.clone()).filter(|name| !name.is_empty()));
    put(&mut fields, "phone", text(row, "telephone"));
    put(&mut fields, "group", text(row, "customer_group_id"));
    match text(row, "company") {
        Some(company) => {
            fields.insert("kind".to_owned(), json!("company"));
            fields.insert("company_name".to_owned(), json!(company));
        }
        None => {
            fields.insert("kind".to_owned(), json!("person"));
        }
    }
    let mut address = Map::new();
    put(&mut address, "name", Some(name).filter(|name| !name.is_empty()));
    put(&mut address, "company", text(row, "company"));
    put(&mut address, "line1", text(row, "address_1"));
    put(&mut address, "line2", text(row, "address_2"));
    put(&mut address, "city", text(row, "city"));
    put(&mut address, "postcode", text(row, "postcode"));
    put(&mut address, "country", text(row, "country"));
    put(&mut address, "phone", text(row, "telephone"));
    if address.keys().any(|key| key == "line1" || key == "city") {
        fields.insert("billing".to_owned(), Value::Object(address));
    }
    fields.insert("raw".to_owned(), row.clone());
    Value::Object(fields)
}

#[async_trait]
impl Source for OpenCartSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let after = Position::parse(request.position.as_deref())?;
        let limit = request.page_size.clamp(1, MAX_PAGE);
        let (records, last, api_calls) = match self.entity {
            EntityKind::Product => {
                let rows = self.products(request, after.as_ref(), limit).await?;
                let records = rows.iter().map(|row| self.product_record(row)).collect();
                (records, last_position(&rows, "product_id", true), 1)
            }
            EntityKind::Customer => {
                let rows = self.customers(after.as_ref(), limit).await?;
                let records = rows
                    .iter()
                    .map(|row| {
                        Ok(SourceRecord {
                            key: text(row, "customer_id").unwrap_or_default(),
                            updated_at: time(row, "date_added"),
                            data: customer_from_row(row),
                        })
                    })
                    .collect();
                (records, last_position(&rows, "customer_id", false), 1)
            }
            EntityKind::Order => {
                let (records, last) = orders::read(&self.db, request, after.as_ref(), limit).await?;
                // The page's query, then one each for lines, options, totals and history.
                let calls = if records.is_empty() { 1 } else { 5 };
                (records, last, calls)
            }
            other => {
                return Err(ConnectorError::new(
                    ErrorKind::Fatal,
                    format!("the opencart connector does not read {other}"),
                ))
            }
        };
        let full = last.as_ref().is_some_and(|(_, rows)| *rows >= limit);
        Ok(Page {
            records,
            next: if full {
                last.map(|(position, _)| position.format())
            } else {
                None
            },
            api_calls,
        })
    }
}

/// The position after the last of `rows` and how many rows there were.
pub(crate) fn last_position(rows: &[Value], id_column: &str, by_modified: bool) -> Option<(Position, usize)> {
    let last = rows.last()?;
    Some((
        Position {
            modified: by_modified.then(|| text(last, "date_modified").unwrap_or_default()),
            id: text(last, id_column).and_then(|id| id.parse().ok()).unwrap_or(0),
        },
        rows.len(),
    ))
}
