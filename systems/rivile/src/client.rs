//! The Manorivile API v2 client and the read side of the `rivile` connector: products (N17 with
//! N37 barcodes), customers (N08) and stock (I17 of one warehouse), paged by keyset on the
//! primary key through `fil` as Rivile's documentation advises, incremental on `*_R_DATE`.
use crate::{CallGate, ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use tiltas_model::EntityKind;

/// Rows Rivile returns per `GET_*_LIST` call: fixed by the API.
pub const ROWS_PER_CALL: usize = 100;

/// A client for one connection.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    url: String,
    api_key: String,
    gate: Arc<dyn CallGate>,
}

/// Quotes a value for a `fil` string literal.
pub(crate) fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

impl Client {
    pub fn new(connection: &crate::ConnectionSettings, gate: Arc<dyn CallGate>) -> Result<Client, ConnectorError> {
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            url: connection.base_url.clone(),
            api_key: crate::http::reveal(&connection.api_key)?,
            gate,
        })
    }

    /// Calls a method with JSON in and out; Rivile's errors become engine failure classes.
    pub async fn call(&self, method: &str, params: Value, data: Option<Value>) -> Result<Value, ConnectorError> {
        let mut body = json!({ "method": method, "params": params });
        if let Some(data) = data {
            body["data"] = data;
        }
        let request = self
            .http
            .post(&self.url)
            .header("ApiKey", &self.api_key)
            .header("Accept", "application/json")
            .json(&body);
        let reply = crate::http::exchange(self.gate.as_ref(), method, request).await?;
        if reply.status.is_success() {
            return crate::http::json_answer(method, &reply.text);
        }
        // The kind (auth, rate limited, transient, invalid) by status; the message in English
        // from the table of Rivile's known errors, with Rivile's own text kept.
        let (status, value) = (reply.status, reply.body());
        let mut error = reply.failure("", "api_key");
        error.message = format!(
            "{} ({method} answered {status})",
            crate::errors::describe(status.as_u16(), &value)
        );
        let parts = crate::errors::parts(status.as_u16(), &value);
        error.location = parts.location;
        error.field = parts.field;
        error.fix = parts.fix.or(error.fix);
        Err(error)
    }

    /// The rows of a `GET_*_LIST` answer: `{}` is none, one row is an object, more an array.
    pub async fn rows(&self, table: &str, fil: &str) -> Result<Vec<Map<String, Value>>, ConnectorError> {
        self.rows_with(table, fil, "H").await
    }

    /// Like [`Client::rows`] with `list` A: related tables nested in each row (I06 → I07).
    pub async fn rows_with(
        &self,
        table: &str,
        fil: &str,
        list: &str,
    ) -> Result<Vec<Map<String, Value>>, ConnectorError> {
        let method = format!("GET_{table}_LIST");
        let answer = self.call(&method, json!({ "fil": fil, "list": list }), None).await?;
        rows_of(&method, table, &answer)
    }

    /// Every row `fil` selects (headers only), page after page (`pagenumber`) until a page
    /// is short; with the number of calls made.
    pub async fn all_rows(&self, table: &str, fil: &str) -> Result<(Vec<Map<String, Value>>, u64), ConnectorError> {
        let method = format!("GET_{table}_LIST");
        let (mut rows, mut page) = (Vec::new(), 1);
        loop {
            let params = json!({ "fil": fil, "list": "H", "pagenumber": page });
            let found = rows_of(&method, table, &self.call(&method, params, None).await?)?;
            let full = found.len() >= ROWS_PER_CALL;
            rows.extend(found);
            if !full {
                return Ok((rows, page));
            }
            page += 1;
        }
    }
}

/// The rows of a `GET_*_LIST` answer: `{}` is none, one row is an object, more an array.
fn rows_of(method: &str, table: &str, answer: &Value) -> Result<Vec<Map<String, Value>>, ConnectorError> {
    Ok(match answer.get(table) {
        None => Vec::new(),
        Some(Value::Object(row)) => vec![row.clone()],
        Some(Value::Array(rows)) => rows.iter().filter_map(|row| row.as_object().cloned()).collect(),
        Some(other) => {
            return Err(ConnectorError::new(
                ErrorKind::Transient,
                format!("{method}: unexpected answer {other}"),
            ))
        }
    })
}

