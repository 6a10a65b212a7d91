//! `/audit`: the audit log for admins — who did which admin action, to what, when and from
//! where — filtered by action and actor, paged by id.
use super::layout::{self, when, Section};
use super::session::signed_in;
use super::{Flash, PageError, PageResult};
use crate::api::{self, AuditQuery, AuditView};
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;
use tiltas_store::{actions, ApiScope};

/// Entries per page.
const PAGE_SIZE: u32 = 100;

/// The actions the filter offers.
const ACTIONS: [&str; 11] = [
    actions::KEY_CREATED,
    actions::KEY_REVOKED,
    actions::CONNECTION_ENABLED,
    actions::CONNECTION_DISABLED,
    actions::CONNECTION_TESTED,
    actions::SECRET_SET,
    actions::DEAD_LETTER_EDITED,
    actions::DEAD_LETTER_RETRIED,
    actions::DEAD_LETTERS_REPLAYED,
    actions::FLOW_RUN,
    actions::PERSON_FORGOTTEN,
];

/// The page's filters and position (empty values mean "all", as a plain form sends them).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditFilterForm {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    before: Option<String>,
}

/// `GET /audit` (admin keys only: the log names keys and addresses).
pub(crate) async fn audit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
    Query(filter): Query<AuditFilterForm>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Admin).await?;
    let action = filter.action.clone().filter(|text| !text.is_empty());
    let actor = filter.actor.clone().filter(|text| !text.is_empty());
    let before = match filter.before.as_deref().filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            PageError::Failed(ApiError::invalid(format!(
                "before \"{text}\" is not an audit entry id: follow the \"Older\" link"
            )))
        })?),
    };
    let query = AuditQuery {
        action: action.clone(),
        actor: actor.clone(),
        since: None,
        before,
        limit: Some(PAGE_SIZE),
    };
    let entries = api::audit_views(&state, &query).await?;
    let older = entries
        .last()
        .filter(|_| entries.len() as u64 >= u64::from(PAGE_SIZE))
        .map(|last| {
            let mut path = format!("/audit?before={}", last.id);
            if let Some(action) = &action {
                path.push_str(&format!("&action={}", layout::query_value(action)));
            }
            if let Some(actor) = &actor {
                path.push_str(&format!("&actor={}", layout::query_value(actor)));
            }
            path
        });
    let now = Utc::now();
    let body = html! {
        p.muted { "Admin actions, newest first: keys created and revoked, connections switched and tested, secrets set, dead letters edited, retried and replayed, flows run by hand, people forgotten. Activity retention never purges this log." }
        form.actions method="get" action="/audit" {
            label for="filter-action" { "Action" }
            select #filter-action name="action" {
                option value="" selected[action.is_none()] { "any" }
                @for name in ACTIONS {
                    option value=(name) selected[action.as_deref() == Some(name)] { (name) }
                }
            }
            label for="filter-actor" { "Actor" }
            input #filter-actor type="text" name="actor" value=(actor.clone().unwrap_or_default()) placeholder="key name or cli:USER";
            button.secondary type="submit" { "Show" }
        }
        @if entries.is_empty() {
            p { "No admin actions" @if before.is_some() { " older than that" } " match." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                    th scope="col" { "On" } th scope="col" { "From" } th scope="col" { "Detail" }
                } }
                tbody { @for entry in &entries { (entry_row(entry, now)) } }
            }
        }
        @if let Some(older) = older {
            p { a href=(older) { "Older actions →" } }
        }
    };
    Ok(layout::page("Audit log", Section::Audit, Some(&key), &flash, body))
}

fn entry_row(entry: &AuditView, now: chrono::DateTime<Utc>) -> Markup {
    html! {
        tr {
            td { (when(&entry.at, now)) }
            td { (entry.actor) }
            td { code { (entry.action) } }
            td { (entry.target) }
            td { (entry.from) }
            td { code { (entry.detail.to_string()) } }
        }
    }
}
