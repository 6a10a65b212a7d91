//! `/api/v1`: connections (never their secrets), flows, runs with their activity, dead letters,
//! webhook deliveries, quota, quotes across parts suppliers, the audit log and API keys — every call behind an API key with the scope it needs. The OpenAPI 3.1 document at
//! `/api/v1/openapi.json` is generated from these handlers and types.
use crate::auth::authorize;
use crate::error::{optional_body, required_body, ApiPath as Path, ApiQuery as Query};
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tiltas_engine::{SyncOptions, SyncReport};
use tiltas_store::{
    ActivityFilter, ApiScope, DeadLetter, DeadLetterFilter, DeadLetterStatus, Delivery, DeliveryFilter,
    DeliveryOutcome, RunCounters, RunRecord,
};
use utoipa::{IntoParams, OpenApi, ToSchema};

mod audit;
mod connections;
mod dead_letters;
mod keys;
mod quota;
mod quote;
mod supplier_orders;
mod workers;
pub(crate) use audit::audit_views;
use audit::{__path_forget, __path_list_audit, forget, list_audit};
pub use audit::{email_fingerprint, forget_person, AuditQuery, AuditView, ErasedView, ForgetReport, ForgetRequest};
use connections::{
    __path_disable_connection, __path_enable_connection, __path_list_connections, __path_test_connection,
    disable_connection, enable_connection, list_connections, test_connection,
};
pub use connections::{capabilities, capability_table, connection_views, Capabilities, ConnectionTest, ConnectionView};
pub(crate) use connections::{switch_connection, test_connection_now};
use dead_letters::{
    __path_edit_dead_letter, __path_list_dead_letters, __path_replay_dead_letters, __path_retry_dead_letter,
    __path_show_dead_letter, edit_dead_letter, list_dead_letters, replay_dead_letters, retry_dead_letter,
    show_dead_letter,
};
pub(crate) use dead_letters::{
    dead_letter_view, dead_letter_views, edit_dead_letter_payload, letter_status_filter, replay_open_letters,
};
pub use dead_letters::{DeadLetterEdit, DeadLetterView, LetterStatusQuery, ReplayRequest};
use keys::{__path_create_api_key, __path_list_keys, __path_revoke_api_key, create_api_key, list_keys, revoke_api_key};
pub(crate) use keys::{create_checked, key_views, revoke_for};
pub use keys::{KeyCreatedView, KeyRequest, KeyScope, KeyView};
use quota::__path_quota;
use quota::quota;
pub use quota::{quota_views, GroupQuota, QuotaView, ReportedQuota};
pub use quote::QuoteQuery;
use quote::{__path_quote, quote};
use supplier_orders::{__path_place_supplier_order, place_supplier_order};
pub use supplier_orders::{SupplierOrderBody, SupplierOrderLineView, SupplierOrderView};
use tiltas_engine::quote::{
    BestOffer, BranchStock, Money, QuoteAnswer, QuoteOffer, RatesUsed, SupplierAnswer, SupplierStatus,
};
pub(crate) use workers::worker_views;
pub use workers::WorkerView;
use workers::{__path_list_workers, list_workers};

/// The routes of `/api/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/connections", get(list_connections))
        .route("/api/v1/connections/{name}/enable", post(enable_connection))
        .route("/api/v1/connections/{name}/disable", post(disable_connection))
        .route("/api/v1/connections/{name}/test", post(test_connection))
        .route("/api/v1/flows", get(list_flows))
        .route("/api/v1/flows/{name}/run", post(run_flow))
        .route("/api/v1/runs", get(list_runs))
        .route("/api/v1/runs/{id}", get(show_run))
        .route("/api/v1/activity", get(list_activity))
        .route("/api/v1/activity/{id}", get(show_activity))
        .route("/api/v1/dead-letters", get(list_dead_letters))
        .route("/api/v1/dead-letters/replay", post(replay_dead_letters))
        .route("/api/v1/dead-letters/{id}", get(show_dead_letter).put(edit_dead_letter))
        .route("/api/v1/dead-letters/{id}/retry", post(retry_dead_letter))
        .route("/api/v1/deliveries", get(list_deliveries))
        .route("/api/v1/quota", get(quota))
        .route("/api/v1/quote", get(quote))
        .route("/api/v1/supplier-orders", post(place_supplier_order))
        .route("/api/v1/workers", get(list_workers))
        .route("/api/v1/audit", get(list_audit))
        .route("/api/v1/forget", post(forget))
        .route("/api/v1/keys", get(list_keys).post(create_api_key))
        .route("/api/v1/keys/{id}", axum::routing::delete(revoke_api_key))
}

