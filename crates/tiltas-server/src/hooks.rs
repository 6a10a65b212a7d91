//! `POST /hooks/{connection}`: a webhook delivery is verified by its connection's system (its
//! [`tiltas_connector::WebhookReceiver`]: the signature over the exact body), stored in the inbox — durable before the sender gets its 200 — and
//! delivered by the inbox worker at the pace the target allows. A burst is absorbed, never
//! answered with errors, and nothing accepted is lost.
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tiltas_connector::{Delivery, WebhookError};
use tiltas_store::NewInboxEvent;

/// Accepts one delivery for `connection`.
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A name no connection has is counted under one label: paths are the sender's to choose.
    let counted_as = match state.config.connection(&connection) {
        Some(known) => known.name.as_str(),
        None => crate::metrics::UNKNOWN_CONNECTION,
    };
    match accept(&state, &connection, &headers, &body).await {
        Ok(Some(id)) => {
            state.metrics.webhook(counted_as, "accepted");
            state.inbox.notify_one();
            Json(json!({ "accepted": id })).into_response()
        }
        Ok(None) => {
            state.metrics.webhook(counted_as, "ignored");
            Json(json!({ "accepted": null })).into_response()
        }
        Err(error) => {
            state.metrics.webhook(counted_as, "rejected");
            tracing::warn!(connection, code = %error.code, message = %error.message, "webhook delivery refused");
            error.into_response()
        }
    }
}

async fn accept(state: &AppState, name: &str, headers: &HeaderMap, body: &[u8]) -> Result<Option<i64>, ApiError> {
    let connection = state
        .config
        .connection(name)
        .ok_or_else(|| ApiError::not_found(format!("no connection \"{name}\" in {}", state.config.file.display())))?;
    let receiver = state
        .engine
        .systems()
        .get(connection.system.name)
        .and_then(|system| system.webhook())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "connection \"{name}\" (system {}) does not receive webhooks",
                connection.system.name
            ))
        })?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let topic = match receiver.accept(connection, &header, body) {
        Ok(Delivery::Accepted { topic }) => topic,
        Ok(Delivery::Ignored) => return Ok(None),
        Err(WebhookError::NotConfigured(message)) => {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", message))
        }
        Err(WebhookError::Unauthorized(message)) => {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", message))
        }
        Err(WebhookError::Invalid(message)) => return Err(ApiError::invalid(message)),
    };
    let body = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid("the webhook body is not UTF-8 JSON"))?
        .to_owned();
    let id = state
        .store
        .inbox_add(&NewInboxEvent {
            connection: name.to_owned(),
            topic,
            body,
        })
        .await?;
    Ok(Some(id))
}
