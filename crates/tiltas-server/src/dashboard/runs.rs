//! `/runs/{id}`: a run's counters and the records it touched; `/records/{activity_id}`: one
//! record's source and sent payloads side by side with the differences marked.
use super::layout::{self, count, link, status_badge, when, Section};
use super::session::signed_in;
use super::{diff, parse_id, Flash, PageResult};
use crate::api;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use maud::html;
use serde::Deserialize;
use tiltas_store::ApiScope;

/// `GET /runs/{id}`.
pub(crate) async fn run_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let id = parse_id(&id, "run")?;
    let detail = api::run_detail(&state, id).await?;
    let run = &detail.run;
    let counters = &run.counters;
    let now = Utc::now();
    let body = html! {
        p { a href=(link("/flows", &run.flow)) { "← Flow " (run.flow) } }
        dl.facts {
            dt { "Flow" } dd { a href=(link("/flows", &run.flow)) { (run.flow) } }
            dt { "Status" } dd { (status_badge(&run.status)) }
            dt { "Mode" } dd { (run.mode) }
            dt { "Started" } dd { (when(&run.started_at, now)) }
            dt { "Finished" } dd { @match &run.finished_at { Some(at) => { (when(at, now)) }, None => { "not yet" } } }
            @if let Some(took) = run.duration_ms { dt { "Took" } dd { (layout::duration(took)) } }
            @if let Some(error) = &run.error { dt { "Error" } dd.error { (error) } }
        }
        h2 { "Counters" }
        table {
            thead {
                tr {
                    @for name in ["Read", "Created", "Updated", "Unchanged", "Skipped", "Failed", "API calls"] {
                        th.num scope="col" { (name) }
                    }
                }
            }
            tbody {
                tr {
                    @for value in [counters.read, counters.created, counters.updated, counters.unchanged, counters.skipped, counters.failed, counters.api_calls] {
                        td.num { (count(value)) }
                    }
                }
            }
        }
        h2 { "Records it touched" }
        @if detail.activity.is_empty() {
            p.muted { "No record was created, updated, skipped or failed (unchanged records are not listed)." }
        } @else {
            p.muted { (detail.activity.len()) " record(s), newest first (at most 1 000). Unchanged records are not listed." }
            table {
                thead {
                    tr {
                        th scope="col" { "Source key" }
                        th scope="col" { "Outcome" }
                        th scope="col" { "When" }
                        th scope="col" { "Payloads" }
                    }
                }
                tbody {
                    @for entry in &detail.activity {
                        tr {
                            th scope="row" { code { (entry.source_key) } }
                            td { (status_badge(&entry.outcome)) }
                            td { (when(&entry.at, now)) }
                            td {
                                a href={ (link("/records", &entry.id.to_string())) "?run=" (run.id) }
                                    aria-label={ "Source and sent payloads of record " (entry.source_key) } { "Compare payloads" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &format!("Run {} of {}", run.id, run.flow),
        Section::Overview,
        Some(&key),
        &flash,
        body,
    ))
}

/// Where a record page was opened from.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RecordOrigin {
    /// The run whose list linked here (for the way back and the record's key).
    #[serde(default)]
    run: Option<String>,
}

/// `GET /records/{activity_id}`.
pub(crate) async fn record_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
    Query(origin): Query<RecordOrigin>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let id = parse_id(&id, "record")?;
    let payloads = api::activity_payloads_view(&state, id).await?;
    // The store keeps a record's payloads apart from its metadata; the run it came from
    // names its key and outcome.
    let run = match origin.run.as_deref().and_then(|run| run.parse::<i64>().ok()) {
        Some(run) => api::run_detail(&state, run).await.ok(),
        None => None,
    };
    let entry = run
        .as_ref()
        .and_then(|detail| detail.activity.iter().find(|entry| entry.id == id));
    let rows = diff::side_by_side(payloads.source_payload.as_ref(), payloads.sent_payload.as_ref());
    let title = match entry {
        Some(entry) => format!("Record {}", entry.source_key),
        None => format!("Record {id}"),
    };
    let body = html! {
        @if let Some(detail) = &run {
            p { a href=(link("/runs", &detail.run.id.to_string())) { "← Run " (detail.run.id) " of " (detail.run.flow) } }
        }
        @if let Some(entry) = entry {
            p { "Outcome: " (status_badge(&entry.outcome)) " · " (when(&entry.at, Utc::now())) }
        }
        h2 { "Source and sent, side by side" }
        @if payloads.source_payload.is_none() && payloads.sent_payload.is_none() {
            p.muted { "No payloads were kept for this record (the flow's redaction or retention)." }
        } @else {
            (diff::render(&rows))
        }
        h2 { "Raw payloads" }
        div.cards {
            div.card { h3 { "Source (as read)" } (payload_block(payloads.source_payload.as_ref())) }
            div.card { h3 { "Sent (to the target)" } (payload_block(payloads.sent_payload.as_ref())) }
            div.card { h3 { "Target's answer" } (payload_block(payloads.response.as_ref())) }
        }
    };
    Ok(layout::page(&title, Section::Overview, Some(&key), &flash, body))
}

fn payload_block(payload: Option<&serde_json::Value>) -> maud::Markup {
    html! {
        @match payload {
            Some(value) => { pre { (layout::pretty_json(value)) } },
            None => { p.muted { "Not kept." } },
        }
    }
}
