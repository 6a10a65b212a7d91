//! `/dead-letters`: the inbox grouped by failure class, field and message, with a checkbox per
//! letter and bulk replay; `/dead-letters/{id}`: one letter with its payload to edit, save and
//! retry.
use super::layout::{self, count, link, status_badge, when, Section};
use super::session::signed_in;
use super::{parse_id, redirect_back, Flash, Outcome, PageError, PageResult};
use crate::api::{self, DeadLetterView, RunResult};
use crate::audit::Actor;
use crate::security::ClientAddress;
use crate::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;
use tiltas_store::ApiScope;

/// Letters the inbox shows at most.
const INBOX_LIMIT: u32 = 2000;

/// The inbox's filters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxFilter {
    /// Only this flow's letters.
    #[serde(default)]
    flow: Option<String>,
    /// `open` (default), `resolved` or `all`.
    #[serde(default)]
    status: Option<String>,
}

/// Letters failing the same way, shown together.
struct Group<'a> {
    class: &'a str,
    field: Option<&'a str>,
    message: &'a str,
    letters: Vec<&'a DeadLetterView>,
}

/// Groups by class, field and message — the letter's own columns, which never name the record
/// — the largest group first.
fn group(letters: &[DeadLetterView]) -> Vec<Group<'_>> {
    type Failure<'a> = (&'a str, Option<&'a str>, &'a str);
    let mut by_failure: BTreeMap<Failure<'_>, Vec<&DeadLetterView>> = BTreeMap::new();
    for letter in letters {
        by_failure
            .entry((letter.class.as_str(), letter.field.as_deref(), letter.message.as_str()))
            .or_default()
            .push(letter);
    }
    let mut groups: Vec<Group<'_>> = by_failure
        .into_iter()
        .map(|((class, field, message), letters)| Group {
            class,
            field,
            message,
            letters,
        })
        .collect();
    groups.sort_by_key(|group| std::cmp::Reverse(group.letters.len()));
    groups
}

/// `GET /dead-letters`.
pub(crate) async fn inbox_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
    Query(filter): Query<InboxFilter>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let status = api::letter_status_filter(filter.status.as_deref().filter(|status| !status.is_empty()))?;
    let flow = filter.flow.clone().filter(|flow| !flow.is_empty());
    let letters = api::dead_letter_views(&state, flow.clone(), status, INBOX_LIMIT).await?;
    let groups = group(&letters);
    let status_name = filter.status.as_deref().unwrap_or("open");
    let now = Utc::now();
    let body = html! {
        form.actions method="get" action="/dead-letters" {
            label for="filter-flow" { "Flow" }
            select #filter-flow name="flow" {
                option value="" selected[flow.is_none()] { "all flows" }
                @for known in &state.config.flows {
                    option value=(known.name) selected[flow.as_deref() == Some(known.name.as_str())] { (known.name) }
                }
            }
            label for="filter-status" { "Status" }
            select #filter-status name="status" {
                @for (value, shown) in [("open", "open"), ("resolved", "resolved"), ("all", "all")] {
                    option value=(value) selected[status_name == value] { (shown) }
                }
            }
            button.secondary type="submit" { "Show" }
        }
        @if letters.is_empty() {
            p { "No " @if status_name != "all" { (status_name) " " } "dead letters"
                @if let Some(flow) = &flow { " for flow " strong { (flow) } } "." }
        } @else {
            p {
                (count(letters.len() as u64)) " dead letter(s) in " (groups.len()) " group(s) of the same class, field and message."
                @if letters.len() as u64 >= u64::from(INBOX_LIMIT) { " Only the newest " (count(u64::from(INBOX_LIMIT))) " are shown." }
            }
            form method="post" action="/dead-letters/replay" {
                @if let Some(flow) = &flow { input type="hidden" name="flow" value=(flow); }
                div.actions {
                    button type="submit" name="scope" value="selected" { "Replay selected" }
                    button.secondary type="submit" name="scope" value="all" {
                        "Replay all open" @if let Some(flow) = &flow { " of " (flow) }
                    }
                }
                @for (index, group) in groups.iter().enumerate() {
                    (group_section(index, group, now))
                }
            }
        }
    };
    Ok(layout::page(
        "Dead letters",
        Section::DeadLetters,
        Some(&key),
        &flash,
        body,
    ))
}

