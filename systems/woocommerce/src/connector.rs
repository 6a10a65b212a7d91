//! The WooCommerce source (products, orders, customers) and target (products with
//! variations and categories, stock, customers).
use super::client::{pair, Client, PER_PAGE};
use super::mapping;
use crate::{
    BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Page, ReadRequest, RecordFailure, Source,
    SourceRecord, Target, WriteItem, WriteOutcome,
};
use async_trait::async_trait;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;
use tiltas_model::EntityKind;

/// SKUs per `products?sku=a,b,…` look-up (keeps the URL short).
const SKUS_PER_LOOKUP: usize = 50;
/// Up to this many e-mails are looked up one by one; more, and every customer is listed.
const EMAILS_ONE_BY_ONE: usize = 5;

/// The collection of an entity.
fn collection(entity: EntityKind) -> &'static str {
    match entity {
        EntityKind::Order => "orders",
        EntityKind::Customer => "customers",
        _ => "products",
    }
}

/// Reads products, orders or customers by `page`, oldest id first; incremental reads of
/// products and orders ask for `modified_after` (WooCommerce has no date filter for customers,
/// so those are read whole and the engine's hashes skip the unchanged).
pub(crate) struct WooSource {
    pub client: Client,
    pub entity: EntityKind,
    /// For orders: only these statuses (`from = { …, statuses = [...] }`).
    pub statuses: Vec<String>,
}

impl WooSource {
    /// Why an order in `status` is not one this flow reads (`statuses`), if it is not.
    fn status_refused(&self, status: Option<&Value>) -> Option<String> {
        if self.statuses.is_empty() {
            return None;
        }
        let status = match status {
            Some(Value::String(status)) => status.strip_prefix("wc-").unwrap_or(status),
            _ => "",
        };
        if self.statuses.iter().any(|wanted| wanted == status) {
            return None;
        }
        Some(format!(
            "status {status:?} is not in the flow's statuses [{}]: it is booked when an update brings it into one of them",
            self.statuses.join(", ")
        ))
    }
}

#[async_trait]
impl Source for WooSource {
    fn admits(&self, record: &SourceRecord) -> Result<(), String> {
        match self.entity {
            EntityKind::Order => self.status_refused(record.data.get("status")).map_or(Ok(()), Err),
            _ => Ok(()),
        }
    }

    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let page: usize = request
            .position
            .as_deref()
            .and_then(|position| position.parse().ok())
            .unwrap_or(1);
        let per_page = request.page_size.clamp(1, PER_PAGE);
        let mut query = vec![
            pair("per_page", per_page),
            pair("page", page),
            pair("orderby", "id"),
            pair("order", "asc"),
        ];
        match self.entity {
            EntityKind::Customer => query.push(pair("role", "all")),
            _ => {
                if let Some(since) = request.changed_since {
                    query.push(pair("modified_after", since.format("%Y-%m-%dT%H:%M:%S")));
                    query.push(pair("dates_are_gmt", "true"));
                }
            }
        }
        if self.entity == EntityKind::Order && !self.statuses.is_empty() {
            query.push(pair("status", self.statuses.join(",")));
        }
        let path = collection(self.entity);
        let answer = self.client.get(path, &query).await?;
        let mut api_calls = 1;
        let items = match answer.body {
            Value::Array(items) => items,
            other => {
                return Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!(
                        "GET {path}: expected a list, got {}",
                        other.to_string().chars().take(200).collect::<String>()
                    ),
                ))
            }
        };
        let full = items.len() >= per_page;
        let mut records = Vec::with_capacity(items.len());
        for item in items {
            let Some(key) = mapping::id_of(&item) else {
                records.push(Err(RecordFailure::new(
                    "(no id)",
                    format!("GET {path} page {page}"),
                    "a resource without `id`",
                    item,
                )));
                continue;
            };
            if self.entity == EntityKind::Order && self.status_refused(item.get("status")).is_some() {
                continue;
            }
            let updated_at = mapping::gmt(item.get("date_modified_gmt"));
            let data = match self.entity {
                EntityKind::Order => mapping::order_from_shop(&item),
                EntityKind::Customer => mapping::customer_from_shop(&item),
                _ => {
                    let variations = if item.get("type").and_then(Value::as_str) == Some("variable") {
                        let (variations, calls) = self.client.all(&format!("products/{key}/variations"), &[]).await?;
                        api_calls += calls;
                        variations
                    } else {
                        Vec::new()
                    };
                    for (key, message, raw) in mapping::unreadable_variations(&item, &variations) {
                        records.push(Err(RecordFailure::new(
                            key,
                            format!("GET products/{}/variations", mapping::id_of(&item).unwrap_or_default()),
                            message,
                            raw,
                        )));
                    }
                    mapping::product_from_shop(&item, &variations)
                }
            };
            records.push(Ok(SourceRecord { key, updated_at, data }));
        }
        let more = full && answer.total_pages.is_none_or(|total| page < total);
        Ok(Page {
            records,
            next: more.then(|| (page + 1).to_string()),
            api_calls,
        })
    }
}