/// A row's value with Rivile's padding trimmed.
pub(crate) fn text(row: &Map<String, Value>, column: &str) -> Option<String> {
    row.get(column)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// A row's number as a canonical decimal string (`"21.00"` → `"21"`).
fn number(row: &Map<String, Value>, column: &str) -> Option<String> {
    let value = text(row, column)?;
    Decimal::from_str(&value)
        .ok()
        .map(|number| number.normalize().to_string())
}

/// A Rivile time (`2024-05-02T10:11:12`, local time without zone; read as UTC) or none for the
/// empty date `1900-01-01T00:00:00`.
fn time(row: &Map<String, Value>, column: &str) -> Option<DateTime<Utc>> {
    let value = text(row, column)?;
    let parsed = NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S").ok()?;
    (parsed.and_utc().timestamp() > -2_208_988_800).then(|| parsed.and_utc())
}

/// Every column of a row, trimmed, for `raw`.
/// A client row (N08, with its N33 addresses nested) as canonical customer fields.
pub(crate) fn customer_fields(row: &Map<String, Value>, data: &mut Map<String, Value>) {
    let put = |data: &mut Map<String, Value>, field: &str, value: Option<String>| {
        if let Some(value) = value {
            data.insert(field.to_owned(), Value::String(value));
        }
    };
    put(data, "code", text(row, "N08_KODAS_KS"));
    put(data, "kind", Some("company".to_owned()));
    put(data, "name", text(row, "N08_PAV"));
    put(data, "company_name", text(row, "N08_PAV"));
    put(data, "company_code", text(row, "N08_IM_KODAS"));
    put(data, "vat_code", text(row, "N08_PVM_KODAS"));
    put(data, "email", text(row, "N08_E_MAIL"));
    put(data, "phone", text(row, "N08_TEL"));
    let mut billing = Map::new();
    for (field, column) in [
        ("line1", "N08_ADR"),
        ("city", "N08_MIESTAS"),
        ("postcode", "N08_POST_KOD"),
        ("country", "N08_SALIS"),
    ] {
        if let Some(value) = text(row, column) {
            billing.insert(field.to_owned(), Value::String(value));
        }
    }
    if !billing.is_empty() {
        data.insert("billing".to_owned(), Value::Object(billing));
    }
    if let Some(address) = nested(row, "N33").first() {
        let columns = [
            ("line1", "N33_ADR"),
            ("city", "N33_MIESTAS"),
            ("postcode", "N33_POST_KOD"),
            ("country", "N33_SALIS"),
        ];
        let shipping: Map<String, Value> = columns
            .into_iter()
            .filter_map(|(field, column)| text(address, column).map(|value| (field.to_owned(), Value::String(value))))
            .collect();
        if !shipping.is_empty() {
            data.insert("shipping".to_owned(), Value::Object(shipping));
        }
    }
}

/// Whether a document row is posted (`I06_PERKELTA` not zero).
pub(crate) fn posted(row: &Map<String, Value>) -> bool {
    number(row, "I06_PERKELTA")
        .and_then(|value| Decimal::from_str(&value).ok())
        .is_some_and(|value| !value.is_zero())
}

/// The rows `list` A nests under a row (an array, or one row as an object in JSON answers).
fn nested(row: &Map<String, Value>, table: &str) -> Vec<Map<String, Value>> {
    match row.get(table) {
        Some(Value::Array(items)) => items.iter().filter_map(|item| item.as_object().cloned()).collect(),
        Some(Value::Object(item)) => vec![item.clone()],
        _ => Vec::new(),
    }
}

/// A document line's canonical fields from its columns (numbers where the column is numeric).
fn line_fields(line: &Map<String, Value>, columns: &[(&str, &str)]) -> Value {
    let mut item = Map::new();
    for (field, column) in columns {
        let value = if *field == "sku" {
            text(line, column)
        } else {
            number(line, column)
        };
        if let Some(value) = value {
            item.insert((*field).to_owned(), Value::String(value));
        }
    }
    Value::Object(item)
}

pub(crate) fn raw(row: &Map<String, Value>) -> Value {
    Value::Object(
        row.iter()
            .filter(|(key, _)| key.as_str() != "Row_number")
            .map(|(key, value)| {
                (
                    key.clone(),
                    Value::String(value.as_str().unwrap_or_default().trim().to_owned()),
                )
            })
            .collect(),
    )
}

/// What a source reads: a table, its key columns, and how a row becomes a canonical record.
#[derive(Debug, Clone)]
pub(crate) struct Reading {
    pub entity: EntityKind,
    /// Keyset columns in primary-key order (after any fixed filter such as the warehouse).
    pub key: &'static [&'static str],
    pub table: &'static str,
    pub date_column: &'static str,
    /// A fixed condition (e.g. the warehouse of stock).
    pub fixed: Option<String>,
}

