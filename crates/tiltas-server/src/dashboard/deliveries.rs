//! `/deliveries`: recent webhook deliveries with what became of each at a glance — pending,
//! unusable (and why), or per flow booked, unchanged, skipped or dead-lettered — linking to
//! the record's page in the run that took it.
use super::layout::{self, link, status_badge, when, Section};
use super::session::signed_in;
use super::{Flash, PageError, PageResult};
use crate::api::{
    self, DeliveriesQuery, DeliveryFlowView, DeliveryOutcomeFilter, DeliveryStatus, DeliveryView, FlowOutcome,
};
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;
use tiltas_store::ApiScope;

/// Deliveries per page.
const PAGE_SIZE: u32 = 100;

/// The outcomes the filter offers, as the API names them.
const OUTCOMES: [&str; 6] = ["pending", "unusable", "booked", "unchanged", "skipped", "dead_lettered"];

/// The page's filters and position (empty values mean "all", as a plain form sends them).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeliveryFilter {
    /// Only this connection's deliveries.
    #[serde(default)]
    connection: Option<String>,
    /// Only this outcome.
    #[serde(default)]
    outcome: Option<String>,
    /// Older than this id (the next page).
    #[serde(default)]
    before: Option<String>,
}

fn outcome_filter(name: Option<&str>) -> PageResult<Option<DeliveryOutcomeFilter>> {
    let Some(name) = name else { return Ok(None) };
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map(Some)
        .map_err(|_| {
            PageError::Failed(ApiError::invalid(format!(
                "outcome \"{name}\" is not one of {}: pick one from the list",
                OUTCOMES.join(", ")
            )))
        })
}

/// `GET /deliveries`.
pub(crate) async fn deliveries_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
    Query(filter): Query<DeliveryFilter>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let connection = filter.connection.clone().filter(|name| !name.is_empty());
    let outcome_name = filter.outcome.clone().filter(|name| !name.is_empty());
    let before = match filter.before.as_deref().filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            PageError::Failed(ApiError::invalid(format!(
                "before \"{text}\" is not a delivery id: follow the \"Older\" link"
            )))
        })?),
    };
    let query = DeliveriesQuery {
        connection: connection.clone(),
        outcome: outcome_filter(outcome_name.as_deref())?,
        before,
        limit: Some(PAGE_SIZE),
    };
    let deliveries = api::delivery_views(&state, &query).await?;
    let now = Utc::now();
    let hooked: Vec<&str> = state
        .config
        .connections
        .iter()
        .filter(|known| known.settings.get("webhook_secret").is_some())
        .map(|known| known.name.as_str())
        .collect();
    let older = deliveries
        .last()
        .filter(|_| deliveries.len() as u64 >= u64::from(PAGE_SIZE))
        .map(|last| {
            let mut path = format!("/deliveries?before={}", last.id);
            if let Some(connection) = &connection {
                path.push_str(&format!("&connection={}", layout::query_value(connection)));
            }
            if let Some(outcome) = &outcome_name {
                path.push_str(&format!("&outcome={}", layout::query_value(outcome)));
            }
            path
        });
    let body = html! {
        p.muted { "Webhooks accepted from the systems, newest first, and what became of each: waiting, unusable, or what every flow reading its record did with it." }
        form.actions method="get" action="/deliveries" {
            label for="filter-connection" { "Connection" }
            select #filter-connection name="connection" {
                option value="" selected[connection.is_none()] { "all connections" }
                @for name in &hooked {
                    option value=(name) selected[connection.as_deref() == Some(*name)] { (name) }
                }
            }
            label for="filter-outcome" { "Outcome" }
            select #filter-outcome name="outcome" {
                option value="" selected[outcome_name.is_none()] { "any" }
                @for name in OUTCOMES {
                    option value=(name) selected[outcome_name.as_deref() == Some(name)] { (name.replace('_', " ")) }
                }
            }
            button.secondary type="submit" { "Show" }
        }
        @if deliveries.is_empty() {
            p { "No deliveries" @if before.is_some() { " older than that" } " match." }
        } @else {
            table {
                thead {
                    tr {
                        th scope="col" { "Delivery" }
                        th scope="col" { "Received" }
                        th scope="col" { "Topic" }
                        th scope="col" { "Record" }
                        th scope="col" { "Outcome" }
                        th scope="col" { "What happened" }
                    }
                }
                tbody {
                    @for delivery in &deliveries {
                        (delivery_row(delivery, now))
                    }
                }
            }
        }
        @if let Some(older) = older {
            p { a href=(older) { "Older deliveries →" } }
        }
    };
    Ok(layout::page(
        "Deliveries",
        Section::Deliveries,
        Some(&key),
        &flash,
        body,
    ))
}

