//! The order pipeline (DESIGN §2, "Order flows"): before orders are written to an accounting
//! target, each buyer is found there by the configured customer field, created when missing —
//! a company debtor (with its contact's name) when the order names a company, else a person —
//! or replaced by the flow's `default_customer`; and every line's product must exist there
//! (or is created with `create_missing_products`). An order that cannot be completed is not
//! sent: its message says which customer or product is missing and how to fix it.
//!
//! Found codes are remembered for the run, so a page of orders from returning buyers costs one
//! look-up call, not one per order.
use crate::deliver;
use crate::problem::Problem;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use tiltas_config::{Flow, OrderRules};
use tiltas_connector::{ConnectorError, Target, WriteItem, WriteOutcome};
use tiltas_mapping::FieldPath;
use tiltas_model::EntityKind;
use tracing::Instrument as _;

/// The customer and product side of an order target.
pub(crate) struct OrderPipeline {
    customers: Box<dyn Target>,
    products: Box<dyn Target>,
    rules: OrderRules,
    /// The flow and its `to` connection, for the spans of the calls.
    flow: String,
    connection: String,
    /// Match value (lower-cased) → the target's customer code.
    buyers: HashMap<String, String>,
    /// Product codes the target is known to have.
    products_known: HashSet<String>,
}

/// What the pipeline decided for one order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Send it: the payload now names the buyer's code.
    Ready,
    /// Do not send it, for this reason.
    Rejected(Problem),
}

impl OrderPipeline {
    /// The flow's customer and product targets, opened on its `to` connection.
    pub(crate) fn new(flow: &Flow, customers: Box<dyn Target>, products: Box<dyn Target>) -> OrderPipeline {
        OrderPipeline {
            customers,
            products,
            rules: flow.orders.clone(),
            flow: flow.name.clone(),
            connection: flow.to.connection.clone(),
            buyers: HashMap::new(),
            products_known: HashSet::new(),
        }
    }

    fn call_span(&self, call: &'static str, records: usize) -> tracing::Span {
        crate::spans::connector_call(call, &self.flow, &self.connection, records)
    }

    /// Completes a page of orders in place. Returns one decision per order and the API calls
    /// made; an error is a failure of the target as a whole (the run stops or retries).
    pub(crate) async fn prepare(&mut self, orders: &mut [Value]) -> Result<(Vec<Decision>, u64), ConnectorError> {
        let mut calls = 0;
        let mut decisions = vec![Decision::Ready; orders.len()];
        // Products first: an order that cannot be sent creates no customer.
        calls += self.check_products(orders, &mut decisions).await?;
        calls += self.resolve_buyers(orders, &mut decisions).await?;
        Ok((decisions, calls))
    }

