//! The write side: debtors (`AK1`: a company with its contact person, or a person; revenue
//! account and VAT code per country from the flow's maps) and sales orders (`SO1`: header and
//! lines, the employee number filled in when missing). Look-ups find debtors by e-mail, number
//! or VAT number, articles by code and orders by number — what the order pipeline asks.
use crate::client::{Client, Row};
use crate::read;
use crate::wire::{self, text, BusinessObject, Filter};
use crate::{BatchResult, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use async_trait::async_trait;
use chrono::Utc;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tiltas_connector::{ConnectorError, ErrorKind};
use tiltas_model::Order;

/// How orders and debtors are written: the flow's `to` settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteSettings {
    pub employee: String,
    pub warehouse: Option<String>,
    pub order_status: Option<String>,
    pub revenue_accounts: BTreeMap<String, String>,
    pub vat_codes: BTreeMap<String, String>,
}

/// What a target writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writing {
    Debtors,
    /// Articles are only looked up (the order pipeline's product check), never written.
    Articles,
    Orders,
    /// Orders booked as sales invoices (`book_as = "invoice"`).
    Invoices,
}

impl Writing {
    fn object(self) -> BusinessObject {
        match self {
            Writing::Debtors => wire::DEBTORS,
            Writing::Articles => wire::ARTICLES,
            Writing::Orders => wire::SALES_ORDERS,
            Writing::Invoices => wire::SALES_INVOICES,
        }
    }

    /// The field a canonical match field is found by.
    fn field_of(self, match_on: Option<&str>) -> Option<&'static str> {
        match (self, match_on) {
            (Writing::Debtors, Some("email")) => Some("MAIL_BUS"),
            (Writing::Debtors, None | Some("code")) => Some("SUB_NR"),
            (Writing::Debtors, Some("vat_code")) => Some("VAT_NO"),
            (Writing::Articles, None | Some("sku")) => Some("ART_CODE"),
            (Writing::Orders, None | Some("number")) => Some("ORD_NR"),
            (Writing::Invoices, None | Some("number")) => Some("INV_NR"),
            _ => None,
        }
    }
}

/// Writes one entity of an administration.
pub(crate) struct AccountViewTarget {
    pub client: Client,
    pub writing: Writing,
    pub settings: WriteSettings,
}

fn field(payload: &Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(payload, |value, segment| value.get(segment))?;
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn invalid(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, message)
}

/// A per-country value: the country's own, else `*`.
fn by_country(map: &BTreeMap<String, String>, country: Option<&str>) -> Option<String> {
    country
        .and_then(|country| map.get(&country.to_uppercase()))
        .or_else(|| map.get("*"))
        .cloned()
}

fn amount(value: Decimal, places: u32) -> Value {
    json!(value
        .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string())
}

