//! `/workers`: the processes sharing the store (`tiltas serve`, `tiltas worker`), each with
//! its heartbeat, what it runs right now, and whether it is live or gone.
use super::layout::{self, status_badge, when, Section};
use super::session::signed_in;
use super::{Flash, PageResult};
use crate::api::{self, WorkerView};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use maud::{html, Markup};
use tiltas_store::ApiScope;

/// `GET /workers`.
pub(crate) async fn workers_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let workers = api::worker_views(&state).await?;
    let now = chrono::Utc::now();
    let body = html! {
        p.muted {
            "Every tiltas serve and tiltas worker on this store beats its heart every 3 seconds. "
            "One silent for longer than three heartbeats is gone (killed, or its machine is down): "
            "its flows are taken over by another worker when their leases lapse. Gone workers are removed after ten minutes."
        }
        @if workers.is_empty() {
            p { "No worker has registered with this store." }
        } @else {
            table {
                thead {
                    tr {
                        th scope="col" { "Worker" }
                        th scope="col" { "Kind" }
                        th scope="col" { "Status" }
                        th scope="col" { "Last heartbeat" }
                        th scope="col" { "Started" }
                        th scope="col" { "Running" }
                    }
                }
                tbody {
                    @for worker in &workers {
                        (worker_row(worker, now))
                    }
                }
            }
        }
    };
    Ok(layout::page("Workers", Section::Workers, Some(&key), &flash, body))
}

fn worker_row(worker: &WorkerView, now: chrono::DateTime<chrono::Utc>) -> Markup {
    html! {
        tr {
            td.mono { (worker.id) @if worker.this_process { " " span.muted { "(this one)" } } }
            td { (worker.kind) }
            td { (status_badge(&worker.status)) }
            td { (when(&worker.heartbeat_at, now)) }
            td { (when(&worker.started_at, now)) }
            td {
                @if worker.running.is_empty() { span.muted { "idle" } }
                @else { (worker.running.join(", ")) }
            }
        }
    }
}
