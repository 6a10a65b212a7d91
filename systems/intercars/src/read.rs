//! Reading Inter Cars: the catalogue page by page, and for each page of SKUs their stock
//! (one call of ≤ 100) and price quotes (calls of ≤ 20) for stock levels and supplier offers;
//! invoices by issue date, each fetched with its lines, as incoming documents.
use crate::client::Client;
use crate::wire::{self, Invoice, InvoicePage, ProductPage, Quote, StockRow};
use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tiltas_connector::{ConnectorError, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use tiltas_model::{BranchAvailability, Document, DocumentKind, DocumentLine, Product, StockLevel, SupplierOffer};

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

/// A source on an Inter Cars connection.
pub(crate) struct IntercarsSource {
    client: Client,
    reading: Reading,
}

fn record(key: String, data: Value) -> Result<SourceRecord, RecordFailure> {
    Ok(SourceRecord {
        key,
        updated_at: None,
        data,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl IntercarsSource {
    pub fn new(client: Client, reading: Reading) -> IntercarsSource {
        IntercarsSource { client, reading }
    }

    fn location_query(&self) -> Vec<(&'static str, String)> {
        self.client.location.iter().map(|l| ("location", l.clone())).collect()
    }

    /// A failure for a SKU the supplier did not know in `call`.
    fn unknown(&self, sku: &str, call: &str) -> Result<SourceRecord, RecordFailure> {
        Err(RecordFailure::new(
            sku,
            format!("{call}, sku {sku}"),
            format!(
                "connection \"{}\": Inter Cars listed SKU {sku} in its catalogue but {call} does not know it \
                 (skpSkuList): it was withdrawn or is not sold to this customer; nothing to fix in Tiltas — \
                 it is read again next run",
                self.client.connection
            ),
            json!({ "sku": sku }),
        )
        .at_field("sku"))
    }

    async fn stock_of(&self, skus: &[String]) -> Result<(Vec<StockRow>, Vec<String>), ConnectorError> {
        let mut query = vec![("sku", skus.join(","))];
        query.extend(self.location_query());
        let answer = self.client.get::<Vec<StockRow>>("/inventory/stock", &query).await?;
        Ok((answer.body, answer.unknown))
    }

    async fn catalogue_page(&self, request: &ReadRequest) -> Result<(ProductPage, usize, u64), ConnectorError> {
        let offset: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let limit = request.page_size.clamp(1, wire::MAX_PAGE);
        let query = [("limit", limit.to_string()), ("offset", offset.to_string())];
        let page = self.client.get::<ProductPage>("/catalog/products", &query).await?.body;
        Ok((page, offset, 1))
    }

    async fn catalogue(&self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let (page, offset, mut calls) = self.catalogue_page(request).await?;
        let next = page.has_next_page.then(|| (offset + page.products.len()).to_string());
        let skus: Vec<String> = page.products.iter().map(|p| p.sku.clone()).collect();
        let records = match self.reading {
            Reading::Products => page
                .products
                .iter()
                .map(|p| record(p.sku.clone(), product(p)))
                .collect(),
            Reading::Stock if skus.is_empty() => Vec::new(),
            Reading::Stock => {
                let (rows, unknown) = self.stock_of(&skus).await?;
                calls += 1;
                let mut records: Vec<_> = rows
                    .iter()
                    .map(|row| record(format!("{}@{}", row.sku, row.location), stock(row)))
                    .collect();
                records.extend(unknown.iter().map(|sku| self.unknown(sku, "GET /inventory/stock")));
                records
            }
            _ => {
                let (records, more) = self.offers(&page, &skus).await?;
                calls += more;
                records
            }
        };
        Ok(Page {
            records,
            next,
            api_calls: calls,
        })
    }

    /// Offers of a catalogue page: its stock in one call, its prices in calls of ≤ 20.
    async fn offers(
        &self,
        page: &ProductPage,
        skus: &[String],
    ) -> Result<(Vec<Result<SourceRecord, RecordFailure>>, u64), ConnectorError> {
        if skus.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let (rows, mut unknown) = self.stock_of(skus).await?;
        let mut calls = 1;
        let mut prices = BTreeMap::new();
        for chunk in skus.chunks(wire::MAX_QUOTE_LINES) {
            let lines: Vec<_> = chunk.iter().map(|sku| json!({ "sku": sku, "quantity": 1 })).collect();
            let answer = self
                .client
                .post::<Quote>("/pricing/quote", &json!({ "lines": lines }))
                .await?;
            calls += 1;
            unknown.extend(answer.unknown);
            prices.extend(answer.body.lines.into_iter().map(|line| (line.sku.clone(), line)));
        }
        let mut records = Vec::new();
        for product in &page.products {
            if unknown.contains(&product.sku) {
                records.push(self.unknown(&product.sku, "GET /inventory/stock or POST /pricing/quote"));
                continue;
            }
            let offer = supplier_offer(product, &rows, prices.get(&product.sku));
            records.push(record(product.sku.clone(), to_json(&offer)));
        }
        Ok((records, calls))
    }

    async fn invoices(&self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let Reading::Invoices {
            counterparty,
            warehouse,
            since_days,
        } = &self.reading
        else {
            return Ok(Page::default());
        };
        let offset: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let from = request
            .changed_since
            .map(|since| since.date_naive())
            .unwrap_or_else(|| Utc::now().date_naive() - Duration::days(*since_days));
        let limit = request.page_size.clamp(1, wire::MAX_PAGE);
        let query = [
            ("issueDateFrom", from.format("%Y-%m-%d").to_string()),
            ("limit", limit.to_string()),
            ("offset", offset.to_string()),
        ];
        let page = self.client.get::<InvoicePage>("/invoice", &query).await?.body;
        let mut calls = 1;
        let mut records = Vec::new();
        for head in &page.invoices {
            let invoice = self
                .client
                .get::<Invoice>(&format!("/invoice/{}", head.id), &[])
                .await?
                .body;
            calls += 1;
            records.push(document(&invoice, counterparty, warehouse.as_deref()));
        }
        Ok(Page {
            records,
            next: page.has_next_page.then(|| (offset + page.invoices.len()).to_string()),
            api_calls: calls,
        })
    }
}

/// The offer of one catalogue product: its stock rows per branch (rows of other SKUs are
/// skipped) and its quoted price, when quoted.
pub(crate) fn supplier_offer(
    product: &wire::Product,
    rows: &[StockRow],
    quoted: Option<&wire::QuotedLine>,
) -> SupplierOffer {
    let availability = rows
        .iter()
        .filter(|row| row.sku == product.sku)
        .map(|row| BranchAvailability {
            branch: row.location.clone(),
            quantity: Decimal::from(row.availability),
            delivery_date: row
                .latest_delivery_date
                .as_deref()
                .and_then(|date| chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()),
        })
        .collect();
    let mut raw = serde_json::Map::new();
    raw.insert("index".into(), json!(product.index));
    raw.insert("eans".into(), json!(product.eans));
    if let Some(quoted) = quoted {
        raw.insert("price".into(), to_json(&quoted.price));
    }
    SupplierOffer {
        supplier: "intercars".into(),
        part_code: product.sku.clone(),
        brand: Some(product.brand.clone()),
        article: Some(product.index.clone()),
        ean: product.eans.first().cloned(),
        name: Some(product.description.clone()),
        price: quoted.map(|q| q.price.customer_price_net),
        price_gross: quoted.map(|q| q.price.customer_price_gross),
        currency: quoted.map(|q| q.price.currency_code.clone()),
        availability,
        updated_at: None,
        raw,
    }
}

fn product(product: &wire::Product) -> Value {
    let mut raw = serde_json::Map::new();
    raw.insert("index".into(), json!(product.index));
    raw.insert("blockedReturn".into(), json!(product.blocked_return));
    if let Some(gtu) = &product.gtu_code {
        raw.insert("gtuCode".into(), json!(gtu));
    }
    to_json(&Product {
        sku: product.sku.clone(),
        name: Some(product.description.clone()),
        brand: Some(product.brand.clone()),
        ean: product.eans.first().cloned(),
        raw,
        ..Product::default()
    })
}

fn stock(row: &StockRow) -> Value {
    let mut raw = serde_json::Map::new();
    raw.insert("availability".into(), json!(row.availability));
    raw.insert("capped".into(), json!(row.availability >= wire::AVAILABILITY_CAP));
    if let Some(date) = &row.latest_delivery_date {
        raw.insert("latestDeliveryDate".into(), json!(date));
    }
    to_json(&StockLevel {
        sku: row.sku.clone(),
        warehouse: row.location.clone(),
        on_hand: Decimal::from(row.availability),
        reserved: Decimal::ZERO,
        available: Some(Decimal::from(row.availability)),
        updated_at: None,
        raw,
    })
}

/// An invoice as an incoming receipt: lines by Inter Cars' code with the maker's number and
/// brand kept under `raw` for cross-referencing.
fn document(invoice: &Invoice, counterparty: &str, warehouse: Option<&str>) -> Result<SourceRecord, RecordFailure> {
    let head = &invoice.head;
    let date = NaiveDate::parse_from_str(&head.issue_date, "%Y-%m-%d").map_err(|_| {
        RecordFailure::new(
            head.number.clone(),
            format!("GET /invoice/{}", head.id),
            format!(
                "invoice {} has issueDate {:?}, not a date YYYY-MM-DD: ask Inter Cars to correct it",
                head.number, head.issue_date
            ),
            to_json(invoice),
        )
        .at_field("date")
    })?;
    let lines = invoice
        .lines
        .iter()
        .map(|line| DocumentLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
            price: Some(line.price_net),
            vat_rate: Some(line.vat_percentage),
        })
        .collect();
    let mut raw = serde_json::Map::new();
    raw.insert("id".into(), json!(head.id));
    raw.insert("totalNet".into(), json!(head.total_net));
    raw.insert("customNumber".into(), json!(invoice.custom_number));
    raw.insert(
        "lines".into(),
        Value::Array(
            invoice
                .lines
                .iter()
                .map(|l| json!({ "sku": l.sku, "index": l.index, "brand": l.brand, "description": l.description }))
                .collect(),
        ),
    );
    let document = Document {
        number: head.number.clone(),
        kind: DocumentKind::IncomingReceipt,
        date: Some(date),
        counterparty: Some(counterparty.to_owned()),
        warehouse: warehouse.map(str::to_owned),
        to_warehouse: None,
        currency: Some(head.currency_code.clone()),
        lines,
        total: Some(head.total_gross),
        note: invoice.custom_number.as_ref().map(|n| format!("Inter Cars order {n}")),
        updated_at: date.and_hms_opt(0, 0, 0).map(|d| d.and_utc()),
        raw,
    };
    Ok(SourceRecord {
        key: head.number.clone(),
        updated_at: document.updated_at,
        data: to_json(&document),
    })
}

#[async_trait::async_trait]
impl Source for IntercarsSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        match self.reading {
            Reading::Invoices { .. } => self.invoices(request).await,
            _ => self.catalogue(request).await,
        }
    }
}
