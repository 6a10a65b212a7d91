//! The PrestaShop source (products with combinations, customers with addresses, orders) and
//! target (products with combinations and categories, stock in `stock_availables`, customers).
//! The Webservice has no batches: each record is its own call, and a failure is that record's.
use super::client::{pair, Client, PAGE};
use super::mapping::{self, Catalog};
use crate::schema;
use crate::xml::Element;
use crate::{
    BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Page, ReadRequest, RecordFailure, Source,
    SourceRecord, Target, WriteItem, WriteOutcome,
};
use async_trait::async_trait;
use rand::distributions::Alphanumeric;
use rand::Rng;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;
use tiltas_model::EntityKind;

/// Keys per `filter[field]=[a|b|…]` look-up (keeps the URL short).
const KEYS_PER_LOOKUP: usize = 50;
/// The records one target call writes: PrestaShop writes one record per request.
const BATCH: usize = 20;
/// The category new categories are created under (PrestaShop's "Home").
const HOME_CATEGORY: &str = "2";

/// A filter value listing alternatives: `[a|b|c]`.
fn any_of<S: AsRef<str>>(values: &[S]) -> String {
    let values: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
    format!("[{}]", values.join("|"))
}

/// Reads products, customers, orders or stock by `limit=offset,count`, oldest id first;
/// incremental reads ask for `date_upd` after the cursor (`date=1`, as PrestaShop requires for
/// dates; `stock_availables` have none, so stock is read whole).
pub(crate) struct PrestaSource {
    client: Client,
    entity: EntityKind,
    /// For orders: only these `current_state` ids.
    statuses: Vec<String>,
    /// For stock: the warehouse the shop's quantities are given under.
    warehouse: String,
    /// The names behind the shop's ids, loaded once per run as pages need them.
    catalog: Catalog,
    /// Whether category and option names are loaded (products).
    has_names: bool,
    /// Whether countries and currencies are loaded (customers, orders).
    has_places: bool,
}

impl PrestaSource {
    pub(crate) fn new(client: Client, entity: EntityKind, statuses: Vec<String>, warehouse: String) -> PrestaSource {
        PrestaSource {
            client,
            entity,
            statuses,
            warehouse,
            catalog: Catalog::default(),
            has_names: false,
            has_places: false,
        }
    }

    fn collection(&self) -> &'static str {
        match self.entity {
            EntityKind::Order => "orders",
            EntityKind::Customer => "customers",
            EntityKind::Stock => "stock_availables",
            _ => "products",
        }
    }

    /// Countries and currencies by ISO code, read whole once per run.
    async fn places(&mut self) -> Result<u64, ConnectorError> {
        if self.has_places {
            return Ok(0);
        }
        let iso_codes = |records: &[Element]| -> HashMap<String, String> {
            records
                .iter()
                .filter_map(|record| Some((record.text_of("id")?.to_owned(), record.text_of("iso_code")?.to_owned())))
                .collect()
        };
        let (countries, mut calls) = self
            .client
            .all("countries", &[pair("display", "[id,iso_code]")])
            .await?;
        let (currencies, more) = self
            .client
            .all("currencies", &[pair("display", "[id,iso_code]")])
            .await?;
        calls += more;
        self.catalog.countries = iso_codes(&countries);
        self.catalog.currencies = iso_codes(&currencies);
        self.has_places = true;
        Ok(calls)
    }

    /// Category names and option values, read whole once per run.
    async fn names(&mut self) -> Result<u64, ConnectorError> {
        if self.has_names {
            return Ok(0);
        }
        let language = self.client.language.clone();
        let (categories, mut calls) = self.client.all("categories", &[]).await?;
        let (options, more) = self.client.all("product_options", &[]).await?;
        calls += more;
        let (values, more) = self.client.all("product_option_values", &[]).await?;
        calls += more;
        let option_names: HashMap<&str, &str> = options
            .iter()
            .filter_map(|option| {
                Some((
                    option.text_of("id")?,
                    option
                        .language_text("public_name", &language)
                        .or_else(|| option.language_text("name", &language))?,
                ))
            })
            .collect();
        self.catalog.categories = categories
            .iter()
            .filter(|category| category.text_of("is_root_category") != Some("1") && category.text_of("id") != Some("1"))
            .filter_map(|category| {
                Some((
                    category.text_of("id")?.to_owned(),
                    category.language_text("name", &language)?.to_owned(),
                ))
            })
            .collect();
        self.catalog.option_values = values
            .iter()
            .filter_map(|value| {
                let option = option_names.get(value.text_of("id_attribute_group")?)?;
                Some((
                    value.text_of("id")?.to_owned(),
                    ((*option).to_owned(), value.language_text("name", &language)?.to_owned()),
                ))
            })
            .collect();
        self.has_names = true;
        Ok(calls)
    }
}