/// The OpenAPI document of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tiltas API", description = "Runs, records, dead letters and quotas of a Tiltas server."),
    paths(
        list_connections, enable_connection, disable_connection, test_connection, list_flows, run_flow,
        list_runs, show_run, list_activity, show_activity, list_dead_letters, show_dead_letter, edit_dead_letter,
        retry_dead_letter, replay_dead_letters, list_deliveries, quota, quote, place_supplier_order,
        list_workers,
        list_audit, forget,
        list_keys, create_api_key, revoke_api_key
    ),
    components(schemas(
        ApiError, ConnectionView, ConnectionTest, FlowView, LetterStatusQuery, RunView, Counters, RunDetail, ActivityView,
        ActivityPayloadsView, DeadLetterView, DeadLetterEdit, ReplayRequest, RunRequest, RunResult, QuotaView, ReportedQuota, GroupQuota, DeliveryView, DeliveryFlowView,
        DeliveryStatus, FlowOutcome, DeliveryOutcomeFilter, Capabilities, QuoteAnswer, QuoteOffer, Money, BranchStock,
        SupplierAnswer, SupplierStatus, BestOffer, RatesUsed, SupplierOrderBody, SupplierOrderView, SupplierOrderLineView,
        WorkerView,
        AuditView, ForgetRequest, ForgetReport, ErasedView,
        KeyView, KeyRequest, KeyCreatedView, KeyScope
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

type ApiResult<T> = Result<axum::Json<T>, ApiError>;

/// A run's counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct Counters {
    /// Records read.
    pub read: u64,
    /// Delivered before and unchanged.
    pub unchanged: u64,
    /// Created in the target.
    pub created: u64,
    /// Updated in the target.
    pub updated: u64,
    /// Left alone by a filter or policy.
    pub skipped: u64,
    /// Dead-lettered.
    pub failed: u64,
    /// Requests to external systems.
    pub api_calls: u64,
}

impl From<&RunCounters> for Counters {
    fn from(counters: &RunCounters) -> Counters {
        Counters {
            read: counters.read,
            unchanged: counters.unchanged,
            created: counters.created,
            updated: counters.updated,
            skipped: counters.skipped,
            failed: counters.failed,
            api_calls: counters.api_calls,
        }
    }
}

/// A run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    /// Its id.
    pub id: i64,
    /// The flow.
    pub flow: String,
    /// `incremental`, `full`, `replay` or `webhook`.
    pub mode: String,
    /// `running`, `succeeded`, `partial` (went to its end with dead-lettered records: see `failed`), `failed` or `cancelled`.
    pub status: String,
    /// What it did.
    pub counters: Counters,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<i64>,
}

fn text_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A stored run as the API and the dashboard show it.
pub(crate) fn run_view(run: &RunRecord) -> RunView {
    RunView {
        id: run.id,
        flow: run.flow.clone(),
        mode: text_of(&run.mode),
        status: text_of(&run.status),
        counters: Counters::from(&run.counters),
        error: run.error.clone(),
        started_at: run.started_at.to_rfc3339(),
        finished_at: run.finished_at.map(|at| at.to_rfc3339()),
        duration_ms: run.finished_at.map(|at| (at - run.started_at).num_milliseconds()),
    }
}

/// A flow and its last run.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowView {
    /// Its name.
    pub name: String,
    /// The entity it moves.
    pub entity: String,
    /// The source connection.
    pub from: String,
    /// The target connection.
    pub to: String,
    /// `every 15m`, `daily at 06:30`, or none.
    pub schedule: Option<String>,
    /// `manual`, `schedule` or `webhook`.
    pub trigger: String,
    /// Whether it may run.
    pub enabled: bool,
    /// Its latest run.
    pub last_run: Option<RunView>,
}