impl AccountViewTarget {
    /// A canonical customer as a debtor write (`SUB_NR` empty for a new one: AccountView numbers it).
    pub(crate) fn debtor(&self, payload: &Value, number: Option<&str>) -> Result<Value, String> {
        let company_name = field(payload, "company_name");
        let company = company_name.is_some() || field(payload, "kind").as_deref() == Some("company");
        let person = match (field(payload, "first_name"), field(payload, "last_name")) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (one, other) => one.or(other),
        };
        let name = if company {
            company_name.clone().or_else(|| field(payload, "name"))
        } else {
            field(payload, "name").or(person)
        }
        .or_else(|| field(payload, "email"))
        .ok_or("the customer has no name, company name or e-mail: AccountView needs a debtor's name (ACCT_NAME)")?;
        let country = field(payload, "billing.country").map(|country| country.to_uppercase());
        let raw_or = |name: &str, value: Option<String>| field(payload, &format!("raw.{name}")).or(value);
        let number = number.map(str::to_owned).or_else(|| field(payload, "code"));
        let header = vec![
            json!("1"),
            json!(number.unwrap_or_default()),
            json!(name),
            json!(if company { "B" } else { "P" }),
            json!(field(payload, "billing.line1").unwrap_or_default()),
            json!(field(payload, "billing.postcode").unwrap_or_default()),
            json!(field(payload, "billing.city").unwrap_or_default()),
            json!(country.clone().unwrap_or_default()),
            json!(field(payload, "email").unwrap_or_default()),
            json!(field(payload, "phone").unwrap_or_default()),
            json!(field(payload, "vat_code").unwrap_or_default()),
            json!(raw_or(
                "REV_ACCT",
                by_country(&self.settings.revenue_accounts, country.as_deref())
            )
            .unwrap_or_default()),
            json!(raw_or("VAT_CODE", by_country(&self.settings.vat_codes, country.as_deref())).unwrap_or_default()),
            json!(field(payload, "group").unwrap_or_default()),
        ];
        // A company debtor gets its contact person (the buyer's own name), as the seed asks.
        let people = match (company, field(payload, "first_name"), field(payload, "last_name")) {
            (true, first, last) if first.is_some() || last.is_some() => vec![vec![
                json!("1"),
                json!("1"),
                json!(first.unwrap_or_default()),
                json!(last.unwrap_or_default()),
                json!(field(payload, "email").unwrap_or_default()),
            ]],
            _ => Vec::new(),
        };
        let today = Utc::now().date_naive();
        Ok(wire::write_body(
            &wire::DEBTORS,
            today,
            &wire::DEBTOR_FIELDS,
            header,
            &wire::CONTACT_PERSON_FIELDS,
            people,
        ))
    }

    /// An order as a sales order (or sales invoice) write.
    pub(crate) fn order(&self, payload: &Value) -> Result<Value, String> {
        let order: Order = serde_json::from_value(payload.clone()).map_err(|error| format!("not an order: {error}"))?;
        let number = field(payload, "number").ok_or("the order has no number (ORD_NR / INV_NR)")?;
        let debtor = field(payload, "customer.code").ok_or(
            "the order has no debtor (customer.code): let the order pipeline find or create it by e-mail, or set \
             default_customer on the flow to a debtor number",
        )?;
        let mut lines = Vec::new();
        let mut net_total = Decimal::ZERO;
        for (index, line) in order.lines.iter().enumerate() {
            let place = format!("line {} ({})", index + 1, line.sku);
            if line.quantity.is_zero() {
                return Err(format!("{place}: the quantity is 0"));
            }
            let net = tiltas_model::line_net(line)
                .ok_or_else(|| format!("{place}: the line has neither a total nor a price"))?;
            net_total += net;
            lines.push(vec![
                json!((index + 1).to_string()),
                json!("1"),
                json!(line.sku.trim()),
                json!(line.name.clone().unwrap_or_else(|| line.sku.trim().to_owned())),
                amount(line.quantity, 4),
                amount(net / line.quantity, 4),
                amount(line.vat_rate.unwrap_or_default(), 2),
                amount(net, 2),
            ]);
        }
        if lines.is_empty() {
            return Err("the order has no lines: AccountView takes no empty sales order".to_owned());
        }
        let date = order
            .created_at
            .map_or_else(|| Utc::now().date_naive(), |at| at.date_naive());
        let raw = |name: &str| field(payload, &format!("raw.{name}"));
        let header = vec![
            json!("1"),
            json!(number),
            json!(date.format("%Y-%m-%d").to_string()),
            json!(debtor),
            // MplusKASSA names the employee who took the order; AccountView requires one.
            json!(order
                .employee
                .clone()
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| self.settings.employee.clone())),
            json!(raw("PAY_COND").unwrap_or_default()),
            json!(order.payment_method.clone().unwrap_or_default()),
            json!(order.shipping_method.clone().unwrap_or_default()),
            json!(self
                .settings
                .order_status
                .clone()
                .or(order.status.clone())
                .unwrap_or_default()),
            json!(order
                .currency
                .clone()
                .unwrap_or_else(|| "EUR".to_owned())
                .to_uppercase()),
            json!(self.settings.warehouse.clone().unwrap_or_default()),
            amount(net_total, 2),
            json!(order.note.clone().unwrap_or_default()),
        ];
        Ok(wire::write_body(
            &self.writing.object(),
            date,
            if self.writing == Writing::Invoices {
                &wire::INVOICE_FIELDS
            } else {
                &wire::ORDER_FIELDS
            },
            header,
            &wire::ORDER_LINE_FIELDS,
            lines,
        ))
    }

    fn body(&self, item: &WriteItem) -> Result<Value, String> {
        match self.writing {
            Writing::Debtors => self.debtor(&item.payload, item.target_id.as_deref()),
            Writing::Orders | Writing::Invoices => self.order(&item.payload),
            Writing::Articles => Err(
                "Tiltas does not create AccountView articles: create the article in AccountView, then retry".to_owned(),
            ),
        }
    }

    async fn write_one(&self, item: &WriteItem) -> Result<Result<String, ConnectorError>, ConnectorError> {
        let body = match self.body(item) {
            Ok(body) => body,
            Err(message) => return Ok(Err(invalid(message))),
        };
        let object = self.writing.object();
        let what = format!("POST accountviewdata {} ({})", object.code, item.source_key);
        let answer = match self.client.write(&what, &body).await? {
            Ok(answer) => answer,
            Err(error) => {
                return Ok(Err(invalid(format!(
                    "AccountView refused {} {}: {}",
                    object.table, item.source_key, error.message
                ))))
            }
        };
        let row = wire::rows(&answer, object.table).and_then(|rows| rows.into_iter().next());
        match row.and_then(|row| text(&row, object.key)) {
            Some(key) => Ok(Ok(key)),
            None => Ok(Err(invalid(format!(
                "{what}: AccountView's answer names no {}: {}",
                object.key,
                tiltas_connector::http::quote(&answer)
            )))),
        }
    }

    /// Found rows as canonical records, by key.
    fn found(&self, row: &Row) -> Option<Value> {
        match self.writing {
            Writing::Debtors => read::customer(row).ok().map(|record| record.data),
            Writing::Articles => read::product(row).ok().map(|record| record.data),
            Writing::Orders | Writing::Invoices => None,
        }
    }
}

