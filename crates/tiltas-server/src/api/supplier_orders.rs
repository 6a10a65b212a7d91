//! `POST /api/v1/supplier-orders`: an order placed with one parts supplier from a chosen offer,
//! exactly once per `Idempotency-Key` — a repeat gets the first answer without the supplier
//! being called, a key in progress elsewhere is 409, the same key with another body is 422.
use super::*;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tiltas_engine::{OrderOnce, SupplierOrderError, SupplierOrderOutcome, SupplierOrderRequest, SupplierOrderStatus};

/// The header carrying the caller's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The header set on an answer given again for a repeated key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The longest idempotency key accepted.
const MAX_KEY: usize = 200;

/// An order with one supplier, from a chosen offer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierOrderBody {
    /// The supplier connection (`[connections.NAME]`, e.g. `ic`).
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "ic")]
    pub supplier: String,
    /// The supplier's own part code (an offer's `supplier_code`).
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,39}$", example = "ADDFFA")]
    pub part: String,
    /// Pieces to order.
    #[schema(minimum = 1, maximum = 100000)]
    #[serde(deserialize_with = "whole_pieces")]
    pub quantity: u32,
    /// The part's brand as the offer named it.
    pub brand: Option<String>,
    /// The garage's reference (`WO-77`): the order's number at the supplier (the idempotency
    /// key when left out).
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,39}$", example = "WO-77")]
    pub reference: Option<String>,
}

/// A number of pieces as JSON writes it: `4` or `4.0` (JSON Schema calls both an integer).
fn whole_pieces<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    super::whole_number(&number)
        .and_then(|pieces| u32::try_from(pieces).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("quantity {number} is not a whole number of pieces")))
}

/// One ordered line.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierOrderLineView {
    /// The supplier's part code.
    pub part: String,
    /// The brand, when given.
    pub brand: Option<String>,
    /// Pieces (a decimal number as text).
    pub quantity: String,
}

/// What became of an order (the same answer for every repeat of its key).
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierOrderView {
    /// The supplier connection.
    pub supplier: String,
    /// The supplier's id of the order (requisition, reserve), when it was made or found.
    pub order_id: Option<String>,
    /// The order's number at the supplier.
    pub reference: String,
    /// What was ordered.
    pub lines: Vec<SupplierOrderLineView>,
    /// `placed` (made now), `found` (an earlier attempt made it; not made again) or `failed`.
    pub status: String,
    /// Why it failed, naming the supplier and the part.
    pub message: Option<String>,
    /// What to change before ordering again, when known.
    pub fix: Option<String>,
    /// Whether the same request may succeed if sent again with the same key (the supplier was
    /// down or slow); such a failure is not kept with the key.
    pub retryable: bool,
}

fn order_view(outcome: &SupplierOrderOutcome) -> SupplierOrderView {
    SupplierOrderView {
        supplier: outcome.supplier.clone(),
        order_id: outcome.order_id.clone(),
        reference: outcome.reference.clone(),
        lines: outcome
            .lines
            .iter()
            .map(|line| SupplierOrderLineView {
                part: line.part.clone(),
                brand: line.brand.clone(),
                quantity: line.quantity.normalize().to_string(),
            })
            .collect(),
        status: text_of(&outcome.status),
        message: outcome.message.clone(),
        fix: outcome.fix.clone(),
        retryable: outcome.retryable,
    }
}

/// The caller's idempotency key, or why it is missing or unusable.
fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = || {
        ApiError::invalid(format!(
            "send an `Idempotency-Key` header (1–{MAX_KEY} visible characters, e.g. the work order `WO-77`): \
             the same key sent again returns the first answer instead of ordering twice"
        ))
    };
    let value = headers.get(IDEMPOTENCY_KEY).ok_or_else(missing)?;
    let key = value.to_str().map_err(|_| missing())?.trim();
    if key.is_empty() || key.chars().count() > MAX_KEY || key.chars().any(char::is_control) {
        return Err(missing());
    }
    Ok(key.to_owned())
}

fn order_error(error: SupplierOrderError) -> ApiError {
    match error {
        SupplierOrderError::Invalid(message) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
        SupplierOrderError::UnknownSupplier(message) => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
        SupplierOrderError::InProgress { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", error.to_string()),
        SupplierOrderError::KeyReused { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            error.to_string(),
        ),
        SupplierOrderError::Store(error) => ApiError::from(error),
    }
}

/// Places an order with one supplier, exactly once per `Idempotency-Key`: `201` placed, `200`
/// found at the supplier already (an earlier attempt made it) or a repeat of the key (with
/// `Idempotent-Replayed: true`), `502` failed at the supplier (`retryable`: send it again
/// with the same key), `404` no such supplier connection, `409` the key is in progress
/// elsewhere, `422` the key was used for another order or the order cannot be one.
#[utoipa::path(post, path = "/api/v1/supplier-orders",
    params(("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,200}$", description = "The caller's key for this order (1–200 characters): sent again, the first answer comes back and nothing is ordered twice.")),
    request_body = SupplierOrderBody,
    responses(
        (status = 200, body = SupplierOrderView, description = "Found at the supplier already, or the first answer to a repeated key"),
        (status = 201, body = SupplierOrderView, description = "Placed"),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError), (status = 500, body = ApiError),
        (status = 502, body = SupplierOrderView, description = "The supplier refused or failed: see message and fix")))]
pub(super) async fn place_supplier_order(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match place(&state, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn place(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, ApiError> {
    authorize(state, headers, ApiScope::Write).await?;
    let key = idempotency_key(headers)?;
    let order: SupplierOrderBody = required_body(body)?;
    if !state.connection_enabled(&order.supplier) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "connection \"{0}\" is switched off: POST /api/v1/connections/{0}/enable",
                order.supplier
            ),
        ));
    }
    let request = SupplierOrderRequest {
        supplier: order.supplier,
        part: order.part,
        quantity: rust_decimal::Decimal::from(order.quantity),
        brand: order.brand,
        reference: order.reference,
    };
    let answer = state
        .engine
        .place_supplier_order_once(&request, &key)
        .await
        .map_err(order_error)?;
    let (outcome, replayed) = match answer {
        OrderOnce::Fresh(outcome) => (outcome, false),
        OrderOnce::Replayed(outcome) => (outcome, true),
    };
    let status = match outcome.status {
        SupplierOrderStatus::Placed if !replayed => StatusCode::CREATED,
        SupplierOrderStatus::Placed | SupplierOrderStatus::Found => StatusCode::OK,
        SupplierOrderStatus::Failed => StatusCode::BAD_GATEWAY,
    };
    let mut response = (status, axum::Json(order_view(&outcome))).into_response();
    if replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::SupplierOrderBody;

    fn quantity(json: &str) -> Result<u32, String> {
        let body = format!("{{\"supplier\":\"ic\",\"part\":\"X\",\"quantity\":{json}}}");
        serde_json::from_str::<SupplierOrderBody>(&body)
            .map(|body| body.quantity)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn a_quantity_is_whole_pieces_however_json_writes_it() {
        assert_eq!(quantity("4"), Ok(4));
        assert_eq!(quantity("4.0"), Ok(4));
        assert_eq!(quantity("1e2"), Ok(100));
        for refused in ["4.5", "-1", "5000000000"] {
            let error = quantity(refused).unwrap_err();
            assert!(error.contains("not a whole number of pieces"), "{refused}: {error}");
        }
    }
}
