//! The Magento source (products with their configurable children, customers, orders) and
//! target (products by SKU to every store view, MSI source items, customers).
use crate::client::{segment, Client, Scope, Search};
use crate::mapping::{self, OptionLabels};
use crate::wire::{self, MAX_PAGE_SIZE};
use crate::{
    Backoff, BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Page, ReadRequest, RecordFailure, Source,
    SourceRecord, Target, WriteItem, WriteOutcome,
};
use async_trait::async_trait;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use tiltas_model::EntityKind;

/// Values per look-up search (one filter group of `eq` filters, OR-ed): keeps the URL short.
const KEYS_PER_LOOKUP: usize = 50;
/// Source items per `POST /V1/inventory/source-items`.
const SOURCE_ITEMS_PER_CALL: usize = 100;
/// Products or customers per batch: each is its own call, Magento has no batch endpoint
/// without its message queue.
const RECORDS_PER_BATCH: usize = 20;

/// The search path of an entity and the field holding a record's id.
fn collection(entity: EntityKind) -> (&'static str, &'static str) {
    match entity {
        EntityKind::Order => ("orders", "entity_id"),
        EntityKind::Customer => ("customers/search", "id"),
        EntityKind::Category => ("categories/list", "id"),
        _ => ("products", "id"),
    }
}

/// Reads products, customers or orders by id (keyset: `entity_id gt` the last id read, sorted
/// by `entity_id`), changed since `updated_at gteq` the cursor. Keyset paging rather than
/// `currentPage`: a record changed during the read moves no other record between pages, and
/// a page past the end (which Magento answers with the last page again) is never asked for —
/// each page ends the read once it holds all `total_count` remaining records.
pub(crate) struct MagentoSource {
    client: Client,
    entity: EntityKind,
    /// Option labels of configurable attributes read so far.
    labels: OptionLabels,
    /// Attribute codes whose options were asked for.
    asked: HashSet<String>,
}

impl MagentoSource {
    pub fn new(client: Client, entity: EntityKind) -> MagentoSource {
        MagentoSource {
            client,
            entity,
            labels: OptionLabels::new(),
            asked: HashSet::new(),
        }
    }

    /// A configurable product's children and the labels of its options' values.
    async fn children(&mut self, product: &Value, sku: &str) -> Result<(Vec<Value>, u64), ConnectorError> {
        // The second and later requests of a page retry on their own: the engine retries whole
        // pages, and a page of many configurables would rarely get through a flaky server.
        let client = self.client.clone();
        let tries = std::sync::atomic::AtomicU64::new(0);
        let children_path = format!("configurable-products/{}/children", segment(sku));
        let answer = Backoff::new()
            .retry(|| {
                tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                client.get(&children_path, &[])
            })
            .await?;
        let Value::Array(children) = answer else {
            return Err(ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "GET /rest/V1/configurable-products/{sku}/children: expected a list, got {}",
                    crate::http::quote(&answer)
                ),
            ));
        };
        for (code, _) in mapping::configurable_options(product) {
            if !self.asked.insert(code.clone()) {
                continue;
            }
            let options_path = format!("products/attributes/{}/options", segment(&code));
            let options = Backoff::new()
                .retry(|| {
                    tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    client.get(&options_path, &[])
                })
                .await;
            match options {
                Ok(Value::Array(options)) => {
                    for option in options {
                        if let (Some(value), Some(label)) =
                            (mapping::text(&option, "value"), mapping::text(&option, "label"))
                        {
                            self.labels.insert((code.clone(), value), label);
                        }
                    }
                }
                // An attribute we guessed the code of wrongly: variants keep the option ids.
                Ok(_) => {}
                Err(error) if error.kind == ErrorKind::Invalid => {}
                Err(error) => return Err(error),
            }
        }
        Ok((children, tries.into_inner()))
    }
}

