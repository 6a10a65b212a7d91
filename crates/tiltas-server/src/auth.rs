//! API keys: `Authorization: Bearer KEY`, looked up by hash, with a scope at least the one an
//! endpoint needs (read < write < admin).
use crate::{ApiError, AppState};
use axum::http::{HeaderMap, StatusCode};
use tiltas_store::{hash_api_key, ApiKey, ApiScope};

/// The key of a request, if it has the scope `needed`.
pub(crate) async fn authorize(state: &AppState, headers: &HeaderMap, needed: ApiScope) -> Result<ApiKey, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let secret = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send `Authorization: Bearer KEY`; create a key with `tiltas keys create --scope read|write|admin`",
            )
        })?;
    authorize_secret(state, secret, needed).await
}

/// The live key whose secret is `secret`, if it has the scope `needed` (the API's bearer
/// header and the dashboard's cookie both end here).
pub(crate) async fn authorize_secret(state: &AppState, secret: &str, needed: ApiScope) -> Result<ApiKey, ApiError> {
    let key = state
        .store
        .api_key_by_hash(&hash_api_key(secret))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the API key is unknown or revoked: `tiltas keys list` shows the keys",
            )
        })?;
    if let Some(expires_at) = key.expires_at.filter(|_| key.expired(chrono::Utc::now())) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "key_expired",
            format!(
                "API key \"{}\" (id {}) expired at {}: create a new one with `tiltas keys create --scope {} --expires 90d`",
                key.name,
                key.id,
                expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                scope_name(key.scope)
            ),
        ));
    }
    note_use(state, &key);
    if key.scope < needed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "key \"{}\" has scope {}; this needs {}",
                key.name,
                scope_name(key.scope),
                scope_name(needed)
            ),
        ));
    }
    Ok(key)
}

/// Writes the key's last use, at most once a minute per key (not a write per request), off the
/// request's path.
fn note_use(state: &AppState, key: &ApiKey) {
    if !state.security.key_used(key.id) {
        return;
    }
    let store = state.store.clone();
    let id = key.id;
    tokio::spawn(async move {
        if let Err(error) = store.api_key_touch(id, chrono::Utc::now()).await {
            tracing::warn!(key = id, %error, "could not note the API key's last use");
        }
    });
}

/// The scope as written on the command line.
pub(crate) fn scope_name(scope: ApiScope) -> &'static str {
    match scope {
        ApiScope::Read => "read",
        ApiScope::Write => "write",
        ApiScope::Admin => "admin",
    }
}