/// Every flow with its last run.
#[utoipa::path(get, path = "/api/v1/flows", responses(
    (status = 200, body = [FlowView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn list_flows(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Vec<FlowView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(flow_views(&state).await?))
}

/// Every flow of the flow file with its latest run.
pub(crate) async fn flow_views(state: &AppState) -> Result<Vec<FlowView>, ApiError> {
    let mut flows = Vec::new();
    for flow in &state.config.flows {
        let last = state.store.runs(Some(&flow.name), 1).await?;
        flows.push(FlowView {
            name: flow.name.clone(),
            entity: flow.entity.to_string(),
            from: flow.from.connection.clone(),
            to: flow.to.connection.clone(),
            schedule: flow.schedule.as_ref().map(|schedule| schedule.to_string()),
            trigger: format!("{:?}", flow.trigger).to_lowercase(),
            enabled: flow.enabled,
            last_run: last.first().map(run_view),
        });
    }
    Ok(flows)
}

/// How to run a flow now.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RunRequest {
    /// Read and compare, write nothing.
    pub dry_run: bool,
    /// Ignore the cursor and the delivered hashes.
    pub full: bool,
}

/// What a run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResult {
    /// The flow.
    pub flow: String,
    /// The run's id (none for a dry run).
    pub run: Option<i64>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// What it did.
    pub counters: Counters,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

fn run_result(report: &SyncReport) -> RunResult {
    RunResult {
        flow: report.flow.clone(),
        run: report.run,
        dry_run: report.dry_run,
        counters: Counters::from(&report.counters),
        duration_ms: u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX),
    }
}

/// Runs a flow now and answers when it ends (`dry_run` writes nothing).
#[utoipa::path(post, path = "/api/v1/flows/{name}/run", params(("name" = String, Path)), request_body(content = Option<RunRequest>, description = "Optional: an empty body runs incrementally."), responses(
    (status = 200, body = RunResult), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
    (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError), (status = 502, body = ApiError)))]
async fn run_flow(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: crate::security::ClientAddress,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<RunResult> {
    let key = authorize(&state, &headers, ApiScope::Write).await?;
    let flow = state
        .config
        .flow(&name)
        .ok_or_else(|| ApiError::not_found(format!("no flow \"{name}\": GET /api/v1/flows lists them")))?;
    for connection in [&flow.from.connection, &flow.to.connection] {
        if !state.connection_enabled(connection) {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                format!("connection \"{connection}\" is switched off: POST /api/v1/connections/{connection}/enable"),
            ));
        }
    }
    let request: RunRequest = optional_body(&body)?;
    let options = SyncOptions {
        dry_run: request.dry_run,
        full: request.full,
        ..SyncOptions::default()
    };
    let result = state.engine.sync(&name, &options).await;
    state.after_run(&name, &result).await;
    let mut detail = serde_json::json!({ "dry_run": request.dry_run, "full": request.full });
    detail["outcome"] = match &result {
        Ok(report) => serde_json::json!({ "run": report.run }),
        Err(error) => serde_json::json!({ "error": error.to_string() }),
    };
    let actor = crate::audit::Actor::key(&key, &address);
    crate::audit::record(
        state.store.as_ref(),
        &actor,
        tiltas_store::actions::FLOW_RUN,
        &name,
        detail,
    )
    .await;
    Ok(axum::Json(run_result(&result?)))
}

/// Filters of the run list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// Only this flow.
    pub flow: Option<String>,
    /// At most this many (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Recent runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", params(RunsQuery), responses(
    (status = 200, body = [RunView]), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn list_runs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<RunsQuery>,
) -> ApiResult<Vec<RunView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    let limit = checked_limit(query.limit, 50, 1000, "GET /api/v1/runs")?;
    let runs = state.store.runs(query.flow.as_deref(), limit).await?;
    Ok(axum::Json(runs.iter().map(run_view).collect()))
}

