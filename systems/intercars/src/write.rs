//! Orders to Inter Cars as requisitions: the order's number goes in `customNumber`; before
//! creating one the target looks for a requisition with that number created in the last
//! `lookback_days`, so a retry after a timeout or a lost answer confirms the existing one
//! instead of ordering twice. A requisition is then confirmed (unless `confirm = false`).
use crate::client::Client;
use crate::wire::{self, NewRequisition, Requisition, RequisitionLine, RequisitionPage};
use chrono::{Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Value};
use std::collections::HashMap;
use tiltas_connector::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use tiltas_model::Order;

/// The order target of a connection.
pub(crate) struct RequisitionTarget {
    pub client: Client,
    pub delivery_method: Option<String>,
    pub confirm: bool,
    pub lookback_days: i64,
}

fn invalid(message: String, field: &str) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, message).at_field(field)
}

impl RequisitionTarget {
    /// Requisitions created in the last `lookback_days`, every page, by `customNumber`.
    async fn recent(&self) -> Result<(HashMap<String, Requisition>, u64), ConnectorError> {
        let from = (Utc::now() - Duration::days(self.lookback_days)).date_naive();
        let mut found = HashMap::new();
        let mut calls = 0;
        let mut offset = 0;
        loop {
            let query = [
                ("creationDateFrom", from.format("%Y-%m-%d").to_string()),
                ("limit", wire::MAX_PAGE.to_string()),
                ("offset", offset.to_string()),
            ];
            let page = self
                .client
                .get::<RequisitionPage>("/sales/requisition", &query)
                .await?
                .body;
            calls += 1;
            offset += page.requisitions.len();
            for requisition in page.requisitions {
                if let Some(number) = requisition.custom_number.clone() {
                    found.entry(number).or_insert(requisition);
                }
            }
            if !page.has_next_page {
                return Ok((found, calls));
            }
        }
    }

    /// The requisition body of an order, or why the order cannot be one.
    fn requisition(&self, payload: &Value) -> Result<(String, NewRequisition), ConnectorError> {
        let order: Order = serde_json::from_value(payload.clone())
            .map_err(|error| invalid(format!("not an order: {error}"), "lines"))?;
        let connection = &self.client.connection;
        if order.number.trim().is_empty() {
            return Err(invalid(
                format!("connection \"{connection}\": the order has no number, which Tiltas sends as customNumber to order exactly once: map `number`"),
                "number",
            ));
        }
        let mut lines = Vec::new();
        for (at, line) in order.lines.iter().enumerate() {
            let quantity = line
                .quantity
                .to_u32()
                .filter(|q| *q > 0 && line.quantity.fract().is_zero());
            let Some(quantity) = quantity else {
                return Err(invalid(
                    format!(
                        "order {}: line {} ({}) has quantity {}; Inter Cars takes whole pieces above 0: correct the order",
                        order.number, at + 1, line.sku, line.quantity
                    ),
                    &format!("lines[{at}].quantity"),
                ));
            };
            lines.push(RequisitionLine {
                sku: line.sku.trim().to_owned(),
                required_quantity: quantity,
            });
        }
        if lines.is_empty() {
            return Err(invalid(format!("order {} has no lines", order.number), "lines"));
        }
        Ok((
            order.number.clone(),
            NewRequisition {
                lines,
                custom_number: Some(order.number),
                delivery_method: self.delivery_method.clone(),
                comments: order.note,
                ship_to: None,
            },
        ))
    }

    /// Places one order exactly once; `Ok(Err)` is the supplier refusing it.
    async fn place(
        &self,
        payload: &Value,
        existing: &mut HashMap<String, Requisition>,
    ) -> Result<(WriteOutcome, u64), ConnectorError> {
        let (number, body) = match self.requisition(payload) {
            Ok(found) => found,
            Err(error) => return Ok((WriteOutcome::Failed(error), 0)),
        };
        let mut calls = 0;
        let (id, status) = match existing.get(&number) {
            Some(found) => (found.id.clone(), found.status.clone()),
            None => {
                let created = self.client.post::<Value>("/sales/requisition", &json!(body)).await;
                calls += 1;
                let created = match created {
                    Ok(answer) => answer.body,
                    Err(error) if error.kind == ErrorKind::Invalid => {
                        let message = format!("order {number}: Inter Cars refused the requisition: {}", error.message);
                        return Ok((WriteOutcome::Failed(ConnectorError { message, ..error }), calls));
                    }
                    Err(error) => return Err(error),
                };
                let id = created["id"].as_str().map(str::to_owned).ok_or_else(|| {
                    ConnectorError::new(
                        ErrorKind::Transient,
                        format!("order {number}: POST /sales/requisition answered without an id: {created}; it is looked up by customNumber on the retry"),
                    )
                })?;
                (id, "NEW".to_owned())
            }
        };
        if self.confirm && status == "NEW" {
            self.client
                .post::<Value>(&format!("/sales/requisition/{id}/confirm"), &json!({}))
                .await?;
            calls += 1;
        }
        existing.insert(
            number.clone(),
            Requisition {
                id: id.clone(),
                custom_number: Some(number),
                status: if self.confirm { "CONFIRMED".into() } else { status },
                creation_date: String::new(),
                order_id: None,
                lines: body.lines,
            },
        );
        Ok((WriteOutcome::Written { target_id: id }, calls))
    }
}

#[async_trait::async_trait]
impl Target for RequisitionTarget {
    fn max_batch(&self) -> usize {
        20
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, _match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let (recent, api_calls) = self.recent().await?;
        let found = keys
            .iter()
            .filter_map(|key| {
                recent.get(key).map(|requisition| {
                    (
                        key.clone(),
                        FoundRecord {
                            target_id: requisition.id.clone(),
                            data: None,
                        },
                    )
                })
            })
            .collect();
        Ok(Lookup { found, api_calls })
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let (mut existing, mut api_calls) = self.recent().await?;
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
