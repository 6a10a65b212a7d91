//! `/metrics` through `prometheus-client` (the Prometheus project's Rust client), in the
//! OpenMetrics text format, every series prefixed `tiltas_` and labelled with this process's
//! `worker` ([`tiltas_engine::worker_id`]).
//!
//! Two kinds of series, decided per metric (`docs/operations.md` lists them):
//! - **from the store, at scrape time** ([`crate::metrics_store`]): runs by status, records by
//!   outcome, API calls, open dead letters, quota and the inbox backlog. They survive a restart
//!   and are the same on every worker of one database (aggregate them with `max`, not `sum`).
//! - **this process, in memory since it started** ([`Metrics`]): webhooks by outcome, the runs
//!   this worker finished, and request latency.
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::borrow::Cow;
use std::time::Instant;

/// The `connection` label of webhooks to a name the flow file does not have.
pub(crate) const UNKNOWN_CONNECTION: &str = "(unknown)";

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The content type of the OpenMetrics text exposition (what `prometheus-client` writes).
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A flow and a status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FlowStatus {
    pub(crate) flow: String,
    pub(crate) status: String,
}

/// A connection and an outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionOutcome {
    connection: String,
    outcome: &'static str,
}

/// A route: the method and the path template (never the raw path: ids would explode labels).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: String,
    path: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// What this process counts in memory (since it started).
pub struct Metrics {
    worker: String,
    webhooks: Family<ConnectionOutcome, Counter>,
    worker_runs: Family<FlowStatus, Counter>,
    latency: Family<Route, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::for_worker(tiltas_engine::worker_id())
    }
}

impl Metrics {
    /// Metrics labelled with `worker` (the process-wide worker id, unless a test says otherwise).
    pub fn for_worker(worker: &str) -> Metrics {
        Metrics {
            worker: worker.to_owned(),
            webhooks: Family::default(),
            worker_runs: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }

    /// The `worker` label of every series.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Counts a run this process finished (`succeeded` or `failed`); records and API calls
    /// are read from the store, where every worker's runs are.
    pub fn run_finished(&self, flow: &str, succeeded: bool) {
        let status = if succeeded { "succeeded" } else { "failed" };
        self.worker_runs
            .get_or_create(&FlowStatus {
                flow: flow.to_owned(),
                status: status.to_owned(),
            })
            .inc();
    }

    /// Counts a webhook delivery by outcome (`accepted`, `rejected`, `ignored`, `backpressure`,
    /// `rate_limited`).
    pub fn webhook(&self, connection: &str, outcome: &'static str) {
        self.webhooks
            .get_or_create(&ConnectionOutcome {
                connection: connection.to_owned(),
                outcome,
            })
            .inc();
    }

    fn observe(&self, method: &str, path: &str, seconds: f64) {
        self.latency
            .get_or_create(&Route {
                method: method.to_owned(),
                path: path.to_owned(),
            })
            .observe(seconds);
    }

    /// A registry for one scrape: `tiltas_` prefix, the `worker` label, and this process's
    /// series (the families are shared, not copied: they keep counting).
    fn registry(&self) -> Registry {
        let worker = (Cow::Borrowed("worker"), Cow::Owned(self.worker.clone()));
        let mut registry = Registry::with_prefix_and_labels("tiltas", std::iter::once(worker));
        registry.register(
            "webhooks",
            "Webhook deliveries by connection and outcome, since this worker started",
            self.webhooks.clone(),
        );
        registry.register(
            "worker_runs",
            "Runs this worker finished since it started, by flow and status",
            self.worker_runs.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Server request latency by route",
            Unit::Seconds,
            self.latency.clone(),
        );
        registry
    }
}

/// Times every request by its route template.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(&method, &path, started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let mut registry = state.metrics.registry();
    crate::metrics_store::register(&state, &mut registry).await;
    let mut body = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut body, &registry) {
        // Writing into a String cannot fail; a label that cannot be encoded would be a bug.
        tracing::error!(%error, "the metrics page could not be encoded");
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(axum::http::header::CONTENT_TYPE, OPENMETRICS)], body).into_response()
}
