//! Reading Omega: the product list page by page (`product/search` with an empty phrase, `From`
//! and `Count`, warehouse rests included) as products, stock per warehouse and supplier offers;
//! expense documents (the supplier's sales invoices) issued since the last run, each with its
//! lines, as incoming receipts.
use crate::client::Client;
use crate::wire::{self, ExpenseHead, ExpenseLine, Product};
use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tiltas_connector::{ConnectorError, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use tiltas_model::{BranchAvailability, Document, DocumentKind, DocumentLine, StockLevel, SupplierOffer};

/// What a source reads.
pub(crate) enum Reading {
    Products,
    Stock,
    Offers,
    Invoices {
        counterparty: String,
        warehouse: Option<String>,
        since_days: i64,
    },
}

/// A source on an Omega connection.
pub(crate) struct OmegaSource {
    client: Client,
    reading: Reading,
    /// The invoice list of this run (Omega answers it whole), by its first date.
    invoices: Option<(NaiveDate, Vec<ExpenseHead>)>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn record(key: String, data: Value) -> Result<SourceRecord, RecordFailure> {
    Ok(SourceRecord {
        key,
        updated_at: None,
        data,
    })
}

/// Omega's product as a supplier offer: its price, the gross price by `vat`, and pieces per
/// warehouse.
pub(crate) fn offer(product: &Product, client: &Client) -> SupplierOffer {
    let (currency, vat) = (&client.currency, client.vat);
    let mut raw = serde_json::Map::new();
    raw.insert("Number".into(), json!(product.number));
    raw.insert("CustomerPrice".into(), json!(product.customer_price.to_string()));
    SupplierOffer {
        supplier: "omega".into(),
        part_code: product.product_id.to_string(),
        brand: Some(product.brand_description.clone()),
        article: Some(product.number.clone()),
        ean: None,
        name: Some(product.description.clone()).filter(|name| !name.is_empty()),
        price: Some(product.customer_price),
        price_gross: Some((product.customer_price * (Decimal::ONE_HUNDRED + vat) / Decimal::ONE_HUNDRED).round_dp(2)),
        currency: Some(product.currency.clone().unwrap_or_else(|| currency.clone())),
        availability: product
            .rests
            .iter()
            .filter(|rest| client.reads(&rest.key))
            .map(|rest| BranchAvailability {
                branch: rest.key.clone(),
                quantity: rest.value,
                delivery_date: None,
            })
            .collect(),
        updated_at: None,
        raw,
    }
}

fn product(product: &Product, currency: &str) -> Value {
    let mut raw = serde_json::Map::new();
    raw.insert("Number".into(), json!(product.number));
    to_json(&tiltas_model::Product {
        sku: product.product_id.to_string(),
        name: Some(product.description.clone()).filter(|name| !name.is_empty()),
        brand: Some(product.brand_description.clone()),
        price_net: Some(product.customer_price),
        currency: Some(product.currency.clone().unwrap_or_else(|| currency.to_owned())),
        raw,
        ..tiltas_model::Product::default()
    })
}

fn stock(product: &Product, rest: &wire::Rest) -> Value {
    to_json(&StockLevel {
        sku: product.product_id.to_string(),
        warehouse: rest.key.clone(),
        on_hand: rest.value,
        reserved: Decimal::ZERO,
        available: Some(rest.value),
        updated_at: None,
        raw: serde_json::Map::new(),
    })
}

impl OmegaSource {
    pub fn new(client: Client, reading: Reading) -> OmegaSource {
        OmegaSource {
            client,
            reading,
            invoices: None,
        }
    }

    async fn catalogue(&self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let from: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let count = request.page_size.clamp(1, wire::MAX_SEARCH_COUNT);
        let fields = [
            ("SearchPhrase", String::new()),
            ("Rest", "1".to_owned()),
            ("From", from.to_string()),
            ("Count", count.to_string()),
        ];
        let products: Vec<Product> = self
            .client
            .form(wire::SEARCH, &fields)
            .await?
            .map_err(|text| self.client.refused(wire::SEARCH, &text))?;
        // Omega does not say how many there are: a full page may have another after it.
        let next = (products.len() >= count).then(|| (from + products.len()).to_string());
        let currency = &self.client.currency;
        let records = match self.reading {
            Reading::Products => products
                .iter()
                .map(|p| record(p.product_id.to_string(), product(p, currency)))
                .collect(),
            Reading::Stock => products
                .iter()
                .flat_map(|p| {
                    p.rests
                        .iter()
                        .filter(|rest| self.client.reads(&rest.key))
                        .map(move |rest| record(format!("{}@{}", p.product_id, rest.key), stock(p, rest)))
                })
                .collect(),
            _ => products
                .iter()
                .map(|p| record(p.product_id.to_string(), to_json(&offer(p, &self.client))))
                .collect(),
        };
        Ok(Page {
            records,
            next,
            api_calls: 1,
        })
    }

    /// The invoice list from `from` to today: fetched once a run, then served from memory.
    async fn invoice_list(&mut self, from: NaiveDate) -> Result<(Vec<ExpenseHead>, u64), ConnectorError> {
        if let Some((listed_from, heads)) = &self.invoices {
            if *listed_from == from {
                return Ok((heads.clone(), 0));
            }
        }
        let fields = [
            ("StartDate", from.format(wire::DATE_FORMAT).to_string()),
            ("EndDate", Utc::now().date_naive().format(wire::DATE_FORMAT).to_string()),
        ];
        let heads: Vec<ExpenseHead> = self
            .client
            .form(wire::EXPENSE_LIST, &fields)
            .await?
            .map_err(|text| self.client.refused(wire::EXPENSE_LIST, &text))?;
        self.invoices = Some((from, heads.clone()));
        Ok((heads, 1))
    }

    async fn invoices(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let Reading::Invoices { since_days, .. } = &self.reading else {
            return Ok(Page::default());
        };
        let from = request
            .changed_since
            .map(|since| since.date_naive())
            .unwrap_or_else(|| Utc::now().date_naive() - Duration::days(*since_days));
        let (heads, mut calls) = self.invoice_list(from).await?;
        let offset: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let size = request.page_size.max(1);
        let mut records = Vec::new();
        for head in heads.iter().skip(offset).take(size) {
            let fields = [("DocId", head.doc_id.clone())];
            let lines: crate::client::Answer<Vec<ExpenseLine>> =
                self.client.form(wire::EXPENSE_DETAILS, &fields).await?;
            calls += 1;
            records.push(match lines {
                Ok(lines) => self.document(head, &lines),
                Err(text) => Err(RecordFailure::new(
                    head.number.clone(),
                    format!("POST {} DocId {}", wire::EXPENSE_DETAILS, head.doc_id),
                    format!(
                        "connection \"{}\": Omega would not give the lines of invoice {}: {text}; ask Omega about \
                         the document — it is read again next run",
                        self.client.connection, head.number
                    ),
                    to_json(head),
                )),
            });
        }
        let next = (offset + size < heads.len()).then(|| (offset + size).to_string());
        Ok(Page {
            records,
            next,
            api_calls: calls,
        })
    }

    /// An expense document as an incoming receipt: lines by Omega's code, net prices derived
    /// from the prices with VAT, the maker's number and brand kept under `raw`.
    fn document(&self, head: &ExpenseHead, lines: &[ExpenseLine]) -> Result<SourceRecord, RecordFailure> {
        let Reading::Invoices {
            counterparty,
            warehouse,
            ..
        } = &self.reading
        else {
            return Err(RecordFailure::new(
                head.number.clone(),
                "invoices",
                "not an invoice source",
                Value::Null,
            ));
        };
        let date = wire::parse_date(&head.date).ok_or_else(|| {
            RecordFailure::new(
                head.number.clone(),
                format!("POST {} Date", wire::EXPENSE_LIST),
                format!(
                    "connection \"{}\": invoice {} has Date {:?}, not a date (DD.MM.YYYY): ask Omega to correct it",
                    self.client.connection, head.number, head.date
                ),
                to_json(head),
            )
            .at_field("date")
        })?;
        let vat_of = |line: &ExpenseLine| line.vat_percent.map_or(self.client.vat, Decimal::from);
        let document = Document {
            number: head.number.clone(),
            kind: DocumentKind::IncomingReceipt,
            date: Some(date),
            counterparty: Some(counterparty.clone()),
            warehouse: warehouse.clone(),
            to_warehouse: None,
            currency: Some(head.currency.clone().unwrap_or_else(|| self.client.currency.clone())),
            lines: lines
                .iter()
                .map(|line| DocumentLine {
                    sku: line.code.trim().to_owned(),
                    quantity: line.count,
                    price: Some(
                        (line.price_with_vat * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + vat_of(line)))
                            .round_dp(2),
                    ),
                    vat_rate: Some(vat_of(line)),
                })
                .collect(),
            total: Some(head.summ),
            note: None,
            updated_at: date.and_hms_opt(0, 0, 0).map(|d| d.and_utc()),
            raw: {
                let mut raw = serde_json::Map::new();
                raw.insert("DocId".into(), json!(head.doc_id));
                raw.insert(
                    "lines".into(),
                    Value::Array(
                        lines
                            .iter()
                            .map(|l| json!({ "sku": l.code, "article": l.number, "brand": l.brand, "description": l.description }))
                            .collect(),
                    ),
                );
                raw
            },
        };
        Ok(SourceRecord {
            key: head.number.clone(),
            updated_at: document.updated_at,
            data: to_json(&document),
        })
    }
}

#[async_trait::async_trait]
impl Source for OmegaSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        match self.reading {
            Reading::Invoices { .. } => self.invoices(request).await,
            _ => self.catalogue(request).await,
        }
    }
}