/// Reads one table by keyset paging.
pub(crate) struct RivileSource {
    pub client: Client,
    pub reading: Reading,
    /// Which `N32_KAINA*` column is the product's price (1–3).
    pub price_level: String,
    /// The warehouse whose own prices (I33) override the price list, when configured.
    pub warehouse_prices: Option<String>,
    /// In an incremental product read: codes whose price or barcode changed although the
    /// product row did not (their tables have their own `*_R_DATE`), read after the rows.
    pub also_changed: Option<Vec<String>>,
    /// Product codes this read has returned, so the extra codes are not read twice.
    pub seen: std::collections::HashSet<String>,
}

impl RivileSource {
    fn fil(&self, request: &ReadRequest) -> Result<String, ConnectorError> {
        let mut conditions: Vec<String> = Vec::new();
        if let Some(fixed) = &self.reading.fixed {
            conditions.push(fixed.clone());
        }
        if let Some(since) = request.changed_since {
            conditions.push(format!(
                "{} >= {}",
                self.reading.date_column,
                quoted(&since.format("%Y-%m-%dT%H:%M:%S").to_string())
            ));
        }
        if let Some(position) = &request.position {
            let last: Vec<&str> = position.split('\u{1f}').collect();
            if last.len() != self.reading.key.len() {
                return Err(ConnectorError::new(
                    ErrorKind::Fatal,
                    format!("unknown read position {position:?}"),
                ));
            }
            // (k1 > a) OR (k1 = a AND k2 > b) OR …: the next rows in primary-key order.
            let mut alternatives = Vec::new();
            for depth in 0..last.len() {
                let mut parts: Vec<String> = (0..depth)
                    .map(|i| format!("{} = {}", self.reading.key[i], quoted(last[i])))
                    .collect();
                parts.push(format!("{} > {}", self.reading.key[depth], quoted(last[depth])));
                alternatives.push(format!("({})", parts.join(" and ")));
            }
            conditions.push(format!("({})", alternatives.join(" or ")));
        }
        Ok(if conditions.is_empty() {
            "1 = 1".to_owned()
        } else {
            conditions.join(" and ")
        })
    }

    async fn barcodes(&self, codes: &[String]) -> Result<HashMap<String, String>, ConnectorError> {
        if codes.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = codes.iter().map(|code| quoted(code)).collect();
        let rows = self
            .client
            .rows("N37", &format!("n37_kodas_ps in ({})", list.join(",")))
            .await?;
        let mut found = HashMap::new();
        for row in rows {
            if let (Some(code), Some(barcode)) = (text(&row, "N37_KODAS_PS"), text(&row, "N37_BAR_KODAS")) {
                found.entry(code).or_insert(barcode);
            }
        }
        Ok(found)
    }

