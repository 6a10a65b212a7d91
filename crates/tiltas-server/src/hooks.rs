//! `POST /hooks/{connection}`: a webhook delivery is verified by its connector (the signature
//! over the exact body), stored in the inbox — durable before the sender gets its 200 — and
//! delivered by the inbox worker at the pace the target allows. A burst is absorbed, never
//! answered with errors, and nothing accepted is lost.
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tiltas_connectors::woocommerce::webhook;
use tiltas_store::NewInboxEvent;

/// Accepts one delivery for `connection`.
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accept(&state, &connection, &headers, &body).await {
        Ok(Some(id)) => {
            state.metrics.webhook(&connection, "accepted");
            state.inbox.notify_one();
            Json(json!({ "accepted": id })).into_response()
        }
        Ok(None) => {
            state.metrics.webhook(&connection, "ignored");
            Json(json!({ "accepted": null })).into_response()
        }
        Err(error) => {
            state.metrics.webhook(&connection, "rejected");
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
    if connection.system.name != tiltas_connectors::woocommerce::WOOCOMMERCE.name {
        return Err(ApiError::not_found(format!(
            "connection \"{name}\" (system {}) does not receive webhooks",
            connection.system.name
        )));
    }
    let secret = connection
        .settings
        .secret("webhook_secret")
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("connection \"{name}\" has no webhook_secret, so it takes no webhooks: set one"),
            )
        })?
        .resolve()
        .map_err(|message| ApiError::internal(format!("connection \"{name}\": {message}")))?;
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let topic = header("x-wc-webhook-topic").unwrap_or_default().trim().to_owned();
    // The ping WooCommerce sends when a webhook is created carries no topic and no signature
    // that matters; it must get a 200 or the webhook is not saved.
    if topic.is_empty() && body.starts_with(b"webhook_id=") {
        return Ok(None);
    }
    webhook::verify_signature(&secret, header("x-wc-webhook-signature"), body)
        .map_err(|error| ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", error.to_string()))?;
    // Parsed now so a malformed delivery is refused to its sender, not discovered later.
    match webhook::record(&topic, body) {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(None),
        // A topic no flow takes (coupons…) is answered 200: refusing it would make the shop
        // count failures and disable the webhook.
        Err(webhook::WebhookError::UnknownTopic(_)) => return Ok(None),
        Err(error) => return Err(ApiError::invalid(error.to_string())),
    }
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