#[async_trait]
impl Source for PrestaSource {
    fn admits(&self, record: &SourceRecord) -> Result<(), String> {
        if self.entity != EntityKind::Order || self.statuses.is_empty() {
            return Ok(());
        }
        let state = record.data.get("status").and_then(Value::as_str).unwrap_or_default();
        if self.statuses.iter().any(|wanted| wanted == state) {
            Ok(())
        } else {
            Err(format!(
                "state {state} is not in the flow's statuses [{}]",
                self.statuses.join(", ")
            ))
        }
    }

    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let offset: usize = request
            .position
            .as_deref()
            .and_then(|position| position.parse().ok())
            .unwrap_or(0);
        let count = request.page_size.clamp(1, PAGE);
        let collection = self.collection();
        let mut query = vec![
            pair("display", "full"),
            pair("sort", "[id_ASC]"),
            pair("limit", format!("{offset},{count}")),
        ];
        if let (Some(since), false) = (request.changed_since, self.entity == EntityKind::Stock) {
            // `>` is strict and PrestaShop keeps whole seconds: one second earlier includes `since`.
            query.push(pair("date", "1"));
            query.push(pair(
                "filter[date_upd]",
                format!(">[{}]", mapping::shop_time(since - chrono::Duration::seconds(1))),
            ));
        }
        if self.entity == EntityKind::Order && !self.statuses.is_empty() {
            query.push(pair("filter[current_state]", any_of(&self.statuses)));
        }
        let items = self.client.list(collection, &query).await?;
        let mut api_calls = 1;
        let ids: Vec<String> = items
            .iter()
            .filter_map(|item| item.text_of("id").map(str::to_owned))
            .collect();
        let mut records = Vec::with_capacity(items.len());
        match self.entity {
            EntityKind::Product => {
                let with_combinations: Vec<&str> = items
                    .iter()
                    .filter(|item| !mapping::association_ids(item, "combinations").is_empty())
                    .filter_map(|item| item.text_of("id"))
                    .collect();
                let combinations = if with_combinations.is_empty() {
                    Vec::new()
                } else {
                    let (combinations, calls) = self
                        .client
                        .all(
                            "combinations",
                            &[pair("filter[id_product]", any_of(&with_combinations))],
                        )
                        .await?;
                    api_calls += calls;
                    combinations
                };
                if !items.is_empty() {
                    api_calls += self.names().await?;
                }
                let catalog = &self.catalog;
                for item in &items {
                    let Some(id) = item.text_of("id") else {
                        records.push(Err(no_id(collection, offset, item)));
                        continue;
                    };
                    let own: Vec<&Element> = combinations
                        .iter()
                        .filter(|combination| combination.text_of("id_product") == Some(id))
                        .collect();
                    for (key, message) in mapping::unreadable_combinations(item, &own) {
                        records.push(Err(RecordFailure::new(
                            key,
                            format!("GET /api/combinations?filter[id_product]=[{id}]"),
                            message,
                            Value::String(item.to_xml()),
                        )));
                    }
                    records.push(Ok(SourceRecord {
                        key: id.to_owned(),
                        updated_at: mapping::parse_time(item.text_of("date_upd")),
                        data: mapping::product_from_shop(item, &own, catalog, &self.client.language),
                    }));
                }
            }
            EntityKind::Stock => {
                api_calls += self.stock_records(&items, offset, &mut records).await?;
            }
            EntityKind::Customer => {
                if !items.is_empty() {
                    api_calls += self.places().await?;
                }
                let addresses = if ids.is_empty() {
                    Vec::new()
                } else {
                    let (addresses, calls) = self
                        .client
                        .all("addresses", &[pair("filter[id_customer]", any_of(&ids))])
                        .await?;
                    api_calls += calls;
                    addresses
                };
                for item in &items {
                    let Some(id) = item.text_of("id") else {
                        records.push(Err(no_id(collection, offset, item)));
                        continue;
                    };
                    let own: Vec<&Element> = addresses
                        .iter()
                        .filter(|address| address.text_of("id_customer") == Some(id))
                        .collect();
                    records.push(Ok(SourceRecord {
                        key: id.to_owned(),
                        updated_at: mapping::parse_time(item.text_of("date_upd")),
                        data: mapping::customer_from_shop(item, &own, &self.catalog),
                    }));
                }
            }
            _ => {
                if !items.is_empty() {
                    api_calls += self.places().await?;
                }
                let customer_ids: Vec<&str> = items.iter().filter_map(|item| item.text_of("id_customer")).collect();
                let address_ids: Vec<&str> = items
                    .iter()
                    .flat_map(|item| [item.text_of("id_address_invoice"), item.text_of("id_address_delivery")])
                    .flatten()
                    .collect();
                let mut customers = Vec::new();
                let mut addresses = Vec::new();
                if !customer_ids.is_empty() {
                    let (found, calls) = self
                        .client
                        .all("customers", &[pair("filter[id]", any_of(&customer_ids))])
                        .await?;
                    customers = found;
                    api_calls += calls;
                }
                if !address_ids.is_empty() {
                    let (found, calls) = self
                        .client
                        .all("addresses", &[pair("filter[id]", any_of(&address_ids))])
                        .await?;
                    addresses = found;
                    api_calls += calls;
                }
                let by_id = |list: &'_ [Element], id: Option<&str>| -> Option<Element> {
                    let id = id?;
                    list.iter().find(|record| record.text_of("id") == Some(id)).cloned()
                };
                for item in &items {
                    let Some(id) = item.text_of("id") else {
                        records.push(Err(no_id(collection, offset, item)));
                        continue;
                    };
                    let customer = by_id(&customers, item.text_of("id_customer"));
                    let invoice = by_id(&addresses, item.text_of("id_address_invoice"));
                    let delivery = by_id(&addresses, item.text_of("id_address_delivery"));
                    records.push(Ok(SourceRecord {
                        key: id.to_owned(),
                        updated_at: mapping::parse_time(item.text_of("date_upd")),
                        data: mapping::order_from_shop(
                            item,
                            customer.as_ref(),
                            invoice.as_ref(),
                            delivery.as_ref(),
                            &self.catalog,
                        ),
                    }));
                }
            }
        }
        // No totals in PrestaShop's lists: a full page may have more behind it, a short one is the end.
        let next = (items.len() >= count).then(|| (offset + count).to_string());
        Ok(Page {
            records,
            next,
            api_calls,
        })
    }
}

