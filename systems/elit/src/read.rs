//! Reading Elit: the connection's item numbers in pages of up to [`wire::MAX_ITEMS`], each page
//! one `getItemInfoAgregByTime` (availability by delivery time, one bucket per warehouse) — as
//! stock per warehouse, or, with one `getItemInfo` per item for its price, as supplier offers.
//! An item Elit does not know fails alone, naming the number and the fix.
use crate::client::Client;
use crate::wire::{self, Delivery, ItemAvailability, ItemInfo, ItemLine};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tiltas_connector::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use tiltas_model::{BranchAvailability, StockLevel, SupplierOffer};

/// What a source reads.
pub(crate) enum Reading {
    Stock,
    Offers,
}

/// A source on an Elit connection.
pub(crate) struct ElitSource {
    pub client: Client,
    pub reading: Reading,
    /// The item numbers to read (`items` / `items_file`).
    pub items: Vec<String>,
    /// The one warehouse read (`branch`).
    pub branch: Option<String>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Whether `delivery` is at the warehouse `branch` names (every one without it).
pub(crate) fn at_branch(branch: Option<&str>, delivery: &Delivery) -> bool {
    branch.is_none_or(|branch| branch.eq_ignore_ascii_case(delivery.warehouse.trim()))
}

/// Elit's item as a supplier offer: its price for the asked quantity, and what can be
/// delivered from each warehouse by when.
pub(crate) fn offer(info: &ItemInfo, availability: Option<&ItemAvailability>, branch: Option<&str>) -> SupplierOffer {
    let mut raw = serde_json::Map::new();
    raw.insert("itemNo".into(), json!(info.item_no));
    raw.insert("qtyAvailable".into(), json!(info.qty_available.to_string()));
    if let Some(rate) = info.vat_rate {
        raw.insert("vatRate".into(), json!(rate.to_string()));
    }
    let deliveries = availability.map(|a| a.deliveries.as_slice()).unwrap_or_default();
    raw.insert(
        "deliveryTimes".into(),
        deliveries
            .iter()
            .map(|d| json!({ "warehouse": d.warehouse, "deliveryTime": d.time }))
            .collect(),
    );
    SupplierOffer {
        supplier: "elit".into(),
        part_code: info.item_no.clone(),
        brand: info.supplier_code.clone(),
        article: info.supplier_item_no.clone(),
        ean: info.ean.clone(),
        name: info.name.clone(),
        price: Some(info.price),
        price_gross: info.price_vat,
        currency: Some(info.currency.clone()),
        availability: deliveries
            .iter()
            .filter(|delivery| at_branch(branch, delivery))
            .map(|delivery| BranchAvailability {
                branch: delivery.warehouse.clone(),
                quantity: delivery.qty,
                delivery_date: delivery.date,
            })
            .collect(),
        updated_at: None,
        raw,
    }
}

fn stock(item: &ItemAvailability, delivery: &Delivery) -> Value {
    let mut raw = serde_json::Map::new();
    raw.insert("deliveryTime".into(), json!(delivery.time));
    if let Some(date) = delivery.date {
        raw.insert("deliveryDate".into(), json!(date));
    }
    to_json(&StockLevel {
        sku: item.item_no.clone(),
        warehouse: delivery.warehouse.clone(),
        on_hand: delivery.qty,
        reserved: Decimal::ZERO,
        available: Some(delivery.qty),
        updated_at: None,
        raw,
    })
}

impl ElitSource {
    fn unknown(&self, item_no: &str, operation: &str) -> RecordFailure {
        RecordFailure::new(
            item_no.to_owned(),
            format!("{operation} itemNo {item_no}"),
            format!(
                "connection \"{}\": Elit ({}) does not know item {item_no}: correct the number in `items`/`items_file` \
                 (Elit's item number, as eCat shows it) or remove it",
                self.client.connection, self.client.company
            ),
            json!({ "itemNo": item_no }),
        )
    }

