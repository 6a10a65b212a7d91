//! Placing an order with one parts supplier (`tiltas order`, `POST /api/v1/supplier-orders`):
//! the chosen offer becomes a canonical order (number = the garage's reference, one line with
//! the supplier's part code and quantity) written as one record to the supplier connection's
//! `order` target, through the connection's gate and vault.
//!
//! Exactly once, twice over: the caller's idempotency key is claimed in the store before the
//! supplier is called and keeps the answer, so a repeat gets the first answer without calling
//! the supplier; and the connector finds an order it already made by the order's number, so a
//! retry after a timeout (the key released, the order made after all) finds it, not repeats it.
use crate::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Target, WriteItem, WriteOutcome};
use tiltas_model::EntityKind;
use tiltas_store::{IdempotencyClaim, StoreError};

/// The store scope supplier orders' idempotency keys live in.
pub const SUPPLIER_ORDER_SCOPE: &str = "supplier-order";

/// How long one worker may hold a key before another may take the request over (its worker is
/// presumed gone): far longer than an order takes, short enough to retry the same day.
pub const SUPPLIER_ORDER_CLAIM: Duration = Duration::from_secs(10 * 60);

/// An order for one supplier connection, from a chosen offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierOrderRequest {
    /// The supplier connection (`[connections.NAME]`).
    pub supplier: String,
    /// The supplier's own part code (the offer's `supplier_code`/`sku`).
    pub part: String,
    /// Pieces to order.
    pub quantity: Decimal,
    /// The part's brand, as the offer named it (kept with the answer).
    pub brand: Option<String>,
    /// The garage's reference (`WO-77`): the order's number at the supplier.
    pub reference: Option<String>,
}

impl SupplierOrderRequest {
    /// The hash the idempotency key keeps: the same key with another request is not a repeat.
    pub fn hash(&self) -> String {
        use sha2::Digest;
        let canonical = json!({
            "supplier": self.supplier.trim(),
            "part": self.part.trim(),
            "quantity": self.quantity.normalize().to_string(),
            "brand": self.brand.as_deref().map(str::trim),
            "reference": self.reference.as_deref().map(str::trim),
        });
        hex::encode(sha2::Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// What became of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierOrderStatus {
    /// Made now.
    Placed,
    /// Already at the supplier under this number (an earlier attempt made it): not made again.
    Found,
    /// Not made; see the message and the fix.
    Failed,
}

/// One line of a supplier order as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierOrderLine {
    /// The supplier's part code.
    pub part: String,
    /// The brand, when given.
    pub brand: Option<String>,
    /// Pieces.
    pub quantity: Decimal,
}

/// The answer to an order (kept with its idempotency key, returned to every repeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierOrderOutcome {
    /// The supplier connection.
    pub supplier: String,
    /// The supplier's id of the order (requisition, reserve, order number), when it has one.
    pub order_id: Option<String>,
    /// The order's number at the supplier (the reference, or the idempotency key).
    pub reference: String,
    /// What was ordered.
    pub lines: Vec<SupplierOrderLine>,
    /// Placed, found or failed.
    pub status: SupplierOrderStatus,
    /// Why it failed: the supplier's words, naming the connection and the part.
    pub message: Option<String>,
    /// What to change before trying again, when known.
    pub fix: Option<String>,
    /// Whether sending the same request again may succeed (the supplier was down or slow):
    /// such a failure is not kept with the key.
    pub retryable: bool,
}

/// What an idempotent order came to.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderOnce {
    /// The supplier was asked now.
    Fresh(SupplierOrderOutcome),
    /// The key was used before for this request: its first answer, the supplier not called.
    Replayed(SupplierOrderOutcome),
}

