//! The read side: articles (as products — configurable parents with their variants nested, or
//! every article on its own with `parent_sku`), article groups, debtors, stock per warehouse
//! (available = on hand − reserved by sales orders) and price lists with their lines. Pages
//! are AccountView's `PageNumber`s sorted by `CNG_DATE`, then the key — in change order, so
//! the engine's cursor after a page (its newest change) is where a run that died after it
//! resumes; incremental reads filter `CNG_DATE` on or after the day of `changed_since`
//! (AccountView filters dates by day, as FoxPro literals). Requests after the first of a page
//! (a product's variants) are retried inside the page.
use crate::client::{Client, Row};
use crate::wire::{self, text, BusinessObject, Filter};
use crate::{Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use tiltas_connector::{ConnectorError, ErrorKind};

/// What a source reads.
#[derive(Debug, Clone)]
pub(crate) enum Reading {
    Products { separate_variants: bool },
    Groups,
    Debtors,
    Stock { warehouse: Option<String> },
    PriceLists,
}

/// Reads one entity of an administration.
pub(crate) struct AccountViewSource {
    pub client: Client,
    pub reading: Reading,
    /// The flow's own `where` filters (`FIELD = value`, all must hold).
    pub filters: Vec<Filter>,
}

fn object_of(reading: &Reading) -> BusinessObject {
    match reading {
        Reading::Products { .. } => wire::ARTICLES,
        Reading::Groups => wire::ARTICLE_GROUPS,
        Reading::Debtors => wire::DEBTORS,
        Reading::Stock { .. } => wire::STOCK,
        Reading::PriceLists => wire::PRICE_LISTS,
    }
}

/// `CNG_DATE` as the start of its day (UTC).
fn changed(row: &Row) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(&text(row, "CNG_DATE")?, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// A number field as a decimal (AccountView answers numbers; text is read too).
fn decimal(row: &Row, field: &str) -> Value {
    text(row, field)
        .and_then(|value| value.parse::<rust_decimal::Decimal>().ok())
        .map_or(Value::Null, |value| json!(value.normalize().to_string()))
}

fn raw(row: &Row) -> Value {
    Value::Object(row.clone())
}

fn record(key: String, row: &Row, mut data: Value) -> SourceRecord {
    let updated_at = changed(row);
    if let Value::Object(fields) = &mut data {
        fields.insert("updated_at".into(), json!(updated_at.map(|at| at.to_rfc3339())));
        fields.insert("raw".into(), raw(row));
    }
    SourceRecord { key, updated_at, data }
}

/// The variant attributes of an article: its non-empty `ATTR_*` fields, by lower-case name.
fn attributes(row: &Row) -> Map<String, Value> {
    row.iter()
        .filter_map(|(field, _)| {
            let name = field.strip_prefix("ATTR_")?;
            Some((name.to_lowercase(), json!(text(row, field)?)))
        })
        .collect()
}

/// An article as a canonical product (without variants).
pub(crate) fn product(row: &Row) -> Result<SourceRecord, RecordFailure> {
    let Some(code) = text(row, "ART_CODE") else {
        return Err(RecordFailure::new(
            "article without code",
            "AR1",
            "an article came without ART_CODE: give it an article code in AccountView",
            raw(row),
        )
        .at_field("sku"));
    };
    let data = json!({
        "sku": code,
        "name": text(row, "ART_DESC1"),
        "long_description": text(row, "ART_DESC2"),
        "ean": text(row, "EAN_CODE"),
        "unit": text(row, "UNIT"),
        "price_net": decimal(row, "PX_SELL"),
        "vat_rate": decimal(row, "VAT_PCT"),
        "categories": text(row, "AG_CODE").into_iter().collect::<Vec<_>>(),
        "parent_sku": text(row, "MAIN_ART"),
        "attributes": attributes(row),
        "active": row.get("BLOCKED").and_then(Value::as_bool).map(|blocked| !blocked),
    });
    Ok(record(code, row, data))
}

fn variant(row: &Row) -> Value {
    json!({
        "sku": text(row, "ART_CODE"),
        "name": text(row, "ART_DESC1"),
        "ean": text(row, "EAN_CODE"),
        "price_net": decimal(row, "PX_SELL"),
        "attributes": attributes(row),
    })
}

/// A debtor as a canonical customer: a company (`CONTACT_TYPE` B) with its contact person's
/// name, or a person.
pub(crate) fn customer(row: &Row) -> Result<SourceRecord, RecordFailure> {
    let Some(code) = text(row, "SUB_NR") else {
        return Err(RecordFailure::new(
            "debtor without number",
            "AK1",
            "a debtor came without SUB_NR",
            raw(row),
        ));
    };
    let company = text(row, "CONTACT_TYPE").as_deref() == Some("B");
    let contact = row
        .get("CONTACT_PERSON")
        .and_then(Value::as_array)
        .and_then(|people| people.first())
        .and_then(Value::as_object);
    let name = text(row, "ACCT_NAME");
    let (first, last) = match (company, contact) {
        (true, Some(person)) => (text(person, "CP_FIRST"), text(person, "CP_LAST")),
        (true, None) => (None, None),
        (false, _) => match name.as_deref().and_then(|name| name.split_once(' ')) {
            Some((first, last)) => (Some(first.to_owned()), Some(last.to_owned())),
            None => (None, name.clone()),
        },
    };
    let data = json!({
        "code": code,
        "kind": if company { "company" } else { "person" },
        "name": name,
        "company_name": if company { text(row, "ACCT_NAME") } else { None },
        "first_name": first,
        "last_name": last,
        "email": text(row, "MAIL_BUS"),
        "phone": text(row, "TEL_BUS"),
        "vat_code": text(row, "VAT_NO"),
        "group": text(row, "CUST_GRP"),
        "billing": {
            "line1": text(row, "ADDRESS1"), "postcode": text(row, "POST_CODE"),
            "city": text(row, "CITY"), "country": text(row, "CNT_CODE"),
        },
    });
    Ok(record(code, row, data))
}

fn stock(row: &Row) -> Result<SourceRecord, RecordFailure> {
    let (Some(sku), Some(warehouse)) = (text(row, "ART_CODE"), text(row, "WH_CODE")) else {
        return Err(RecordFailure::new(
            "stock row",
            "AW1",
            "a stock row came without ART_CODE or WH_CODE",
            raw(row),
        ));
    };
    let number = |field: &str| text(row, field).and_then(|value| value.parse::<rust_decimal::Decimal>().ok());
    let on_hand = number("QTY_STOCK").unwrap_or_default();
    let reserved = number("QTY_RES").unwrap_or_default();
    let data = json!({
        "sku": sku, "warehouse": warehouse,
        "on_hand": on_hand.normalize().to_string(),
        "reserved": reserved.normalize().to_string(),
        "available": (on_hand - reserved).normalize().to_string(),
    });
    Ok(record(format!("{sku}@{warehouse}"), row, data))
}

fn price_list(row: &Row) -> Result<SourceRecord, RecordFailure> {
    let Some(code) = text(row, "PL_CODE") else {
        return Err(RecordFailure::new(
            "price list",
            "PL1",
            "a price list came without PL_CODE",
            raw(row),
        ));
    };
    let items: Vec<Value> = row
        .get("PRICE_LN")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|line| {
            json!({
                "sku": text(line, "ART_CODE"),
                "price": decimal(line, "PX_SELL"),
                "discount_percent": decimal(line, "DISC_PCT"),
                "min_quantity": decimal(line, "MIN_QTY"),
            })
        })
        .collect();
    let data = json!({
        "code": code, "name": text(row, "PL_DESC"), "group": text(row, "CUST_GRP"),
        "currency": text(row, "CURRENCY"), "items": items,
    });
    Ok(record(code, row, data))
}

fn group(row: &Row) -> Result<SourceRecord, RecordFailure> {
    let Some(code) = text(row, "AG_CODE") else {
        return Err(RecordFailure::new(
            "article group",
            "AG1",
            "an article group came without AG_CODE",
            raw(row),
        ));
    };
    let data = json!({ "code": code, "name": text(row, "AG_DESC") });
    Ok(record(code, row, data))
}

fn position(text: Option<&str>) -> Result<usize, ConnectorError> {
    match text {
        None => Ok(1),
        Some(text) => text.parse::<usize>().ok().filter(|page| *page >= 1).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("read position {text:?} is not an AccountView page number: reset the flow's cursor"),
            )
        }),
    }
}

