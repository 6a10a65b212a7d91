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

/// The scope as written on the command line.
pub(crate) fn scope_name(scope: ApiScope) -> &'static str {
    match scope {
        ApiScope::Read => "read",
        ApiScope::Write => "write",
        ApiScope::Admin => "admin",
    }
}