    /// A `branch` no found item's answer names is a wrong setting, not an empty warehouse.
    fn check_branch(&self, answers: &[ItemAvailability]) -> Result<(), ConnectorError> {
        let Some(branch) = self.branch.as_deref() else {
            return Ok(());
        };
        let named: Vec<&str> = answers
            .iter()
            .flat_map(|a| a.deliveries.iter().map(|d| d.warehouse.as_str()))
            .collect();
        if named.is_empty()
            || answers
                .iter()
                .flat_map(|a| &a.deliveries)
                .any(|d| at_branch(Some(branch), d))
        {
            return Ok(());
        }
        let mut warehouses: Vec<&str> = named;
        warehouses.sort_unstable();
        warehouses.dedup();
        Err(ConnectorError::new(
            ErrorKind::Fatal,
            format!(
                "connection \"{}\": branch {branch:?} is none of the warehouses Elit answers for ({}): set `branch` to one \
                 of them, or remove it to read every one",
                self.client.connection,
                warehouses.join(", ")
            ),
        ))
    }

    async fn offers(
        &self,
        answers: &[ItemAvailability],
    ) -> Result<(Vec<Result<SourceRecord, RecordFailure>>, u64), ConnectorError> {
        let mut records = Vec::new();
        let mut calls = 0;
        for answer in answers {
            if !answer.found {
                records.push(Err(self.unknown(&answer.item_no, wire::AGREG)));
                continue;
            }
            let infos = self.client.item_info(&answer.item_no, 1, None).await?;
            calls += 1;
            let info = infos
                .iter()
                .find(|info| info.item_no == answer.item_no)
                .or_else(|| infos.first());
            records.push(match info {
                None => Err(self.unknown(&answer.item_no, wire::ITEM_INFO)),
                Some(info) => Ok(SourceRecord {
                    key: answer.item_no.clone(),
                    updated_at: None,
                    data: to_json(&offer(info, Some(answer), self.branch.as_deref())),
                }),
            });
        }
        Ok((records, calls))
    }

    fn stock_records(&self, answers: &[ItemAvailability]) -> Vec<Result<SourceRecord, RecordFailure>> {
        let mut records = Vec::new();
        for answer in answers {
            if !answer.found {
                records.push(Err(self.unknown(&answer.item_no, wire::AGREG)));
                continue;
            }
            for delivery in answer
                .deliveries
                .iter()
                .filter(|d| at_branch(self.branch.as_deref(), d))
            {
                records.push(Ok(SourceRecord {
                    key: format!("{}@{}", answer.item_no, delivery.warehouse),
                    updated_at: None,
                    data: stock(answer, delivery),
                }));
            }
        }
        records
    }
}

#[async_trait::async_trait]
impl Source for ElitSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let from: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let size = request.page_size.clamp(1, wire::MAX_ITEMS);
        let chunk: Vec<ItemLine> = self
            .items
            .iter()
            .skip(from)
            .take(size)
            .map(|item_no| ItemLine {
                item_no: item_no.clone(),
                qty: 1,
            })
            .collect();
        if chunk.is_empty() {
            return Ok(Page::default());
        }
        let answers = self.client.availability(&chunk).await?;
        self.check_branch(&answers)?;
        // Elit answers the items asked; one it leaves out is as unknown as one marked so.
        let answers: Vec<ItemAvailability> = chunk
            .iter()
            .map(|line| {
                answers
                    .iter()
                    .find(|a| a.item_no == line.item_no)
                    .cloned()
                    .unwrap_or_else(|| ItemAvailability {
                        item_no: line.item_no.clone(),
                        found: false,
                        deliveries: Vec::new(),
                    })
            })
            .collect();
        let (records, calls) = match self.reading {
            Reading::Stock => (self.stock_records(&answers), 0),
            Reading::Offers => self.offers(&answers).await?,
        };
        let end = from + chunk.len();
        Ok(Page {
            records,
            next: (end < self.items.len()).then(|| end.to_string()),
            api_calls: 1 + calls,
        })
    }
}