impl PrestaSource {
    /// Stock levels of a page of `stock_availables` rows, under the references of their
    /// products and combinations (read in two more calls). A product with combinations is read
    /// per combination: its own row, which PrestaShop keeps as their sum, is left out.
    async fn stock_records(
        &mut self,
        rows: &[Element],
        offset: usize,
        records: &mut Vec<Result<SourceRecord, RecordFailure>>,
    ) -> Result<u64, ConnectorError> {
        let mut calls = 0;
        let mut products: Vec<&str> = rows.iter().filter_map(|row| row.text_of("id_product")).collect();
        products.sort_unstable();
        products.dedup();
        if products.is_empty() {
            return Ok(0);
        }
        let fields = pair("display", "[id,id_product,reference]");
        let (combinations, used) = self
            .client
            .all("combinations", &[fields, pair("filter[id_product]", any_of(&products))])
            .await?;
        calls += used;
        let (parents, used) = self
            .client
            .all(
                "products",
                &[pair("display", "[id,reference]"), pair("filter[id]", any_of(&products))],
            )
            .await?;
        calls += used;
        for row in rows {
            let (Some(id), Some(product)) = (row.text_of("id"), row.text_of("id_product")) else {
                records.push(Err(no_id("stock_availables", offset, row)));
                continue;
            };
            let combination = row.text_of("id_product_attribute").unwrap_or("0");
            let reference = if combination == "0" {
                if combinations
                    .iter()
                    .any(|entry| entry.text_of("id_product") == Some(product))
                {
                    continue;
                }
                parents
                    .iter()
                    .find(|entry| entry.text_of("id") == Some(product))
                    .and_then(|entry| entry.text_of("reference"))
            } else {
                combinations
                    .iter()
                    .find(|entry| entry.text_of("id") == Some(combination))
                    .and_then(|entry| entry.text_of("reference"))
            };
            let Some(sku) = reference else {
                records.push(Err(RecordFailure::new(
                    id,
                    format!("GET /api/stock_availables/{id}"),
                    format!(
                        "the stock of product {product}{} has no reference (SKU) to be known by: give it one in \
                         PrestaShop (Catalog → Products), then resolve this dead letter",
                        if combination == "0" {
                            String::new()
                        } else {
                            format!(", combination {combination}")
                        }
                    ),
                    Value::String(row.to_xml()),
                )));
                continue;
            };
            records.push(Ok(SourceRecord {
                key: id.to_owned(),
                updated_at: None,
                data: mapping::stock_from_shop(row, sku, &self.warehouse),
            }));
        }
        Ok(calls)
    }
}

fn no_id(collection: &str, offset: usize, item: &Element) -> RecordFailure {
    RecordFailure::new(
        "(no id)",
        format!("GET /api/{collection} from {offset}"),
        "a record without <id>",
        Value::String(item.to_xml()),
    )
}

