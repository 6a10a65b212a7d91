//! The dashboard: server-rendered HTML pages over the same state and logic as `/api/v1`
//! (overview with a records chart and quota gauges, flows, runs, records with a side-by-side
//! payload diff, the dead-letter inbox with edit-and-retry and bulk replay, webhook deliveries
//! and what became of each, connections with their switch and test, the workers sharing the store, the audit log and the API keys (admin)). Signed in with an API key kept in a cookie ([`session`]).
//!
//! Pages are [`maud`] templates: compile-time checked, and every interpolated value is
//! HTML-escaped unless explicitly marked `PreEscaped` (only the static CSS is), so escaping
//! cannot be forgotten in one place — the reason for a crate over hand-built strings.
//! No JavaScript: forms post and redirect back (303) with a flash message in the query.
mod audit;
mod chart;
mod connections;
mod dead_letters;
mod deliveries;
mod diff;
mod keys;
mod layout;
mod overview;
mod runs;
mod session;
#[cfg(test)]
mod tests;
mod workers;

use crate::{ApiError, AppState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use layout::Section;
use serde::Deserialize;

/// The dashboard's routes (merged into the server's router beside `/api/v1`).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::overview_page))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/flows/{name}", get(overview::flow_page))
        .route("/runs/{id}", get(runs::run_page))
        .route("/records/{id}", get(runs::record_page))
        .route("/dead-letters", get(dead_letters::inbox_page))
        .route("/dead-letters/replay", post(dead_letters::replay))
        .route(
            "/dead-letters/{id}",
            get(dead_letters::letter_page).post(dead_letters::save_letter),
        )
        .route("/deliveries", get(deliveries::deliveries_page))
        .route("/connections", get(connections::connections_page))
        .route("/audit", get(audit::audit_page))
        .route("/keys", get(keys::keys_page).post(keys::create))
        .route("/keys/{id}/revoke", post(keys::revoke))
        .route("/connections/{name}/enable", post(connections::enable))
        .route("/connections/{name}/disable", post(connections::disable))
        .route("/connections/{name}/test", post(connections::test))
        .route("/workers", get(workers::workers_page))
        .layer(axum::middleware::map_response(protect))
}

/// Pages carry payloads and must not linger in shared caches; the policy allows no script at
/// all (the dashboard has none), so even an escaping slip could not run one.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The message a form's redirect carries back (`?done=…` or `?problem=…`), shown on the page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Flash {
    /// What went well.
    #[serde(default)]
    pub done: Option<String>,
    /// What did not, and what to do.
    #[serde(default)]
    pub problem: Option<String>,
}

/// How a form ended, for the page it redirects to.
pub(crate) enum Outcome {
    /// Shown as a success.
    Done(String),
    /// Shown as an alert.
    Problem(String),
}

/// A 303 to `path` carrying the outcome in its query string.
pub(crate) fn redirect_back(path: &str, outcome: &Outcome) -> Response {
    let (name, message) = match outcome {
        Outcome::Done(message) => ("done", message),
        Outcome::Problem(message) => ("problem", message),
    };
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}{name}={}", layout::query_value(message))).into_response()
}

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// No valid key in the cookie: off to `/login`.
    SignIn,
    /// Anything else, shown as a page with the API's status and message.
    Failed(ApiError),
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError::Failed(error)
    }
}

impl From<tiltas_store::StoreError> for PageError {
    fn from(error: tiltas_store::StoreError) -> PageError {
        PageError::Failed(ApiError::from(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = match self {
            PageError::SignIn => return Redirect::to("/login").into_response(),
            PageError::Failed(error) => error,
        };
        let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (title, message) = match status {
            StatusCode::FORBIDDEN => ("Not allowed", error.message),
            StatusCode::NOT_FOUND => ("Not found", error.message),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => ("Cannot do that", error.message),
            StatusCode::CONFLICT => ("Not now", error.message),
            StatusCode::BAD_GATEWAY => ("The other system failed", error.message),
            _ => {
                // The cause (a store failure) is for the log, not for the page.
                tracing::error!(code = %error.code, "dashboard page failed: {}", error.message);
                (
                    "Something went wrong",
                    "The server could not show this page; its log has the cause.".to_owned(),
                )
            }
        };
        let body = maud::html! {
            p.error role="alert" { (message) }
            p { a href="/" { "Back to the overview" } }
        };
        let markup = layout::page(title, Section::Outside, None, &Flash::default(), body);
        (status, markup).into_response()
    }
}

/// A page or a failure to show one.
pub(crate) type PageResult<T = maud::Markup> = Result<T, PageError>;

/// A numeric id from a path, or a 404 page naming it.
pub(crate) fn parse_id(text: &str, what: &str) -> PageResult<i64> {
    text.parse()
        .map_err(|_| PageError::Failed(ApiError::not_found(format!("no {what} \"{text}\": ids are numbers"))))
}