impl AccountViewSource {
    /// A configurable article's variants; the calls made. Never the first request of a page,
    /// so retried here.
    async fn variants_of(&self, code: &str) -> Result<(Vec<Row>, u64), ConnectorError> {
        self.client
            .all(&wire::ARTICLES, &[Filter::equal("MAIN_ART", code)], false)
            .await
    }

    /// The products of a page of article rows: its parents and simple articles, and in an
    /// incremental read the parents of changed variants (read here) too; the calls made.
    async fn parents(&self, rows: Vec<Row>, incremental: bool) -> Result<(Vec<Row>, u64), ConnectorError> {
        let mut seen: HashSet<String> = rows
            .iter()
            .filter(|row| text(row, "MAIN_ART").is_none())
            .filter_map(|row| text(row, "ART_CODE"))
            .collect();
        let mut missing = Vec::new();
        let mut parents = Vec::with_capacity(rows.len());
        for row in rows {
            match text(&row, "MAIN_ART") {
                None => parents.push(row),
                Some(parent) if incremental && seen.insert(parent.clone()) => missing.push(parent),
                Some(_) => {}
            }
        }
        let mut calls = 0;
        for parent in missing {
            let (found, used) = self
                .client
                .all(&wire::ARTICLES, &[Filter::equal("ART_CODE", &parent)], false)
                .await?;
            calls += used;
            parents.extend(found);
        }
        Ok((parents, calls))
    }