/// Writes products, stock or customers through the `…/batch` endpoints.
pub(crate) struct WooTarget {
    pub client: Client,
    pub entity: EntityKind,
    /// Category name (lower-cased) → id, loaded on the first product write.
    pub categories: Option<HashMap<String, u64>>,
    /// Customers of the last batch as the shop answered them, in canonical form.
    pub stored: HashMap<String, Value>,
}

/// The error of a failed batch item, classified by its status.
fn item_error(result: &Value, what: &str) -> Option<ConnectorError> {
    let error = result.get("error")?;
    let status = error.pointer("/data/status").and_then(Value::as_u64).unwrap_or(400);
    let kind = match status {
        401 | 403 => ErrorKind::Auth,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Invalid,
    };
    let code = error.get("code").and_then(Value::as_str).unwrap_or("error");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("refused");
    let fix = match code {
        "product_invalid_sku" => {
            ": the shop has another product with this SKU (perhaps in the trash): remove or rename it"
        }
        "registration-error-email-exists" => ": the shop has this e-mail already under another customer",
        _ => "",
    };
    Some(ConnectorError::new(kind, format!("{what}: {code}: {message}{fix}")))
}

/// Whole units for `stock_quantity`: the available quantity, rounded down, never negative.
fn stock_quantity(payload: &Value) -> Option<i64> {
    let number = |field: &str| -> Option<Decimal> {
        match payload.get(field)? {
            Value::String(text) => Decimal::from_str(text.trim()).ok(),
            Value::Number(number) => Decimal::from_str(&number.to_string()).ok(),
            _ => None,
        }
    };
    let available =
        number("available").or_else(|| Some(number("on_hand")? - number("reserved").unwrap_or_default()))?;
    Some(available.floor().to_i64().unwrap_or(0).max(0))
}

impl WooTarget {
    /// Category ids for names, creating the missing categories in one batch.
    async fn category_ids(&mut self, names: &[String]) -> Result<(HashMap<String, u64>, u64), ConnectorError> {
        let mut calls = 0;
        if self.categories.is_none() {
            let (items, listed) = self.client.all("products/categories", &[]).await?;
            calls += listed;
            self.categories = Some(
                items
                    .iter()
                    .filter_map(|item| Some((item.get("name")?.as_str()?.to_lowercase(), item.get("id")?.as_u64()?)))
                    .collect(),
            );
        }
        let known = self.categories.get_or_insert_with(HashMap::new);
        let mut missing: Vec<&String> = names
            .iter()
            .filter(|name| !known.contains_key(&name.to_lowercase()))
            .collect();
        missing.sort();
        missing.dedup();
        for chunk in missing.chunks(PER_PAGE) {
            let create: Vec<Value> = chunk.iter().map(|name| json!({ "name": name })).collect();
            let answer = self
                .client
                .post("products/categories/batch", &json!({ "create": create }))
                .await?;
            calls += 1;
            let created = answer
                .body
                .get("create")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (name, result) in chunk.iter().zip(created) {
                if let Some(id) = result.get("id").and_then(Value::as_u64).filter(|id| *id > 0) {
                    known.insert(name.to_lowercase(), id);
                } else if let Some(error) = item_error(&result, &format!("category {name:?}")) {
                    // `term_exists`: created meanwhile by someone else; its id comes with the error.
                    match error
                        .message
                        .contains("term_exists")
                        .then(|| result.pointer("/error/data/resource_id").and_then(Value::as_u64))
                    {
                        Some(Some(id)) => {
                            known.insert(name.to_lowercase(), id);
                        }
                        _ => return Err(error),
                    }
                }
            }
        }
        Ok((known.clone(), calls))
    }

