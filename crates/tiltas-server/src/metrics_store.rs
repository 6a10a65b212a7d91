//! The `/metrics` series read from the store at scrape time: they survive a restart and every
//! worker of one database reports the same values. A query that fails leaves its series out of
//! that scrape (logged), so a store hiccup never shows as counters falling to zero.
use crate::metrics::FlowStatus;
use crate::AppState;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use tiltas_store::{FlowRunTotals, RunCounters};

/// A flow.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowLabel {
    flow: String,
}

/// A flow and a record outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowOutcome {
    flow: String,
    outcome: &'static str,
}

/// A connection.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabel {
    connection: String,
}

/// The status a run has while it goes on: not a finished run, so not in `tiltas_runs_total`.
const RUNNING: &str = "running";

fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Adds the store's series to a scrape's registry.
pub(crate) async fn register(state: &AppState, registry: &mut Registry) {
    match state.store.run_totals().await {
        Ok(totals) => register_run_totals(state, registry, &totals),
        Err(error) => tracing::warn!(%error, "metrics: run totals left out of this scrape"),
    }
    match state.store.open_dead_letters_by_flow().await {
        Ok(open) => register_dead_letters(state, registry, open),
        Err(error) => tracing::warn!(%error, "metrics: open dead letters left out of this scrape"),
    }
    register_quota(state, registry).await;
    match state.store.inbox_backlog().await {
        Ok(backlog) => {
            let gauge: Gauge = Gauge::default();
            gauge.set(gauge_value(backlog));
            registry.register(
                "inbox_backlog",
                "Accepted webhook deliveries not yet delivered (store-wide)",
                gauge,
            );
        }
        Err(error) => tracing::warn!(%error, "metrics: inbox backlog left out of this scrape"),
    }
}

/// `tiltas_runs_total`, `tiltas_records_total` and `tiltas_api_calls_total`.
fn register_run_totals(state: &AppState, registry: &mut Registry, totals: &[FlowRunTotals]) {
    let runs: Family<FlowStatus, Counter> = Family::default();
    let records: Family<FlowOutcome, Counter> = Family::default();
    let api_calls: Family<ConnectionLabel, Counter> = Family::default();
    let mut per_flow: BTreeMap<&str, RunCounters> = BTreeMap::new();
    for total in totals {
        if total.status != RUNNING {
            runs.get_or_create(&FlowStatus {
                flow: total.flow.clone(),
                status: total.status.clone(),
            })
            .inc_by(total.runs);
        }
        // A run that goes on has settled pages already: their records count now.
        per_flow.entry(&total.flow).or_default().add(&total.counters);
    }
    for (flow, counters) in per_flow {
        for (outcome, count) in [
            ("read", counters.read),
            ("unchanged", counters.unchanged),
            ("created", counters.created),
            ("updated", counters.updated),
            ("skipped", counters.skipped),
            ("failed", counters.failed),
        ] {
            records
                .get_or_create(&FlowOutcome {
                    flow: flow.to_owned(),
                    outcome,
                })
                .inc_by(count);
        }
        // A run's calls go to both of its connections; they are counted on the target, where
        // budgets usually bite. A flow no longer in the flow file has no target to name.
        if let Some(definition) = state.config.flow(flow) {
            api_calls
                .get_or_create(&ConnectionLabel {
                    connection: definition.to.connection.clone(),
                })
                .inc_by(counters.api_calls);
        }
    }
    registry.register(
        "runs",
        "Finished runs by flow and status, from the store (every worker's)",
        runs,
    );
    registry.register(
        "records",
        "Records by flow and outcome, from the store (every worker's runs)",
        records,
    );
    registry.register(
        "api_calls",
        "Calls to external systems, counted on the flow's target connection, from the store",
        api_calls,
    );
}

/// `tiltas_dead_letters`: every flow of the file (0 when none is open), and any other flow
/// that still has open letters.
fn register_dead_letters(state: &AppState, registry: &mut Registry, open: Vec<(String, u64)>) {
    let mut by_flow: BTreeMap<String, u64> = state.config.flows.iter().map(|flow| (flow.name.clone(), 0)).collect();
    by_flow.extend(open);
    let letters: Family<FlowLabel, Gauge> = Family::default();
    for (flow, count) in by_flow {
        letters.get_or_create(&FlowLabel { flow }).set(gauge_value(count));
    }
    registry.register("dead_letters", "Open dead letters by flow (store-wide)", letters);
}

/// `tiltas_quota_used_today` and `tiltas_quota_limit`.
async fn register_quota(state: &AppState, registry: &mut Registry) {
    let used: Family<ConnectionLabel, Gauge> = Family::default();
    let limit: Family<ConnectionLabel, Gauge> = Family::default();
    let today = format!("day:{}", chrono::Utc::now().format("%Y-%m-%d"));
    for connection in &state.config.connections {
        let label = ConnectionLabel {
            connection: connection.name.clone(),
        };
        match state.store.quota_used(&connection.name, &today).await {
            Ok(count) => {
                used.get_or_create(&label).set(gauge_value(count));
            }
            Err(error) => {
                tracing::warn!(connection = %connection.name, %error, "metrics: quota left out of this scrape")
            }
        }
        if let Some(budget) = connection.daily_budget {
            limit.get_or_create(&label).set(gauge_value(budget));
        }
    }
    registry.register(
        "quota_used_today",
        "Requests counted against the daily budget today (UTC), from the store",
        used,
    );
    registry.register("quota_limit", "The daily request budget of the flow file", limit);
}
