//! `/keys` (admin keys only): every API key with its scope, expiry, last use and state, a
//! Revoke button per live key, and a small form making one — its secret shown once, on the
//! page the form answers with (never in a URL, so it stays out of history and access logs).
use super::layout::{self, status_badge, when, Section};
use super::session::signed_in;
use super::{redirect_back, Flash, Outcome, PageError, PageResult};
use crate::api::{self, KeyCreatedView, KeyRequest, KeyScope, KeyView};
use crate::audit::Actor;
use crate::security::ClientAddress;
use crate::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;
use tiltas_store::{ApiKey, ApiScope};

/// The longest lifetime the form offers, in days (ten years).
const MAX_DAYS: u32 = 3650;

/// `GET /keys`.
pub(crate) async fn keys_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Admin).await?;
    keys_markup(&state, &key, &flash, None).await
}

/// The page, with the key just made shown once when there is one.
async fn keys_markup(state: &AppState, key: &ApiKey, flash: &Flash, made: Option<&KeyCreatedView>) -> PageResult {
    let keys = api::key_views(state).await?;
    let now = Utc::now();
    let body = html! {
        @if let Some(made) = made {
            section.card #new-key aria-labelledby="new-key-title" {
                h2 #new-key-title { "New key " (made.view.name) }
                p role="status" { "Copy it now: it is shown only once (the store keeps only its SHA-256). Send it as " code { "Authorization: Bearer KEY" } "." }
                p { code #new-key-secret { (made.key) } }
            }
        }
        p.muted {
            "Keys sign API calls and dashboard sign-ins. Revoking one stops it at once; a key cannot revoke itself. "
            "Making and revoking keys is recorded in the audit log."
        }
        (create_form())
        @if keys.is_empty() {
            p { "No API keys." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Scope" }
                    th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Last used" }
                    th scope="col" { "State" } th scope="col" { span.muted { "Action" } }
                } }
                tbody { @for shown in &keys { (key_row(shown, key.id, now)) } }
            }
        }
    };
    Ok(layout::page("API keys", Section::Keys, Some(key), flash, body))
}

fn create_form() -> Markup {
    html! {
        form.actions method="post" action="/keys" aria-label="Make a key" {
            label for="key-name" { "Name" }
            input #key-name type="text" name="name" required maxlength="100" placeholder="shop-sync";
            label for="key-scope" { "Scope" }
            select #key-scope name="scope" {
                option value="read" { "read" }
                option value="write" { "write" }
                option value="admin" { "admin" }
            }
            label for="key-days" { "Expires after (days)" }
            input #key-days type="number" name="expires_days" min="1" max=(MAX_DAYS) placeholder="never";
            button type="submit" { "Make key" }
        }
    }
}

fn key_row(shown: &KeyView, own: i64, now: chrono::DateTime<Utc>) -> Markup {
    html! {
        tr id={ "key-" (shown.id) } {
            td.num { (shown.id) }
            td { (shown.name) @if shown.id == own { " " span.muted { "(this session)" } } }
            td { (scope_word(shown.scope)) }
            td { (when(&shown.created_at, now)) }
            td { @match &shown.expires_at { Some(at) => (when(at, now)), None => span.muted { "never" } } }
            td { @match &shown.last_used_at { Some(at) => (when(at, now)), None => span.muted { "never" } } }
            td { (status_badge(&shown.state)) }
            td {
                @if shown.state != "revoked" && shown.id != own {
                    form.inline method="post" action={ "/keys/" (shown.id) "/revoke" } {
                        button.secondary type="submit" aria-label={ "Revoke key " (shown.name) " (id " (shown.id) ")" } { "Revoke" }
                    }
                }
            }
        }
    }
}

fn scope_word(scope: KeyScope) -> &'static str {
    match scope {
        KeyScope::Read => "read",
        KeyScope::Write => "write",
        KeyScope::Admin => "admin",
    }
}

/// The create form as sent (an empty lifetime means never).
#[derive(Debug, Deserialize)]
pub(crate) struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_days: String,
}

/// The form as the API's request: the lifetime in days becomes an expiry time.
fn key_request(form: KeyForm) -> Result<KeyRequest, ApiError> {
    let scope = KeyScope::try_from(form.scope).map_err(ApiError::invalid)?;
    let days = form.expires_days.trim();
    let expires_at = if days.is_empty() {
        None
    } else {
        let days: u32 = days
            .parse()
            .ok()
            .filter(|days| (1..=MAX_DAYS).contains(days))
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "Expires after \"{days}\" is not a number of days from 1 to {MAX_DAYS}: leave it empty for a key that never expires"
                ))
            })?;
        Some((Utc::now() + chrono::Duration::days(i64::from(days))).to_rfc3339())
    };
    Ok(KeyRequest {
        name: form.name,
        scope,
        expires_at,
    })
}

/// `POST /keys`: makes a key and answers with the page showing it once; a refused form goes
/// back to the page with the reason.
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Form(form): Form<KeyForm>,
) -> PageResult<Response> {
    let key = signed_in(&state, &headers, ApiScope::Admin).await?;
    let made = match key_request(form) {
        Ok(request) => api::create_checked(&state, &request, &Actor::key(&key, &address)).await,
        Err(error) => Err(error),
    };
    let made = match made {
        Ok(made) => made,
        Err(error) if error.status < 500 => return Ok(redirect_back("/keys", &Outcome::Problem(error.message))),
        Err(error) => return Err(PageError::Failed(error)),
    };
    let flash = Flash {
        done: Some(format!("Key {} (id {}) is made.", made.view.name, made.view.id)),
        problem: None,
    };
    Ok(keys_markup(&state, &key, &flash, Some(&made)).await?.into_response())
}

/// `POST /keys/{id}/revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let key = signed_in(&state, &headers, ApiScope::Admin).await?;
    let id = super::parse_id(&id, "API key")?;
    let outcome = match api::revoke_for(&state, id, &key, &Actor::key(&key, &address)).await {
        Ok(revoked) => Outcome::Done(format!("Key {} (id {id}) is revoked.", revoked.name)),
        Err(error) if error.status < 500 => Outcome::Problem(error.message),
        Err(error) => return Err(PageError::Failed(error)),
    };
    Ok(redirect_back("/keys", &outcome))
}