fn group_section(index: usize, group: &Group<'_>, now: chrono::DateTime<Utc>) -> Markup {
    let heading_id = format!("group-{index}");
    html! {
        details.group open {
            summary #(heading_id) {
                span.badge.status-failed { (group.class) } " "
                @if let Some(field) = group.field { code { (field) } ": " }
                (group.message) " "
                span.muted { "(" (group.letters.len()) " letter(s))" }
            }
            table aria-labelledby=(heading_id) {
                thead {
                    tr {
                        th scope="col" { "Select" }
                        th scope="col" { "Record" }
                        th scope="col" { "Flow" }
                        th scope="col" { "Status" }
                        th.num scope="col" { "Attempts" }
                        th scope="col" { "First failed" }
                        th scope="col" { "Last changed" }
                    }
                }
                tbody {
                    @for letter in &group.letters {
                        @let checkbox_id = format!("letter-{}", letter.id);
                        tr {
                            td {
                                @if letter.status == "open" {
                                    input id=(checkbox_id) type="checkbox" name="ids" value=(letter.id)
                                        aria-label={ "Select dead letter " (letter.id) " (" (letter.source_key) ")" };
                                }
                            }
                            th scope="row" {
                                a href=(link("/dead-letters", &letter.id.to_string())) { code { (letter.source_key) } }
                                " " span.muted { "#" (letter.id) }
                            }
                            td { a href=(link("/flows", &letter.flow)) { (letter.flow) } }
                            td { (status_badge(&letter.status)) }
                            td.num { (letter.attempts) }
                            td { (when(&letter.created_at, now)) }
                            td { (when(&letter.updated_at, now)) }
                        }
                    }
                }
            }
        }
    }
}

/// What the inbox's replay form sends: repeated `ids`, `scope` and maybe `flow`.
fn replay_choice(fields: &[(String, String)]) -> Result<(bool, Option<String>, Vec<i64>), ApiError> {
    let mut all = false;
    let mut flow = None;
    let mut ids = Vec::new();
    for (name, value) in fields {
        match name.as_str() {
            "scope" => all = value == "all",
            "flow" if !value.is_empty() => flow = Some(value.clone()),
            "ids" => ids.push(
                value
                    .parse()
                    .map_err(|_| ApiError::invalid(format!("\"{value}\" is not a dead letter's id")))?,
            ),
            _ => {}
        }
    }
    Ok((all, flow, ids))
}

/// What a replay did, in a sentence.
fn replay_outcome(results: &[RunResult]) -> Outcome {
    let delivered: u64 = results
        .iter()
        .map(|result| result.counters.created + result.counters.updated)
        .sum();
    let unchanged: u64 = results.iter().map(|result| result.counters.unchanged).sum();
    let failed: u64 = results.iter().map(|result| result.counters.failed).sum();
    if results.is_empty() {
        return Outcome::Problem("Nothing was replayed: no open dead letter matched.".to_owned());
    }
    let sentence = format!(
        "Replayed in {} run(s): {} delivered, {} unchanged, {} failed again.",
        results.len(),
        count(delivered),
        count(unchanged),
        count(failed)
    );
    if failed > 0 {
        Outcome::Problem(format!("{sentence} The inbox shows why."))
    } else {
        Outcome::Done(sentence)
    }
}

/// `POST /dead-letters/replay`: the selected letters, or all open ones (of the shown flow).
pub(crate) async fn replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let key = signed_in(&state, &headers, ApiScope::Write).await?;
    let actor = Actor::key(&key, &address);
    let (all, flow, ids) = replay_choice(&fields)?;
    let back = match &flow {
        Some(flow) => format!("/dead-letters?flow={}", layout::query_value(flow)),
        None => "/dead-letters".to_owned(),
    };
    // An empty id list means "all" to the shared replay, so "selected" with none ticked
    // must stop here.
    if !all && ids.is_empty() {
        return Ok(redirect_back(
            &back,
            &Outcome::Problem("Select at least one dead letter, or use \"Replay all open\".".to_owned()),
        ));
    }
    let outcome = match api::replay_open_letters(&state, flow, if all { &[] } else { &ids }, &actor).await {
        Ok(results) => replay_outcome(&results),
        Err(error) if error.status >= 500 && error.status != 502 => return Err(PageError::from(error)),
        Err(error) => Outcome::Problem(format!("The replay could not run: {}", error.message)),
    };
    Ok(redirect_back(&back, &outcome))
}

/// `GET /dead-letters/{id}`.
pub(crate) async fn letter_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let id = parse_id(&id, "dead letter")?;
    let letter = api::dead_letter_view(&state, id).await?;
    let payload = layout::pretty_json(&letter.payload);
    Ok(letter_markup(&key, &flash, &letter, &payload, None))
}

