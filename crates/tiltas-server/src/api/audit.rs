//! `GET /api/v1/audit` (who did which admin action, newest first) and `POST /api/v1/forget`
//! (a person's data erased from every stored payload) — both admin only.
use super::{checked_limit, ApiResult};
use crate::audit::{record, Actor};
use crate::auth::authorize;
use crate::error::{required_body, ApiQuery as Query};
use crate::security::ClientAddress;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tiltas_store::{actions, ApiScope, AuditEntry, AuditFilter, ErasedRows, ErasureReport};
use utoipa::{IntoParams, ToSchema};

/// The largest `limit` of `GET /api/v1/audit`.
pub(crate) const MAX_AUDIT: u32 = 500;

/// A recorded admin action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Its id (`?before=` this id asks for the next page).
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: the API key's name, or `cli:USER`.
    pub actor: String,
    /// What, e.g. `key.created`, `connection.disabled`, `dead_letter.retried`, `flow.run`.
    pub action: String,
    /// On what: a key id, a connection, a flow, a dead letter id.
    pub target: String,
    /// Particulars (never a secret).
    pub detail: serde_json::Value,
    /// From where: the client address (`unknown` when the server was not told), or `cli`.
    pub from: String,
}

/// An audit entry as the API and the dashboard show it.
pub(crate) fn audit_view(entry: &AuditEntry) -> AuditView {
    AuditView {
        id: entry.id,
        at: entry.at.to_rfc3339(),
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        target: entry.target.clone(),
        detail: entry.detail.clone(),
        from: entry.origin.clone(),
    }
}

/// Filters and paging of the audit log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action (`key.created`, `connection.enabled`, …).
    pub action: Option<String>,
    /// Only this actor (a key's name, or `cli:USER`).
    pub actor: Option<String>,
    /// Only actions at or after this time (RFC 3339, e.g. `2026-11-30T00:00:00Z`; any offset is
    /// accepted, the pattern shows the plain UTC form; empty means no bound).
    #[param(
        pattern = "^$|^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
    )]
    pub since: Option<String>,
    /// Only entries older than this id: the next page after the last id seen.
    pub before: Option<i64>,
    /// At most this many (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The audit log as the API and the dashboard list it (400 for a bad `since` or `limit`).
pub(crate) async fn audit_views(state: &AppState, query: &AuditQuery) -> Result<Vec<AuditView>, ApiError> {
    let limit = checked_limit(query.limit, 100, MAX_AUDIT, "GET /api/v1/audit")?;
    let since = match query.since.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|error| {
                    ApiError::invalid(format!(
                        "since \"{text}\" of GET /api/v1/audit is not an RFC 3339 time ({error}): write e.g. 2026-11-30T00:00:00Z"
                    ))
                })?
                .with_timezone(&chrono::Utc),
        ),
    };
    let entries = state
        .store
        .audit_entries(&AuditFilter {
            action: query.action.clone().filter(|action| !action.is_empty()),
            actor: query.actor.clone().filter(|actor| !actor.is_empty()),
            since,
            before: query.before,
            limit,
        })
        .await?;
    Ok(entries.iter().map(audit_view).collect())
}

/// Admin actions, newest first: who did what, to what, when and from where.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses(
    (status = 200, body = [AuditView]), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(super) async fn list_audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Vec<AuditView>> {
    authorize(&state, &headers, ApiScope::Admin).await?;
    Ok(axum::Json(audit_views(&state, &query).await?))
}

/// Whose data to erase.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgetRequest {
    /// The person's e-mail address (matched ignoring case, anywhere in a stored document).
    #[schema(min_length = 3, pattern = "^[^@\\s]+@[^@\\s]+$", example = "ona@example.lt")]
    pub email: String,
    /// Report what would be erased, erase nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Rows and values erased in one table.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedView {
    /// Rows that held the person's data.
    pub rows: u64,
    /// Values replaced by `"[erased]"`.
    pub values: u64,
}

impl From<ErasedRows> for ErasedView {
    fn from(erased: ErasedRows) -> ErasedView {
        ErasedView {
            rows: erased.rows,
            values: erased.values,
        }
    }
}

/// What forgetting a person removed (or, in a dry run, would remove), per table.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForgetReport {
    /// Activity payloads (as read, as sent, the target's answer).
    pub activity_payloads: ErasedView,
    /// Dead letters (payload and message).
    pub dead_letters: ErasedView,
    /// Webhook deliveries (body and error).
    pub inbox: ErasedView,
    /// Unsettled write intents.
    pub outbox: ErasedView,
    /// Whether nothing was changed.
    pub dry_run: bool,
}

impl From<ErasureReport> for ForgetReport {
    fn from(report: ErasureReport) -> ForgetReport {
        ForgetReport {
            activity_payloads: report.activity_payloads.into(),
            dead_letters: report.dead_letters.into(),
            inbox: report.inbox.into(),
            outbox: report.outbox.into(),
            dry_run: report.dry_run,
        }
    }
}

/// A person's address as the audit log names it: its SHA-256, so the log of an erasure does
/// not itself keep the address it erased.
pub fn email_fingerprint(email: &str) -> String {
    format!(
        "email-sha256:{}",
        tiltas_store::hash_api_key(&email.trim().to_lowercase())
    )
}

/// Erases a person's data (found by e-mail) and records it in the audit log (not a dry run).
pub async fn forget_person(
    store: &dyn tiltas_store::Store,
    email: &str,
    dry_run: bool,
    actor: &Actor,
) -> Result<ErasureReport, tiltas_store::StoreError> {
    let report = store.forget_person(email, dry_run).await?;
    if !dry_run {
        let detail = serde_json::to_value(report).unwrap_or_default();
        record(
            store,
            actor,
            actions::PERSON_FORGOTTEN,
            &email_fingerprint(email),
            detail,
        )
        .await;
    }
    Ok(report)
}

/// Erases a person's e-mail, names, phone numbers and addresses from activity payloads, dead
/// letters, webhook bodies and unsettled intents, keeping rows and counters.
#[utoipa::path(post, path = "/api/v1/forget", request_body = ForgetRequest, responses(
    (status = 200, body = ForgetReport), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(super) async fn forget(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    body: Bytes,
) -> ApiResult<ForgetReport> {
    let key = authorize(&state, &headers, ApiScope::Admin).await?;
    let request: ForgetRequest = required_body(&body)?;
    let email = request.email.trim();
    if email.len() < 3 || !email.contains('@') {
        return Err(ApiError::invalid(format!(
            "email \"{email}\" of POST /api/v1/forget is not an e-mail address: send the person's whole address, e.g. ona@example.lt"
        )));
    }
    let actor = Actor::key(&key, &address);
    let report = forget_person(state.store.as_ref(), email, request.dry_run, &actor).await?;
    Ok(axum::Json(report.into()))
}
