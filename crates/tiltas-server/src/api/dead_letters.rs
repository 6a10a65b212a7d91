//! `/api/v1/dead-letters`: records that could not be delivered — listed, shown, corrected,
//! retried and replayed through their flow.
use super::*;
use crate::audit::{record, Actor};
use crate::security::ClientAddress;
use serde_json::json;
use tiltas_store::actions;

/// A record that could not be delivered.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    /// Its id.
    pub id: i64,
    /// The flow.
    pub flow: String,
    /// The record's key in the source.
    pub source_key: String,
    /// `transient`, `rate_limited`, `auth`, `invalid` or `quota`.
    pub class: String,
    /// Why, and the fix: the whole sentence.
    pub message: String,
    /// Where in the source (`products.csv:17`), when the source said.
    pub location: Option<String>,
    /// The canonical field at fault (`lines[0].sku`), when one is.
    pub field: Option<String>,
    /// What to change, on its own, when known.
    pub fix: Option<String>,
    /// The record (editable before a retry).
    pub payload: serde_json::Value,
    /// Attempts so far.
    pub attempts: u32,
    /// `open` or `resolved`.
    pub status: String,
    /// First failure (RFC 3339).
    pub created_at: String,
    /// Latest change.
    pub updated_at: String,
}

fn letter_view(letter: &DeadLetter) -> DeadLetterView {
    DeadLetterView {
        id: letter.id,
        flow: letter.flow.clone(),
        source_key: letter.source_key.clone(),
        class: letter.class.as_str().to_owned(),
        message: letter.message.clone(),
        location: letter.location.clone(),
        field: letter.field.clone(),
        fix: letter.fix.clone(),
        payload: letter.payload.clone(),
        attempts: letter.attempts,
        status: text_of(&letter.status),
        created_at: letter.created_at.to_rfc3339(),
        updated_at: letter.updated_at.to_rfc3339(),
    }
}

/// Filters of the dead-letter list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLettersQuery {
    /// Only this flow.
    pub flow: Option<String>,
    /// Only open letters (the default), only resolved ones, or all.
    pub status: Option<LetterStatusQuery>,
    /// At most this many (default 200, at most 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

/// Which dead letters to list by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LetterStatusQuery {
    /// Waiting for an operator or a later run.
    Open,
    /// Delivered later, or retried successfully.
    Resolved,
    /// Either.
    All,
}

/// Dead letters, newest first.
#[utoipa::path(get, path = "/api/v1/dead-letters", params(DeadLettersQuery), responses(
    (status = 200, body = [DeadLetterView]), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(super) async fn list_dead_letters(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<DeadLettersQuery>,
) -> ApiResult<Vec<DeadLetterView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    let status = match query.status {
        None | Some(LetterStatusQuery::Open) => Some(DeadLetterStatus::Open),
        Some(LetterStatusQuery::Resolved) => Some(DeadLetterStatus::Resolved),
        Some(LetterStatusQuery::All) => None,
    };
    let limit = checked_limit(query.limit, 200, 5000, "GET /api/v1/dead-letters")?;
    Ok(axum::Json(dead_letter_views(&state, query.flow, status, limit).await?))
}

/// The status filter named `open` (also when absent), `resolved` or `all` (`None`).
pub(crate) fn letter_status_filter(name: Option<&str>) -> Result<Option<DeadLetterStatus>, ApiError> {
    match name {
        None | Some("open") => Ok(Some(DeadLetterStatus::Open)),
        Some("resolved") => Ok(Some(DeadLetterStatus::Resolved)),
        Some("all") => Ok(None),
        Some(other) => Err(ApiError::invalid(format!(
            "status \"{other}\" is not one of open, resolved, all"
        ))),
    }
}

/// Dead letters of one flow or all, with a status or any, newest first.
pub(crate) async fn dead_letter_views(
    state: &AppState,
    flow: Option<String>,
    status: Option<DeadLetterStatus>,
    limit: u32,
) -> Result<Vec<DeadLetterView>, ApiError> {
    let letters = state
        .store
        .dead_letters(&DeadLetterFilter { flow, status, limit })
        .await?;
    Ok(letters.iter().map(letter_view).collect())
}