/// One record's passage through a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    /// Its id (`GET /api/v1/activity/{id}` has the payloads).
    pub id: i64,
    /// The run.
    pub run: i64,
    /// The flow.
    pub flow: String,
    /// The record's key in the source.
    pub source_key: String,
    /// `created`, `updated`, `unchanged`, `skipped` or `failed`.
    pub outcome: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A run with the records it touched.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    /// The run.
    pub run: RunView,
    /// The records it touched (at most 1000, newest first).
    pub activity: Vec<ActivityView>,
}

/// One run and the records it touched.
#[utoipa::path(get, path = "/api/v1/runs/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = RunDetail), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn show_run(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> ApiResult<RunDetail> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(run_detail(&state, id).await?))
}

/// One run with the records it touched (at most 1000, newest first).
pub(crate) async fn run_detail(state: &AppState, id: i64) -> Result<RunDetail, ApiError> {
    let run = state
        .store
        .run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {id}: GET /api/v1/runs lists them")))?;
    let activity = state
        .store
        .activity(&ActivityFilter {
            run: Some(id),
            limit: 1000,
            ..ActivityFilter::default()
        })
        .await?;
    Ok(RunDetail {
        run: run_view(&run),
        activity: activity.iter().map(activity_view).collect(),
    })
}

fn activity_view(entry: &tiltas_store::ActivityEntry) -> ActivityView {
    ActivityView {
        id: entry.id,
        run: entry.run,
        flow: entry.flow.clone(),
        source_key: entry.source_key.clone(),
        outcome: text_of(&entry.outcome),
        at: entry.at.to_rfc3339(),
    }
}

/// Filters of the activity log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Only this flow.
    pub flow: Option<String>,
    /// Only this record (its key in the source): its history across runs.
    pub source_key: Option<String>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The activity log, newest first: a record's history across runs with `source_key`.
#[utoipa::path(get, path = "/api/v1/activity", params(ActivityQuery), responses(
    (status = 200, body = [ActivityView]), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn list_activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ActivityQuery>,
) -> ApiResult<Vec<ActivityView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    let limit = checked_limit(query.limit, 100, 1000, "GET /api/v1/activity")?;
    let entries = state
        .store
        .activity(&ActivityFilter {
            run: None,
            flow: query.flow,
            source_key: query.source_key,
            limit,
        })
        .await?;
    Ok(axum::Json(entries.iter().map(activity_view).collect()))
}

/// What a record looked like on both sides (redacted as the flow says).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityPayloadsView {
    /// The record as read.
    pub source_payload: Option<serde_json::Value>,
    /// What was sent.
    pub sent_payload: Option<serde_json::Value>,
    /// What the target answered.
    pub response: Option<serde_json::Value>,
}

/// The payloads of one activity entry.
#[utoipa::path(get, path = "/api/v1/activity/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = ActivityPayloadsView), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn show_activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<ActivityPayloadsView> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(activity_payloads_view(&state, id).await?))
}

/// The payloads of one activity entry (404 once purged).
pub(crate) async fn activity_payloads_view(state: &AppState, id: i64) -> Result<ActivityPayloadsView, ApiError> {
    let payloads =
        state.store.activity_payloads(id).await?.ok_or_else(|| {
            ApiError::not_found(format!("no activity {id} (or it was purged by the flow's retention)"))
        })?;
    Ok(ActivityPayloadsView {
        source_payload: payloads.source_payload,
        sent_payload: payloads.sent_payload,
        response: payloads.response,
    })
}

/// What became of a delivery as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet settled: waiting for a switched-off connection, or its last attempt failed
    /// (see `error`); it is tried again.
    Pending,
    /// Settled, but what it carried could not be used (see `note`).
    Unusable,
    /// Its record went through every flow that reads it (see `flows`).
    Delivered,
}

/// What one flow did with a delivered record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowOutcome {
    /// Created or updated in the target (`operation`, `target_id`).
    Booked,
    /// The same record was delivered before: nothing was sent.
    Unchanged,
    /// Left alone by the flow's filter or policy (`reason`).
    Skipped,
    /// It failed and waits in the dead-letter inbox (`message`).
    DeadLettered,
}

