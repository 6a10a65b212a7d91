//! Orders to Omega through the account's basket: `basket/clear`, `basket/addProductList`, then
//! `order/create` with the order's number as the order's `Comment`. Before placing one the
//! target lists the orders of the last `lookback_days` and looks for that comment, so a retry
//! after a timeout or a lost answer finds the order instead of ordering twice. The basket is
//! emptied first so lines left by an attempt that failed half-way are not ordered again.
use crate::client::Client;
use crate::wire::{self, BasketLine};
use chrono::{Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Value};
use std::collections::HashMap;
use tiltas_connector::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use tiltas_model::Order;

/// The order target of a connection.
pub(crate) struct OrderTarget {
    pub client: Client,
    pub lookback_days: i64,
}

fn invalid(message: String, field: &str) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, message).at_field(field)
}

impl OrderTarget {
    /// Orders made in the last `lookback_days`, by their comment (the order's number).
    async fn recent(&self) -> Result<HashMap<String, String>, ConnectorError> {
        let today = Utc::now().date_naive();
        let fields = [
            (
                "StartDate",
                (today - Duration::days(self.lookback_days))
                    .format(wire::DATE_FORMAT)
                    .to_string(),
            ),
            ("EndDate", today.format(wire::DATE_FORMAT).to_string()),
        ];
        let orders: Vec<wire::Order> = self
            .client
            .form(wire::ORDER_LIST, &fields)
            .await?
            .map_err(|text| self.client.refused(wire::ORDER_LIST, &text))?;
        Ok(orders
            .into_iter()
            .filter_map(|order| Some((order.comment?.trim().to_owned(), order.order_id)))
            .collect())
    }

    /// The basket lines of an order, or why it cannot be one.
    fn lines(&self, payload: &Value) -> Result<(String, Vec<BasketLine>), ConnectorError> {
        let order: Order = serde_json::from_value(payload.clone())
            .map_err(|error| invalid(format!("not an order: {error}"), "lines"))?;
        let connection = &self.client.connection;
        let number = order.number.trim().to_owned();
        if number.is_empty() {
            return Err(invalid(
                format!("connection \"{connection}\": the order has no number, which Tiltas writes as Omega's order comment to order exactly once: map `number`"),
                "number",
            ));
        }
        let mut lines = Vec::new();
        for (at, line) in order.lines.iter().enumerate() {
            let Ok(product_id) = line.sku.trim().parse::<u64>() else {
                return Err(invalid(
                    format!(
                        "connection \"{connection}\": order {number}: line {} has sku {:?}, not an Omega product id (a number): \
                         map the line's sku to the part_code of Omega's offer for the part",
                        at + 1,
                        line.sku
                    ),
                    &format!("lines[{at}].sku"),
                ));
            };
            let count = line
                .quantity
                .to_u32()
                .filter(|q| *q > 0 && line.quantity.fract().is_zero());
            let Some(count) = count else {
                return Err(invalid(
                    format!(
                        "connection \"{connection}\": order {number}: line {} ({}) has quantity {}; Omega takes whole pieces above 0: correct the order",
                        at + 1,
                        line.sku,
                        line.quantity
                    ),
                    &format!("lines[{at}].quantity"),
                ));
            };
            lines.push(BasketLine { product_id, count });
        }
        if lines.is_empty() {
            return Err(invalid(
                format!("connection \"{connection}\": order {number} has no lines"),
                "lines",
            ));
        }
        Ok((number, lines))
    }

    /// Omega's refusal of a step of order `number` as the order's failure.
    fn refused(&self, number: &str, step: &str, text: &str) -> WriteOutcome {
        WriteOutcome::Failed(ConnectorError::new(
            ErrorKind::Invalid,
            format!(
                "connection \"{}\": order {number}: Omega refused {step}: {text}; correct the order (a part Omega no \
                 longer sells, a quantity it cannot supply) and replay it",
                self.client.connection
            ),
        ))
    }

    /// Places one order exactly once.
    async fn place(
        &self,
        payload: &Value,
        existing: &mut HashMap<String, String>,
    ) -> Result<(WriteOutcome, u64), ConnectorError> {
        let (number, lines) = match self.lines(payload) {
            Ok(found) => found,
            Err(error) => return Ok((WriteOutcome::Failed(error), 0)),
        };
        if let Some(order_id) = existing.get(&number) {
            return Ok((
                WriteOutcome::Written {
                    target_id: order_id.clone(),
                },
                0,
            ));
        }
        let cleared: crate::client::Answer<Value> = self.client.form(wire::BASKET_CLEAR, &[]).await?;
        if let Err(text) = cleared {
            return Ok((self.refused(&number, "emptying the basket", &text), 1));
        }
        let added: crate::client::Answer<Value> = self
            .client
            .json(wire::BASKET_ADD_LIST, json!({ "ProductList": lines }))
            .await?;
        if let Err(text) = added {
            return Ok((self.refused(&number, "the lines (basket/addProductList)", &text), 2));
        }
        let created: crate::client::Answer<Value> = self
            .client
            .form(wire::ORDER_CREATE, &[("Comment", number.clone())])
            .await?;
        let created = match created {
            Ok(created) => created,
            Err(text) => return Ok((self.refused(&number, "the order (order/create)", &text), 3)),
        };
        let order_id = created
            .get("OrderId")
            .and_then(|id| {
                id.as_str()
                    .map(str::to_owned)
                    .or_else(|| id.as_u64().map(|n| n.to_string()))
            })
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::Transient,
                    format!(
                        "connection \"{}\": order {number}: order/create answered without an OrderId: {created}; \
                         the retry finds the order by its comment",
                        self.client.connection
                    ),
                )
            })?;
        existing.insert(number, order_id.clone());
        Ok((WriteOutcome::Written { target_id: order_id }, 3))
    }
}

#[async_trait::async_trait]
impl Target for OrderTarget {
    fn max_batch(&self) -> usize {
        20
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, _match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let recent = self.recent().await?;
        let found = keys
            .iter()
            .filter_map(|key| {
                recent.get(key.trim()).map(|order_id| {
                    (
                        key.clone(),
                        FoundRecord {
                            target_id: order_id.clone(),
                            data: None,
                        },
                    )
                })
            })
            .collect();
        Ok(Lookup { found, api_calls: 1 })
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut existing = self.recent().await?;
        let mut api_calls = 1;
        let mut outcomes = Vec::new();
        for item in items {
            let (outcome, calls) = self.place(&item.payload, &mut existing).await?;
            api_calls += calls;
            outcomes.push(outcome);
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
