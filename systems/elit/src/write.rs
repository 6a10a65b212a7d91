//! Orders to Elit: `createOrder` with the order's number as the customer's order number
//! (`orderNo`). Before placing one the target asks `getOrders` for that number, so a retry after
//! a timeout or a lost answer finds the order instead of ordering twice. Both operations are
//! inferred [I] (README): if Elit's real service cannot find an order by the customer's number,
//! the entity becomes at-least-once (DESIGN.md §2.5) and `write.rs` is the one place to change.
use crate::client::Client;
use crate::wire::ItemLine;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;
use tiltas_connector::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use tiltas_model::Order;

/// The order target of a connection.
pub(crate) struct OrderTarget {
    pub client: Client,
}

fn invalid(message: String, field: &str) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, message).at_field(field)
}

impl OrderTarget {
    /// The order's number and lines, or why Elit can never take it.
    fn lines(&self, payload: &Value) -> Result<(String, Vec<ItemLine>), ConnectorError> {
        let order: Order = serde_json::from_value(payload.clone())
            .map_err(|error| invalid(format!("not an order: {error}"), "lines"))?;
        let connection = &self.client.connection;
        let number = order.number.trim().to_owned();
        if number.is_empty() {
            return Err(invalid(
                format!(
                    "connection \"{connection}\": the order has no number, which Tiltas sends as Elit's orderNo to order \
                     exactly once: map `number`"
                ),
                "number",
            ));
        }
        let mut lines = Vec::new();
        for (at, line) in order.lines.iter().enumerate() {
            let item_no = line.sku.trim();
            if item_no.is_empty() {
                return Err(invalid(
                    format!(
                        "connection \"{connection}\": order {number}: line {} has no sku: map it to Elit's item number \
                         (the part_code of Elit's offer for the part)",
                        at + 1
                    ),
                    &format!("lines[{at}].sku"),
                ));
            }
            let qty = line
                .quantity
                .to_u32()
                .filter(|q| *q > 0 && line.quantity.fract().is_zero());
            let Some(qty) = qty else {
                return Err(invalid(
                    format!(
                        "connection \"{connection}\": order {number}: line {} ({item_no}) has quantity {}; Elit takes \
                         whole pieces above 0: correct the order",
                        at + 1,
                        line.quantity
                    ),
                    &format!("lines[{at}].quantity"),
                ));
            };
            lines.push(ItemLine {
                item_no: item_no.to_owned(),
                qty,
            });
        }
        if lines.is_empty() {
            return Err(invalid(
                format!("connection \"{connection}\": order {number} has no lines: add the parts to order"),
                "lines",
            ));
        }
        Ok((number, lines))
    }

    /// Elit's order id of an order placed under `number`, if one was.
    async fn existing(&self, number: &str) -> Result<Option<String>, ConnectorError> {
        let orders = self.client.orders(number).await?;
        Ok(orders
            .into_iter()
            .find(|order| order.order_no.trim() == number)
            .map(|order| order.order_id))
    }

    /// Places one order exactly once: the outcome and the calls it took.
    async fn place(&self, payload: &Value) -> Result<(WriteOutcome, u64), ConnectorError> {
        let (number, lines) = match self.lines(payload) {
            Ok(found) => found,
            Err(error) => return Ok((WriteOutcome::Failed(error), 0)),
        };
        if let Some(order_id) = self.existing(&number).await? {
            return Ok((WriteOutcome::Written { target_id: order_id }, 1));
        }
        match self.client.create_order(&number, &lines).await {
            Ok(order) => Ok((
                WriteOutcome::Written {
                    target_id: order.order_id,
                },
                2,
            )),
            // A refused order (an item Elit does not sell) fails alone; the rest of the batch goes on.
            Err(error) if error.kind == ErrorKind::Invalid => Ok((
                WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!(
                        "order {number}: {}; correct the order (an item number Elit does not know, a quantity) and \
                         replay it",
                        error.message
                    ),
                )),
                2,
            )),
            Err(error) => Err(error),
        }
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
        let mut found = std::collections::HashMap::new();
        for key in keys {
            if let Some(order_id) = self.existing(key.trim()).await? {
                found.insert(
                    key.clone(),
                    FoundRecord {
                        target_id: order_id,
                        data: None,
                    },
                );
            }
        }
        Ok(Lookup {
            found,
            api_calls: keys.len() as u64,
        })
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut api_calls = 0;
        let mut outcomes = Vec::new();
        for item in items {
            let (outcome, calls) = self.place(&item.payload).await?;
            api_calls += calls;
            outcomes.push(outcome);
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
