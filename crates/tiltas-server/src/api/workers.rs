//! `GET /api/v1/workers`: the processes sharing the store (`tiltas serve`, `tiltas worker`),
//! each with its heartbeat, what it runs, and whether it is live or gone.
use super::ApiResult;
use crate::auth::authorize;
use crate::{ApiError, AppState, GONE_AFTER};
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use tiltas_store::{ApiScope, WorkerRecord};
use utoipa::ToSchema;

/// One worker on the store.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerView {
    /// `HOST:PID:STARTED` (start time in Unix seconds).
    pub id: String,
    /// `serve` (with HTTP) or `worker`.
    #[schema(example = "worker")]
    pub kind: String,
    /// When it registered (RFC 3339).
    pub started_at: String,
    /// Its last heartbeat (RFC 3339); it beats every 3 seconds.
    pub heartbeat_at: String,
    /// Seconds since its last heartbeat.
    pub silent_seconds: i64,
    /// `live`, or `gone` when silent for longer than three heartbeats (killed, or its machine
    /// is down); gone workers are removed after ten minutes.
    #[schema(example = "live")]
    pub status: String,
    /// What it ran at its last heartbeat: flow names, and `inbox` while delivering webhooks.
    pub running: Vec<String>,
    /// Whether it is the process answering this request.
    pub this_process: bool,
}

/// The view of a stored worker at `now`.
pub(crate) fn worker_view(worker: &WorkerRecord, now: chrono::DateTime<chrono::Utc>) -> WorkerView {
    let silent = now - worker.heartbeat_at;
    let gone = silent > chrono::Duration::from_std(GONE_AFTER).unwrap_or_default();
    WorkerView {
        id: worker.id.clone(),
        kind: worker.kind.as_str().to_owned(),
        started_at: worker.started_at.to_rfc3339(),
        heartbeat_at: worker.heartbeat_at.to_rfc3339(),
        silent_seconds: silent.num_seconds().max(0),
        status: if gone { "gone" } else { "live" }.to_owned(),
        running: worker.running.clone(),
        this_process: worker.id == tiltas_engine::worker_id(),
    }
}

/// Every worker on the store, live and lately gone.
pub(crate) async fn worker_views(state: &AppState) -> Result<Vec<WorkerView>, ApiError> {
    let workers = state.store.workers().await?;
    let now = chrono::Utc::now();
    Ok(workers.iter().map(|worker| worker_view(worker, now)).collect())
}

/// The workers sharing this store, oldest first.
#[utoipa::path(get, path = "/api/v1/workers", responses(
    (status = 200, body = Vec<WorkerView>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(crate) async fn list_workers(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Vec<WorkerView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(worker_views(&state).await?))
}
