//! The read side: items (with a price type's prices), legal and natural persons, balances,
//! orders in the exported statuses and the other documents, each one `$export`. A full read
//! is one export per entity (Smartup does not page an export); an incremental read walks the
//! time since `changed_since` in windows of at most 7 days (`day_range_limit`). An export is
//! held and handed out in pages of the engine's size, so one request serves every page of a
//! window; the position names the window and the offset in it, and a run resumed at an
//! offset exports the window again and skips what was delivered (exports are in id order).
use crate::client::{text, Client, Object};
use crate::records;
use crate::wire::{self, Endpoint, IntegrationSettings};
use crate::{ConnectorError, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;

/// What a source reads.
#[derive(Debug, Clone)]
pub(crate) enum Reading {
    Items {
        price_type: Option<String>,
    },
    Customers,
    Stock {
        warehouse: Option<String>,
    },
    Orders {
        statuses: Option<Vec<String>>,
    },
    Documents(Endpoint),
    /// Price types, each with its items' prices.
    PriceLists,
}

impl Reading {
    /// The endpoints read, in turn (persons: legal, then natural).
    fn endpoints(&self) -> Vec<Endpoint> {
        match self {
            Reading::Items { .. } => vec![wire::INVENTORY],
            Reading::Customers => vec![wire::LEGAL_PERSON, wire::NATURAL_PERSON],
            Reading::Stock { .. } => vec![wire::BALANCE],
            Reading::Orders { .. } => vec![wire::ORDER],
            Reading::Documents(endpoint) => vec![*endpoint],
            Reading::PriceLists => vec![wire::PRICE_TYPE],
        }
    }
}

/// Reads one entity of a Smartup company.
pub(crate) struct SmartupSource {
    client: Client,
    reading: Reading,
    /// The company's settings, read at the first page.
    settings: Option<IntegrationSettings>,
    /// The statuses read (orders): the flow's and the company's together.
    statuses: Vec<String>,
    /// Prices of the flow's price type by item code, read once.
    prices: Option<HashMap<String, Decimal>>,
    /// Price-list items by price type code, read once (price lists).
    price_lists: Option<HashMap<String, Vec<Value>>>,
    /// The export of the current window, held while its pages are handed out.
    held: Option<(Position, Vec<(Endpoint, Object)>)>,
}

/// Where a read stands: the first day of the window (none in a full read) and the objects of
/// its export already delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    from: Option<NaiveDate>,
    offset: usize,
}

impl Position {
    fn parse(position: Option<&str>) -> Result<Position, ConnectorError> {
        let Some(position) = position else {
            return Ok(Position { from: None, offset: 0 });
        };
        let unknown = || crate::fatal(format!("unknown read position {position:?}"));
        let (from, offset) = position.split_once('@').ok_or_else(unknown)?;
        let offset = offset.parse().map_err(|_| unknown())?;
        let from = match from {
            "" => None,
            date => Some(NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| unknown())?),
        };
        Ok(Position { from, offset })
    }

    fn render(self) -> String {
        format!(
            "{}@{}",
            self.from
                .map(|date| date.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            self.offset
        )
    }

    /// The same window from its start.
    fn window(self) -> Position {
        Position { offset: 0, ..self }
    }
}

impl SmartupSource {
    pub fn new(client: Client, reading: Reading) -> SmartupSource {
        SmartupSource {
            client,
            reading,
            settings: None,
            statuses: Vec::new(),
            prices: None,
            price_lists: None,
            held: None,
        }
    }

