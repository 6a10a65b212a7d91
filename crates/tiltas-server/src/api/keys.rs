//! `/api/v1/keys` (admin): the API keys (never a secret or a hash), making one (its secret shown
//! once, in the answer) and revoking one by id. Each key made or revoked is in the audit log
//! with the calling key's name and the client address. A key cannot revoke itself (409): an
//! admin would otherwise lock out the session doing the revoking; another admin key or
//! `tiltas keys revoke ID` does it.
use super::ApiResult;
use crate::audit::Actor;
use crate::auth::{authorize, scope_name};
use crate::error::{required_body, ApiPath as Path};
use crate::keys::{create_key, key_state, revoke_key};
use crate::security::ClientAddress;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tiltas_store::{ApiKey, ApiScope};
use utoipa::ToSchema;

/// The longest key name, in characters.
pub(crate) const MAX_KEY_NAME: usize = 100;

/// What a key may do: `read` lists and shows, `write` also runs flows and retries dead
/// letters, `admin` also switches connections, manages keys and reads the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum KeyScope {
    /// Read state.
    Read,
    /// Also run flows and retry dead letters.
    Write,
    /// Also manage keys and connections.
    Admin,
}

impl TryFrom<String> for KeyScope {
    type Error = String;

    /// A scope as sent, refused with a message naming the field and the choices (serde's own
    /// would name neither).
    fn try_from(text: String) -> Result<KeyScope, String> {
        match text.as_str() {
            "read" => Ok(KeyScope::Read),
            "write" => Ok(KeyScope::Write),
            "admin" => Ok(KeyScope::Admin),
            _ => Err(format!(
                "scope {text:?} is not a key scope: send \"read\", \"write\" or \"admin\""
            )),
        }
    }
}

impl From<ApiScope> for KeyScope {
    fn from(scope: ApiScope) -> KeyScope {
        match scope {
            ApiScope::Read => KeyScope::Read,
            ApiScope::Write => KeyScope::Write,
            ApiScope::Admin => KeyScope::Admin,
        }
    }
}

/// An API key as the API shows it: never its secret nor its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// Its id (`DELETE /api/v1/keys/{id}`, `tiltas keys revoke ID`).
    pub id: i64,
    /// A label for people; the audit log names the key's actions by it.
    pub name: String,
    /// What it may do.
    pub scope: KeyScope,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it stops working (RFC 3339); absent: never.
    pub expires_at: Option<String>,
    /// When it was last used, to the minute (the server notes a use at most once a minute);
    /// absent: never used.
    pub last_used_at: Option<String>,
    /// When it was revoked; absent: not revoked.
    pub revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub state: String,
}

/// A key as the API and the dashboard show it.
pub(crate) fn key_view(key: &ApiKey, now: DateTime<Utc>) -> KeyView {
    KeyView {
        id: key.id,
        name: key.name.clone(),
        scope: key.scope.into(),
        created_at: key.created_at.to_rfc3339(),
        expires_at: key.expires_at.map(|at| at.to_rfc3339()),
        last_used_at: key.last_used_at.map(|at| at.to_rfc3339()),
        revoked_at: key.revoked_at.map(|at| at.to_rfc3339()),
        state: key_state(key, now).to_owned(),
    }
}

/// Every key, newest first, revoked and expired ones included.
pub(crate) async fn key_views(state: &AppState) -> Result<Vec<KeyView>, ApiError> {
    let now = Utc::now();
    Ok(state
        .store
        .api_keys()
        .await?
        .iter()
        .map(|key| key_view(key, now))
        .collect())
}

/// A key to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// A label for people (1–100 characters, no control characters, not starting with a
    /// space); no live key may have it already.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x20\\x7f][^\\x00-\\x1f\\x7f]*$",
        example = "shop-sync"
    )]
    pub name: String,
    /// What it may do.
    pub scope: KeyScope,
    /// When it stops working (RFC 3339, in the future, e.g. `2027-03-01T00:00:00Z`); absent or
    /// null: never.
    #[schema(
        pattern = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$",
        example = "2027-03-01T00:00:00Z"
    )]
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A key just made: the only answer that carries its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyCreatedView {
    /// The key as listed from now on.
    #[serde(flatten)]
    pub view: KeyView,
    /// The secret, shown only now (the store keeps its SHA-256): send it as
    /// `Authorization: Bearer KEY`.
    pub key: String,
}

/// Whether `name` is a key name the API takes (what [`KeyRequest::name`]'s pattern says).
fn name_problem(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    match chars.next() {
        None => Some("is empty"),
        Some(first) if first <= ' ' || first == '\u{7f}' => Some("starts with a space or a control character"),
        Some(_) if name.chars().count() > MAX_KEY_NAME => Some("is longer than 100 characters"),
        Some(_) if chars.any(|c| c < ' ' || c == '\u{7f}') => Some("holds a control character"),
        Some(_) => None,
    }
}

/// The checked parts of a key request: its name, scope and expiry.
struct CheckedKey {
    name: String,
    scope: ApiScope,
    expires_at: Option<DateTime<Utc>>,
}

/// Held from checking a name to storing the key, so two requests to this server for one name
/// cannot both pass the check (the store does not hold names unique: `tiltas keys create`
/// allows repeats, and a revoked key's name is free again).
static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Checks a key request and makes the key as `actor`: its view with the secret, or 400/409.
pub(crate) async fn create_checked(
    state: &AppState,
    request: &KeyRequest,
    actor: &Actor,
) -> Result<KeyCreatedView, ApiError> {
    let _one_at_a_time = CREATING.lock().await;
    let checked = check_key_request(state, request).await?;
    make_key(state, checked, actor).await
}