/// Option (attribute group) and value ids by name, for combinations.
#[derive(Debug, Default)]
struct Options {
    /// Lower-cased option name → id.
    groups: HashMap<String, String>,
    /// (option id, lower-cased value name) → value id.
    values: HashMap<(String, String), String>,
}

/// Writes products (with combinations), stock or customers, one record per call.
pub(crate) struct PrestaTarget {
    client: Client,
    entity: EntityKind,
    /// Lower-cased category name → id, loaded on the first product write.
    categories: Option<HashMap<String, String>>,
    options: Option<Options>,
    /// Country ISO code → id, loaded on the first address written.
    countries: Option<HashMap<String, String>>,
    /// What the shop holds for the records of the last batch, in canonical form.
    stored: HashMap<String, Value>,
}

/// The outcome of one record's calls: its id, or its failure; and the calls it took.
type ItemResult = (Result<String, ConnectorError>, u64);

impl PrestaTarget {
    pub(crate) fn new(client: Client, entity: EntityKind) -> PrestaTarget {
        PrestaTarget {
            client,
            entity,
            categories: None,
            options: None,
            countries: None,
            stored: HashMap::new(),
        }
    }

    /// The ids of categories by name, creating the missing ones under Home.
    async fn category_ids(&mut self, names: &[String]) -> Result<(Vec<String>, u64), ConnectorError> {
        let mut calls = 0;
        if names.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let language = self.client.language.clone();
        if self.categories.is_none() {
            let (all, listed) = self.client.all("categories", &[]).await?;
            calls += listed;
            self.categories = Some(
                all.iter()
                    .filter_map(|category| {
                        Some((
                            category.language_text("name", &language)?.to_lowercase(),
                            category.text_of("id")?.to_owned(),
                        ))
                    })
                    .collect(),
            );
        }
        let mut ids = Vec::new();
        for name in names {
            let Some(known) = self.categories.as_mut() else { break };
            if let Some(id) = known.get(&name.to_lowercase()) {
                ids.push(id.clone());
                continue;
            }
            let mut category = Element::new("category");
            category.set_text("id_parent", HOME_CATEGORY);
            category.set_text("active", "1");
            category.set_language_text("name", &language, name.clone());
            category.set_language_text("link_rewrite", &language, mapping::slug(name));
            calls += 1;
            let created = match self.client.post("categories", &category).await {
                Ok(created) => created,
                Err(error) => {
                    // It may have been created all the same: list the categories again next time.
                    self.categories = None;
                    return Err(error);
                }
            };
            let id = created.text_of("id").unwrap_or_default().to_owned();
            known.insert(name.to_lowercase(), id.clone());
            ids.push(id);
        }
        Ok((ids, calls))
    }

    /// Creates an option or option value; after a failure the next look-up lists them again,
    /// since the shop may have created it all the same.
    async fn post_option(&mut self, collection: &str, record: &Element) -> Result<Element, ConnectorError> {
        let created = self.client.post(collection, record).await;
        if created.is_err() {
            self.options = None;
        }
        created
    }

    /// The option value id of `option = value`, creating the option or the value when missing.
    async fn option_value(&mut self, option: &str, value: &str) -> Result<(String, u64), ConnectorError> {
        let language = self.client.language.clone();
        let mut calls = 0;
        if self.options.is_none() {
            let (groups, listed) = self.client.all("product_options", &[]).await?;
            calls += listed;
            let (values, listed) = self.client.all("product_option_values", &[]).await?;
            calls += listed;
            let mut options = Options::default();
            for group in &groups {
                if let (Some(id), Some(name)) = (group.text_of("id"), group.language_text("name", &language)) {
                    options.groups.insert(name.to_lowercase(), id.to_owned());
                }
            }
            for entry in &values {
                if let (Some(id), Some(group), Some(name)) = (
                    entry.text_of("id"),
                    entry.text_of("id_attribute_group"),
                    entry.language_text("name", &language),
                ) {
                    options
                        .values
                        .insert((group.to_owned(), name.to_lowercase()), id.to_owned());
                }
            }
            self.options = Some(options);
        }
        let group = match self
            .options
            .as_ref()
            .and_then(|options| options.groups.get(&option.to_lowercase()))
        {
            Some(id) => id.clone(),
            None => {
                let mut record = Element::new("product_option");
                record.set_text("group_type", "select");
                record.set_language_text("name", &language, option);
                record.set_language_text("public_name", &language, option);
                let created = self.post_option("product_options", &record).await?;
                calls += 1;
                let id = created.text_of("id").unwrap_or_default().to_owned();
                if let Some(options) = self.options.as_mut() {
                    options.groups.insert(option.to_lowercase(), id.clone());
                }
                id
            }
        };
        let key = (group.clone(), value.to_lowercase());
        if let Some(id) = self.options.as_ref().and_then(|options| options.values.get(&key)) {
            return Ok((id.clone(), calls));
        }
        let mut record = Element::new("product_option_value");
        record.set_text("id_attribute_group", group);
        record.set_language_text("name", &language, value);
        let created = self.post_option("product_option_values", &record).await?;
        calls += 1;
        let id = created.text_of("id").unwrap_or_default().to_owned();
        if let Some(options) = self.options.as_mut() {
            options.values.insert(key, id.clone());
        }
        Ok((id, calls))
    }

