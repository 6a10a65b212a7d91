//! `/connections`: every connection with its switch (admin), a "test connection" button
//! (write), today's requests against its budget and its non-secret settings.
use super::layout::{self, link, Section};
use super::overview::quota_gauge;
use super::session::signed_in;
use super::{redirect_back, Flash, Outcome, PageResult};
use crate::api::{self, ConnectionView};
use crate::audit::Actor;
use crate::security::ClientAddress;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{html, Markup};
use tiltas_store::ApiScope;

/// `GET /connections`.
pub(crate) async fn connections_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> PageResult {
    let key = signed_in(&state, &headers, ApiScope::Read).await?;
    let connections = api::connection_views(&state);
    let quotas = api::quota_views(&state).await?;
    let body = html! {
        p.muted {
            "Switching a connection off pauses every flow using it (its webhooks wait in the inbox) until it is switched on again or the server restarts. "
            "Switching needs an admin key; testing needs a write key."
        }
        @for connection in &connections {
            section.card id={ "connection-" (connection.name) } aria-labelledby={ "connection-" (connection.name) "-name" } {
                h2 id={ "connection-" (connection.name) "-name" } { (connection.name) " " span.muted { "(" (connection.system) ")" } }
                (connection_controls(connection))
                dl.facts {
                    dt { "Rate limit" } dd { (connection.rate_limit.as_deref().unwrap_or("none")) }
                    @for (name, value) in &connection.settings {
                        dt { (name) } dd.mono { (value) }
                    }
                }
                @if let Some(quota) = quotas.iter().find(|quota| quota.connection == connection.name) {
                    (quota_gauge(quota))
                }
            }
        }
    };
    Ok(layout::page(
        "Connections",
        Section::Connections,
        Some(&key),
        &flash,
        body,
    ))
}

fn connection_controls(connection: &ConnectionView) -> Markup {
    let base = link("/connections", &connection.name);
    html! {
        div.actions {
            @if connection.enabled {
                span.badge.status-enabled { span aria-hidden="true" { "● " } "On" }
                form.inline method="post" action={ (base) "/disable" } {
                    button.secondary type="submit" aria-label={ "Switch connection " (connection.name) " off" } { "Switch off" }
                }
            } @else {
                span.badge.status-disabled { span aria-hidden="true" { "○ " } "Off" }
                form.inline method="post" action={ (base) "/enable" } {
                    button type="submit" aria-label={ "Switch connection " (connection.name) " on" } { "Switch on" }
                }
            }
            form.inline method="post" action={ (base) "/test" } {
                button.secondary type="submit" aria-label={ "Test connection " (connection.name) } { "Test connection" }
            }
        }
        @if let Some(reason) = &connection.paused {
            p.notice role="status" {
                span.badge.status-failed { "Paused" } " "
                "Its scheduled runs wait: " (reason)
                " Switching it on again, a run that succeeds or signing in again resumes it."
            }
        }
    }
}

async fn switch(
    state: &AppState,
    headers: &HeaderMap,
    address: &ClientAddress,
    name: &str,
    enabled: bool,
) -> PageResult<Response> {
    let key = signed_in(state, headers, ApiScope::Admin).await?;
    let connection = api::switch_connection(state, name, enabled, &Actor::key(&key, address)).await?;
    let word = if connection.enabled { "on" } else { "off" };
    Ok(redirect_back(
        "/connections",
        &Outcome::Done(format!("Connection {} is switched {word}.", connection.name)),
    ))
}

/// `POST /connections/{name}/enable`.
pub(crate) async fn enable(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(name): Path<String>,
) -> PageResult<Response> {
    switch(&state, &headers, &address, &name, true).await
}

/// `POST /connections/{name}/disable`.
pub(crate) async fn disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(name): Path<String>,
) -> PageResult<Response> {
    switch(&state, &headers, &address, &name, false).await
}

/// `POST /connections/{name}/test`: reads one record through the connection.
pub(crate) async fn test(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(name): Path<String>,
) -> PageResult<Response> {
    let key = signed_in(&state, &headers, ApiScope::Write).await?;
    let test = api::test_connection_now(&state, &name, &Actor::key(&key, &address)).await?;
    let requests = if test.api_calls == 1 { "request" } else { "requests" };
    let outcome = if test.ok {
        Outcome::Done(format!(
            "Test of {name} passed: {} ({} {requests}).",
            test.message, test.api_calls
        ))
    } else {
        Outcome::Problem(format!("Test of {name} failed: {}", test.message))
    };
    Ok(redirect_back("/connections", &outcome))
}