/// Which deliveries to list: by what became of them, or by what any flow did with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcomeFilter {
    /// Not yet settled.
    Pending,
    /// Settled as unusable.
    Unusable,
    /// Booked by at least one flow.
    Booked,
    /// Unchanged in at least one flow.
    Unchanged,
    /// Skipped by at least one flow.
    Skipped,
    /// Dead-lettered by at least one flow.
    DeadLettered,
}

impl From<DeliveryOutcomeFilter> for DeliveryOutcome {
    fn from(filter: DeliveryOutcomeFilter) -> DeliveryOutcome {
        match filter {
            DeliveryOutcomeFilter::Pending => DeliveryOutcome::Pending,
            DeliveryOutcomeFilter::Unusable => DeliveryOutcome::Unusable,
            DeliveryOutcomeFilter::Booked => DeliveryOutcome::Booked,
            DeliveryOutcomeFilter::Unchanged => DeliveryOutcome::Unchanged,
            DeliveryOutcomeFilter::Skipped => DeliveryOutcome::Skipped,
            DeliveryOutcomeFilter::DeadLettered => DeliveryOutcome::DeadLettered,
        }
    }
}

/// One flow's part in a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryFlowView {
    /// The flow.
    pub flow: String,
    /// The run of the ingest that took the record.
    pub run: Option<i64>,
    /// What the flow did with the record.
    pub outcome: FlowOutcome,
    /// For a booked record: `created` or `updated`.
    pub operation: Option<String>,
    /// For a booked record: its id in the target, when the target named one.
    pub target_id: Option<String>,
    /// For a skipped record: why.
    pub reason: Option<String>,
    /// For a dead-lettered record: what failed, and the fix.
    pub message: Option<String>,
    /// The activity entry of the record in that run (`GET /api/v1/activity/{id}`).
    pub activity: Option<i64>,
    /// The record's history in this flow across runs (`/api/v1/activity?flow=…&source_key=…`).
    pub history_url: Option<String>,
    /// The run (`/api/v1/runs/{id}`).
    pub run_url: Option<String>,
}

/// A webhook delivery and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Its id (delivery order; `?before=` this id asks for the next page).
    pub id: i64,
    /// The system's topic (`order.created`).
    pub topic: String,
    /// The connection it came for.
    pub connection: String,
    /// When it was accepted (RFC 3339).
    pub received_at: String,
    /// When it was settled (none while pending).
    pub settled_at: Option<String>,
    /// Failed delivery attempts.
    pub attempts: i64,
    /// Pending, unusable or delivered.
    pub outcome: DeliveryStatus,
    /// While pending: the last failed attempt's error.
    pub error: Option<String>,
    /// When unusable: why.
    pub note: Option<String>,
    /// The entity it carried (`order`, …), once settled.
    pub entity: Option<String>,
    /// The record's key in the source (the shop's order id, …), once settled.
    pub record_key: Option<String>,
    /// What each flow that reads its record did with it, by flow name.
    pub flows: Vec<DeliveryFlowView>,
}

/// The largest `limit` of `GET /api/v1/deliveries`.
pub(crate) const MAX_DELIVERIES: u32 = 500;

/// Filters and paging of the delivery list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only deliveries for this connection.
    pub connection: Option<String>,
    /// Only deliveries with this outcome (as a whole, or in any flow).
    pub outcome: Option<DeliveryOutcomeFilter>,
    /// Only deliveries older than this id: the next page after the last id seen.
    pub before: Option<i64>,
    /// At most this many (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Recent webhook deliveries, newest first, with what became of each: pending, unusable (and
/// why), or per flow booked, unchanged, skipped or dead-lettered.
#[utoipa::path(get, path = "/api/v1/deliveries", params(DeliveriesQuery), responses(
    (status = 200, body = [DeliveryView]), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn list_deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<DeliveriesQuery>,
) -> ApiResult<Vec<DeliveryView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(delivery_views(&state, &query).await?))
}

