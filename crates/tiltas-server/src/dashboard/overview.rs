//! `/`: every flow with its last run, the records chart and a quota gauge per connection;
//! `/flows/{name}`: one flow's runs.
use super::layout::{self, count, link, status_badge, when, Section};
use super::session::signed_in;
use super::{chart, Flash, PageError, PageResult};
use crate::api::{self, Counters, FlowView, QuotaView, RunView};
use crate::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use maud::{html, Markup};
use std::collections::BTreeMap;
use tiltas_store::{ApiScope, DeadLetterStatus};

/// Runs the chart sums (the newest; a busy day of webhook runs may hold more, then the
/// chart's oldest hours are short).
const CHART_RUNS: u32 = 500;

/// `GET /`.
pub(crate) async fn overview_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let now = Utc::now();
    let flows = api::flow_views(&state).await?;
    let runs = state.store.runs(None, CHART_RUNS).await?;
    let quotas = api::quota_views(&state).await?;
    let open_letters = api::dead_letter_views(&state, None, Some(DeadLetterStatus::Open), 0).await?;
    let mut open_by_flow: BTreeMap<&str, usize> = BTreeMap::new();
    for letter in &open_letters {
        *open_by_flow.entry(letter.flow.as_str()).or_default() += 1;
    }
    let body = html! {
        p {
            (flows.len()) " flow(s), " (state.config.connections.len()) " connection(s). "
            @if open_letters.is_empty() {
                "No dead letters waiting."
            } @else {
                a href="/dead-letters" { (count(open_letters.len() as u64)) " dead letter(s) waiting" }
                " for a fix or a replay."
            }
        }
        h2 #flows { "Flows" }
        table {
            thead {
                tr {
                    th scope="col" { "Flow" }
                    th scope="col" { "Moves" }
                    th scope="col" { "Runs" }
                    th scope="col" { "Last run" }
                    th scope="col" { "Last run's records" }
                    th scope="col" { "Started" }
                    th.num scope="col" { "Open dead letters" }
                }
            }
            tbody {
                @for flow in &flows {
                    (flow_row(flow, open_by_flow.get(flow.name.as_str()).copied().unwrap_or(0), now))
                }
            }
        }
        h2 #records { "Records over the last 24 hours" }
        (chart::render(&chart::hourly(&runs, now)))
        h2 #quota { "Requests today by connection" }
        div.cards {
            @for quota in &quotas {
                (quota_gauge(quota))
            }
        }
    };
    Ok(layout::page("Overview", Section::Overview, Some(&key), &flash, body))
}

fn flow_row(flow: &FlowView, open_letters: usize, now: chrono::DateTime<Utc>) -> Markup {
    html! {
        tr {
            th scope="row" { a href=(link("/flows", &flow.name)) { (flow.name) } }
            td { (flow.entity) " from " strong { (flow.from) } " to " strong { (flow.to) } }
            td {
                @match &flow.schedule { Some(schedule) => { (schedule) }, None => { (flow.trigger) } }
                @if !flow.enabled { " " span.badge.status-disabled { "disabled" } }
            }
            @match &flow.last_run {
                Some(run) => {
                    td { a href=(link("/runs", &run.id.to_string())) aria-label={ "Run " (run.id) " of " (flow.name) ": " (run.status) } { (status_badge(&run.status)) } }
                    td { (counters_line(&run.counters)) }
                    td { (when(&run.started_at, now)) }
                },
                None => {
                    td colspan="3" { span.muted { "never run" } }
                },
            }
            td.num {
                @if open_letters > 0 {
                    a href={ "/dead-letters?flow=" (layout::query_value(&flow.name)) } { (open_letters) }
                } @else { "0" }
            }
        }
    }
}

/// `read 3 · created 2 · updated 0 · unchanged 0 · skipped 0 · failed 1`.
pub(crate) fn counters_line(counters: &Counters) -> Markup {
    html! {
        span.counters {
            "read " strong { (count(counters.read)) }
            " · created " strong { (count(counters.created)) }
            " · updated " strong { (count(counters.updated)) }
            " · unchanged " strong { (count(counters.unchanged)) }
            " · skipped " strong { (count(counters.skipped)) }
            " · failed " strong { (count(counters.failed)) }
        }
    }
}

