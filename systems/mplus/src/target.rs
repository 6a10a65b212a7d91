//! Writing to MplusKASSA: articles with `createProduct`/`updateProduct` (an article number is
//! digits only), relations with `createRelation`/`updateRelation`; look-ups with `getProducts`
//! by article numbers and `findRelation` by `extRelationId` (or e-mail). Neither operation
//! takes an `idempotencyKey` in the official WSDL (only the V3 sales operations do), so a
//! write that may have happened is verified by these look-ups — and a create of an article
//! that already exists becomes its update. Stock levels are set with `setStock` (absolute).
use crate::client::Client;
use crate::prices;
use crate::source;
use crate::wire;
use async_trait::async_trait;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use tiltas_connector::soap::Element;
use tiltas_connector::{
    Backoff, BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome,
};

/// Items per batch: the Q-API writes one record a call, so this only bounds a batch's look-up.
const MAX_BATCH: usize = 50;

/// What a target writes.
pub(crate) enum Writing {
    /// Articles; `keep_digits`: a SKU with other characters is numbered by its digits.
    Products { keep_digits: bool },
    /// Relations.
    Relations,
    /// Stock levels (`setStock`: absolute, so a repeated write changes nothing); the branch
    /// when a record names no warehouse.
    Stock {
        keep_digits: bool,
        branch: i64,
        sends_available: bool,
    },
    /// B2B price lists as the articles' prices in a price group ([`crate::prices`]).
    PriceLists { keep_digits: bool },
}

/// A target on a MplusKASSA connection.
pub(crate) struct MplusTarget {
    pub(crate) client: Client,
    pub(crate) writing: Writing,
}

/// Failures no other record of the batch would escape (credentials, quota, a wrong endpoint).
fn stops_the_batch(error: &ConnectorError) -> bool {
    matches!(error.kind, ErrorKind::Auth | ErrorKind::Fatal | ErrorKind::Quota)
}

pub(crate) fn invalid(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, message)
}