#[async_trait]
impl Target for AccountViewTarget {
    /// Every record is its own call.
    fn max_batch(&self) -> usize {
        20
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let object = self.writing.object();
        let name = self.writing.field_of(match_on).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "AccountView cannot find a {} row by {}",
                    object.table,
                    match_on.unwrap_or("its key")
                ),
            )
        })?;
        let mut lookup = Lookup::default();
        // AccountView filters join with AND only: a few keys are one call each; many are
        // cheaper as one read of the table.
        // Calls after the first are retried here: the engine would repeat them all.
        let rows = if keys.len() > 25 {
            let (rows, calls) = self.client.all(&object, &[], true).await?;
            lookup.api_calls += calls;
            rows
        } else {
            let mut rows = Vec::new();
            for (index, key) in keys.iter().enumerate() {
                let filters = [Filter::equal(name, key)];
                let size = self.client.page_size;
                if index == 0 {
                    rows.extend(self.client.page(&object, 1, size, &filters).await?);
                    lookup.api_calls += 1;
                } else {
                    let (found, calls) = self.client.page_retried(&object, 1, size, &filters).await?;
                    rows.extend(found);
                    lookup.api_calls += calls;
                }
            }
            rows
        };
        for row in &rows {
            let (Some(found), Some(id)) = (text(row, name), text(row, object.key)) else {
                continue;
            };
            if let Some(key) = keys.iter().find(|key| key.eq_ignore_ascii_case(&found)) {
                lookup.found.entry(key.clone()).or_insert_with(|| FoundRecord {
                    target_id: id,
                    data: self.found(row),
                });
            }
        }
        Ok(lookup)
    }

    fn precheck(&self, payload: &Value) -> Result<(), String> {
        if !matches!(self.writing, Writing::Orders | Writing::Invoices) {
            return Ok(());
        }
        // The debtor is filled in by the order pipeline after this check.
        let mut order = payload.clone();
        if field(&order, "customer.code").is_none() {
            if let Value::Object(fields) = &mut order {
                fields.insert("customer".to_owned(), json!({ "code": "0" }));
            }
        }
        self.order(&order).map(drop)
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let total = items.len();
        let mut outcomes = Vec::with_capacity(total);
        let mut api_calls = 0;
        for item in &items {
            api_calls += 1;
            match self.write_one(item).await {
                Ok(Ok(target_id)) => outcomes.push(WriteOutcome::Written { target_id }),
                Ok(Err(error)) => outcomes.push(WriteOutcome::Failed(error)),
                // A failing call: this record may have been applied (the engine looks it up
                // before resending it). The next records are calls of their own and go on, so
                // that one unlucky record does not hold the whole batch back round after round.
                Err(error) if error.kind == ErrorKind::Transient => outcomes.push(WriteOutcome::Failed(error)),
                // A rate limit: nothing was applied, and the next calls would be refused too.
                Err(error) if error.kind == ErrorKind::RateLimited => {
                    outcomes.push(WriteOutcome::Failed(error.clone()));
                    let not_sent = ConnectorError {
                        message: format!("not sent: {}", error.message),
                        ..error
                    };
                    while outcomes.len() < total {
                        outcomes.push(WriteOutcome::Failed(not_sent.clone()));
                    }
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