    fn record(
        &self,
        row: &Map<String, Value>,
        barcodes: &HashMap<String, String>,
    ) -> Result<SourceRecord, RecordFailure> {
        let key: Vec<String> = self
            .reading
            .key
            .iter()
            .map(|column| text(row, column).unwrap_or_default())
            .collect();
        let mut data = Map::new();
        let mut put = |field: &str, value: Option<String>| {
            if let Some(value) = value {
                data.insert(field.to_owned(), Value::String(value));
            }
        };
        match self.reading.entity {
            EntityKind::Product => {
                let sku = text(row, "N17_KODAS_PS");
                put("ean", sku.as_ref().and_then(|sku| barcodes.get(sku).cloned()));
                put("sku", sku);
                put("name", text(row, "N17_PAV"));
                put("unit", text(row, "N17_KODAS_US"));
                put("vat_rate", number(row, "N17_PVM"));
            }
            EntityKind::Customer => customer_fields(row, &mut data),
            EntityKind::Document if self.reading.table == "I09" => {
                let kind = match text(row, "I09_OP_TIP").as_deref() {
                    Some("31") => "transfer",
                    Some("32") => "write_off",
                    _ => "inventory",
                };
                put("number", text(row, "I09_DOK_NR"));
                put("kind", Some(kind.to_owned()));
                put(
                    "date",
                    text(row, "I09_DOK_DATA").map(|date| date.chars().take(10).collect()),
                );
                put("warehouse", text(row, "I09_KODAS_IS"));
                put("to_warehouse", text(row, "I09_KODAS_IS2"));
                put("note", text(row, "I09_PASTABA"));
                let lines = nested(row, "I10")
                    .iter()
                    .map(|line| line_fields(line, &[("sku", "I10_KODAS"), ("quantity", "I10_KIEKIS")]))
                    .collect();
                data.insert("lines".to_owned(), Value::Array(lines));
            }
            EntityKind::Document => {
                let kind = match text(row, "I06_OP_TIP").as_deref() {
                    Some("52") => "return",
                    Some("1") => "purchase",
                    _ => "sales_invoice",
                };
                put("number", text(row, "I06_DOK_NR"));
                put("kind", Some(kind.to_owned()));
                put(
                    "date",
                    text(row, "I06_DOK_DATA").map(|date| date.chars().take(10).collect()),
                );
                put("counterparty", text(row, "I06_KODAS_KS"));
                put("warehouse", text(row, "I06_KODAS_IS"));
                put("note", text(row, "I06_PASTABA"));
                match number(row, "I06_VAL_POZ").as_deref() {
                    Some("0") => put("currency", Some("EUR".to_owned())),
                    Some(_) => put("currency", text(row, "I06_KODAS_VL")),
                    None => {}
                }
                let amount = |column: &str| {
                    number(row, column)
                        .and_then(|value| Decimal::from_str(&value).ok())
                        .unwrap_or_default()
                };
                put(
                    "total",
                    Some((amount("I06_SUMA") + amount("I06_PVM")).normalize().to_string()),
                );
                let lines = nested(row, "I07")
                    .iter()
                    .map(|line| {
                        line_fields(
                            line,
                            &[
                                ("sku", "I07_KODAS"),
                                ("quantity", "I07_KIEKIS"),
                                ("price", "I07_KAINA_BE"),
                                ("vat_rate", "I07_MOKESTIS_P"),
                            ],
                        )
                    })
                    .collect();
                data.insert("lines".to_owned(), Value::Array(lines));
            }
            _ => {
                let on_hand = number(row, "I17_KIEKIS").unwrap_or_else(|| "0".to_owned());
                let reserved = number(row, "I17_REZERVAS").unwrap_or_else(|| "0".to_owned());
                let available =
                    Decimal::from_str(&on_hand).unwrap_or_default() - Decimal::from_str(&reserved).unwrap_or_default();
                put("sku", text(row, "I17_KODAS_PS"));
                put("warehouse", text(row, "I17_KODAS_IS"));
                put("on_hand", Some(on_hand));
                put("reserved", Some(reserved));
                put("available", Some(available.normalize().to_string()));
            }
        }
        data.insert("raw".to_owned(), raw(row));
        Ok(SourceRecord {
            key: key.join("|"),
            updated_at: time(row, self.reading.date_column),
            data: Value::Object(data),
        })
    }
}