    /// Reads the company's settings once and checks the flow against them. A wrong code scope
    /// stops the run; statuses the company does not export are a warning, and the stricter
    /// set is read.
    async fn check_settings(&mut self) -> Result<u64, ConnectorError> {
        if self.settings.is_some() {
            return Ok(0);
        }
        let settings = self.client.company_settings().await?;
        self.client.check_code(&settings)?;
        if let Reading::Orders { statuses } = &self.reading {
            let exported = &settings.order_statuses;
            self.statuses = match statuses {
                None => exported.clone(),
                Some(wanted) => {
                    let missing: Vec<&String> = wanted.iter().filter(|status| !exported.contains(status)).collect();
                    if !missing.is_empty() {
                        tracing::warn!(
                            connection = self.client.connection(),
                            "the flow reads orders in {missing:?}, which the Smartup company does not export \
                             (Главное → Настройки интеграции → Заказ → Статус заказа exports {exported:?}): only \
                             {:?} are read",
                            wanted
                                .iter()
                                .filter(|status| exported.contains(status))
                                .collect::<Vec<_>>()
                        );
                    }
                    wanted
                        .iter()
                        .filter(|status| exported.contains(status))
                        .cloned()
                        .collect()
                }
            };
            if self.statuses.is_empty() {
                return Err(crate::fatal(format!(
                    "connection `{}`: the flow reads orders in {:?}, but the Smartup company exports only orders in \
                     {exported:?} (Главное → Настройки интеграции со сторонними ПО → Заказ → Статус заказа): no order \
                     can ever be read. Add a status both name, in the flow's `statuses` or in Smartup",
                    self.client.connection(),
                    statuses.clone().unwrap_or_default()
                ))
                .with_fix("make the flow's `statuses` and Smartup's exported statuses share a status"));
            }
        }
        self.settings = Some(settings);
        Ok(1)
    }

    /// The prices of the flow's price type by item code (read once per source).
    async fn prices(&mut self) -> Result<u64, ConnectorError> {
        if matches!(self.reading, Reading::PriceLists) {
            return self.price_list_items().await;
        }
        let Reading::Items {
            price_type: Some(price_type),
        } = &self.reading
        else {
            return Ok(0);
        };
        if self.prices.is_some() {
            return Ok(0);
        }
        let mut filters = Object::new();
        filters.insert("price_type_code".to_owned(), json!(price_type));
        let rows = self.client.export(&wire::PRODUCT_PRICE, filters).await?;
        let prices = rows
            .iter()
            .filter_map(|row| {
                let price = Decimal::from_str(&text(row, "price")?).ok()?;
                Some((text(row, "product_code")?, price))
            })
            .collect::<HashMap<_, _>>();
        if prices.is_empty() {
            tracing::warn!(
                connection = self.client.connection(),
                "Smartup has no prices of price type {price_type:?}: products are read without prices"
            );
        }
        self.prices = Some(prices);
        Ok(1)
    }

    /// Every price of every price type, as price-list items by price type (read once).
    async fn price_list_items(&mut self) -> Result<u64, ConnectorError> {
        if self.price_lists.is_some() {
            return Ok(0);
        }
        let rows = self.client.export(&wire::PRODUCT_PRICE, Object::new()).await?;
        let mut lists: HashMap<String, Vec<Value>> = HashMap::new();
        for row in &rows {
            let (Some(price_type), Some(sku)) = (text(row, "price_type_code"), text(row, "product_code")) else {
                continue;
            };
            let price = text(row, "price").and_then(|price| Decimal::from_str(&price).ok());
            lists.entry(price_type).or_default().push(json!({
                "sku": sku,
                "price": price.map(|price| price.normalize().to_string()),
            }));
        }
        self.price_lists = Some(lists);
        Ok(1)
    }