    /// Creates or replaces one product, then its combinations.
    async fn write_product(&mut self, item: &WriteItem) -> ItemResult {
        let mut calls = 0;
        let names: Vec<String> = item
            .payload
            .get("categories")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let category_ids = match self.category_ids(&names).await {
            Ok((ids, used)) => {
                calls += used;
                ids
            }
            Err(error) => return (Err(error), calls),
        };
        let language = self.client.language.clone();
        let sku = mapping::payload_text(&item.payload, "sku").unwrap_or_else(|| "?".to_owned());
        let written = match &item.target_id {
            Some(id) => {
                // A PUT replaces the whole record: start from what the shop holds now.
                let current = self.client.record("products", "product", id).await;
                calls += 1;
                let mut record = match current {
                    Ok(Some(record)) => record,
                    Ok(None) => {
                        return (
                            Err(ConnectorError::new(
                                ErrorKind::Invalid,
                                format!(
                                    "product {sku}: the shop has no product {id} any more (deleted?): \
                                         resolve its link so it is created again"
                                ),
                            )),
                            calls,
                        )
                    }
                    Err(error) => return (Err(error), calls),
                };
                mapping::strip_read_only(&mut record, &schema::PRODUCTS);
                mapping::product_to_shop(&mut record, &item.payload, &language, &category_ids);
                calls += 1;
                self.client.put("products", id, &record).await
            }
            None => {
                let mut record = Element::new("product");
                record.set_text("state", "1");
                mapping::product_to_shop(&mut record, &item.payload, &language, &category_ids);
                if record.text_of("price").is_none() {
                    record.set_text("price", "0.000000");
                }
                calls += 1;
                self.client.post("products", &record).await
            }
        };
        let stored = match written {
            Ok(stored) => stored,
            Err(error) => return (Err(prefixed(error, &format!("product {sku}"))), calls),
        };
        let Some(id) = stored.text_of("id").map(str::to_owned) else {
            return (
                Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!("product {sku}: the shop's answer has no id"),
                )),
                calls,
            );
        };
        let variants = item
            .payload
            .get("variants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if variants.is_empty() {
            return (Ok(id), calls);
        }
        let product_price = mapping::decimal(&stored, "price").unwrap_or_default();
        match self.write_combinations(&id, product_price, &variants).await {
            (Ok(()), used) => (Ok(id), calls + used),
            (Err(error), used) => (
                Err(ConnectorError {
                    message: format!("product {sku} written as {id}, its combinations not: {}", error.message),
                    ..error
                }),
                calls + used,
            ),
        }
    }

    /// Creates or replaces a product's combinations, matched by reference.
    async fn write_combinations(
        &mut self,
        product: &str,
        product_price: Decimal,
        variants: &[Value],
    ) -> (Result<(), ConnectorError>, u64) {
        let mut calls = 0;
        let existing = match self
            .client
            .all("combinations", &[pair("filter[id_product]", format!("[{product}]"))])
            .await
        {
            Ok((existing, used)) => {
                calls += used;
                existing
            }
            Err(error) => return (Err(error), calls),
        };
        for variant in variants {
            let Some(sku) = mapping::payload_text(variant, "sku") else {
                continue;
            };
            let mut value_ids = Vec::new();
            if let Some(Value::Object(attributes)) = variant.get("attributes") {
                for (option, value) in attributes {
                    let Some(value) = value.as_str() else { continue };
                    match self.option_value(option, value).await {
                        Ok((id, used)) => {
                            calls += used;
                            value_ids.push(id);
                        }
                        Err(error) => return (Err(error), calls),
                    }
                }
            }
            let current = existing
                .iter()
                .find(|combination| combination.text_of("reference") == Some(sku.as_str()));
            let mut record = current.cloned().unwrap_or_else(|| Element::new("combination"));
            mapping::strip_read_only(&mut record, &schema::COMBINATIONS);
            record.set_text("id_product", product);
            record.set_text("reference", sku.clone());
            if let Some(ean) = mapping::payload_text(variant, "ean") {
                record.set_text("ean13", ean);
            }
            if record.text_of("minimal_quantity").is_none() {
                record.set_text("minimal_quantity", "1");
            }
            if let Some(price) = mapping::net_price(variant, None) {
                record.set_text("price", mapping::shop_decimal(price - product_price));
            }
            let mut list = Element::new("product_option_values");
            for id in &value_ids {
                list.children
                    .push(Element::new("product_option_value").with_child(Element::leaf("id", id.clone())));
            }
            record.remove("associations");
            record.children.push(Element::new("associations").with_child(list));
            calls += 1;
            let result = match current.and_then(|current| current.text_of("id")) {
                Some(id) => self.client.put("combinations", id, &record).await,
                None => self.client.post("combinations", &record).await,
            };
            if let Err(error) = result {
                return (Err(prefixed(error, &format!("combination {sku}"))), calls);
            }
        }
        (Ok(()), calls)
    }

    async fn write_customer(&mut self, item: &WriteItem) -> ItemResult {
        let email = mapping::payload_text(&item.payload, "email").unwrap_or_else(|| "?".to_owned());
        let mut calls = 0;
        let written = match &item.target_id {
            Some(id) => {
                let current = self.client.record("customers", "customer", id).await;
                calls += 1;
                let mut record = match current {
                    Ok(Some(record)) => record,
                    Ok(None) => {
                        return (
                            Err(ConnectorError::new(
                                ErrorKind::Invalid,
                                format!("customer {email}: the shop has no customer {id} any more (deleted?)"),
                            )),
                            calls,
                        )
                    }
                    Err(error) => return (Err(error), calls),
                };
                mapping::strip_read_only(&mut record, &schema::CUSTOMERS);
                mapping::customer_to_shop(&mut record, &item.payload);
                calls += 1;
                self.client.put("customers", id, &record).await
            }
            None => {
                let mut record = Element::new("customer");
                // PrestaShop requires a password; the customer sets their own with "forgot password".
                let password: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(24)
                    .map(char::from)
                    .collect();
                record.set_text("passwd", password);
                record.set_text("id_default_group", "3");
                mapping::customer_to_shop(&mut record, &item.payload);
                calls += 1;
                self.client.post("customers", &record).await
            }
        };
        let stored = match written {
            Ok(stored) => stored,
            Err(error) => return (Err(prefixed(error, &format!("customer {email}"))), calls),
        };
        let Some(id) = stored.text_of("id").map(str::to_owned) else {
            return (
                Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!("customer {email}: the shop's answer has no id"),
                )),
                calls,
            );
        };
        let address = match item.payload.get("billing").filter(|billing| billing.is_object()) {
            Some(billing) => match self.write_address(&id, &stored, &item.payload, billing).await {
                (Ok(address), used) => {
                    calls += used;
                    address
                }
                (Err(error), used) => {
                    return (
                        Err(ConnectorError {
                            message: format!("customer {email} written as {id}, its address not: {}", error.message),
                            ..error
                        }),
                        calls + used,
                    )
                }
            },
            None => None,
        };
        let addresses: Vec<&Element> = address.iter().collect();
        let catalog = Catalog {
            countries: self
                .countries
                .iter()
                .flatten()
                .map(|(iso, id)| (id.clone(), iso.clone()))
                .collect(),
            ..Catalog::default()
        };
        self.stored
            .insert(id.clone(), mapping::customer_from_shop(&stored, &addresses, &catalog));
        (Ok(id), calls)
    }

    /// Creates or replaces a customer's address from its canonical billing address: the first
    /// address the customer has is replaced whole, else one is created. An address PrestaShop
    /// cannot take (no street, city or known country) is left alone: `None`.
    async fn write_address(
        &mut self,
        customer_id: &str,
        customer: &Element,
        payload: &Value,
        billing: &Value,
    ) -> (Result<Option<Element>, ConnectorError>, u64) {
        let mut calls = 0;
        if self.countries.is_none() {
            match self.client.all("countries", &[pair("display", "[id,iso_code]")]).await {
                Ok((countries, used)) => {
                    calls += used;
                    self.countries = Some(
                        countries
                            .iter()
                            .filter_map(|country| {
                                Some((
                                    country.text_of("iso_code")?.to_uppercase(),
                                    country.text_of("id")?.to_owned(),
                                ))
                            })
                            .collect(),
                    );
                }
                Err(error) => return (Err(error), calls),
            }
        }
        let country = mapping::payload_text(billing, "country")
            .and_then(|iso| self.countries.as_ref()?.get(&iso.to_uppercase()).cloned());
        let (Some(line1), Some(city), Some(country)) = (
            mapping::payload_text(billing, "line1"),
            mapping::payload_text(billing, "city"),
            country,
        ) else {
            return (Ok(None), calls);
        };
        let existing = match self
            .client
            .all("addresses", &[pair("filter[id_customer]", format!("[{customer_id}]"))])
            .await
        {
            Ok((existing, used)) => {
                calls += used;
                existing
            }
            Err(error) => return (Err(error), calls),
        };
        let current = existing
            .into_iter()
            .find(|address| address.text_of("deleted") != Some("1"));
        let mut record = current.clone().unwrap_or_else(|| Element::new("address"));
        mapping::strip_read_only(&mut record, &schema::ADDRESSES);
        record.set_text("id_customer", customer_id);
        record.set_text("id_country", country);
        if record.text_of("alias").is_none() {
            record.set_text("alias", "Tiltas");
        }
        let (first, last) = match mapping::payload_text(billing, "name")
            .as_deref()
            .and_then(|name| name.split_once(' '))
        {
            Some((first, last)) => (first.to_owned(), last.to_owned()),
            None => (
                customer.text_of("firstname").unwrap_or("-").to_owned(),
                customer.text_of("lastname").unwrap_or("-").to_owned(),
            ),
        };
        record.set_text("firstname", first);
        record.set_text("lastname", last);
        record.set_text("address1", line1);
        record.set_text("city", city);
        for (canonical, shop) in [
            ("line2", "address2"),
            ("postcode", "postcode"),
            ("company", "company"),
            ("phone", "phone"),
        ] {
            if let Some(value) = mapping::payload_text(billing, canonical) {
                record.set_text(shop, value);
            }
        }
        if let Some(vat) = mapping::payload_text(payload, "vat_code") {
            record.set_text("vat_number", vat);
        }
        calls += 1;
        let written = match current.as_ref().and_then(|current| current.text_of("id")) {
            Some(id) => self.client.put("addresses", id, &record).await,
            None => self.client.post("addresses", &record).await,
        };
        (written.map(Some), calls)
    }

    async fn write_stock(&mut self, items: &[WriteItem]) -> Result<BatchResult, ConnectorError> {
        let mut api_calls = 0;
        let unlinked: Vec<String> = items
            .iter()
            .filter(|item| item.target_id.is_none())
            .filter_map(|item| mapping::payload_text(&item.payload, "sku"))
            .collect();
        let found = if unlinked.is_empty() {
            Lookup::default()
        } else {
            self.lookup(Some("sku"), &unlinked).await?
        };
        api_calls += found.api_calls;
        // (item index, product id, combination id) of the items that can be written.
        let mut targets = Vec::new();
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        for (index, item) in items.iter().enumerate() {
            let sku = mapping::payload_text(&item.payload, "sku").unwrap_or_default();
            let target = item
                .target_id
                .clone()
                .or_else(|| found.found.get(&sku).map(|record| record.target_id.clone()));
            match target {
                Some(target) => {
                    let (product, combination) = match target.split_once('/') {
                        Some((product, combination)) => (product.to_owned(), combination.to_owned()),
                        None => (target.clone(), "0".to_owned()),
                    };
                    targets.push((index, product, combination));
                }
                None => {
                    outcomes[index] = Some(WriteOutcome::Failed(ConnectorError::new(
                        ErrorKind::Invalid,
                        format!("stock of {sku}: the shop has no product or combination with this reference: sync products first"),
                    )))
                }
            }
        }
        let mut products: Vec<&str> = targets.iter().map(|(_, product, _)| product.as_str()).collect();
        products.sort_unstable();
        products.dedup();
        let rows = if products.is_empty() {
            Vec::new()
        } else {
            let (rows, calls) = self
                .client
                .all("stock_availables", &[pair("filter[id_product]", any_of(&products))])
                .await?;
            api_calls += calls;
            rows
        };
        for (index, product, combination) in &targets {
            let item = &items[*index];
            let sku = mapping::payload_text(&item.payload, "sku").unwrap_or_default();
            let available = mapping::payload_decimal(&item.payload, "available").or_else(|| {
                Some(
                    mapping::payload_decimal(&item.payload, "on_hand")?
                        - mapping::payload_decimal(&item.payload, "reserved").unwrap_or_default(),
                )
            });
            let Some(quantity) = available.and_then(|quantity| quantity.floor().to_i64()) else {
                outcomes[*index] = Some(WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!("stock of {sku}: neither `available` nor `on_hand` is a number"),
                )));
                continue;
            };
            let row = rows.iter().find(|row| {
                row.text_of("id_product") == Some(product.as_str())
                    && row.text_of("id_product_attribute").unwrap_or("0") == combination
            });
            let (Some(row), Some(row_id)) = (row, row.and_then(|row| row.text_of("id"))) else {
                outcomes[*index] = Some(WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!(
                        "stock of {sku}: product {product} has no stock_availables row for combination {combination}"
                    ),
                )));
                continue;
            };
            let mut record = row.clone();
            mapping::strip_read_only(&mut record, &schema::STOCK_AVAILABLES);
            record.set_text("quantity", quantity.to_string());
            api_calls += 1;
            let target_id = if combination == "0" {
                product.clone()
            } else {
                format!("{product}/{combination}")
            };
            outcomes[*index] = Some(match self.client.put("stock_availables", row_id, &record).await {
                Ok(_) => WriteOutcome::Written { target_id },
                Err(error) if matches!(error.kind, ErrorKind::Auth | ErrorKind::Quota) => return Err(error),
                Err(error) => WriteOutcome::Failed(prefixed(error, &format!("stock of {sku}"))),
            });
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
}