    /// The buyer's match value of an order (`customer.email` for `customer_match = "email"`).
    fn buyer_key(&self, order: &Value) -> Option<String> {
        let path = FieldPath::parse(&format!("customer.{}", self.rules.customer_match));
        match path.get(order)? {
            Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_lowercase()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    async fn resolve_buyers(
        &mut self,
        orders: &mut [Value],
        decisions: &mut [Decision],
    ) -> Result<u64, ConnectorError> {
        let mut calls = 0;
        let has_code = |order: &Value| {
            order
                .pointer("/customer/code")
                .and_then(Value::as_str)
                .is_some_and(|code| !code.trim().is_empty())
        };
        let wanted: Vec<String> = orders
            .iter()
            .zip(decisions.iter())
            .filter(|(order, decision)| **decision == Decision::Ready && !has_code(order))
            .filter_map(|(order, _)| self.buyer_key(order))
            .filter(|key| !self.buyers.contains_key(key))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !wanted.is_empty() {
            let span = self.call_span("lookup", wanted.len());
            let found = deliver::lookup(self.customers.as_mut(), Some(&self.rules.customer_match), &wanted)
                .instrument(span)
                .await?;
            calls += found.api_calls;
            for (key, record) in found.found {
                self.buyers.insert(key.to_lowercase(), record.target_id);
            }
        }
        // Buyers still unknown are created, one write per distinct buyer.
        let mut new_buyers: Vec<(String, Value)> = Vec::new();
        for (order, decision) in orders.iter().zip(decisions.iter()) {
            if *decision != Decision::Ready || has_code(order) {
                continue;
            }
            if let Some(key) = self.buyer_key(order) {
                if !self.buyers.contains_key(&key) && !new_buyers.iter().any(|(known, _)| *known == key) {
                    new_buyers.push((key, customer_from_order(order)));
                }
            }
        }
        let mut creation_errors: HashMap<String, String> = HashMap::new();
        for chunk in new_buyers.chunks(self.customers.max_batch().max(1)) {
            let mut items = Vec::new();
            for (key, customer) in chunk {
                match tiltas_model::validate_json(EntityKind::Customer, customer) {
                    Ok(_) => items.push(WriteItem {
                        source_key: key.clone(),
                        target_id: None,
                        payload: customer.clone(),
                    }),
                    Err(errors) => {
                        creation_errors.insert(key.clone(), format!("the buyer is not a valid customer: {errors}"));
                    }
                }
            }
            if items.is_empty() {
                continue;
            }
            let keys: Vec<Option<String>> = items.iter().map(|item| Some(item.source_key.clone())).collect();
            let span = self.call_span("write_batch", items.len());
            let result =
                deliver::write_verified(self.customers.as_mut(), Some(&self.rules.customer_match), &items, &keys)
                    .instrument(span)
                    .await?;
            calls += result.api_calls;
            for (item, outcome) in items.into_iter().zip(result.outcomes) {
                match outcome {
                    WriteOutcome::Written { target_id } => {
                        self.buyers.insert(item.source_key, target_id);
                    }
                    WriteOutcome::Failed(error) => {
                        creation_errors.insert(item.source_key, error.message);
                    }
                }
            }
        }
        for (order, decision) in orders.iter_mut().zip(decisions.iter_mut()) {
            if *decision != Decision::Ready || has_code(order) {
                continue;
            }
            let code = match self.buyer_key(order) {
                Some(key) => match (self.buyers.get(&key), creation_errors.get(&key)) {
                    (Some(code), _) => code.clone(),
                    (None, Some(error)) => {
                        *decision = Decision::Rejected(
                            Problem::invalid(format!("customer {key} could not be created: {error}"))
                                .at_field(format!("customer.{}", self.rules.customer_match)),
                        );
                        continue;
                    }
                    (None, None) => continue,
                },
                None => match &self.rules.default_customer {
                    Some(code) => code.clone(),
                    None => {
                        let fix = "set default_customer = \"CODE\" in the flow for orders without one";
                        *decision = Decision::Rejected(
                            Problem::invalid(format!(
                                "the order has no customer {}: {fix}",
                                self.rules.customer_match
                            ))
                            .at_field(format!("customer.{}", self.rules.customer_match))
                            .with_fix(fix),
                        );
                        continue;
                    }
                },
            };
            set_customer_code(order, code);
        }
        Ok(calls)
    }

    async fn check_products(&mut self, orders: &[Value], decisions: &mut [Decision]) -> Result<u64, ConnectorError> {
        let mut calls = 0;
        let wanted: Vec<String> = orders
            .iter()
            .flat_map(line_skus)
            .filter(|sku| !self.products_known.contains(sku))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok(0);
        }
        let span = self.call_span("lookup", wanted.len());
        let found = deliver::lookup(self.products.as_mut(), Some("sku"), &wanted)
            .instrument(span)
            .await?;
        calls += found.api_calls;
        let found_lower: HashSet<String> = found.found.keys().map(|sku| sku.to_lowercase()).collect();
        let mut missing: Vec<String> = Vec::new();
        for sku in wanted {
            if found_lower.contains(&sku.to_lowercase()) {
                self.products_known.insert(sku);
            } else {
                missing.push(sku);
            }
        }
        missing.sort();
        let mut creation_errors: HashMap<String, String> = HashMap::new();
        if self.rules.create_missing_products && !missing.is_empty() {
            let items: Vec<WriteItem> = missing
                .iter()
                .map(|sku| WriteItem {
                    source_key: sku.clone(),
                    target_id: None,
                    payload: product_from_lines(sku, orders),
                })
                .collect();
            for chunk in items.chunks(self.products.max_batch().max(1)) {
                let keys: Vec<Option<String>> = chunk.iter().map(|item| Some(item.source_key.clone())).collect();
                let span = self.call_span("write_batch", chunk.len());
                let result = deliver::write_verified(self.products.as_mut(), Some("sku"), chunk, &keys)
                    .instrument(span)
                    .await?;
                calls += result.api_calls;
                for (item, outcome) in chunk.iter().zip(result.outcomes) {
                    match outcome {
                        WriteOutcome::Written { .. } => {
                            self.products_known.insert(item.source_key.clone());
                        }
                        WriteOutcome::Failed(error) => {
                            creation_errors.insert(item.source_key.clone(), error.message);
                        }
                    }
                }
            }
        }
        for (order, decision) in orders.iter().zip(decisions.iter_mut()) {
            let absent: Vec<String> = line_skus(order)
                .into_iter()
                .filter(|sku| !self.products_known.contains(sku))
                .collect();
            if let Some(sku) = absent.first() {
                let problem = match creation_errors.get(sku) {
                    Some(error) => {
                        Problem::invalid(format!("product {sku} not in ERP and could not be created: {error}"))
                    }
                    None => {
                        let fix = "create it there (or set create_missing_products = true in the flow), then retry the dead letter";
                        Problem::invalid(format!("product {sku} not in ERP: {fix}")).with_fix(fix)
                    }
                };
                *decision = Decision::Rejected(match line_index_of(order, sku) {
                    Some(index) => problem.at_field(format!("lines[{index}].sku")),
                    None => problem,
                });
            }
        }
        Ok(calls)
    }
}

/// Checks that the invoice an order becomes (its lines' own totals, fees and shipping) equals
/// the order's net, VAT and gross totals within a cent per line; the error names both sums.
pub(crate) fn check_totals(payload: &Value) -> Result<(), String> {
    // The payload was validated as an order before it got here.
    match serde_json::from_value::<tiltas_model::Order>(payload.clone()) {
        Ok(order) => tiltas_model::check_order_totals(&order),
        Err(_) => Ok(()),
    }
}

/// The SKUs of an order's lines.
/// The index of the first line of an order that asks for `sku` (as [`line_skus`] reads it).
fn line_index_of(order: &Value, sku: &str) -> Option<usize> {
    order
        .get("lines")?
        .as_array()?
        .iter()
        .position(|line| match line.get("sku") {
            Some(Value::String(text)) => text.trim() == sku,
            Some(Value::Number(number)) => number.to_string() == sku,
            _ => false,
        })
}

fn line_skus(order: &Value) -> Vec<String> {
    order
        .get("lines")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(|line| match line.get("sku")? {
                    Value::String(sku) => Some(sku.trim().to_owned()),
                    Value::Number(number) => Some(number.to_string()),
                    _ => None,
                })
                .filter(|sku| !sku.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn set_customer_code(order: &mut Value, code: String) {
    if let Value::Object(fields) = order {
        let customer = fields.entry("customer").or_insert_with(|| Value::Object(Map::new()));
        if !customer.is_object() {
            *customer = Value::Object(Map::new());
        }
        if let Value::Object(customer) = customer {
            customer.insert("code".to_owned(), Value::String(code));
        }
    }
}

/// A customer record for an order's buyer: a company (with its contact's name) when the order
/// names a company, else a person.
fn customer_from_order(order: &Value) -> Value {
    let text = |pointer: &str| {
        order
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let company = text("/customer/company_name").or_else(|| text("/billing/company"));
    let first = text("/billing/first_name");
    let last = text("/billing/last_name");
    let person = match (&first, &last) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (Some(one), None) | (None, Some(one)) => Some(one.clone()),
        (None, None) => None,
    };
    let name = text("/customer/name").or_else(|| text("/billing/name")).or(person);
    let email = text("/customer/email");
    // No code: the target assigns (or derives) its own and answers with it.
    let mut customer = json!({
        "kind": if company.is_some() { "company" } else { "person" },
        "name": company.clone().or_else(|| name.clone()),
    });
    let fields = customer.as_object_mut().expect("a JSON object literal");
    let mut put = |field: &str, value: Option<String>| {
        if let Some(value) = value {
            fields.insert(field.to_owned(), Value::String(value));
        }
    };
    put("company_name", company);
    put("first_name", first);
    put("last_name", last);
    put("email", email);
    put("phone", text("/customer/phone"));
    put("company_code", text("/customer/company_code"));
    put("vat_code", text("/customer/vat_code"));
    for side in ["billing", "shipping"] {
        if let Some(Value::Object(address)) = order.get(side) {
            let kept: Map<String, Value> = address
                .iter()
                .filter(|(field, _)| {
                    tiltas_model::fields::is_known_path(EntityKind::Customer, &format!("{side}.{field}"))
                })
                .map(|(field, value)| (field.clone(), value.clone()))
                .collect();
            if !kept.is_empty() {
                fields.insert(side.to_owned(), Value::Object(kept));
            }
        }
    }
    customer
}

/// A product record for a SKU an order sells, from the first line naming it.
fn product_from_lines(sku: &str, orders: &[Value]) -> Value {
    let line = orders
        .iter()
        .filter_map(|order| order.get("lines").and_then(Value::as_array))
        .flatten()
        .find(|line| match line.get("sku") {
            Some(Value::String(text)) => text.trim() == sku,
            Some(Value::Number(number)) => number.to_string() == sku,
            _ => false,
        });
    let mut product = json!({ "sku": sku, "name": sku });
    if let (Some(line), Value::Object(fields)) = (line, &mut product) {
        for (from, to) in [("name", "name"), ("price", "price_net"), ("vat_rate", "vat_rate")] {
            if let Some(value) = line.get(from).filter(|value| !value.is_null()) {
                fields.insert(to.to_owned(), value.clone());
            }
        }
    }
    product
}