#[async_trait]
impl Source for RivileSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        if self.reading.entity == EntityKind::PriceList {
            return self.price_lists().await;
        }
        let mut api_calls = 0;
        let product = self.reading.entity == EntityKind::Product;
        if let (true, Some(since), None) = (product, request.changed_since, &self.also_changed) {
            let mut codes = Vec::new();
            let mut tables = vec![
                ("N32", "N32_KODAS_PS", "N32_R_DATE"),
                ("N37", "N37_KODAS_PS", "N37_R_DATE"),
            ];
            if self.warehouse_prices.is_some() {
                tables.push(("I33", "I33_KODAS_PS", "I33_R_DATE"));
            }
            for (table, code, date) in tables {
                let (found, calls) = self.changed_codes(table, code, date, since).await?;
                codes.extend(found);
                api_calls += calls;
            }
            codes.sort();
            codes.dedup();
            self.also_changed = Some(codes);
        }
        // Phase B: the products whose price or barcode changed, by code.
        let rows = match request
            .position
            .as_deref()
            .and_then(|position| position.strip_prefix("B:"))
        {
            Some(start) => {
                let start: usize = start.parse().unwrap_or(0);
                let extra: Vec<String> = self.also_changed.clone().unwrap_or_default();
                let chunk: Vec<String> = extra
                    .iter()
                    .skip(start)
                    .take(ROWS_PER_CALL)
                    .filter(|code| !self.seen.contains(*code))
                    .cloned()
                    .collect();
                let rows = if chunk.is_empty() {
                    Vec::new()
                } else {
                    api_calls += 1;
                    let list: Vec<String> = chunk.iter().map(|code| quoted(code)).collect();
                    self.client
                        .rows("N17", &format!("n17_kodas_ps in ({})", list.join(",")))
                        .await?
                };
                let next = (start + ROWS_PER_CALL < extra.len()).then(|| format!("B:{}", start + ROWS_PER_CALL));
                return self.page(rows, next, api_calls).await;
            }
            None => {
                let fil = self.fil(request)?;
                api_calls += 1;
                // `list` A nests related rows: a document's lines, a client's further addresses.
                let list = if matches!(self.reading.entity, EntityKind::Document | EntityKind::Customer) {
                    "A"
                } else {
                    "H"
                };
                self.client.rows_with(self.reading.table, &fil, list).await?
            }
        };
        let next = if rows.len() >= ROWS_PER_CALL {
            rows.last().map(|row| {
                self.reading
                    .key
                    .iter()
                    .map(|column| text(row, column).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
        } else if self.also_changed.as_ref().is_some_and(|codes| !codes.is_empty()) {
            Some("B:0".to_owned())
        } else {
            None
        };
        self.page(rows, next, api_calls).await
    }
}

impl RivileSource {
    /// Codes of rows of `table` changed since a time, by keyset pages on the code.
    async fn changed_codes(
        &self,
        table: &str,
        code: &str,
        date: &str,
        since: DateTime<Utc>,
    ) -> Result<(Vec<String>, u64), ConnectorError> {
        let (mut codes, mut calls, mut last) = (Vec::new(), 0, None::<String>);
        loop {
            let mut fil = format!("{date} >= {}", quoted(&since.format("%Y-%m-%dT%H:%M:%S").to_string()));
            if let Some(last) = &last {
                fil = format!("{fil} and {code} > {}", quoted(last));
            }
            let rows = self.client.rows(table, &fil).await?;
            calls += 1;
            let full = rows.len() >= ROWS_PER_CALL;
            codes.extend(rows.iter().filter_map(|row| text(row, code)));
            last = codes.last().cloned();
            if !full {
                return Ok((codes, calls));
            }
        }
    }

    /// The whole N32 table as price lists A, B and C: one record per level holding every
    /// product's price at that level. Read in full each time (keyset pages of 100); the
    /// engine's change detection keeps unchanged lists from being sent again.
    async fn price_lists(&self) -> Result<Page, ConnectorError> {
        let mut levels: [Vec<Value>; 3] = Default::default();
        let mut updated: [Option<DateTime<Utc>>; 3] = [None; 3];
        let (mut api_calls, mut position) = (0, None);
        loop {
            let fil = self.fil(&ReadRequest {
                position: position.clone(),
                ..ReadRequest::default()
            })?;
            let rows = self.client.rows("N32", &fil).await?;
            api_calls += 1;
            for row in &rows {
                let (Some(sku), changed) = (text(row, "N32_KODAS_PS"), time(row, "N32_R_DATE")) else {
                    continue;
                };
                for (level, items) in levels.iter_mut().enumerate() {
                    let Some(price) = number(row, &format!("N32_KAINA{}", level + 1)) else {
                        continue;
                    };
                    if Decimal::from_str(&price).is_ok_and(|price| price.is_zero()) {
                        continue;
                    }
                    items.push(json!({ "sku": sku, "price": price }));
                    updated[level] = updated[level].max(changed);
                }
            }
            if rows.len() < ROWS_PER_CALL {
                break;
            }
            position = rows.last().map(|row| {
                self.reading
                    .key
                    .iter()
                    .map(|column| text(row, column).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            });
        }
        let records = levels
            .into_iter()
            .zip(["A", "B", "C"])
            .zip(updated)
            .filter(|((items, _), _)| !items.is_empty())
            .map(|((items, code), updated_at)| {
                Ok(SourceRecord {
                    key: code.to_owned(),
                    updated_at,
                    data: json!({
                        "code": code,
                        "name": format!("Kainoraštis {code}"),
                        "currency": "EUR",
                        "items": items,
                    }),
                })
            })
            .collect();
        Ok(Page {
            records,
            next: None,
            api_calls,
        })
    }

    /// Prices of products by code at the configured level.
    async fn prices(&self, codes: &[String]) -> Result<HashMap<String, String>, ConnectorError> {
        if codes.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = codes.iter().map(|code| quoted(code)).collect();
        let rows = self
            .client
            .rows("N32", &format!("n32_kodas_ps in ({})", list.join(",")))
            .await?;
        let column = format!("N32_KAINA{}", self.price_level);
        let mut prices: HashMap<String, String> = rows
            .iter()
            .filter_map(|row| Some((text(row, "N32_KODAS_PS")?, number(row, &column)?)))
            .collect();
        if let Some(warehouse) = &self.warehouse_prices {
            let rows = self
                .client
                .rows(
                    "I33",
                    &format!(
                        "i33_kodas_ps in ({}) and i33_kodas_is = {}",
                        list.join(","),
                        quoted(warehouse)
                    ),
                )
                .await?;
            for row in &rows {
                if let (Some(code), Some(price)) = (text(row, "I33_KODAS_PS"), number(row, "I33_KAINA")) {
                    prices.insert(code, price);
                }
            }
        }
        Ok(prices)
    }

    /// Turns rows into a page, with barcodes and prices for products.
    async fn page(
        &mut self,
        rows: Vec<Map<String, Value>>,
        next: Option<String>,
        mut api_calls: u64,
    ) -> Result<Page, ConnectorError> {
        let (barcodes, prices) = if self.reading.entity == EntityKind::Product && !rows.is_empty() {
            let codes: Vec<String> = rows.iter().filter_map(|row| text(row, "N17_KODAS_PS")).collect();
            api_calls += if self.warehouse_prices.is_some() { 3 } else { 2 };
            self.seen.extend(codes.iter().cloned());
            (self.barcodes(&codes).await?, self.prices(&codes).await?)
        } else {
            (HashMap::new(), HashMap::new())
        };
        let records = rows
            .iter()
            .map(|row| {
                self.record(row, &barcodes).map(|mut record| {
                    let price = text(row, "N17_KODAS_PS").and_then(|code| prices.get(&code).cloned());
                    if let (Some(price), Value::Object(fields)) = (price, &mut record.data) {
                        fields.insert("price_net".to_owned(), Value::String(price));
                    }
                    record
                })
            })
            .collect();
        Ok(Page {
            records,
            next,
            api_calls,
        })
    }
}