async fn letter(state: &AppState, id: i64) -> Result<DeadLetter, ApiError> {
    state
        .store
        .dead_letter(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no dead letter {id}: GET /api/v1/dead-letters lists them")))
}

/// One dead letter.
#[utoipa::path(get, path = "/api/v1/dead-letters/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = DeadLetterView), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn show_dead_letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<DeadLetterView> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(dead_letter_view(&state, id).await?))
}

/// One dead letter (404 when unknown).
pub(crate) async fn dead_letter_view(state: &AppState, id: i64) -> Result<DeadLetterView, ApiError> {
    Ok(letter_view(&letter(state, id).await?))
}

/// A corrected payload for a dead letter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterEdit {
    /// The record as it should be sent (a JSON object).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Send it right away.
    #[serde(default)]
    pub retry: bool,
}

/// Replaces a dead letter's payload (and retries it when asked).
#[utoipa::path(put, path = "/api/v1/dead-letters/{id}", params(("id" = i64, Path)), request_body = DeadLetterEdit, responses(
    (status = 200, body = DeadLetterView), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
    (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError), (status = 502, body = ApiError)))]
pub(super) async fn edit_dead_letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<DeadLetterView> {
    let key = authorize(&state, &headers, ApiScope::Write).await?;
    let edit: DeadLetterEdit = required_body(&body)?;
    let actor = Actor::key(&key, &address);
    Ok(axum::Json(
        edit_dead_letter_payload(&state, id, edit.payload, edit.retry, &actor).await?,
    ))
}

/// Replaces a dead letter's payload with a JSON object (400 for anything else, nothing saved)
/// and, when `retry`, sends it through its flow at once; both recorded in the audit log (the
/// caller checked for write scope).
pub(crate) async fn edit_dead_letter_payload(
    state: &AppState,
    id: i64,
    payload: serde_json::Value,
    retry: bool,
    actor: &Actor,
) -> Result<DeadLetterView, ApiError> {
    let existing = letter(state, id).await?;
    if !payload.is_object() {
        return Err(ApiError::invalid(
            "payload must be a JSON object: the record as it should be sent",
        ));
    }
    state.store.dead_letter_set_payload(id, &payload).await?;
    let target = id.to_string();
    // The payload may carry personal data, and the letter keeps it: the log names the letter.
    let detail = json!({ "flow": existing.flow, "source_key": existing.source_key });
    record(
        state.store.as_ref(),
        actor,
        actions::DEAD_LETTER_EDITED,
        &target,
        detail.clone(),
    )
    .await;
    if retry {
        let flow = existing.flow.clone();
        let edited = DeadLetter { payload, ..existing };
        let outcome = replay(state, &flow, vec![edited]).await;
        record_retry(state, actor, &target, detail, &outcome).await;
        outcome?;
    }
    Ok(letter_view(&letter(state, id).await?))
}

/// Records a retry with the run it made, or why it could not run.
async fn record_retry(
    state: &AppState,
    actor: &Actor,
    target: &str,
    mut detail: serde_json::Value,
    outcome: &Result<Vec<RunResult>, ApiError>,
) {
    detail["outcome"] = match outcome {
        Ok(runs) => json!({ "runs": runs.iter().map(|run| run.run).collect::<Vec<_>>() }),
        Err(error) => json!({ "error": error.message }),
    };
    record(
        state.store.as_ref(),
        actor,
        actions::DEAD_LETTER_RETRIED,
        target,
        detail,
    )
    .await;
}

async fn replay(state: &AppState, flow: &str, letters: Vec<DeadLetter>) -> Result<Vec<RunResult>, ApiError> {
    if state.config.flow(flow).is_none() {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            format!("the dead letters belong to flow \"{flow}\", which the flow file no longer defines"),
        ));
    }
    let result = state.engine.replay(flow, &letters, &SyncOptions::default()).await;
    state.after_run(flow, &result).await;
    Ok(vec![run_result(&result?)])
}