/// The same failure, its message starting with the record it is about.
fn prefixed(error: ConnectorError, what: &str) -> ConnectorError {
    ConnectorError {
        message: format!("{what}: {}", error.message),
        ..error
    }
}

#[async_trait]
impl Target for PrestaTarget {
    fn max_batch(&self) -> usize {
        BATCH
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut lookup = Lookup::default();
        match (self.entity, match_on) {
            (EntityKind::Customer, None | Some("email")) => {
                let lower: HashMap<String, &String> = keys.iter().map(|key| (key.to_lowercase(), key)).collect();
                for chunk in keys.chunks(KEYS_PER_LOOKUP) {
                    let (customers, calls) = self
                        .client
                        .all("customers", &[pair("filter[email]", any_of(chunk))])
                        .await?;
                    lookup.api_calls += calls;
                    for customer in &customers {
                        let email = customer.text_of("email").unwrap_or_default().to_lowercase();
                        if let (Some(key), Some(id)) = (lower.get(&email), customer.text_of("id")) {
                            lookup.found.insert(
                                (*key).clone(),
                                FoundRecord {
                                    target_id: id.to_owned(),
                                    data: Some(mapping::customer_from_shop(customer, &[], &Catalog::default())),
                                },
                            );
                        }
                    }
                }
            }
            (EntityKind::Product | EntityKind::Stock, None | Some("sku")) => {
                for chunk in keys.chunks(KEYS_PER_LOOKUP) {
                    let (products, calls) = self
                        .client
                        .all("products", &[pair("filter[reference]", any_of(chunk))])
                        .await?;
                    lookup.api_calls += calls;
                    for product in &products {
                        let (Some(sku), Some(id)) = (product.text_of("reference"), product.text_of("id")) else {
                            continue;
                        };
                        if chunk.iter().any(|key| key == sku) {
                            lookup.found.insert(
                                sku.to_owned(),
                                FoundRecord {
                                    target_id: id.to_owned(),
                                    data: None,
                                },
                            );
                        }
                    }
                    if self.entity == EntityKind::Stock {
                        let missing: Vec<&String> =
                            chunk.iter().filter(|key| !lookup.found.contains_key(*key)).collect();
                        if missing.is_empty() {
                            continue;
                        }
                        let (combinations, calls) = self
                            .client
                            .all("combinations", &[pair("filter[reference]", any_of(&missing))])
                            .await?;
                        lookup.api_calls += calls;
                        for combination in &combinations {
                            if let (Some(sku), Some(id), Some(product)) = (
                                combination.text_of("reference"),
                                combination.text_of("id"),
                                combination.text_of("id_product"),
                            ) {
                                lookup.found.insert(
                                    sku.to_owned(),
                                    FoundRecord {
                                        target_id: format!("{product}/{id}"),
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
                        "PrestaShop cannot find {entity} by {}: use match_on = \"{}\"",
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
        if self.entity == EntityKind::Stock {
            return self.write_stock(&items).await;
        }
        let mut outcomes = Vec::with_capacity(items.len());
        let mut api_calls = 0;
        for item in &items {
            let (result, calls) = match self.entity {
                EntityKind::Product => self.write_product(item).await,
                EntityKind::Customer => self.write_customer(item).await,
                other => {
                    return Err(ConnectorError::new(
                        ErrorKind::Fatal,
                        format!("the prestashop connector does not write {other}"),
                    ))
                }
            };
            api_calls += calls;
            outcomes.push(match result {
                Ok(target_id) => WriteOutcome::Written { target_id },
                // A refused key or a spent budget refuses every record alike: stop the run
                // rather than dead-letter each one.
                Err(error) if matches!(error.kind, ErrorKind::Auth | ErrorKind::Quota) => return Err(error),
                Err(error) => WriteOutcome::Failed(error),
            });
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