pub(crate) fn string(payload: &Value, field: &str) -> Option<String> {
    match payload.get(field)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

pub(crate) fn decimal(payload: &Value, field: &str) -> Result<Option<Decimal>, ConnectorError> {
    let Some(text) = string(payload, field) else {
        return Ok(None);
    };
    Decimal::from_str(&text)
        .map(Some)
        .map_err(|_| invalid(format!("{field} \"{text}\" is not a number")).at_field(field))
}

fn cents(payload: &Value, field: &str) -> Result<Option<String>, ConnectorError> {
    match decimal(payload, field)? {
        None => Ok(None),
        Some(amount) => wire::to_cents(amount)
            .map(|cents| Some(cents.to_string()))
            .ok_or_else(|| invalid(format!("{field} {amount} is too large for MplusKASSA")).at_field(field)),
    }
}

impl MplusTarget {
    /// The article number a SKU is written as, or why it cannot be one (naming the fix).
    fn article_number(&self, sku: &str) -> Result<i64, String> {
        let keep_digits = matches!(
            self.writing,
            Writing::Products { keep_digits: true }
                | Writing::Stock { keep_digits: true, .. }
                | Writing::PriceLists { keep_digits: true }
        );
        let numbered = if keep_digits {
            wire::digits_of(sku)
        } else {
            wire::article_number(sku)
        };
        numbered.map_err(|reason| {
            format!(
                "{reason}: give the product a numeric SKU in the source, map `sku` to digits in the flow, \
                 or set sku_digits = \"keep_digits\" on the MplusKASSA connection"
            )
        })
    }

    /// The articles of these numbers: number → (productNumber, extArticleId, canonical product).
    async fn articles(&self, numbers: &[i64]) -> Result<HashMap<i64, (String, Option<String>, Value)>, ConnectorError> {
        let mut found = HashMap::new();
        if numbers.is_empty() {
            return Ok(found);
        }
        let mut query = Element::new("request");
        for number in numbers {
            query = query.with_child(Element::leaf("articleNumbers", number.to_string()));
        }
        let query = query.with_child(Element::new("pluNumbers"));
        let answer = self.client.call(&Element::new("getProducts").with_child(query)).await?;
        let products = answer
            .child("productList")
            .into_iter()
            .flat_map(|list| list.children_named("product"));
        for product in products {
            let product_number = product
                .child_text("productNumber")
                .unwrap_or_default()
                .trim()
                .to_string();
            for article in product
                .child("articleList")
                .into_iter()
                .flat_map(|list| list.children_named("article"))
            {
                let Some(number) = article
                    .child_text("articleNumber")
                    .and_then(|text| text.trim().parse().ok())
                else {
                    continue;
                };
                let ext = article
                    .child_text("extArticleId")
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string);
                if let Ok(record) = source::product(product, article) {
                    found.insert(number, (product_number.clone(), ext, record.data));
                }
            }
        }
        Ok(found)
    }

    fn article(&self, number: i64, sku: &str, payload: &Value) -> Result<Element, ConnectorError> {
        let mut article = Element::new("article").with_child(Element::leaf("articleNumber", number.to_string()));
        if sku != number.to_string() {
            article = article.with_child(Element::leaf("extArticleId", sku));
        }
        if let Some(active) = payload.get("active").and_then(Value::as_bool) {
            article = article.with_child(Element::leaf("active", active.to_string()));
        }
        if let Some(name) = string(payload, "name") {
            article = article.with_child(Element::leaf("description", name));
        }
        if let Some(ean) = string(payload, "ean") {
            article = article.with_child(Element::leaf("barcode", ean));
        }
        if let Some(brand) = string(payload, "brand") {
            article = article.with_child(Element::leaf("brandName", brand));
        }
        if let Some(rate) = decimal(payload, "vat_rate")? {
            let whole = rate.trunc();
            if whole != rate {
                return Err(invalid(format!(
                    "vat_rate {rate} is not a whole percentage, as MplusKASSA keeps VAT"
                ))
                .at_field("vat_rate"));
            }
            article = article.with_child(Element::leaf("vatPercentage", whole.to_string()));
        }
        if let Some(gross) = cents(payload, "price_gross")? {
            article = article.with_child(Element::leaf("priceIncl", gross));
        }
        if let Some(net) = cents(payload, "price_net")? {
            article = article.with_child(Element::leaf("priceExcl", net));
        }
        if let Some(unit) = string(payload, "unit") {
            article = article.with_child(Element::leaf("unit", unit));
        }
        Ok(article)
    }

    async fn write_products(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let numbered: Vec<Result<(String, i64), ConnectorError>> = items
            .iter()
            .map(|item| {
                let sku =
                    string(&item.payload, "sku").ok_or_else(|| invalid("the product has no SKU").at_field("sku"))?;
                let number = self
                    .article_number(&sku)
                    .map_err(|message| invalid(message).at_field("sku"))?;
                Ok((sku, number))
            })
            .collect();
        let numbers: Vec<i64> = numbered
            .iter()
            .filter_map(|n| n.as_ref().ok().map(|(_, number)| *number))
            .collect();
        // Creates and updates alike: an article that exists (a create that went through before
        // its answer was lost) is updated, never created twice.
        let existing = self.articles(&numbers).await?;
        let mut api_calls = u64::from(!numbers.is_empty());
        let mut outcomes = Vec::with_capacity(items.len());
        for (item, numbered) in items.iter().zip(numbered) {
            let (sku, number) = match numbered {
                Ok(numbered) => numbered,
                Err(error) => {
                    outcomes.push(WriteOutcome::Failed(error));
                    continue;
                }
            };
            let outcome = async {
                let article = self.article(number, &sku, &item.payload)?;
                let (operation, product) = match existing.get(&number) {
                    Some((_, Some(ext), _)) if *ext != sku => {
                        return Err(invalid(format!(
                            "article {number} already belongs to SKU \"{ext}\", so SKU \"{sku}\" cannot be numbered {number}: \
                             give one of them another SKU"
                        ))
                        .at_field("sku"))
                    }
                    Some((product_number, _, _)) => (
                        "updateProduct",
                        Element::new("product").with_child(Element::leaf("productNumber", product_number.clone())),
                    ),
                    None => ("createProduct", Element::new("product")),
                };
                let mut product = product;
                if let Some(name) = string(&item.payload, "name") {
                    product = product.with_child(Element::leaf("description", name));
                }
                if let Some(long) = string(&item.payload, "long_description") {
                    product = product.with_child(Element::leaf("extraText", long));
                }
                let product = product.with_child(Element::new("articleList").with_child(article));
                api_calls += 1;
                let answer = self.client.call(&Element::new(operation).with_child(product)).await?;
                let result = answer.child_text("result").unwrap_or_default().trim().to_string();
                if result.ends_with("-RESULT-OK") {
                    return Ok(number.to_string());
                }
                let message = answer.child_text("errorMessage").unwrap_or_default().trim().to_string();
                Err(invalid(format!("{operation} of SKU \"{sku}\" (article {number}) answered {result}: {message}")))
            }
            .await;
            outcomes.push(match outcome {
                Ok(target_id) => WriteOutcome::Written { target_id },
                Err(error) if stops_the_batch(&error) => return Err(error),
                // Each record is its own call: a transient failure is this record's, and the
                // engine verifies and retries it alone.
                Err(error) => WriteOutcome::Failed(error),
            });
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn write_stock(
        &mut self,
        items: Vec<WriteItem>,
        default_branch: i64,
        sends_available: bool,
    ) -> Result<BatchResult, ConnectorError> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut api_calls = 0;
        for item in &items {
            let outcome = async {
                let sku = string(&item.payload, "sku").ok_or_else(|| invalid("the stock level has no SKU").at_field("sku"))?;
                let article = self.article_number(&sku).map_err(|message| invalid(message).at_field("sku"))?;
                let branch = match string(&item.payload, "warehouse") {
                    None => default_branch,
                    Some(warehouse) => warehouse.parse::<i64>().map_err(|_| {
                        invalid(format!(
                            "warehouse \"{warehouse}\" is not a MplusKASSA branch number: map `warehouse` to the branch's number in the flow"
                        ))
                        .at_field("warehouse")
                    })?,
                };
                let on_hand = decimal(&item.payload, "on_hand")?
                    .ok_or_else(|| invalid("the stock level has no on_hand").at_field("on_hand"))?;
                // `stock = "available"`: what can be sold, on hand less what is reserved.
                let on_hand = if sends_available {
                    match decimal(&item.payload, "available")? {
                        Some(available) => available,
                        None => on_hand - decimal(&item.payload, "reserved")?.unwrap_or_default(),
                    }
                } else {
                    on_hand
                }
                .normalize();
                let amount = i64::try_from(on_hand.mantissa())
                    .map_err(|_| invalid(format!("stock {on_hand} is too large for MplusKASSA")).at_field("on_hand"))?;
                let request = Element::new("request")
                    .with_child(Element::leaf("branchNumber", branch.to_string()))
                    .with_child(Element::leaf("articleNumber", article.to_string()))
                    .with_child(Element::leaf("amount", amount.to_string()))
                    .with_child(Element::leaf("decimalPlaces", on_hand.scale().to_string()));
                api_calls += 1;
                let answer = self.client.call(&Element::new("setStock").with_child(request)).await?;
                let result = answer.child_text("result").unwrap_or_default().trim().to_string();
                match result.as_str() {
                    "SET-STOCK-RESULT-OK" => Ok(format!("{article}@{branch}")),
                    "SET-STOCK-RESULT-ARTICLE-NOT-FOUND" | "SET-STOCK-RESULT-NO-STOCK-ARTICLE" => Err(invalid(format!(
                        "setStock of SKU \"{sku}\" in branch {branch} answered {result}: article {article} is not a stock \
                         article in MplusKASSA; write the product first (or make it a stock article)"
                    ))
                    .at_field("sku")),
                    _ => Err(invalid(format!("setStock of SKU \"{sku}\" in branch {branch} answered {result}"))),
                }
            }
            .await;
            outcomes.push(match outcome {
                Ok(target_id) => WriteOutcome::Written { target_id },
                Err(error) if stops_the_batch(&error) => return Err(error),
                Err(error) => WriteOutcome::Failed(error),
            });
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    /// Price lists, each to its price group; `getPriceGroupList` once a batch.
    async fn write_price_lists(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let groups = prices::price_groups(&self.client).await?;
        let mut api_calls = 1;
        let mut outcomes = Vec::with_capacity(items.len());
        let article_number = |sku: &str| self.article_number(sku);
        for item in &items {
            let outcome = match prices::group_of(&item.payload, &groups) {
                Err(error) => Err(error),
                Ok(group) => {
                    match prices::write_list(&self.client, &article_number, &item.payload, group, &mut api_calls).await
                    {
                        Ok(Ok(())) => Ok(group.to_string()),
                        Ok(Err(refused)) => Err(refused),
                        Err(error) => Err(error),
                    }
                }
            };
            outcomes.push(match outcome {
                Ok(target_id) => WriteOutcome::Written { target_id },
                Err(error) if stops_the_batch(&error) => return Err(error),
                // The list's calls set absolute values: the engine retries it alone.
                Err(error) => WriteOutcome::Failed(error),
            });
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    fn relation(number: Option<&str>, payload: &Value) -> Element {
        let mut relation = Element::new("relation");
        let mut leaf = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                relation.children.push(Element::leaf(name, value));
            }
        };
        let address = |field: &str, part: &str| payload.get(field).and_then(|address| string(address, part));
        leaf("relationNumber", number.map(str::to_string));
        leaf("extRelationId", string(payload, "code"));
        // A company is a relation named by the company with the person as its contact; a
        // person is a relation named by the person.
        let company = string(payload, "company_name");
        let person = string(payload, "name").or_else(|| {
            let parts: Vec<String> = ["first_name", "last_name"]
                .iter()
                .filter_map(|field| string(payload, field))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        let contact = company
            .as_ref()
            .and(person.clone())
            .filter(|person| Some(person) != company.as_ref());
        leaf("name", company.clone().or(person));
        leaf("address", address("billing", "line1"));
        leaf("zipcode", address("billing", "postcode"));
        leaf("city", address("billing", "city"));
        leaf("country", address("billing", "country"));
        leaf("deliveryAddress", address("shipping", "line1"));
        leaf("deliveryZipcode", address("shipping", "postcode"));
        leaf("deliveryCity", address("shipping", "city"));
        leaf("deliveryCountry", address("shipping", "country"));
        leaf("contact", contact);
        leaf("telephone", string(payload, "phone"));
        leaf("email", string(payload, "email"));
        leaf(
            "categoryId",
            string(payload, "group").filter(|group| group.bytes().all(|b| b.is_ascii_digit())),
        );
        leaf("vatNumber", string(payload, "vat_code"));
        leaf("commerceNumber", string(payload, "company_code"));
        leaf("companyName", string(payload, "company_name"));
        relation
    }

    async fn write_relations(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut api_calls = 0;
        for item in &items {
            let (operation, number_field) = match item.target_id {
                Some(_) => ("updateRelation", None),
                None => ("createRelation", Some("relationNumber")),
            };
            let relation = Self::relation(item.target_id.as_deref(), &item.payload);
            api_calls += 1;
            let answer = match self.client.call(&Element::new(operation).with_child(relation)).await {
                Ok(answer) => answer,
                Err(error) if stops_the_batch(&error) => return Err(error),
                Err(error) => {
                    outcomes.push(WriteOutcome::Failed(error));
                    continue;
                }
            };
            let result = answer.child_text("result").unwrap_or_default().trim().to_string();
            if !result.ends_with("-RESULT-OK") {
                let message = answer.child_text("errorMessage").unwrap_or_default().trim().to_string();
                outcomes.push(WriteOutcome::Failed(invalid(format!(
                    "{operation} of customer \"{}\" answered {result}: {message}",
                    item.source_key
                ))));
                continue;
            }
            let target_id = match number_field {
                None => item.target_id.clone().unwrap_or_default(),
                Some(field) => answer.child_text(field).unwrap_or_default().trim().to_string(),
            };
            outcomes.push(WriteOutcome::Written { target_id });
        }
        Ok(BatchResult { outcomes, api_calls })
    }
}

#[async_trait]
impl Target for MplusTarget {
    fn max_batch(&self) -> usize {
        MAX_BATCH
    }

    fn can_lookup(&self) -> bool {
        // A stock level or a group's prices are set, not created: there is nothing to adopt.
        !matches!(self.writing, Writing::Stock { .. } | Writing::PriceLists { .. })
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut lookup = Lookup::default();
        match self.writing {
            Writing::Products { .. } => {
                let numbered: Vec<(&String, i64)> = keys
                    .iter()
                    .filter_map(|key| Some((key, self.article_number(key).ok()?)))
                    .collect();
                let numbers: Vec<i64> = numbered.iter().map(|(_, number)| *number).collect();
                let found = self.articles(&numbers).await?;
                lookup.api_calls = u64::from(!numbers.is_empty());
                for (key, number) in numbered {
                    if let Some((_, ext, data)) = found.get(&number) {
                        if ext.as_ref().is_none_or(|ext| ext == key) {
                            lookup.found.insert(
                                key.clone(),
                                FoundRecord {
                                    target_id: number.to_string(),
                                    data: Some(data.clone()),
                                },
                            );
                        }
                    }
                }
            }
            Writing::Stock { .. } | Writing::PriceLists { .. } => {}
            Writing::Relations => {
                let field = if match_on == Some("email") {
                    "email"
                } else {
                    "extRelationId"
                };
                for key in keys {
                    let relation = Element::new("relation").with_child(Element::leaf(field, key.clone()));
                    // One call per key: each is retried here, so that one failing call does not
                    // cost the engine a retry of the whole look-up.
                    let call = Element::new("findRelation").with_child(relation);
                    let mut calls = 0;
                    let answer = Backoff::new()
                        .retry(|| {
                            calls += 1;
                            self.client.call(&call)
                        })
                        .await;
                    lookup.api_calls += calls;
                    let answer = answer?;
                    if answer.child_text("result").map(str::trim) != Some("FIND-RELATION-RESULT-OK") {
                        continue;
                    }
                    let Some(relation) = answer.child("relation") else {
                        continue;
                    };
                    let Some(number) = relation.child_text("relationNumber") else {
                        continue;
                    };
                    lookup.found.insert(
                        key.clone(),
                        FoundRecord {
                            target_id: number.trim().to_string(),
                            data: source::customer(relation).ok().map(|record| record.data),
                        },
                    );
                }
            }
        }
        Ok(lookup)
    }

    fn precheck(&self, payload: &Value) -> Result<(), String> {
        if let Writing::Products { .. } | Writing::Stock { .. } = self.writing {
            if let Some(sku) = string(payload, "sku") {
                self.article_number(&sku)?;
            }
        }
        Ok(())
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        match self.writing {
            Writing::Products { .. } => self.write_products(items).await,
            Writing::Relations => self.write_relations(items).await,
            Writing::Stock {
                branch,
                sends_available,
                ..
            } => self.write_stock(items, branch, sends_available).await,
            Writing::PriceLists { .. } => self.write_price_lists(items).await,
        }
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