#[async_trait]
impl Source for MagentoSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let after: u64 = request
            .position
            .as_deref()
            .and_then(|position| position.parse().ok())
            .unwrap_or(0);
        let mut groups = Vec::new();
        if let Some(since) = request.changed_since {
            groups.push(vec![("updated_at".to_owned(), wire::format_time(since), "gteq")]);
        }
        if after > 0 {
            groups.push(vec![("entity_id".to_owned(), after.to_string(), "gt")]);
        }
        let search = Search {
            groups,
            sort: vec![("entity_id", "ASC")],
            page_size: request.page_size.clamp(1, MAX_PAGE_SIZE),
            current_page: 1,
        };
        let (path, id_field) = collection(self.entity);
        let found = self.client.search(path, &search).await?;
        let mut api_calls = 1;
        let mut last = after;
        let mut records = Vec::with_capacity(found.items.len());
        for item in &found.items {
            let Some(key) = mapping::text(item, id_field) else {
                records.push(Err(RecordFailure::new(
                    "(no id)",
                    format!("GET /rest/V1/{path}"),
                    format!("a record without `{id_field}`: the shop's answer is not Magento's"),
                    item.clone(),
                )));
                continue;
            };
            last = last.max(key.parse().unwrap_or(0));
            let updated_at = wire::parse_time(item.get("updated_at"));
            let data = match self.entity {
                EntityKind::Order => mapping::order_from_shop(item),
                EntityKind::Customer => mapping::customer_from_shop(item),
                EntityKind::Category => match mapping::category_from_shop(item) {
                    Some(category) => category,
                    None => continue,
                },
                _ => {
                    if mapping::is_variant_child(item) {
                        continue;
                    }
                    let sku = mapping::text(item, "sku").unwrap_or_default();
                    if sku.is_empty() {
                        records.push(Err(RecordFailure::new(
                            key,
                            format!("GET /rest/V1/{path}"),
                            "a product without a SKU: give it one in Magento (Catalog → Products)",
                            item.clone(),
                        )
                        .at_field("sku")));
                        continue;
                    }
                    let children = if item.get("type_id").and_then(Value::as_str) == Some("configurable") {
                        let (children, calls) = self.children(item, &sku).await?;
                        api_calls += calls;
                        children
                    } else {
                        Vec::new()
                    };
                    mapping::product_from_shop(item, &children, &self.labels)
                }
            };
            records.push(Ok(SourceRecord { key, updated_at, data }));
        }
        let done = found.items.is_empty() || found.items.len() as u64 >= found.total_count;
        if !done && last <= after {
            return Err(ConnectorError::new(
                ErrorKind::Transient,
                format!("GET /rest/V1/{path}: paging by {id_field} did not advance past {after}"),
            ));
        }
        Ok(Page {
            records,
            next: (!done).then(|| last.to_string()),
            api_calls,
        })
    }
}

/// Writes products, stock or customers; finds products and stock by SKU, customers by e-mail.
pub(crate) struct MagentoTarget {
    client: Client,
    entity: EntityKind,
    /// The MSI source stock is written to (`to = { …, source = "…" }`).
    source: String,
    /// Select attributes met so far, by code.
    attributes: HashMap<String, Attribute>,
}

/// A select attribute configurable products vary by: its id and its options (label, lower
/// case → option id).
struct Attribute {
    id: String,
    options: HashMap<String, String>,
}

/// An item's failure (refused, or transient: the engine verifies by look-up and retries that
/// record alone), or the whole batch's when credentials, configuration or quota are at fault.
fn item_or_batch(error: ConnectorError, what: &str) -> Result<WriteOutcome, ConnectorError> {
    match error.kind {
        ErrorKind::Invalid | ErrorKind::Transient | ErrorKind::RateLimited => {
            Ok(WriteOutcome::Failed(ConnectorError {
                message: format!("{what}: {}", error.message),
                ..error
            }))
        }
        _ => Err(error),
    }
}