/// A connection's requests today against its budget: a `<meter>` with the numbers as text.
pub(crate) fn quota_gauge(quota: &QuotaView) -> Markup {
    let id = format!("quota-{}", quota.connection);
    html! {
        div.card {
            @match quota.daily_budget {
                Some(budget) => {
                    label for=(id) { (quota.connection) }
                    meter id=(id) min="0" max=(budget) value=(quota.used_today.min(budget))
                        low=(budget / 2) high=(budget / 10 * 8) optimum="0" {
                        (count(quota.used_today)) " / " (count(budget))
                    }
                    p {
                        (count(quota.used_today)) " / " (count(budget)) " requests today"
                        @if let Some(share) = quota.used_share { " (" (format!("{:.0}", share * 100.0)) " %)" }
                    }
                    p.muted {
                        "At this pace: about " (count(quota.forecast)) " by midnight UTC"
                        @if quota.forecast > budget { strong { " — over the budget" } }
                        "."
                    }
                },
                None => {
                    h3 { (quota.connection) }
                    p { (count(quota.used_today)) " requests today" }
                    p.muted { "No daily budget." }
                },
            }
            @if let Some(group) = &quota.budget_group {
                @let id = format!("group-{}-{}", group.name, quota.connection);
                label for=(id) { "Shared budget " (group.name) }
                meter id=(id) min="0" max=(group.daily_budget) value=(group.used_today.min(group.daily_budget))
                    low=(group.daily_budget / 2) high=(group.daily_budget / 10 * 8) optimum="0" {
                    (count(group.used_today)) " / " (count(group.daily_budget))
                }
                p {
                    (count(group.used_today)) " / " (count(group.daily_budget)) " requests today, shared by "
                    @for (index, (member, used)) in group.connections.iter().enumerate() {
                        @if index > 0 { ", " }
                        (member) " (" (count(*used)) ")"
                    }
                }
                p.muted {
                    "At this pace: about " (count(group.forecast)) " by midnight UTC"
                    @if group.forecast > group.daily_budget { strong { " — over the shared budget" } }
                    "."
                }
            }
            @for reported in &quota.reported {
                p {
                    "The system reports " (reported.name) ": " (count(reported.used)) " / " (count(reported.limit)) " used"
                    @if let Some(at) = &reported.resets_at { " until " (at) }
                    "."
                }
            }
        }
    }
}

/// A table of runs, newest first.
pub(crate) fn runs_table(runs: &[RunView], now: chrono::DateTime<Utc>) -> Markup {
    html! {
        table {
            thead {
                tr {
                    th scope="col" { "Run" }
                    th scope="col" { "Mode" }
                    th scope="col" { "Status" }
                    th scope="col" { "Records" }
                    th scope="col" { "Started" }
                    th scope="col" { "Took" }
                    th scope="col" { "Error" }
                }
            }
            tbody {
                @for run in runs {
                    tr {
                        th scope="row" { a href=(link("/runs", &run.id.to_string())) { "Run " (run.id) } }
                        td { (run.mode) }
                        td { (status_badge(&run.status)) }
                        td { (counters_line(&run.counters)) }
                        td { (when(&run.started_at, now)) }
                        td { @if let Some(took) = run.duration_ms { (layout::duration(took)) } }
                        td { @if let Some(error) = &run.error { (error) } }
                    }
                }
            }
        }
    }
}

/// Runs a flow page lists.
const FLOW_RUNS: u32 = 100;

/// `GET /flows/{name}`.
pub(crate) async fn flow_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let flows = api::flow_views(&state).await?;
    let Some(flow) = flows.iter().find(|flow| flow.name == name) else {
        return Err(PageError::from(ApiError::not_found(format!(
            "no flow \"{name}\" in {}: the overview lists the flows",
            state.config.file.display()
        ))));
    };
    let runs: Vec<RunView> = state
        .store
        .runs(Some(&name), FLOW_RUNS)
        .await?
        .iter()
        .map(api::run_view)
        .collect();
    let now = Utc::now();
    let body = html! {
        p { a href="/" { "← Overview" } }
        dl.facts {
            dt { "Moves" } dd { (flow.entity) " records" }
            dt { "From" } dd { (flow.from) }
            dt { "To" } dd { (flow.to) }
            dt { "Runs" } dd { @match &flow.schedule { Some(schedule) => { (schedule) }, None => { (flow.trigger) } } }
            dt { "Enabled" } dd { @if flow.enabled { "yes" } @else { "no" } }
            dt { "Dead letters" } dd { a href={ "/dead-letters?flow=" (layout::query_value(&flow.name)) } { "open dead letters of this flow" } }
        }
        h2 { "Runs" }
        @if runs.is_empty() {
            p.muted { "This flow has not run yet." }
        } @else {
            p.muted { "The newest " (runs.len()) " run(s), newest first." }
            (runs_table(&runs, now))
        }
    };
    Ok(layout::page(
        &format!("Flow {name}"),
        Section::Overview,
        Some(&key),
        &flash,
        body,
    ))
}