/// Deliveries as the API and the dashboard list them (400 for a limit out of range).
pub(crate) async fn delivery_views(state: &AppState, query: &DeliveriesQuery) -> Result<Vec<DeliveryView>, ApiError> {
    let limit = checked_limit(query.limit, 100, MAX_DELIVERIES, "GET /api/v1/deliveries")?;
    let deliveries = state
        .store
        .inbox_deliveries(&DeliveryFilter {
            connection: query.connection.clone(),
            outcome: query.outcome.map(DeliveryOutcome::from),
            before: query.before,
            limit,
        })
        .await?;
    Ok(deliveries.iter().map(delivery_view).collect())
}

fn delivery_view(delivery: &Delivery) -> DeliveryView {
    let outcome = match delivery.settled_outcome() {
        Some(DeliveryOutcome::Pending) => DeliveryStatus::Pending,
        Some(_) => DeliveryStatus::Unusable,
        None => DeliveryStatus::Delivered,
    };
    let flows = delivery
        .flows
        .iter()
        .map(|flow| delivery_flow_view(flow, delivery.record_key.as_deref()))
        .collect();
    DeliveryView {
        id: delivery.id,
        topic: delivery.topic.clone(),
        connection: delivery.connection.clone(),
        received_at: delivery.received_at.to_rfc3339(),
        settled_at: delivery.done_at.map(|at| at.to_rfc3339()),
        attempts: delivery.attempts,
        outcome,
        error: delivery.error.clone().filter(|_| outcome == DeliveryStatus::Pending),
        note: delivery.error.clone().filter(|_| outcome == DeliveryStatus::Unusable),
        entity: delivery.entity.map(|entity| entity.to_string()),
        record_key: delivery.record_key.clone(),
        flows,
    }
}

fn delivery_flow_view(flow: &tiltas_store::DeliveryFlow, record_key: Option<&str>) -> DeliveryFlowView {
    let detail = flow.detail.clone();
    let (outcome, operation, reason, message) = match flow.outcome {
        DeliveryOutcome::Booked => (FlowOutcome::Booked, detail, None, None),
        DeliveryOutcome::Skipped => (FlowOutcome::Skipped, None, detail, None),
        DeliveryOutcome::DeadLettered => (FlowOutcome::DeadLettered, None, None, detail),
        // Pending and unusable describe whole deliveries; a flow's row is never either.
        DeliveryOutcome::Unchanged | DeliveryOutcome::Pending | DeliveryOutcome::Unusable => {
            (FlowOutcome::Unchanged, None, None, None)
        }
    };
    DeliveryFlowView {
        flow: flow.flow.clone(),
        run: flow.run,
        outcome,
        operation,
        target_id: flow.target_id.clone(),
        reason,
        message,
        activity: flow.activity,
        history_url: record_key.map(|key| record_history_url(&flow.flow, key)),
        run_url: flow.run.map(|run| format!("/api/v1/runs/{run}")),
    }
}

/// `/api/v1/activity?flow=…&source_key=…`: a record's history in a flow across runs.
pub(crate) fn record_history_url(flow: &str, source_key: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    format!(
        "/api/v1/activity?flow={}&source_key={}",
        utf8_percent_encode(flow, NON_ALPHANUMERIC),
        utf8_percent_encode(source_key, NON_ALPHANUMERIC)
    )
}

/// A list's `limit`: the default when absent, 400 when outside 1..=`maximum` (the document
/// states the same bounds, so a client learns them before it is refused).
pub(crate) fn checked_limit(limit: Option<u32>, default: u32, maximum: u32, endpoint: &str) -> Result<u32, ApiError> {
    match limit {
        None => Ok(default),
        Some(limit) if (1..=maximum).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::invalid(format!(
            "limit {limit} of {endpoint} is outside 1..={maximum}: ask for at most {maximum} and page on"
        ))),
    }
}

/// A JSON number that is whole, however it is written (`7`, `7.0`, `7e0`: JSON Schema calls
/// each an integer, and clients generated from the document send any): read as a decimal,
/// never a float, so no digit is lost.
pub(crate) fn whole_number(number: &serde_json::Number) -> Option<i128> {
    let text = number.to_string();
    let value = rust_decimal::Decimal::from_str_exact(&text)
        .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
        .ok()?;
    if value.fract().is_zero() {
        i128::try_from(value).ok()
    } else {
        None
    }
}