impl MagentoTarget {
    pub fn new(client: Client, entity: EntityKind, source: String) -> MagentoTarget {
        MagentoTarget {
            client,
            entity,
            source,
            attributes: HashMap::new(),
        }
    }

    /// The attribute id and option id of `label` of the attribute shown as `name` (`Size` →
    /// `size`), adding the option to the attribute when Magento lacks it. Returns the calls made.
    async fn option(&mut self, name: &str, label: &str) -> Result<(String, String, String, u64), ConnectorError> {
        let code = mapping::option_code(name);
        let mut calls = 0;
        if !self.attributes.contains_key(&code) {
            calls += 1;
            let found = self
                .client
                .get(&format!("products/attributes/{}", segment(&code)), &[])
                .await
                .map_err(|error| match error.kind {
                    ErrorKind::Invalid => ConnectorError {
                        message: format!(
                            "{}: create the select attribute `{code}` in Magento (Stores → Attributes → Product) and \
                             add it to the Default attribute set, so variants can differ by {name}",
                            error.message
                        ),
                        ..error
                    },
                    _ => error,
                })?;
            let options = found
                .get("options")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|option| {
                    let value = mapping::text(option, "value")?;
                    Some((mapping::text(option, "label")?.to_lowercase(), value))
                })
                .collect();
            let id = mapping::text(&found, "attribute_id").unwrap_or_default();
            self.attributes.insert(code.clone(), Attribute { id, options });
        }
        let known = self.attributes.get(&code).and_then(|attribute| {
            Some((
                attribute.id.clone(),
                attribute.options.get(&label.to_lowercase())?.clone(),
            ))
        });
        if let Some((id, value)) = known {
            return Ok((code, id, value, calls));
        }
        calls += 1;
        let answer = self
            .client
            .send(
                Method::POST,
                Scope::All,
                &format!("products/attributes/{}/options", segment(&code)),
                &json!({ "option": { "label": label, "sort_order": 0, "is_default": false } }),
            )
            .await?;
        // Magento 2.4 answers the new option's id as a JSON string (older versions `id_…`).
        let value = match &answer {
            Value::String(text) => text.trim_start_matches("id_").to_owned(),
            other => other.to_string(),
        };
        let attribute = self.attributes.get_mut(&code).ok_or_else(|| {
            ConnectorError::new(ErrorKind::Fatal, format!("attribute {code} vanished from the cache"))
        })?;
        attribute.options.insert(label.to_lowercase(), value.clone());
        Ok((code, attribute.id.clone(), value, calls))
    }

    /// Writes one product by SKU to every store view (`PUT /rest/all/V1/products/{sku}` creates
    /// or updates); a configurable product's variants first, as children linked to it.
    async fn write_product(&mut self, item: &WriteItem) -> Result<(WriteOutcome, u64), ConnectorError> {
        let Some(sku) = mapping::text(&item.payload, "sku") else {
            return Ok((
                WriteOutcome::Failed(
                    ConnectorError::new(
                        ErrorKind::Invalid,
                        "a product without `sku`: Magento keys products by SKU",
                    )
                    .at_field("sku"),
                ),
                0,
            ));
        };
        let mut calls = 0;
        let variants: Vec<Value> = item
            .payload
            .get("variants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut child_ids = Vec::new();
        // attribute id → (label shown, option ids used), in first-seen order.
        let mut configurable: Vec<(String, String, Vec<String>)> = Vec::new();
        for variant in &variants {
            let Some(child_sku) = mapping::text(variant, "sku") else {
                continue;
            };
            let mut options = Vec::new();
            let values: Vec<(String, String)> = variant
                .get("attributes")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
                .collect();
            for (name, label) in values {
                match self.option(&name, &label).await {
                    Ok((code, attribute_id, value, made)) => {
                        calls += made;
                        match configurable.iter_mut().find(|(id, _, _)| *id == attribute_id) {
                            Some((_, _, used)) if !used.contains(&value) => used.push(value.clone()),
                            Some(_) => {}
                            None => configurable.push((attribute_id, name.clone(), vec![value.clone()])),
                        }
                        options.push((code, value));
                    }
                    Err(error) => {
                        return item_or_batch(error, &format!("product {sku}, variant {child_sku}"))
                            .map(|outcome| (outcome, calls))
                    }
                }
            }
            let body =
                json!({ "product": mapping::variant_to_shop(variant, &item.payload, &options), "saveOptions": true });
            calls += 1;
            match self
                .client
                .send(
                    Method::PUT,
                    Scope::All,
                    &format!("products/{}", segment(&child_sku)),
                    &body,
                )
                .await
            {
                Ok(answer) => child_ids.extend(answer.get("id").cloned()),
                Err(error) => {
                    return item_or_batch(error, &format!("product {sku}, variant {child_sku}"))
                        .map(|outcome| (outcome, calls))
                }
            }
        }
        let type_id = if variants.is_empty() { "simple" } else { "configurable" };
        let mut product = mapping::product_to_shop(&item.payload, item.target_id.is_none(), type_id);
        if !child_ids.is_empty() {
            let options: Vec<Value> = configurable
                .iter()
                .enumerate()
                .map(|(position, (attribute_id, label, values))| {
                    json!({
                        "attribute_id": attribute_id,
                        "label": label,
                        "position": position,
                        "values": values.iter().map(|value| json!({ "value_index": value.parse::<u64>().ok() })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            product.insert(
                "extension_attributes".to_owned(),
                json!({ "configurable_product_options": options, "configurable_product_links": child_ids }),
            );
        }
        let body = json!({ "product": product, "saveOptions": true });
        calls += 1;
        match self
            .client
            .send(Method::PUT, Scope::All, &format!("products/{}", segment(&sku)), &body)
            .await
        {
            Ok(_) => Ok((WriteOutcome::Written { target_id: sku }, calls)),
            Err(error) => item_or_batch(error, &format!("product {sku}")).map(|outcome| (outcome, calls)),
        }
    }

    async fn write_customer(&self, item: &WriteItem) -> Result<(WriteOutcome, u64), ConnectorError> {
        let email = mapping::text(&item.payload, "email").unwrap_or_else(|| "?".to_owned());
        let body = json!({ "customer": mapping::customer_to_shop(&item.payload, item.target_id.as_deref()) });
        let answer = match &item.target_id {
            Some(id) => {
                self.client
                    .send(
                        Method::PUT,
                        Scope::Default,
                        &format!("customers/{}", segment(id)),
                        &body,
                    )
                    .await
            }
            None => self.client.send(Method::POST, Scope::Default, "customers", &body).await,
        };
        let outcome = match answer {
            Ok(answer) => match mapping::text(&answer, "id") {
                Some(id) => WriteOutcome::Written { target_id: id },
                None => {
                    return Err(ConnectorError::new(
                        ErrorKind::Transient,
                        format!("customer {email}: the shop's answer has no id"),
                    ))
                }
            },
            Err(error) => item_or_batch(error, &format!("customer {email}"))?,
        };
        Ok((outcome, 1))
    }

    /// The source item of a stock level: quantity available (on hand less reserved), in stock
    /// when above zero.
    fn source_item(&self, payload: &Value) -> Result<Value, ConnectorError> {
        let sku = mapping::text(payload, "sku")
            .ok_or_else(|| ConnectorError::new(ErrorKind::Invalid, "a stock level without `sku`").at_field("sku"))?;
        let available = mapping::decimal(payload.get("available")).or_else(|| {
            Some(
                mapping::decimal(payload.get("on_hand"))?
                    - mapping::decimal(payload.get("reserved")).unwrap_or_default(),
            )
        });
        let Some(available) = available else {
            return Err(ConnectorError::new(
                ErrorKind::Invalid,
                format!("stock of {sku}: neither `available` nor `on_hand` is a number"),
            )
            .at_field("on_hand"));
        };
        let quantity = available.max(Decimal::ZERO).normalize();
        let quantity: Value = serde_json::from_str(&quantity.to_string()).unwrap_or(json!(0));
        Ok(json!({
            "sku": sku,
            "source_code": self.source,
            "quantity": quantity,
            "status": if available > Decimal::ZERO { 1 } else { 0 },
        }))
    }

    /// Saves source items in one call; Magento validates the whole list before it saves any,
    /// so a refused call is split into one call per item to settle each on its own.
    async fn write_stock(&self, items: &[WriteItem]) -> Result<BatchResult, ConnectorError> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        let mut ready: Vec<(usize, Value)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match self.source_item(&item.payload) {
                Ok(body) => ready.push((index, body)),
                Err(error) => outcomes[index] = Some(WriteOutcome::Failed(error)),
            }
        }
        let mut api_calls = 0;
        for chunk in ready.chunks(SOURCE_ITEMS_PER_CALL) {
            let list: Vec<Value> = chunk.iter().map(|(_, body)| body.clone()).collect();
            api_calls += 1;
            let answer = self
                .client
                .send(
                    Method::POST,
                    Scope::Default,
                    "inventory/source-items",
                    &json!({ "sourceItems": list }),
                )
                .await;
            match answer {
                Ok(_) => {
                    for (index, body) in chunk {
                        outcomes[*index] = Some(WriteOutcome::Written {
                            target_id: stock_id(&self.source, body["sku"].as_str().unwrap_or_default()),
                        });
                    }
                }
                Err(error) if error.kind == ErrorKind::Invalid && chunk.len() > 1 => {
                    for (index, body) in chunk {
                        api_calls += 1;
                        let sku = body["sku"].as_str().unwrap_or_default();
                        let one = self
                            .client
                            .send(
                                Method::POST,
                                Scope::Default,
                                "inventory/source-items",
                                &json!({ "sourceItems": [body] }),
                            )
                            .await;
                        outcomes[*index] = Some(match one {
                            Ok(_) => WriteOutcome::Written {
                                target_id: stock_id(&self.source, sku),
                            },
                            Err(error) => item_or_batch(error, &format!("stock of {sku}"))?,
                        });
                    }
                }
                Err(error) => {
                    let sku = chunk.first().and_then(|(_, body)| body["sku"].as_str()).unwrap_or("?");
                    let outcome = item_or_batch(error, &format!("stock of {sku}"))?;
                    if let Some((index, _)) = chunk.first() {
                        outcomes[*index] = Some(outcome);
                    }
                }
            }
        }
        Ok(BatchResult {
            outcomes: outcomes
                .into_iter()
                .map(|outcome| {
                    outcome
                        .unwrap_or_else(|| WriteOutcome::Failed(ConnectorError::new(ErrorKind::Transient, "not sent")))
                })
                .collect(),
            api_calls,
        })
    }

    /// One search by a list of values of `field` (`eq` filters in one group: OR).
    async fn find(
        &self,
        path: &str,
        field: &str,
        values: &[String],
        more: Vec<Vec<crate::client::Filter>>,
    ) -> Result<Vec<Value>, ConnectorError> {
        let mut groups = vec![values
            .iter()
            .map(|value| (field.to_owned(), value.clone(), "eq"))
            .collect::<Vec<_>>()];
        groups.extend(more);
        let search = Search {
            groups,
            sort: Vec::new(),
            page_size: MAX_PAGE_SIZE,
            current_page: 1,
        };
        Ok(self.client.search(path, &search).await?.items)
    }
}

/// The target id of a source item: `source:sku`.
fn stock_id(source: &str, sku: &str) -> String {
    format!("{source}:{sku}")
}

#[async_trait]
impl Target for MagentoTarget {
    fn max_batch(&self) -> usize {
        match self.entity {
            EntityKind::Stock => SOURCE_ITEMS_PER_CALL,
            _ => RECORDS_PER_BATCH,
        }
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut lookup = Lookup::default();
        match (self.entity, match_on) {
            (EntityKind::Customer, None | Some("email")) => {
                let wanted: HashMap<String, &String> = keys.iter().map(|key| (key.to_lowercase(), key)).collect();
                for chunk in keys.chunks(KEYS_PER_LOOKUP) {
                    let customers = self.find("customers/search", "email", chunk, Vec::new()).await?;
                    lookup.api_calls += 1;
                    for customer in customers {
                        let email = mapping::text(&customer, "email").unwrap_or_default().to_lowercase();
                        if let (Some(key), Some(id)) = (wanted.get(&email), mapping::text(&customer, "id")) {
                            // The oldest customer wins when the shop holds the e-mail twice.
                            lookup.found.entry((*key).clone()).or_insert(FoundRecord {
                                target_id: id,
                                data: Some(mapping::customer_from_shop(&customer)),
                            });
                        }
                    }
                }
            }
            (EntityKind::Product, None | Some("sku")) => {
                for chunk in keys.chunks(KEYS_PER_LOOKUP) {
                    let products = self.find("products", "sku", chunk, Vec::new()).await?;
                    lookup.api_calls += 1;
                    for product in products {
                        let Some(sku) = mapping::text(&product, "sku") else {
                            continue;
                        };
                        if let Some(key) = chunk.iter().find(|key| **key == sku) {
                            lookup.found.insert(
                                key.clone(),
                                FoundRecord {
                                    target_id: sku,
                                    data: Some(mapping::product_from_shop(&product, &[], &OptionLabels::new())),
                                },
                            );
                        }
                    }
                }
            }
            (EntityKind::Stock, None | Some("sku")) => {
                // Keys are `sku@warehouse` (the natural key) or a bare SKU (`match_on = "sku"`).
                let skus: Vec<String> = keys
                    .iter()
                    .map(|key| match match_on {
                        None => key.rsplit_once('@').map_or(key.as_str(), |(sku, _)| sku).to_owned(),
                        Some(_) => key.clone(),
                    })
                    .collect();
                for (chunk, chunk_keys) in skus.chunks(KEYS_PER_LOOKUP).zip(keys.chunks(KEYS_PER_LOOKUP)) {
                    let source = vec![vec![("source_code".to_owned(), self.source.clone(), "eq")]];
                    let items = self.find("inventory/source-items", "sku", chunk, source).await?;
                    lookup.api_calls += 1;
                    for item in items {
                        let Some(sku) = mapping::text(&item, "sku") else {
                            continue;
                        };
                        for (key, key_sku) in chunk_keys.iter().zip(chunk) {
                            if *key_sku == sku {
                                lookup.found.insert(
                                    key.clone(),
                                    FoundRecord {
                                        target_id: stock_id(&self.source, &sku),
                                        data: None,
                                    },
                                );
                            }
                        }
                    }
                }
            }
            (entity, field) => {
                return Err(ConnectorError::new(
                    ErrorKind::Fatal,
                    format!(
                        "Magento cannot find {entity} by {}: use match_on = \"{}\"",
                        field.unwrap_or("its key"),
                        if entity == EntityKind::Customer { "email" } else { "sku" }
                    ),
                ))
            }
        }
        Ok(lookup)
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        if self.entity == EntityKind::Stock {
            return self.write_stock(&items).await;
        }
        let mut outcomes = Vec::with_capacity(items.len());
        let mut api_calls = 0;
        for item in &items {
            let (outcome, calls) = match self.entity {
                EntityKind::Product => self.write_product(item).await?,
                EntityKind::Customer => self.write_customer(item).await?,
                other => {
                    return Err(ConnectorError::new(
                        ErrorKind::Fatal,
                        format!("the magento connector does not write {other}"),
                    ))
                }
            };
            api_calls += calls;
            outcomes.push(outcome);
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
