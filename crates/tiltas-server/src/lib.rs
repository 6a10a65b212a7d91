//! The Tiltas server (`tiltas serve`, `tiltas run`): the REST API under `/api/v1` behind API
//! keys, webhook ingress (`/hooks/{connection}`, durable before the sender's 200), the
//! scheduler and the inbox worker, Prometheus metrics, health, and the dashboard.
#![forbid(unsafe_code)]

mod api;
pub mod audit;
mod auth;
mod backpressure;
mod dashboard;
mod error;
mod hooks;
pub mod keys;
mod metrics;
mod metrics_store;
mod pause;
pub mod security;
mod worker;
mod workers;

pub use api::{
    capabilities, capability_table, connection_views, email_fingerprint, forget_person, quota_views, ApiDoc, AuditView,
    Capabilities, ConnectionView, ForgetReport, GroupQuota, QuotaView, QuoteQuery, ReportedQuota,
};
pub use backpressure::{run_upkeep, InboxBacklog, RecountStart, LOG_BOUND_PAGES, RETRY_AFTER_SECONDS};
pub use error::ApiError;
pub use metrics::Metrics;
pub use worker::{run_flow, run_scheduler, run_worker};
pub use workers::{run_heartbeat, stop_worker, Running, RunningTask, GONE_AFTER, HEARTBEAT_EVERY, PRUNE_AFTER};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use tiltas_config::ValidatedConfig;
use tiltas_engine::Engine;
use tiltas_store::Store;
use tokio::sync::Notify;

pub use pause::{Paused, PausedConnections};

/// The largest webhook body accepted (a shop's order is a few kB; 1 MiB leaves room).
pub const MAX_HOOK_BODY: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The flow file the server runs.
    pub config: Arc<ValidatedConfig>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The engine (shared: its connection gates pace every flow of a connection together).
    pub engine: Arc<Engine>,
    /// Connections switched off at run time (`POST /api/v1/connections/{name}/disable`).
    pub disabled: Arc<RwLock<BTreeSet<String>>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Wakes the inbox worker when a delivery was accepted.
    pub inbox: Arc<Notify>,
    /// Connections paused because their credentials were refused (see [`Paused`]).
    pub paused: Arc<RwLock<PausedConnections>>,
    /// Deliveries waiting per connection, for backpressure (see [`InboxBacklog`]).
    pub backlog: Arc<InboxBacklog>,
    /// What this process runs right now (shown in the workers list).
    pub running: Arc<Running>,
    /// How long this worker's claim on inbox deliveries holds (a killed worker's deliveries
    /// are taken by another after it).
    pub claim_ttl: std::time::Duration,
    /// Failed sign-ins, API keys' last use, webhook rate limits (see [`security::Security`]).
    pub security: Arc<security::Security>,
}

/// The default claim TTL on inbox deliveries: the heartbeat renews a live worker's claims, so
/// this is how long a killed worker's deliveries wait before another takes them.
pub const DEFAULT_CLAIM_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl AppState {
    /// The state of a server running `config` on `store` with the systems of the build.
    pub fn new(config: Arc<ValidatedConfig>, store: Arc<dyn Store>, systems: tiltas_connector::Systems) -> AppState {
        let disabled: BTreeSet<String> = config
            .connections
            .iter()
            .filter(|connection| !connection.enabled)
            .map(|connection| connection.name.clone())
            .collect();
        AppState {
            security: Arc::new(security::Security::new(&config)),
            engine: Arc::new(Engine::new(config.clone(), store.clone(), systems)),
            config,
            store,
            disabled: Arc::new(RwLock::new(disabled)),
            metrics: Arc::new(Metrics::default()),
            inbox: Arc::new(Notify::new()),
            paused: Arc::new(RwLock::new(PausedConnections::new())),
            backlog: Arc::new(InboxBacklog::default()),
            running: Arc::new(Running::default()),
            claim_ttl: DEFAULT_CLAIM_TTL,
        }
    }

    /// Counts a run of `flow` this worker finished in the metrics (its records are in the store).
    pub fn count_run(&self, flow: &str, result: &Result<tiltas_engine::SyncReport, tiltas_engine::EngineError>) {
        if self.config.flow(flow).is_some() {
            self.metrics.run_finished(flow, result.is_ok());
        }
    }

    /// Whether a connection is switched on.
    pub fn connection_enabled(&self, name: &str) -> bool {
        !self
            .disabled
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(name)
    }
}

/// The whole HTTP surface: API, webhooks, metrics and health.
pub fn router(state: AppState) -> Router {
    // Sign-ins are throttled on the API and the dashboard; a webhook's bad signature is the
    // shop's misconfiguration, not a guess at a key, and is not counted.
    let signed_in =
        Router::new()
            .merge(api::routes())
            .merge(dashboard::routes())
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                security::throttle_sign_ins,
            ));
    Router::new()
        .merge(signed_in)
        .route("/hooks/{connection}", post(hooks::receive))
        .layer(DefaultBodyLimit::max(MAX_HOOK_BODY))
        .route("/metrics", get(metrics::render))
        .route("/healthz", get(health))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store.schema_version().await {
        Ok(version) => axum::Json(serde_json::json!({ "status": "ok", "schema": version })).into_response(),
        Err(error) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "unavailable", "error": error.to_string() })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod backpressure_tests;
#[cfg(test)]
mod hooks_tests;
#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod metrics_tests;
#[cfg(test)]
mod quota_tests;
#[cfg(test)]
mod quote_tests;
#[cfg(test)]
mod supplier_order_tests;
#[cfg(test)]
mod tests;