    /// Articles as products: parents carry their variants (nested) or every article stands
    /// alone. In an incremental read a changed variant brings its parent along (nested); a
    /// nested product changed when its newest part did.
    async fn products(
        &self,
        rows: Vec<Row>,
        incremental: bool,
    ) -> Result<(Vec<Result<SourceRecord, RecordFailure>>, u64), ConnectorError> {
        let Reading::Products { separate_variants } = self.reading else {
            return Ok((Vec::new(), 0));
        };
        if separate_variants {
            return Ok((rows.iter().map(product).collect(), 0));
        }
        let (parents, mut calls) = self.parents(rows, incremental).await?;
        let mut records = Vec::with_capacity(parents.len());
        for row in &parents {
            let mut record = product(row);
            if text(row, "ART_TYPE").as_deref() == Some("C") {
                let code = text(row, "ART_CODE").unwrap_or_default();
                let (variants, used) = self.variants_of(&code).await?;
                calls += used;
                if let Ok(record) = &mut record {
                    record.data["variants"] = Value::Array(variants.iter().map(variant).collect());
                    let newest = variants.iter().filter_map(changed).chain(record.updated_at).max();
                    record.updated_at = newest;
                    record.data["updated_at"] = json!(newest.map(|at| at.to_rfc3339()));
                }
            }
            records.push(record);
        }
        Ok((records, calls))
    }
}

#[async_trait]
impl Source for AccountViewSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let page = position(request.position.as_deref())?;
        let size = request.page_size.clamp(1, self.client.page_size);
        let object = object_of(&self.reading);
        let mut filters = self.filters.clone();
        if let Some(since) = request.changed_since {
            filters.push(Filter::on_or_after("CNG_DATE", since.date_naive()));
        }
        if let Reading::Stock {
            warehouse: Some(warehouse),
        } = &self.reading
        {
            filters.push(Filter::equal("WH_CODE", warehouse));
        }
        let rows = self.client.page(&object, page, size, &filters).await?;
        let next = (rows.len() >= size).then(|| (page + 1).to_string());
        let (records, extra) = match &self.reading {
            Reading::Products { .. } => self.products(rows, request.changed_since.is_some()).await?,
            Reading::Groups => (rows.iter().map(group).collect(), 0),
            Reading::Debtors => (rows.iter().map(customer).collect(), 0),
            Reading::Stock { .. } => (rows.iter().map(stock).collect(), 0),
            Reading::PriceLists => (rows.iter().map(price_list).collect(), 0),
        };
        Ok(Page {
            records,
            next,
            api_calls: 1 + extra,
        })
    }
}