/// Checks a key request against the rules and the live keys: 400 naming the field and the
/// fix, 409 when a live key has the name already or the expiry has passed.
async fn check_key_request(state: &AppState, request: &KeyRequest) -> Result<CheckedKey, ApiError> {
    if let Some(problem) = name_problem(&request.name) {
        return Err(ApiError::invalid(format!(
            "name {:?} {problem}: give the key a label of 1–{MAX_KEY_NAME} visible characters, e.g. \"shop-sync\"",
            request.name
        )));
    }
    let now = Utc::now();
    let expires_at = match request
        .expires_at
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        None => None,
        Some(text) => {
            let at = DateTime::parse_from_rfc3339(text)
                .map_err(|error| {
                    ApiError::invalid(format!(
                        "expires_at \"{text}\" is not an RFC 3339 time ({error}): write e.g. 2027-03-01T00:00:00Z, or leave it out for a key that never expires"
                    ))
                })?
                .with_timezone(&Utc);
            if at <= now {
                // 409, not 400: the request is well-formed (the document allows any such time);
                // it is the clock, the server's state, that is past it.
                return Err(ApiError::new(StatusCode::CONFLICT, "conflict", format!(
                    "expires_at {text} is not in the future (now is {}): give a later time, or leave it out for a key that never expires",
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                ));
            }
            Some(at)
        }
    };
    let live = state.store.api_keys().await?;
    if let Some(taken) = live
        .iter()
        .find(|key| key.name == request.name && key.revoked_at.is_none() && !key.expired(now))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "name \"{}\" is taken by live key {} (scope {}): choose another name, or revoke that key first (DELETE /api/v1/keys/{})",
                taken.name,
                taken.id,
                scope_name(taken.scope),
                taken.id
            ),
        ));
    }
    let scope = match request.scope {
        KeyScope::Read => ApiScope::Read,
        KeyScope::Write => ApiScope::Write,
        KeyScope::Admin => ApiScope::Admin,
    };
    Ok(CheckedKey {
        name: request.name.clone(),
        scope,
        expires_at,
    })
}

/// Makes a checked key as `actor` and returns it with its secret.
async fn make_key(state: &AppState, key: CheckedKey, actor: &Actor) -> Result<KeyCreatedView, ApiError> {
    let created = create_key(state.store.as_ref(), &key.name, key.scope, key.expires_at, actor).await?;
    tracing::info!(key = created.id, name = %key.name, actor = %actor.name, "API key created");
    let stored = state
        .store
        .api_keys()
        .await?
        .into_iter()
        .find(|stored| stored.id == created.id)
        .ok_or_else(|| ApiError::internal(format!("key {} was made but the store does not list it", created.id)))?;
    Ok(KeyCreatedView {
        view: key_view(&stored, Utc::now()),
        key: created.secret,
    })
}

/// Revokes key `id` for `caller` (who may not revoke itself): 404 when no such key is live.
pub(crate) async fn revoke_for(state: &AppState, id: i64, caller: &ApiKey, actor: &Actor) -> Result<ApiKey, ApiError> {
    if id == caller.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "key {id} (\"{}\") is the key of this request and cannot revoke itself: revoke it with another admin key, or `tiltas keys revoke {id}`",
                caller.name
            ),
        ));
    }
    let revoked = revoke_key(state.store.as_ref(), id, actor).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "no API key {id} that is not revoked already: GET /api/v1/keys lists the keys and their ids"
        ))
    })?;
    tracing::info!(key = id, name = %revoked.name, actor = %actor.name, "API key revoked");
    Ok(revoked)
}

/// Every API key, newest first (never a secret or a hash), with its expiry and last use.
#[utoipa::path(get, path = "/api/v1/keys", responses(
    (status = 200, body = [KeyView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(super) async fn list_keys(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Vec<KeyView>> {
    authorize(&state, &headers, ApiScope::Admin).await?;
    Ok(axum::Json(key_views(&state).await?))
}

/// Makes a key; the answer (201) is the only place its secret is ever shown. 400: a bad name,
/// scope or expiry; 409: a live key has that name, or the expiry is not in the future.
#[utoipa::path(post, path = "/api/v1/keys", request_body = KeyRequest, responses(
    (status = 201, body = KeyCreatedView, description = "Made: `key` (the secret) is shown only now"),
    (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
    (status = 409, body = ApiError, description = "A live key has that name, or `expires_at` is not in the future")))]
pub(super) async fn create_api_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, ApiScope::Admin).await?;
    let request: KeyRequest = required_body(&body)?;
    let created = create_checked(&state, &request, &Actor::key(&caller, &address)).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// Revokes a key: it stops working at once. 404: no such key, or revoked already; 409: the
/// request's own key (a key cannot revoke itself).
#[utoipa::path(delete, path = "/api/v1/keys/{id}", params(("id" = i64, Path, description = "The key's id")), responses(
    (status = 204, description = "Revoked"), (status = 400, body = ApiError), (status = 401, body = ApiError),
    (status = 403, body = ApiError), (status = 404, body = ApiError),
    (status = 409, body = ApiError, description = "The request's own key")))]
pub(super) async fn revoke_api_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let caller = authorize(&state, &headers, ApiScope::Admin).await?;
    revoke_for(&state, id, &caller, &Actor::key(&caller, &address)).await?;
    Ok(StatusCode::NO_CONTENT)
}