    /// Sends one `…/batch` body and pairs each item with its result: creates in order, then updates.
    async fn batch(
        &self,
        path: &str,
        creates: Vec<Value>,
        updates: Vec<Value>,
    ) -> Result<(Vec<Value>, Vec<Value>), ConnectorError> {
        let (create_count, update_count) = (creates.len(), updates.len());
        let answer = self
            .client
            .post(path, &json!({ "create": creates, "update": updates }))
            .await?;
        let list = |name: &str, count: usize| -> Result<Vec<Value>, ConnectorError> {
            let items = answer
                .body
                .get(name)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if items.len() != count {
                return Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!("POST {path}: {count} {name}s sent, {} results came back", items.len()),
                ));
            }
            Ok(items)
        };
        Ok((list("create", create_count)?, list("update", update_count)?))
    }

    async fn write_products(&mut self, items: &[WriteItem]) -> Result<BatchResult, ConnectorError> {
        let names: Vec<String> = items
            .iter()
            .flat_map(|item| {
                item.payload
                    .get("categories")
                    .and_then(Value::as_array)
                    .map(|names| {
                        names
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let (categories, mut api_calls) = self.category_ids(&names).await?;
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        // Where each item's result is: (is_update, index in its list).
        let mut slots = Vec::with_capacity(items.len());
        for item in items {
            let mut body = mapping::product_to_shop(&item.payload, item.target_id.is_none());
            if let Some(names) = item.payload.get("categories").and_then(Value::as_array) {
                let ids: Vec<Value> = names
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(|name| categories.get(&name.to_lowercase()))
                    .map(|id| json!({ "id": id }))
                    .collect();
                body.insert("categories".to_owned(), Value::Array(ids));
            }
            match &item.target_id {
                Some(id) => {
                    body.insert("id".to_owned(), id_value(id));
                    slots.push((true, updates.len()));
                    updates.push(Value::Object(body));
                }
                None => {
                    slots.push((false, creates.len()));
                    creates.push(Value::Object(body));
                }
            }
        }
        let (created, updated) = self.batch("products/batch", creates, updates).await?;
        api_calls += 1;
        let mut outcomes = Vec::with_capacity(items.len());
        for (item, (is_update, index)) in items.iter().zip(slots) {
            let result = if is_update { &updated[index] } else { &created[index] };
            let sku = item.payload.get("sku").and_then(Value::as_str).unwrap_or("?");
            if let Some(error) = item_error(result, &format!("product {sku}")) {
                outcomes.push(WriteOutcome::Failed(error));
                continue;
            }
            let Some(id) = mapping::id_of(result) else {
                outcomes.push(WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Transient,
                    format!("product {sku}: the shop's answer has no id"),
                )));
                continue;
            };
            let variants = item
                .payload
                .get("variants")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if variants.is_empty() {
                outcomes.push(WriteOutcome::Written { target_id: id });
                continue;
            }
            match self.write_variations(&id, &variants).await {
                Ok(calls) => {
                    api_calls += calls;
                    outcomes.push(WriteOutcome::Written { target_id: id });
                }
                Err((calls, error)) => {
                    api_calls += calls;
                    outcomes.push(WriteOutcome::Failed(ConnectorError {
                        message: format!("product {sku} written as {id}, its variations not: {}", error.message),
                        ..error
                    }));
                }
            }
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    /// Creates or updates a variable product's variations by SKU.
    async fn write_variations(&self, product: &str, variants: &[Value]) -> Result<u64, (u64, ConnectorError)> {
        let path = format!("products/{product}/variations");
        let (existing, mut calls) = self.client.all(&path, &[]).await.map_err(|error| (0, error))?;
        let ids: HashMap<String, Value> = existing
            .iter()
            .filter_map(|variation| Some((variation.get("sku")?.as_str()?.to_owned(), variation.get("id")?.clone())))
            .collect();
        let (mut creates, mut updates) = (Vec::new(), Vec::new());
        for variant in variants {
            let mut body = mapping::variation_to_shop(variant);
            let sku = variant.get("sku").and_then(Value::as_str).unwrap_or_default();
            match ids.get(sku) {
                Some(id) => {
                    body.insert("id".to_owned(), id.clone());
                    updates.push(Value::Object(body));
                }
                None => creates.push(Value::Object(body)),
            }
        }
        let (created, updated) = self
            .batch(&format!("{path}/batch"), creates, updates)
            .await
            .map_err(|error| (calls, error))?;
        calls += 1;
        for result in created.iter().chain(&updated) {
            if let Some(error) = item_error(result, "variation") {
                return Err((calls, error));
            }
        }
        Ok(calls)
    }

    async fn write_stock(&mut self, items: &[WriteItem]) -> Result<BatchResult, ConnectorError> {
        let mut api_calls = 0;
        // Items the engine could not link: find them by SKU now.
        let unlinked: Vec<String> = items
            .iter()
            .filter(|item| item.target_id.is_none())
            .filter_map(|item| item.payload.get("sku").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let found = if unlinked.is_empty() {
            Lookup::default()
        } else {
            self.lookup(Some("sku"), &unlinked).await?
        };
        api_calls += found.api_calls;
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        // Parent product id ("" for simple products) → (item index, update body).
        let mut groups: Vec<(String, Vec<(usize, Value)>)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let sku = item.payload.get("sku").and_then(Value::as_str).unwrap_or_default();
            let target = item
                .target_id
                .clone()
                .or_else(|| found.found.get(sku).map(|record| record.target_id.clone()));
            let Some(target) = target else {
                outcomes[index] = Some(WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!("stock of {sku}: the shop has no product with this SKU: sync products first"),
                )));
                continue;
            };
            let Some(quantity) = stock_quantity(&item.payload) else {
                outcomes[index] = Some(WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!("stock of {sku}: neither `available` nor `on_hand` is a number"),
                )));
                continue;
            };
            let (parent, id) = match target.split_once('/') {
                Some((parent, id)) => (parent.to_owned(), id.to_owned()),
                None => (String::new(), target.clone()),
            };
            let body = json!({ "id": id_value(&id), "manage_stock": true, "stock_quantity": quantity });
            match groups.iter_mut().find(|(known, _)| *known == parent) {
                Some((_, bodies)) => bodies.push((index, body)),
                None => groups.push((parent, vec![(index, body)])),
            }
        }
        for (parent, bodies) in groups {
            let path = if parent.is_empty() {
                "products/batch".to_owned()
            } else {
                format!("products/{parent}/variations/batch")
            };
            let updates: Vec<Value> = bodies.iter().map(|(_, body)| body.clone()).collect();
            let (_, results) = self.batch(&path, Vec::new(), updates).await?;
            api_calls += 1;
            for ((index, _), result) in bodies.into_iter().zip(results) {
                let sku = items[index].payload.get("sku").and_then(Value::as_str).unwrap_or("?");
                outcomes[index] = Some(match item_error(&result, &format!("stock of {sku}")) {
                    Some(error) => WriteOutcome::Failed(error),
                    None => WriteOutcome::Written {
                        target_id: if parent.is_empty() {
                            mapping::id_of(&result).unwrap_or_default()
                        } else {
                            format!("{parent}/{}", mapping::id_of(&result).unwrap_or_default())
                        },
                    },
                });
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

    async fn write_customers(&mut self, items: &[WriteItem]) -> Result<BatchResult, ConnectorError> {
        let (mut creates, mut updates, mut slots) = (Vec::new(), Vec::new(), Vec::new());
        for item in items {
            let mut body = mapping::customer_to_shop(&item.payload);
            match &item.target_id {
                Some(id) => {
                    // WooCommerce refuses to change a customer's e-mail to one in use; the
                    // e-mail is the match key anyway.
                    body.remove("email");
                    body.insert("id".to_owned(), id_value(id));
                    slots.push((true, updates.len()));
                    updates.push(Value::Object(body));
                }
                None => {
                    slots.push((false, creates.len()));
                    creates.push(Value::Object(body));
                }
            }
        }
        let (created, updated) = self.batch("customers/batch", creates, updates).await?;
        let outcomes = items
            .iter()
            .zip(slots)
            .map(|(item, (is_update, index))| {
                let result = if is_update { &updated[index] } else { &created[index] };
                let email = item.payload.get("email").and_then(Value::as_str).unwrap_or("?");
                match (item_error(result, &format!("customer {email}")), mapping::id_of(result)) {
                    (Some(error), _) => WriteOutcome::Failed(error),
                    (None, Some(id)) => {
                        self.stored.insert(id.clone(), mapping::customer_from_shop(result));
                        WriteOutcome::Written { target_id: id }
                    }
                    (None, None) => WriteOutcome::Failed(ConnectorError::new(
                        ErrorKind::Transient,
                        format!("customer {email}: the shop's answer has no id"),
                    )),
                }
            })
            .collect();
        Ok(BatchResult { outcomes, api_calls: 1 })
    }
}

/// An id as WooCommerce expects it in a body: a number when it is one.
fn id_value(id: &str) -> Value {
    id.parse::<u64>()
        .map_or_else(|_| Value::String(id.to_owned()), Value::from)
}

#[async_trait]
impl Target for WooTarget {
    /// WooCommerce's batch limit.
    fn max_batch(&self) -> usize {
        PER_PAGE
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut lookup = Lookup::default();
        match (self.entity, match_on) {
            (EntityKind::Customer, None | Some("email")) => {
                let lower: HashMap<String, &String> = keys.iter().map(|key| (key.to_lowercase(), key)).collect();
                let customers = if keys.len() <= EMAILS_ONE_BY_ONE {
                    let mut found = Vec::new();
                    for key in keys {
                        let answer = self
                            .client
                            .get("customers", &[pair("email", key), pair("role", "all")])
                            .await?;
                        lookup.api_calls += 1;
                        found.extend(answer.body.as_array().cloned().unwrap_or_default());
                    }
                    found
                } else {
                    let (all, calls) = self.client.all("customers", &[pair("role", "all")]).await?;
                    lookup.api_calls += calls;
                    all
                };
                for customer in customers {
                    let email = customer
                        .get("email")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_lowercase();
                    if let (Some(key), Some(id)) = (lower.get(&email), mapping::id_of(&customer)) {
                        lookup.found.insert(
                            (*key).clone(),
                            FoundRecord {
                                target_id: id,
                                data: Some(mapping::customer_from_shop(&customer)),
                            },
                        );
                    }
                }
            }
            (EntityKind::Product | EntityKind::Stock, None | Some("sku")) => {
                for chunk in keys.chunks(SKUS_PER_LOOKUP) {
                    let query = [pair("sku", chunk.join(",")), pair("per_page", PER_PAGE)];
                    let answer = self.client.get("products", &query).await?;
                    lookup.api_calls += 1;
                    for product in answer.body.as_array().into_iter().flatten() {
                        let (Some(sku), Some(id)) =
                            (product.get("sku").and_then(Value::as_str), mapping::id_of(product))
                        else {
                            continue;
                        };
                        let Some(key) = chunk.iter().find(|key| key.as_str() == sku) else {
                            continue;
                        };
                        let parent = product.get("parent_id").and_then(Value::as_u64).unwrap_or(0);
                        let target_id = match (self.entity, parent) {
                            (EntityKind::Stock, parent) if parent > 0 => format!("{parent}/{id}"),
                            _ if parent > 0 => continue,
                            _ => id,
                        };
                        lookup.found.insert(
                            key.clone(),
                            FoundRecord {
                                target_id,
                                data: Some(mapping::product_from_shop(product, &[])),
                            },
                        );
                    }
                }
            }
            (entity, field) => {
                return Err(ConnectorError::new(
                    ErrorKind::Fatal,
                    format!(
                        "WooCommerce cannot find {entity} by {}: use match_on = \"{}\"",
                        field.unwrap_or("its key"),
                        if entity == EntityKind::Customer { "email" } else { "sku" }
                    ),
                ))
            }
        }
        Ok(lookup)
    }

    fn stored(&self, target_id: &str) -> Option<Value> {
        self.stored.get(target_id).cloned()
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        self.stored.clear();
        if items.is_empty() {
            return Ok(BatchResult {
                outcomes: Vec::new(),
                api_calls: 0,
            });
        }
        match self.entity {
            EntityKind::Product => self.write_products(&items).await,
            EntityKind::Stock => self.write_stock(&items).await,
            EntityKind::Customer => self.write_customers(&items).await,
            other => Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!("the woocommerce connector does not write {other}"),
            )),
        }
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