    /// Every endpoint's export of a window (or of everything), oldest change first, so the
    /// engine's cursor after any page is behind every object not yet delivered.
    async fn export_window(
        &self,
        window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<(Vec<(Endpoint, Object)>, u64), ConnectorError> {
        let mut filters = Object::new();
        if let Reading::Stock {
            warehouse: Some(warehouse),
        } = &self.reading
        {
            filters.insert("warehouse_codes".to_owned(), json!([warehouse]));
        }
        if let Some((from, to)) = window {
            filters.insert(
                "begin_modified_on".to_owned(),
                json!(from.format(wire::DATE).to_string()),
            );
            filters.insert("end_modified_on".to_owned(), json!(to.format(wire::DATE).to_string()));
        }
        let mut all = Vec::new();
        let mut calls = 0;
        for endpoint in self.reading.endpoints() {
            let objects = self.client.export(&endpoint, filters.clone()).await?;
            calls += 1;
            all.extend(
                objects
                    .into_iter()
                    .filter(|object| self.wanted(object))
                    .map(|object| (endpoint, object)),
            );
        }
        // Stable: objects changed at the same time keep Smartup's (id) order.
        all.sort_by_key(|(_, object)| records::modified(object));
        Ok((all, calls))
    }

    fn record(&self, endpoint: &Endpoint, object: &Object) -> Result<SourceRecord, RecordFailure> {
        let id = text(object, endpoint.id_field)
            .or_else(|| text(object, "product_id"))
            .or_else(|| text(object, "person_id"));
        let mut data = match &self.reading {
            Reading::Items { .. } => {
                let price = text(object, "code").and_then(|code| self.prices.as_ref()?.get(&code).copied());
                records::product(object, price)
            }
            Reading::Customers => records::customer(object, endpoint.key == "legal_person"),
            Reading::Stock { .. } => records::stock(object),
            Reading::Orders { .. } => records::order(object),
            Reading::Documents(endpoint) => records::document(endpoint, object),
            Reading::PriceLists => {
                let items = text(object, "code")
                    .and_then(|code| self.price_lists.as_ref()?.get(&code).cloned())
                    .unwrap_or_default();
                records::price_list(object, items)
            }
        };
        // Items without a code (exported with «Выгружать данные без кодов») are keyed by
        // their Smartup id; `skip_without_code` on the flow decides whether they go on.
        let key = match &self.reading {
            Reading::Items { .. } => text(object, "code").or_else(|| id.clone().map(|id| format!("id:{id}"))),
            Reading::PriceLists => text(object, "code"),
            Reading::Stock { .. } => {
                let item =
                    text(object, "product_code").or_else(|| text(object, "product_id").map(|id| format!("id:{id}")));
                item.map(|item| format!("{item}@{}", text(object, "warehouse_code").unwrap_or_default()))
            }
            _ => id,
        };
        let Some(key) = key else {
            return Err(RecordFailure::new(
                "(no id)",
                format!("/b/{}$export", endpoint.path),
                format!(
                    "an object without `{}` or code: every Smartup object has one; the answer is not Smartup's",
                    endpoint.id_field
                ),
                Value::Object(object.clone()),
            ));
        };
        data.insert("raw".to_owned(), Value::Object(object.clone()));
        Ok(SourceRecord {
            key,
            updated_at: records::modified(object),
            data: Value::Object(data),
        })
    }

    /// Whether an exported object passes the flow's filters.
    fn wanted(&self, object: &Object) -> bool {
        match &self.reading {
            Reading::Orders { .. } => text(object, "status").is_some_and(|status| self.statuses.contains(&status)),
            Reading::Stock {
                warehouse: Some(warehouse),
            } => text(object, "warehouse_code").as_deref() == Some(warehouse.as_str()),
            _ => true,
        }
    }
}

#[async_trait]
impl Source for SmartupSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let mut api_calls = self.check_settings().await?;
        api_calls += self.prices().await?;
        let position = Position::parse(request.position.as_deref())?;
        let today = Utc::now().date_naive();
        // A full read is one export; an incremental one a window of at most 7 days.
        let window = request.changed_since.map(|since| {
            let from = position.from.unwrap_or_else(|| since.date_naive()).min(today);
            let to = (from + Duration::days(wire::DAY_RANGE_LIMIT - 1)).min(today);
            (from, to)
        });
        // The window's export, held from an earlier page or fetched now.
        let objects = match self.held.take() {
            Some((held, objects)) if held == position.window() => objects,
            _ => {
                let (objects, calls) = self.export_window(window).await?;
                api_calls += calls;
                objects
            }
        };
        let size = if request.page_size == 0 {
            objects.len().max(1)
        } else {
            request.page_size
        };
        let end = (position.offset + size).min(objects.len());
        let records = objects
            .get(position.offset..end)
            .unwrap_or_default()
            .iter()
            .map(|(endpoint, object)| self.record(endpoint, object))
            .collect();
        let next = if end < objects.len() {
            self.held = Some((position.window(), objects));
            Some(Position {
                offset: end,
                ..position
            })
        } else {
            match window {
                Some((_, to)) if to < today => Some(Position {
                    from: Some(to + Duration::days(1)),
                    offset: 0,
                }),
                _ => None,
            }
        };
        Ok(Page {
            records,
            next: next.map(Position::render),
            api_calls,
        })
    }

    fn admits(&self, record: &SourceRecord) -> Result<(), String> {
        match (&self.reading, record.data.get("status").and_then(Value::as_str)) {
            (Reading::Orders { statuses: Some(wanted) }, Some(status)) if !wanted.iter().any(|s| s == status) => {
                Err(format!("status {status} is not one of the flow's statuses {wanted:?}"))
            }
            _ => Ok(()),
        }
    }
}