/// Sends a dead letter again through its flow's current mapping.
#[utoipa::path(post, path = "/api/v1/dead-letters/{id}/retry", params(("id" = i64, Path)), responses(
    (status = 200, body = DeadLetterView), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
    (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError), (status = 502, body = ApiError)))]
pub(super) async fn retry_dead_letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(id): Path<i64>,
) -> ApiResult<DeadLetterView> {
    let key = authorize(&state, &headers, ApiScope::Write).await?;
    let existing = letter(&state, id).await?;
    let flow = existing.flow.clone();
    let detail = json!({ "flow": existing.flow, "source_key": existing.source_key });
    let outcome = replay(&state, &flow, vec![existing]).await;
    record_retry(&state, &Actor::key(&key, &address), &id.to_string(), detail, &outcome).await;
    outcome?;
    Ok(axum::Json(letter_view(&letter(&state, id).await?)))
}

/// Which dead letters to replay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayRequest {
    /// Only this flow's.
    pub flow: Option<String>,
    /// Only these ids (all open ones when empty).
    #[serde(deserialize_with = "whole_numbers")]
    pub ids: Vec<i64>,
}

/// Integers as JSON Schema counts them: `7` and `7.0` alike (serde refuses the second for an
/// `i64`, yet a client generating from the document may send it); fractions are refused.
fn whole_numbers<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    let numbers: Vec<serde_json::Number> = Deserialize::deserialize(deserializer)?;
    numbers
        .iter()
        .map(|number| {
            super::whole_number(number)
                .and_then(|value| i64::try_from(value).ok())
                .ok_or_else(|| serde::de::Error::custom(format!("id {number} is not a whole number of i64 range")))
        })
        .collect()
}

/// Replays open dead letters (all, a flow's, or the listed ones), flow by flow.
#[utoipa::path(post, path = "/api/v1/dead-letters/replay", request_body(content = Option<ReplayRequest>, description = "Optional: an empty body replays every open dead letter."), responses(
    (status = 200, body = [RunResult]), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
    (status = 409, body = ApiError), (status = 422, body = ApiError), (status = 502, body = ApiError)))]
pub(super) async fn replay_dead_letters(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    body: Bytes,
) -> ApiResult<Vec<RunResult>> {
    let key = authorize(&state, &headers, ApiScope::Write).await?;
    let request: ReplayRequest = optional_body(&body)?;
    let actor = Actor::key(&key, &address);
    Ok(axum::Json(
        replay_open_letters(&state, request.flow, &request.ids, &actor).await?,
    ))
}

/// Replays open dead letters (of one flow or all; only `ids` unless empty), one run per
/// flow, recorded in the audit log (the caller checked for write scope).
pub(crate) async fn replay_open_letters(
    state: &AppState,
    flow: Option<String>,
    ids: &[i64],
    actor: &Actor,
) -> Result<Vec<RunResult>, ApiError> {
    let target = flow.clone().unwrap_or_else(|| "all flows".to_owned());
    let outcome = replay_letters(state, flow, ids).await;
    let detail = match &outcome {
        Ok(runs) => json!({ "ids": ids, "runs": runs.iter().map(|run| run.run).collect::<Vec<_>>() }),
        Err(error) => json!({ "ids": ids, "error": error.message }),
    };
    record(
        state.store.as_ref(),
        actor,
        actions::DEAD_LETTERS_REPLAYED,
        &target,
        detail,
    )
    .await;
    outcome
}

async fn replay_letters(state: &AppState, flow: Option<String>, ids: &[i64]) -> Result<Vec<RunResult>, ApiError> {
    let open = state
        .store
        .dead_letters(&DeadLetterFilter {
            flow,
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await?;
    let mut by_flow: BTreeMap<String, Vec<DeadLetter>> = BTreeMap::new();
    for letter in open {
        if ids.is_empty() || ids.contains(&letter.id) {
            by_flow.entry(letter.flow.clone()).or_default().push(letter);
        }
    }
    let mut results = Vec::new();
    for (flow, letters) in by_flow {
        if state.config.flow(&flow).is_none() {
            continue;
        }
        results.extend(replay(state, &flow, letters).await?);
    }
    Ok(results)
}
