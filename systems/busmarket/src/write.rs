//! Orders to Bus Market: a cart named after the order's number, its lines added (each line's
//! product found by UUID or by Bus Market code), then reserved at the connection's warehouse
//! with a comment that starts with the order's number. Before ordering, the target looks
//! through the newest reserves for that comment, and reuses an open cart of that name: a retry
//! after a timeout or a lost answer finds what the first attempt made instead of ordering twice.
use crate::client::Client;
use crate::wire::{
    self, Cart, CartAnswer, Carts, Line, ProductAnswer, Reserve, ReserveAnswer, ReserveRequest, ReservesPage,
};
use reqwest::Method;
use rust_decimal::prelude::ToPrimitive;
use serde_json::json;
use std::collections::HashMap;
use tiltas_connector::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use tiltas_model::Order;

/// The order target of a connection.
pub(crate) struct ReserveTarget {
    client: Client,
    lookback_pages: usize,
    /// The reserve warehouse's uuid, once known.
    warehouse_uuid: Option<String>,
}

fn invalid(message: String, field: &str) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, message).at_field(field)
}

/// An order as Bus Market takes it: its number, note and lines by product UUID.
struct Wanted {
    number: String,
    note: Option<String>,
    lines: Vec<Line>,
}

impl ReserveTarget {
    pub fn new(client: Client, lookback_pages: usize) -> Result<ReserveTarget, ConnectorError> {
        if client.warehouse.is_none() {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{}\": Bus Market reserves an order at one warehouse: set the connection's `warehouse` \
                     (its name such as KYIV, or its uuid from an offer's raw.warehouses)",
                    client.connection
                ),
            ));
        }
        let warehouse_uuid = client.warehouse.clone().filter(|w| wire::is_uuid(w));
        Ok(ReserveTarget {
            client,
            lookback_pages,
            warehouse_uuid,
        })
    }

    /// The newest reserves, up to `lookback_pages` pages.
    async fn recent(&self) -> Result<(Vec<Reserve>, u64), ConnectorError> {
        let mut found = Vec::new();
        let mut calls = 0;
        for page in 1..=self.lookback_pages {
            let query = [("page", page.to_string()), ("per_page", wire::MAX_PER_PAGE.to_string())];
            let answer: ReservesPage = self.client.get("/shopping/reserves", &query).await?;
            calls += 1;
            found.extend(answer.reserves);
            if page * answer.per_page.max(1) >= answer.total {
                break;
            }
        }
        Ok((found, calls))
    }

    /// The order's lines with each product's UUID, or why the order cannot be placed.
    async fn wanted(&self, order: &Order) -> Result<(Wanted, u64), ConnectorError> {
        let connection = &self.client.connection;
        if order.number.trim().is_empty() {
            return Err(invalid(
                format!("connection \"{connection}\": the order has no number, which Tiltas writes in the reserve's comment to order exactly once: map `number`"),
                "number",
            ));
        }
        let mut lines = Vec::new();
        let mut calls = 0;
        for (at, line) in order.lines.iter().enumerate() {
            let field = format!("lines[{at}]");
            let quantity = line
                .quantity
                .to_u32()
                .filter(|q| *q > 0 && line.quantity.fract().is_zero());
            let Some(quantity) = quantity else {
                return Err(invalid(
                    format!(
                        "order {}: line {} ({}) has quantity {}; Bus Market takes whole pieces above 0: correct the order",
                        order.number, at + 1, line.sku, line.quantity
                    ),
                    &format!("{field}.quantity"),
                ));
            };
            let sku = line.sku.trim();
            let product_uuid = if wire::is_uuid(sku) {
                sku.to_owned()
            } else {
                calls += 1;
                self.product_by_code(&order.number, sku, &field).await?
            };
            lines.push(Line {
                product_uuid,
                code: sku.to_owned(),
                quantity,
            });
        }
        if lines.is_empty() {
            return Err(invalid(format!("order {} has no lines", order.number), "lines"));
        }
        let wanted = Wanted {
            number: order.number.clone(),
            note: order.note.clone(),
            lines,
        };
        Ok((wanted, calls))
    }

    /// `GET /product/{code}?id_type=code`: the UUID of a Bus Market code.
    async fn product_by_code(&self, number: &str, code: &str, field: &str) -> Result<String, ConnectorError> {
        let query = [
            ("id_type", "code".to_owned()),
            ("currency", self.client.currency.clone()),
        ];
        match self
            .client
            .get::<ProductAnswer>(&format!("/product/{code}"), &query)
            .await
        {
            Ok(answer) => Ok(answer.product.uuid),
            Err(error) if error.kind == ErrorKind::Invalid => Err(invalid(
                format!(
                    "order {number}: Bus Market does not know code {code:?} ({}): order by the code or uuid of a \
                     Bus Market offer",
                    error.message
                ),
                &format!("{field}.sku"),
            )),
            Err(error) => Err(error),
        }
    }

    /// The open cart named `number`, or a new one.
    async fn cart(&self, number: &str) -> Result<(Cart, u64), ConnectorError> {
        let carts: Carts = self.client.get("/shopping/carts", &[]).await?;
        if let Some(cart) = carts.carts.into_iter().find(|cart| cart.name == number) {
            return Ok((cart, 1));
        }
        let created: CartAnswer = self
            .client
            .send(Method::POST, "/shopping/carts", Some(&json!({ "name": number })))
            .await?;
        Ok((created.cart, 2))
    }

    /// Brings the cart's lines to the order's: adds what is missing, sets what differs.
    async fn fill(&self, cart: &Cart, wanted: &Wanted) -> Result<u64, ConnectorError> {
        let held: HashMap<&str, u32> = cart
            .products
            .iter()
            .map(|line| (line.product_uuid.as_str(), line.quantity))
            .collect();
        let mut calls = 0;
        for line in &wanted.lines {
            let method = match held.get(line.product_uuid.as_str()) {
                Some(quantity) if *quantity == line.quantity => continue,
                Some(_) => Method::PUT,
                None => Method::POST,
            };
            let path = format!(
                "/shopping/cart/{}/product/{}/{}",
                cart.uuid, line.product_uuid, line.quantity
            );
            self.client.send::<CartAnswer>(method, &path, None).await?;
            calls += 1;
        }
        Ok(calls)
    }

    /// The reserve warehouse's uuid: the setting, or the uuid `in_stocks` gives its name.
    async fn warehouse_uuid(&mut self, product_uuid: &str) -> Result<(String, u64), ConnectorError> {
        if let Some(uuid) = &self.warehouse_uuid {
            return Ok((uuid.clone(), 0));
        }
        let stock = self.client.stock_of(product_uuid).await?;
        let Some(row) = stock.first() else {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{}\": Bus Market has no warehouse named {:?}: set `warehouse` to a name or uuid \
                     listed in an offer's raw.warehouses",
                    self.client.connection,
                    self.client.warehouse.as_deref().unwrap_or_default()
                ),
            ));
        };
        self.warehouse_uuid = Some(row.warehouse_uuid.clone());
        Ok((row.warehouse_uuid.clone(), 1))
    }

    /// Places one order exactly once; `Ok(Failed)` is the order or the supplier refusing it.
    async fn place(
        &mut self,
        payload: &serde_json::Value,
        reserves: &mut Vec<Reserve>,
    ) -> Result<(WriteOutcome, u64), ConnectorError> {
        let order: Order = match serde_json::from_value(payload.clone()) {
            Ok(order) => order,
            Err(error) => {
                return Ok((
                    WriteOutcome::Failed(invalid(format!("not an order: {error}"), "lines")),
                    0,
                ))
            }
        };
        if let Some(found) = reserves
            .iter()
            .find(|r| wire::comment_names_order(&r.comment, &order.number))
        {
            return Ok((
                WriteOutcome::Written {
                    target_id: found.uuid.clone(),
                },
                0,
            ));
        }
        let (wanted, calls) = match self.wanted(&order).await {
            Ok(found) => found,
            Err(error) if error.kind == ErrorKind::Invalid => return Ok((WriteOutcome::Failed(error), 0)),
            Err(error) => return Err(error),
        };
        let (outcome, more) = self.order_anew(&wanted, reserves).await?;
        Ok((outcome, calls + more))
    }

    /// Cart, lines, reserve for an order no reserve names yet; `Ok(Failed)` is Bus Market
    /// refusing a line or the reserve.
    async fn order_anew(
        &mut self,
        wanted: &Wanted,
        reserves: &mut Vec<Reserve>,
    ) -> Result<(WriteOutcome, u64), ConnectorError> {
        let refused = |error: ConnectorError| ConnectorError {
            message: format!("order {}: Bus Market refused it: {}", wanted.number, error.message),
            ..error
        };
        let (cart, mut calls) = self.cart(&wanted.number).await?;
        match self.fill(&cart, wanted).await {
            Ok(more) => calls += more,
            Err(error) if error.kind == ErrorKind::Invalid => return Ok((WriteOutcome::Failed(refused(error)), calls)),
            Err(error) => return Err(error),
        }
        let (warehouse_uuid, more) = self.warehouse_uuid(&wanted.lines[0].product_uuid).await?;
        calls += more;
        let comment = match &wanted.note {
            Some(note) if !note.trim().is_empty() => format!("{} {}", wire::order_marker(&wanted.number), note.trim()),
            _ => wire::order_marker(&wanted.number),
        };
        let body = ReserveRequest {
            order_uuid: cart.uuid.clone(),
            comment,
            warehouse_uuid,
        };
        let made = self
            .client
            .send::<ReserveAnswer>(Method::POST, "/shopping/reserve/process", Some(&json!(body)))
            .await;
        calls += 1;
        match made {
            Ok(answer) => {
                let uuid = answer.reserve.uuid.clone();
                reserves.insert(0, answer.reserve);
                Ok((WriteOutcome::Written { target_id: uuid }, calls))
            }
            Err(error) if error.kind == ErrorKind::Invalid => Ok((WriteOutcome::Failed(refused(error)), calls)),
            Err(error) => Err(error),
        }
    }
}

#[async_trait::async_trait]
impl Target for ReserveTarget {
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
                recent
                    .iter()
                    .find(|reserve| wire::comment_names_order(&reserve.comment, key))
                    .map(|reserve| {
                        (
                            key.clone(),
                            FoundRecord {
                                target_id: reserve.uuid.clone(),
                                data: None,
                            },
                        )
                    })
            })
            .collect();
        Ok(Lookup { found, api_calls })
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let (mut reserves, mut api_calls) = self.recent().await?;
        let mut outcomes = Vec::new();
        for item in items {
            let (outcome, calls) = self.place(&item.payload, &mut reserves).await?;
            api_calls += calls;
            outcomes.push(outcome);
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
