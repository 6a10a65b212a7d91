//! `/metrics` in Prometheus text format, names prefixed `tiltas_`: runs, records by outcome,
//! API calls by connection, dead letters, quota use, webhook deliveries, the inbox backlog and
//! request latency histograms. Counters live in memory (since start), gauges are read from the
//! store at scrape time.
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;
use tiltas_engine::SyncReport;
use tiltas_store::{DeadLetterFilter, DeadLetterStatus};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the server counts.
#[derive(Default)]
pub struct Metrics {
    runs: Mutex<BTreeMap<(String, &'static str), u64>>,
    records: Mutex<BTreeMap<(String, &'static str), u64>>,
    api_calls: Mutex<BTreeMap<String, u64>>,
    webhooks: Mutex<BTreeMap<(String, &'static str), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K, by: u64) {
    *map.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key)
        .or_default() += by;
}

impl Metrics {
    /// Counts a finished run and its records.
    pub fn run_finished(&self, flow: &str, report: Result<&SyncReport, ()>, connections: [&str; 2]) {
        let status = if report.is_ok() { "succeeded" } else { "failed" };
        bump(&self.runs, (flow.to_owned(), status), 1);
        if let Ok(report) = report {
            let counters = &report.counters;
            for (outcome, count) in [
                ("read", counters.read),
                ("unchanged", counters.unchanged),
                ("created", counters.created),
                ("updated", counters.updated),
                ("skipped", counters.skipped),
                ("failed", counters.failed),
            ] {
                bump(&self.records, (flow.to_owned(), outcome), count);
            }
            // A run's calls go to both of its connections; they are counted on the target,
            // where budgets usually bite, unless the flow only reads.
            bump(&self.api_calls, connections[1].to_owned(), counters.api_calls);
        }
    }

    /// Counts a webhook delivery by outcome (`accepted`, `rejected`, `ignored`, `backpressure`).
    pub fn webhook(&self, connection: &str, outcome: &'static str) {
        bump(&self.webhooks, (connection.to_owned(), outcome), 1);
    }

    fn observe(&self, method: &str, path: &str, seconds: f64) {
        let mut latency = self.latency.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let histogram = latency.entry((method.to_owned(), path.to_owned())).or_default();
        for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }
}

/// Times every request by its route template (never the raw path: ids would explode labels).
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

fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    let mut out = String::new();
    let lock = |map: &Mutex<BTreeMap<(String, &'static str), u64>>| {
        map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    };
    out.push_str("# HELP tiltas_runs_total Runs finished since the server started, by flow and status.\n# TYPE tiltas_runs_total counter\n");
    for ((flow, status), count) in lock(&metrics.runs) {
        let _ = writeln!(
            out,
            "tiltas_runs_total{{flow=\"{}\",status=\"{status}\"}} {count}",
            label(&flow)
        );
    }
    out.push_str("# HELP tiltas_records_total Records by flow and outcome.\n# TYPE tiltas_records_total counter\n");
    for ((flow, outcome), count) in lock(&metrics.records) {
        let _ = writeln!(
            out,
            "tiltas_records_total{{flow=\"{}\",outcome=\"{outcome}\"}} {count}",
            label(&flow)
        );
    }
    out.push_str("# HELP tiltas_api_calls_total Calls to external systems, by connection.\n# TYPE tiltas_api_calls_total counter\n");
    for (connection, count) in metrics
        .api_calls
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        let _ = writeln!(
            out,
            "tiltas_api_calls_total{{connection=\"{}\"}} {count}",
            label(connection)
        );
    }
    out.push_str("# HELP tiltas_webhooks_total Webhook deliveries by connection and outcome.\n# TYPE tiltas_webhooks_total counter\n");
    for ((connection, outcome), count) in lock(&metrics.webhooks) {
        let _ = writeln!(
            out,
            "tiltas_webhooks_total{{connection=\"{}\",outcome=\"{outcome}\"}} {count}",
            label(&connection)
        );
    }
    if let Ok(letters) = state
        .store
        .dead_letters(&DeadLetterFilter {
            flow: None,
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await
    {
        let mut by_flow: BTreeMap<String, u64> = state.config.flows.iter().map(|flow| (flow.name.clone(), 0)).collect();
        for letter in letters {
            *by_flow.entry(letter.flow).or_default() += 1;
        }
        out.push_str("# HELP tiltas_dead_letters Open dead letters by flow.\n# TYPE tiltas_dead_letters gauge\n");
        for (flow, count) in by_flow {
            let _ = writeln!(out, "tiltas_dead_letters{{flow=\"{}\"}} {count}", label(&flow));
        }
    }
    out.push_str("# HELP tiltas_quota_used_today Requests counted against the daily budget today (UTC).\n# TYPE tiltas_quota_used_today gauge\n");
    out.push_str("# HELP tiltas_quota_limit The daily request budget.\n# TYPE tiltas_quota_limit gauge\n");
    let today = format!("day:{}", chrono::Utc::now().format("%Y-%m-%d"));
    for connection in &state.config.connections {
        if let Ok(used) = state.store.quota_used(&connection.name, &today).await {
            let _ = writeln!(
                out,
                "tiltas_quota_used_today{{connection=\"{}\"}} {used}",
                label(&connection.name)
            );
        }
        if let Some(limit) = connection.daily_budget {
            let _ = writeln!(
                out,
                "tiltas_quota_limit{{connection=\"{}\"}} {limit}",
                label(&connection.name)
            );
        }
    }
    if let Ok(backlog) = state.store.inbox_backlog().await {
        out.push_str("# HELP tiltas_inbox_backlog Accepted webhook deliveries not yet delivered.\n# TYPE tiltas_inbox_backlog gauge\n");
        let _ = writeln!(out, "tiltas_inbox_backlog {backlog}");
    }
    out.push_str("# HELP tiltas_http_request_duration_seconds Server request latency by route.\n# TYPE tiltas_http_request_duration_seconds histogram\n");
    for ((method, path), histogram) in metrics
        .latency
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        let labels = format!("method=\"{method}\",path=\"{}\"", label(path));
        for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
            let _ = writeln!(
                out,
                "tiltas_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "tiltas_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            histogram.count
        );
        let _ = writeln!(
            out,
            "tiltas_http_request_duration_seconds_sum{{{labels}}} {}",
            histogram.sum
        );
        let _ = writeln!(
            out,
            "tiltas_http_request_duration_seconds_count{{{labels}}} {}",
            histogram.count
        );
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
