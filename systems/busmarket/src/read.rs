//! Reading Bus Market: search results page by page (prices in the connection's currency), and
//! for each product of a page its stock per warehouse (`in_stocks`, one call a product — the
//! API has no batch call) for stock levels and supplier offers; invoices by date, each fetched
//! with its lines, as incoming documents.
use crate::client::Client;
use crate::wire::{self, Document, DocumentAnswer, DocumentsPage, InStocks, Product, SearchPage, WarehouseStock};
use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tiltas_connector::{ConnectorError, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use tiltas_model::{BranchAvailability, DocumentKind, DocumentLine, StockLevel, SupplierOffer};

/// What a source reads.
pub(crate) enum Reading {
    Products {
        search: String,
    },
    Stock {
        search: String,
    },
    Offers {
        search: String,
    },
    Invoices {
        counterparty: String,
        warehouse: Option<String>,
        since_days: i64,
    },
}

/// A source on a Bus Market connection.
pub(crate) struct BusmarketSource {
    client: Client,
    reading: Reading,
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn record(key: String, data: Value) -> Result<SourceRecord, RecordFailure> {
    Ok(SourceRecord {
        key,
        updated_at: None,
        data,
    })
}

/// The page number a position holds (pages count from 1).
fn page_number(request: &ReadRequest) -> usize {
    request
        .position
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// The next position after `page` of `per_page` when `total` are matched.
fn next_page(page: usize, per_page: usize, total: usize) -> Option<String> {
    (page * per_page < total).then(|| (page + 1).to_string())
}

impl Client {
    /// One page of `GET /search/products`, prices in the connection's currency.
    pub(crate) async fn search(&self, q: &str, page: usize, per_page: usize) -> Result<SearchPage, ConnectorError> {
        let query = [
            ("q", q.to_owned()),
            ("page", page.to_string()),
            ("per_page", per_page.clamp(1, wire::MAX_PER_PAGE).to_string()),
            ("currency", self.currency.clone()),
        ];
        self.get("/search/products", &query).await
    }

    /// A product's stock at the connection's warehouse (every warehouse when unset).
    pub(crate) async fn stock_of(&self, product_uuid: &str) -> Result<Vec<WarehouseStock>, ConnectorError> {
        let answer: InStocks = self
            .get_patiently(&format!("/product/{product_uuid}/in_stocks"), &[])
            .await?;
        Ok(answer
            .in_stocks
            .into_iter()
            .filter(|stock| self.is_chosen_warehouse(stock))
            .collect())
    }

    fn is_chosen_warehouse(&self, stock: &WarehouseStock) -> bool {
        self.warehouse.as_deref().is_none_or(|chosen| {
            chosen.eq_ignore_ascii_case(&stock.warehouse) || chosen.eq_ignore_ascii_case(&stock.warehouse_uuid)
        })
    }
}

/// A product with its stock per warehouse as a supplier offer; `price` is the current price
/// when one was asked for (quotes), else the search's.
pub(crate) fn offer(product: &Product, stock: &[WarehouseStock], price: Option<&wire::Price>) -> SupplierOffer {
    let availability = stock
        .iter()
        .map(|row| BranchAvailability {
            branch: row.warehouse.clone(),
            quantity: Decimal::from(row.quantity),
            delivery_date: row
                .delivery_date
                .as_deref()
                .and_then(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()),
        })
        .collect();
    let mut raw = serde_json::Map::new();
    raw.insert("uuid".into(), json!(product.uuid));
    raw.insert(
        "warehouses".into(),
        Value::Array(
            stock
                .iter()
                .map(|row| json!({ "warehouse": row.warehouse, "warehouse_uuid": row.warehouse_uuid }))
                .collect(),
        ),
    );
    if let Some(price) = price {
        raw.insert("vat".into(), json!(price.vat));
    }
    SupplierOffer {
        supplier: "busmarket".into(),
        part_code: product.code.clone(),
        brand: Some(product.brand.clone()),
        article: Some(product.article.clone()),
        ean: product.ean.clone(),
        name: Some(product.name.clone()),
        price: price.map(|p| p.price).or(product.price),
        price_gross: price.map(|p| p.price_with_vat),
        currency: price.map(|p| p.currency.clone()).or_else(|| product.currency.clone()),
        availability,
        updated_at: None,
        raw,
    }
}

fn product_record(product: &Product) -> Value {
    let mut raw = serde_json::Map::new();
    raw.insert("uuid".into(), json!(product.uuid));
    raw.insert("article".into(), json!(product.article));
    to_json(&tiltas_model::Product {
        sku: product.code.clone(),
        name: Some(product.name.clone()),
        brand: Some(product.brand.clone()),
        ean: product.ean.clone(),
        price_net: product.price,
        currency: product.currency.clone(),
        raw,
        ..tiltas_model::Product::default()
    })
}

fn stock_record(product: &Product, row: &WarehouseStock) -> Result<SourceRecord, RecordFailure> {
    let mut raw = serde_json::Map::new();
    raw.insert("uuid".into(), json!(product.uuid));
    raw.insert("warehouse_uuid".into(), json!(row.warehouse_uuid));
    let level = StockLevel {
        sku: product.code.clone(),
        warehouse: row.warehouse.clone(),
        on_hand: Decimal::from(row.quantity),
        reserved: Decimal::ZERO,
        available: Some(Decimal::from(row.quantity)),
        updated_at: None,
        raw,
    };
    record(format!("{}@{}", product.code, row.warehouse), to_json(&level))
}

impl BusmarketSource {
    pub fn new(client: Client, reading: Reading) -> BusmarketSource {
        BusmarketSource { client, reading }
    }

    async fn catalogue(&self, search: &str, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let number = page_number(request);
        let per_page = request.page_size.clamp(1, wire::MAX_PER_PAGE);
        let page = self.client.search(search, number, per_page).await?;
        let next = next_page(number, page.per_page.max(1), page.total);
        let mut calls = 1;
        let mut records = Vec::new();
        for product in &page.products {
            if let Reading::Products { .. } = self.reading {
                records.push(record(product.code.clone(), product_record(product)));
                continue;
            }
            calls += 1;
            let stock = match self.client.stock_of(&product.uuid).await {
                Ok(stock) => stock,
                Err(error) if error.kind == tiltas_connector::ErrorKind::Invalid => {
                    records.push(Err(self.withdrawn(product, &error)));
                    continue;
                }
                Err(error) => return Err(error),
            };
            match self.reading {
                Reading::Stock { .. } => records.extend(stock.iter().map(|row| stock_record(product, row))),
                _ => records.push(record(product.code.clone(), to_json(&offer(product, &stock, None)))),
            }
        }
        Ok(Page {
            records,
            next,
            api_calls: calls,
        })
    }

    /// The failure of a product the search listed but whose stock Bus Market no longer
    /// answers for (withdrawn between the two calls, or not sold to this customer).
    fn withdrawn(&self, product: &Product, error: &ConnectorError) -> RecordFailure {
        RecordFailure::new(
            product.code.clone(),
            format!("GET /product/{}/in_stocks", product.uuid),
            format!(
                "Bus Market product {} ({} {}) is in the search but its stock is refused ({}): it was withdrawn or \
                 is not sold to this customer; nothing to fix in Tiltas — it is read again next run",
                product.code, product.brand, product.article, error.message
            ),
            to_json(product),
        )
        .at_field("sku")
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
        let number = page_number(request);
        let from = request
            .changed_since
            .map(|since| since.date_naive())
            .unwrap_or_else(|| Utc::now().date_naive() - Duration::days(*since_days));
        let per_page = request.page_size.clamp(1, wire::MAX_PER_PAGE);
        let query = [
            ("type", wire::INVOICE_TYPE.to_owned()),
            ("date_from", from.format("%Y-%m-%d").to_string()),
            ("direction", "asc".to_owned()),
            ("page", number.to_string()),
            ("per_page", per_page.to_string()),
        ];
        let page: DocumentsPage = self.client.get("/documents/list", &query).await?;
        let mut calls = 1;
        let mut records = Vec::new();
        for head in &page.documents {
            let path = format!("/documents/{}/{}", head.kind, head.uuid);
            let answer: DocumentAnswer = self.client.get_patiently(&path, &[]).await?;
            calls += 1;
            records.push(document(&answer.document, counterparty, warehouse.as_deref()));
        }
        Ok(Page {
            records,
            next: next_page(number, page.per_page.max(1), page.total),
            api_calls: calls,
        })
    }
}

/// An invoice as an incoming receipt: lines by Bus Market's code, the maker's number and brand
/// kept under `raw` for cross-referencing.
fn document(invoice: &Document, counterparty: &str, warehouse: Option<&str>) -> Result<SourceRecord, RecordFailure> {
    let head = &invoice.head;
    let date = NaiveDate::parse_from_str(&head.date, "%Y-%m-%d").map_err(|_| {
        RecordFailure::new(
            head.number.clone(),
            format!("GET /documents/{}/{}", head.kind, head.uuid),
            format!(
                "Bus Market invoice {} has date {:?}, not a date YYYY-MM-DD: ask Bus Market to correct it",
                head.number, head.date
            ),
            to_json(invoice),
        )
        .at_field("date")
    })?;
    let lines = invoice
        .products
        .iter()
        .map(|line| DocumentLine {
            sku: line.code.clone(),
            quantity: line.quantity,
            price: Some(line.price),
            vat_rate: Some(line.vat),
        })
        .collect();
    let mut raw = serde_json::Map::new();
    raw.insert("uuid".into(), json!(head.uuid));
    raw.insert("total".into(), json!(head.total));
    raw.insert("comment".into(), json!(head.comment));
    raw.insert(
        "lines".into(),
        Value::Array(
            invoice
                .products
                .iter()
                .map(|l| json!({ "code": l.code, "article": l.article, "brand": l.brand, "name": l.name, "product_uuid": l.product_uuid }))
                .collect(),
        ),
    );
    let document = tiltas_model::Document {
        number: head.number.clone(),
        kind: DocumentKind::IncomingReceipt,
        date: Some(date),
        counterparty: Some(counterparty.to_owned()),
        warehouse: warehouse.map(str::to_owned),
        to_warehouse: None,
        currency: Some(head.currency.clone()),
        lines,
        total: Some(head.total_with_vat),
        note: head.comment.clone(),
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
impl Source for BusmarketSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        match &self.reading {
            Reading::Invoices { .. } => self.invoices(request).await,
            Reading::Products { search } | Reading::Stock { search } | Reading::Offers { search } => {
                let search = search.clone();
                self.catalogue(&search, request).await
            }
        }
    }
}