fn delivery_row(delivery: &DeliveryView, now: chrono::DateTime<Utc>) -> Markup {
    html! {
        tr {
            th scope="row" { "#" (delivery.id) br; span.muted { (delivery.connection) } }
            td { (when(&delivery.received_at, now)) }
            td { code { (delivery.topic) } }
            td {
                @match (&delivery.entity, &delivery.record_key) {
                    (Some(entity), Some(key)) => { (entity) " " code { (key) } },
                    _ => { span.muted { "none" } },
                }
            }
            td {
                @match delivery.outcome {
                    DeliveryStatus::Pending => { (status_badge("pending")) },
                    DeliveryStatus::Unusable => { (status_badge("unusable")) },
                    DeliveryStatus::Delivered => {
                        @for flow in &delivery.flows { (status_badge(flow_outcome_name(flow.outcome))) " " }
                    },
                }
            }
            td {
                @match delivery.outcome {
                    DeliveryStatus::Pending => {
                        @if let Some(error) = &delivery.error {
                            span.error { "Attempt " (delivery.attempts) " failed: " (error) }
                        } @else {
                            "Waiting to be delivered."
                        }
                    },
                    DeliveryStatus::Unusable => { (delivery.note.as_deref().unwrap_or("could not be used")) },
                    DeliveryStatus::Delivered => {
                        ul.plain {
                            @for flow in &delivery.flows { li { (flow_line(flow, delivery.record_key.as_deref())) } }
                        }
                    },
                }
            }
        }
    }
}

fn flow_outcome_name(outcome: FlowOutcome) -> &'static str {
    match outcome {
        FlowOutcome::Booked => "booked",
        FlowOutcome::Unchanged => "unchanged",
        FlowOutcome::Skipped => "skipped",
        FlowOutcome::DeadLettered => "dead_lettered",
    }
}

/// One flow's part: what it did, and links to the record's page and the run.
fn flow_line(flow: &DeliveryFlowView, record_key: Option<&str>) -> Markup {
    let what = match flow.outcome {
        FlowOutcome::Booked => {
            let operation = flow.operation.as_deref().unwrap_or("booked");
            match &flow.target_id {
                Some(target) => format!("{operation} as {target}"),
                None => operation.to_owned(),
            }
        }
        FlowOutcome::Unchanged => "unchanged: delivered before, nothing sent".to_owned(),
        FlowOutcome::Skipped => format!("skipped: {}", flow.reason.as_deref().unwrap_or("by the flow's filter")),
        FlowOutcome::DeadLettered => format!(
            "dead-lettered: {}",
            flow.message.as_deref().unwrap_or("see the dead-letter inbox")
        ),
    };
    html! {
        a href=(link("/flows", &flow.flow)) { (flow.flow) } ": " (what)
        @if let (Some(activity), Some(run)) = (flow.activity, flow.run) {
            " · " a href={ (link("/records", &activity.to_string())) "?run=" (run) }
                aria-label={ "Record " (record_key.unwrap_or_default()) " in run " (run) } { "Record" }
        }
        @if let Some(run) = flow.run {
            " · " a href=(link("/runs", &run.to_string())) { "Run " (run) }
        }
        @if flow.outcome == FlowOutcome::DeadLettered {
            " · " a href={ "/dead-letters?flow=" (layout::query_value(&flow.flow)) } { "Dead letters" }
        }
    }
}