/// Why an order was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SupplierOrderError {
    /// The request itself is wrong (unknown connection, a system that takes no orders, a
    /// quantity of zero).
    #[error("{0}")]
    Invalid(String),
    /// The supplier is no connection of the flow file.
    #[error("{0}")]
    UnknownSupplier(String),
    /// Another worker is placing the order under this key right now.
    #[error("idempotency key {key:?} is in progress ({holder}, until {until}): wait for that request's answer, then send this one again to read it")]
    InProgress {
        /// The key.
        key: String,
        /// Who holds it.
        holder: String,
        /// When its claim lapses.
        until: String,
    },
    /// The key was used for another request.
    #[error("idempotency key {key:?} was used on {at} for another order (another supplier, part, quantity, brand or reference): send a new key for a new order")]
    KeyReused {
        /// The key.
        key: String,
        /// When it was first used.
        at: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Engine {
    /// Places `request` with its supplier at most once per `key`: a repeat gets the first
    /// answer; a failure worth retrying (the supplier down, slow or refusing the credentials)
    /// releases the key, so the same request may be sent again and finds any order the first
    /// attempt made.
    pub async fn place_supplier_order_once(
        &self,
        request: &SupplierOrderRequest,
        key: &str,
    ) -> Result<OrderOnce, SupplierOrderError> {
        let hash = request.hash();
        let claim = self
            .store
            .idempotency_claim(SUPPLIER_ORDER_SCOPE, key, &hash, &self.holder, SUPPLIER_ORDER_CLAIM)
            .await?;
        if let IdempotencyClaim::Taken(record) = claim {
            if record.request_hash != hash {
                return Err(SupplierOrderError::KeyReused {
                    key: key.to_owned(),
                    at: record.created_at.to_rfc3339(),
                });
            }
            return match record.response {
                Some(answer) => serde_json::from_value(answer)
                    .map(OrderOnce::Replayed)
                    .map_err(|error| {
                        SupplierOrderError::Store(StoreError::Corrupt {
                            what: "supplier order answer",
                            detail: error.to_string(),
                        })
                    }),
                None => Err(SupplierOrderError::InProgress {
                    key: key.to_owned(),
                    holder: record.holder.unwrap_or_default(),
                    until: record.expires_at.to_rfc3339(),
                }),
            };
        }
        let outcome = match self.place_supplier_order(request, key).await {
            Ok(outcome) => outcome,
            Err(error) => {
                self.store
                    .idempotency_release(SUPPLIER_ORDER_SCOPE, key, &self.holder)
                    .await?;
                return Err(error);
            }
        };
        if outcome.retryable {
            self.store
                .idempotency_release(SUPPLIER_ORDER_SCOPE, key, &self.holder)
                .await?;
        } else {
            let answer = serde_json::to_value(&outcome).unwrap_or(Value::Null);
            self.store
                .idempotency_complete(SUPPLIER_ORDER_SCOPE, key, &self.holder, &answer)
                .await?;
        }
        Ok(OrderOnce::Fresh(outcome))
    }

    /// Places `request` with its supplier as one write to the connection's `order` target,
    /// numbered `request.reference` or else `key`. A supplier's refusal or failure is an
    /// outcome with status `failed`; an `Err` is a request that cannot be sent at all.
    pub async fn place_supplier_order(
        &self,
        request: &SupplierOrderRequest,
        key: &str,
    ) -> Result<SupplierOrderOutcome, SupplierOrderError> {
        let number = request
            .reference
            .as_deref()
            .map(str::trim)
            .filter(|reference| !reference.is_empty())
            .unwrap_or(key.trim())
            .to_owned();
        let order = self.checked_order(request, &number)?;
        let mut target = self.open_order_target(&request.supplier)?;
        let outcome = |status, order_id, error: Option<ConnectorError>| SupplierOrderOutcome {
            supplier: request.supplier.clone(),
            order_id,
            reference: number.clone(),
            lines: vec![SupplierOrderLine {
                part: request.part.trim().to_owned(),
                brand: request.brand.clone(),
                quantity: request.quantity,
            }],
            status,
            retryable: error.as_ref().is_some_and(|error| retryable(error.kind)),
            fix: error.as_ref().and_then(|error| error.fix.clone()),
            message: error.map(|error| error.message),
        };
        match self.write_order(target.as_mut(), &number, order).await {
            Ok((status, order_id)) => Ok(outcome(status, Some(order_id), None)),
            Err(error) => Ok(outcome(
                SupplierOrderStatus::Failed,
                None,
                Some(self.named(&request.supplier, &number, &request.part, error)),
            )),
        }
    }

    /// The canonical order of a request, or why the request is not one.
    fn checked_order(&self, request: &SupplierOrderRequest, number: &str) -> Result<Value, SupplierOrderError> {
        let part = request.part.trim();
        if part.is_empty() {
            return Err(SupplierOrderError::Invalid(
                "the order names no part: give the supplier's part code (an offer's supplier_code)".to_owned(),
            ));
        }
        if request.quantity <= Decimal::ZERO {
            return Err(SupplierOrderError::Invalid(format!(
                "part {part}: quantity {} is not above 0: order at least one piece",
                request.quantity
            )));
        }
        if number.is_empty() {
            return Err(SupplierOrderError::Invalid(
                "the order has no number: give a reference (WO-77) or an idempotency key".to_owned(),
            ));
        }
        let order = json!({
            "number": number,
            "lines": [{ "sku": part, "quantity": request.quantity }],
        });
        tiltas_model::validate_json(EntityKind::Order, &order)
            .map_err(|errors| SupplierOrderError::Invalid(format!("order {number} is not a valid order: {errors}")))?;
        Ok(order)
    }

    /// The `order` target of a supplier connection, with the connection's gate and vault.
    fn open_order_target(&self, name: &str) -> Result<Box<dyn Target>, SupplierOrderError> {
        let Some(connection) = self.config.connection(name) else {
            let known: Vec<&str> = self
                .config
                .connections
                .iter()
                .filter(|connection| {
                    connection
                        .system
                        .access(EntityKind::Order)
                        .is_some_and(|access| access.write)
                })
                .map(|connection| connection.name.as_str())
                .collect();
            return Err(SupplierOrderError::UnknownSupplier(format!(
                "supplier \"{name}\" is not a connection in {}: connections that take orders are [{}]",
                self.config.file.display(),
                known.join(", ")
            )));
        };
        if !connection.enabled {
            return Err(SupplierOrderError::Invalid(format!(
                "connection \"{name}\" is disabled (enabled = false): set enabled = true to order from it"
            )));
        }
        let invalid = |error: ConnectorError| SupplierOrderError::Invalid(format!("connection \"{name}\": {error}"));
        let system = self.systems().of(connection).map_err(invalid)?;
        static NO_SETTINGS: std::sync::LazyLock<tiltas_config::Settings> =
            std::sync::LazyLock::new(tiltas_config::Settings::default);
        let context = OpenContext {
            connection,
            entity: EntityKind::Order,
            settings: &NO_SETTINGS,
            match_on: Some("number"),
            base_dir: &self.config.base_dir,
            gate: self.gate(name),
            vault: self.vault(),
        };
        system.open_target(&context).map_err(invalid)
    }

    /// Writes one order: looked up by its number first (found: not made again), then written
    /// — the connector itself also finds an order it already made, and completes it.
    async fn write_order(
        &self,
        target: &mut dyn Target,
        number: &str,
        order: Value,
    ) -> Result<(SupplierOrderStatus, String), ConnectorError> {
        let found = if target.can_lookup() {
            target
                .lookup(Some("number"), &[number.to_owned()])
                .await?
                .found
                .remove(number)
        } else {
            None
        };
        let item = WriteItem {
            source_key: number.to_owned(),
            target_id: found.as_ref().map(|found| found.target_id.clone()),
            payload: order,
        };
        let written = target.write_batch(vec![item]).await?;
        target.finish().await?;
        match written.outcomes.into_iter().next() {
            Some(WriteOutcome::Written { target_id }) => Ok((
                if found.is_some() {
                    SupplierOrderStatus::Found
                } else {
                    SupplierOrderStatus::Placed
                },
                target_id,
            )),
            Some(WriteOutcome::Failed(error)) => Err(error),
            None => Err(ConnectorError::new(
                ErrorKind::Transient,
                "the supplier answered the order with no outcome",
            )),
        }
    }

    /// A supplier's failure, named after the connection, the order and the part.
    fn named(&self, supplier: &str, number: &str, part: &str, error: ConnectorError) -> ConnectorError {
        let fix = error.fix.clone().or_else(|| default_fix(error.kind).map(str::to_owned));
        let message = if error.message.contains(&format!("\"{supplier}\"")) && error.message.contains(number) {
            error.message.clone()
        } else {
            format!(
                "supplier \"{supplier}\", order {number}, part {part}: {}",
                error.message
            )
        };
        ConnectorError { message, fix, ..error }
    }
}

/// Whether the same request may succeed when sent again unchanged.
fn retryable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Transient | ErrorKind::RateLimited | ErrorKind::Auth | ErrorKind::Quota
    )
}

/// What to do about a failure the supplier's answer gave no fix for.
fn default_fix(kind: ErrorKind) -> Option<&'static str> {
    match kind {
        ErrorKind::Transient | ErrorKind::RateLimited => Some(
            "send the same request again with the same idempotency key: an order the supplier made meanwhile is found, not repeated",
        ),
        ErrorKind::Auth => Some("correct the connection's credentials, then send the same request again"),
        ErrorKind::Quota => Some("wait for the connection's daily budget to reset, then send the same request again"),
        ErrorKind::Invalid => Some("correct the part code or quantity (see the supplier's offer), then order with a new idempotency key"),
        ErrorKind::Fatal => None,
    }
}