fn letter_markup(
    key: &tiltas_store::ApiKey,
    flash: &Flash,
    letter: &DeadLetterView,
    payload_text: &str,
    error: Option<&str>,
) -> Markup {
    let now = Utc::now();
    let body = html! {
        p { a href="/dead-letters" { "← Dead letters" } }
        dl.facts {
            dt { "Status" } dd { (status_badge(&letter.status)) }
            dt { "Flow" } dd { a href=(link("/flows", &letter.flow)) { (letter.flow) } }
            dt { "Record" } dd { code { (letter.source_key) } }
            dt { "Class" } dd { (letter.class) }
            dt { "Why" } dd #letter-message { (letter.message) }
            @if let Some(field) = &letter.field { dt { "Field" } dd #letter-field { code { (field) } } }
            @if let Some(location) = &letter.location { dt { "Where" } dd #letter-location { (location) } }
            @if let Some(fix) = &letter.fix { dt { "Fix" } dd #letter-fix { (fix) } }
            dt { "Attempts" } dd { (letter.attempts) }
            dt { "First failed" } dd { (when(&letter.created_at, now)) }
            dt { "Last changed" } dd { (when(&letter.updated_at, now)) }
        }
        h2 { "Payload" }
        @if letter.status == "open" {
            form method="post" action=(link("/dead-letters", &letter.id.to_string())) {
                @if let Some(error) = error {
                    p.error role="alert" #payload-error { (error) }
                }
                p { label for="payload" { "Payload (JSON object, sent through the flow's mapping)" } }
                @if error.is_some() {
                    textarea #payload name="payload" rows="22" spellcheck="false" aria-describedby="payload-error" aria-invalid="true" { (payload_text) }
                } @else {
                    textarea #payload name="payload" rows="22" spellcheck="false" { (payload_text) }
                }
                div.actions {
                    button type="submit" name="action" value="retry" { "Save and retry" }
                    button.secondary type="submit" name="action" value="save" { "Save without retrying" }
                }
            }
        } @else {
            p.muted { "Resolved: there is nothing to retry. The payload it was delivered with:" }
            pre { (payload_text) }
        }
    };
    layout::page(
        &format!("Dead letter {} ({})", letter.id, letter.source_key),
        Section::DeadLetters,
        Some(key),
        flash,
        body,
    )
}

/// The edit form.
#[derive(Debug, Deserialize)]
pub(crate) struct LetterEdit {
    /// The payload as typed.
    #[serde(default)]
    payload: String,
    /// `retry` (default) or `save`.
    #[serde(default)]
    action: Option<String>,
}

/// `POST /dead-letters/{id}`: saves the edited payload and (unless "save" was pressed) retries
/// it. Text that is not a JSON object shows the page again with the error; nothing is saved.
pub(crate) async fn save_letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(edit): Form<LetterEdit>,
) -> PageResult<Response> {
    let key = signed_in(&state, &headers, ApiScope::Write).await?;
    let id = parse_id(&id, "dead letter")?;
    let retry = edit.action.as_deref() != Some("save");
    let refuse = |letter: &DeadLetterView, message: &str| {
        let page = letter_markup(&key, &Flash::default(), letter, &edit.payload, Some(message));
        (StatusCode::BAD_REQUEST, page).into_response()
    };
    let payload: serde_json::Value = match serde_json::from_str(&edit.payload) {
        Ok(payload) => payload,
        Err(error) => {
            let letter = api::dead_letter_view(&state, id).await?;
            return Ok(refuse(
                &letter,
                &format!("The payload is not valid JSON ({error}). Nothing was saved."),
            ));
        }
    };
    let back = link("/dead-letters", &id.to_string());
    match api::edit_dead_letter_payload(&state, id, payload, retry, &Actor::key(&key, &address)).await {
        Ok(letter) if !retry => Ok(redirect_back(
            &back,
            &Outcome::Done(format!("Payload of dead letter {} saved; not retried yet.", letter.id)),
        )),
        Ok(letter) if letter.status == "resolved" => Ok(redirect_back(
            &back,
            &Outcome::Done(format!(
                "Dead letter {} ({}) was delivered and is resolved.",
                letter.id, letter.source_key
            )),
        )),
        Ok(letter) => Ok(redirect_back(
            &back,
            &Outcome::Problem(format!("Saved and retried, but it failed again: {}", letter.message)),
        )),
        Err(error) if error.code == "invalid" => {
            let letter = api::dead_letter_view(&state, id).await?;
            Ok(refuse(&letter, &format!("{}. Nothing was saved.", error.message)))
        }
        Err(error) if error.status == 404 || (error.status >= 500 && error.status != 502) => {
            Err(PageError::from(error))
        }
        // Saved, but the retry itself could not run (busy flow, a system down).
        Err(error) => Ok(redirect_back(
            &back,
            &Outcome::Problem(format!("Saved, but the retry could not run: {}", error.message)),
        )),
    }
}

#[cfg(test)]
mod grouping {
    use super::*;

    fn letter(id: i64, key: &str, field: Option<&str>, message: &str) -> DeadLetterView {
        DeadLetterView {
            id,
            flow: "orders".into(),
            source_key: key.into(),
            class: "invalid".into(),
            message: message.into(),
            location: None,
            field: field.map(str::to_owned),
            fix: None,
            payload: serde_json::json!({}),
            attempts: 1,
            status: "open".into(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn letters_failing_the_same_way_group_together_whatever_record_they_name() {
        let letters = [
            letter(1, "101", Some("lines[0].sku"), "product X not in ERP"),
            letter(2, "102", Some("lines[0].sku"), "product X not in ERP"),
            letter(3, "103", Some("lines[0].sku"), "product Y not in ERP"),
        ];
        let groups = group(&letters);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            (groups[0].field, groups[0].message, groups[0].letters.len()),
            (Some("lines[0].sku"), "product X not in ERP", 2)
        );
        assert_eq!(groups[1].message, "product Y not in ERP");
    }

    #[test]
    fn the_same_message_on_another_field_is_another_group() {
        let letters = [
            letter(1, "101", Some("lines[0].sku"), "product X not in ERP"),
            letter(2, "102", Some("lines[1].sku"), "product X not in ERP"),
            letter(3, "103", None, "product X not in ERP"),
        ];
        assert_eq!(group(&letters).len(), 3);
    }
}
