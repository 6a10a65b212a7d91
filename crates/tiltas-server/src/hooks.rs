//! `POST /hooks/{connection}`: a webhook delivery is verified by its connection's system (its
//! [`tiltas_connector::WebhookReceiver`]: the signature over the exact body), stored in the inbox — durable before the sender gets its 200 — and
//! delivered by the inbox worker at the pace the target allows. A burst is absorbed and
//! nothing accepted is lost; past the connection's `max_inbox_backlog` deliveries waiting,
//! the answer is 503 with `Retry-After` (see [`crate::InboxBacklog`]), so a target that is
//! off for hours cannot make the inbox fill the disk. A connection that sets
//! `hooks_rate_limit` answers 429 with `Retry-After` past it (shops send it again). Bodies
//! over [`crate::MAX_HOOK_BODY`] are answered 413.
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
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
    if let Some((wait, rate)) = state.security.hook_wait(&connection) {
        state.metrics.webhook(&connection, "rate_limited");
        return crate::security::too_many(
            "hooks_rate_limited",
            format!(
                "connection \"{connection}\" accepts webhooks at most at hooks_rate_limit = \"{rate}\": send again after Retry-After, or raise the limit in {}",
                state.config.file.display()
            ),
            wait,
        );
    }
    // A name no connection has is counted under one label: paths are the sender's to choose.
    let counted_as = match state.config.connection(&connection) {
        Some(known) => known.name.as_str(),
        None => crate::metrics::UNKNOWN_CONNECTION,
    };
    match accept(&state, &connection, &headers, &body).await {
        Ok(Some(id)) => {
            state.metrics.webhook(counted_as, "accepted");
            state.inbox.notify_one();
            // Other workers on the store (PostgreSQL NOTIFY) wake too; a lost announcement
            // only delays the delivery until their slow poll.
            if let Err(error) = state.store.notify_work().await {
                tracing::debug!(%error, "could not announce the delivery to other workers");
            }
            Json(json!({ "accepted": id })).into_response()
        }
        Ok(None) => {
            state.metrics.webhook(counted_as, "ignored");
            Json(json!({ "accepted": null })).into_response()
        }
        Err(error) if error.code == INBOX_FULL => {
            state.metrics.webhook(&connection, "backpressure");
            if let Some(unlogged) = state.backlog.repeats.occurred(&format!("{connection}/{INBOX_FULL}")) {
                tracing::warn!(connection, refusals_not_logged = unlogged, message = %error.message, "webhook deliveries refused: the inbox backlog is full");
            }
            let mut response = error.into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(crate::RETRY_AFTER_SECONDS));
            response
        }
        Err(error) => {
            state.metrics.webhook(counted_as, "rejected");
            // A sender re-sending a bad delivery refuses alike each time: one line per
            // connection, reason and interval, with the count.
            if let Some(unlogged) = state.backlog.repeats.occurred(&format!("{connection}/{}", error.code)) {
                tracing::warn!(connection, code = %error.code, message = %error.message, refusals_not_logged = unlogged, "webhook delivery refused");
            }
            error.into_response()
        }
    }
}

/// The code of a delivery refused because its connection's inbox backlog is full.
const INBOX_FULL: &str = "inbox_full";

/// Stores a verified delivery unless `name`'s backlog is at its limit (503: the sender
/// retries later, so accepting never outruns the disk).
async fn keep(state: &AppState, name: &str, event: NewInboxEvent) -> Result<i64, ApiError> {
    let limit = state.config.inbox_backlog_limit(name);
    if let Err(waiting) = state.backlog.admit(name, limit) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            INBOX_FULL,
            format!(
                "connection \"{name}\" has {waiting} webhook deliveries waiting, its limit (max_inbox_backlog = {limit} in {}); \
                 send this one again after {} s — the deliveries are taken as fast as the target allows \
                 (is the target switched off or down?)",
                state.config.file.display(),
                crate::RETRY_AFTER_SECONDS
            ),
        ));
    }
    match state.store.inbox_add(&event).await {
        Ok(id) => Ok(id),
        Err(error) => {
            state.backlog.give_back(name);
            Err(error.into())
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
    let event = NewInboxEvent {
        connection: name.to_owned(),
        topic,
        body,
    };
    Ok(Some(keep(state, name, event).await?))
}
