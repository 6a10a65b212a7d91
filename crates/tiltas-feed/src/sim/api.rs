//! The simulator over HTTP: `GET /feed/<price list>` and `GET /feed/invoices.<ext>?since=`
//! (the files, `Last-Modified` the time the list was published), `POST /orders` (an order
//! file, named by `Content-Disposition`; 409 when that name was uploaded before) and
//! `GET /orders/<name>`, each with the credentials checked (401, or 403 for a token used with
//! another customer id); `/__sim/` beside them.
use super::{FeedSim, SimCredentials, SimOrder};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use std::collections::HashMap;
use std::sync::Arc;
use tiltas_sim::{Harness, RequestKind};

#[derive(Clone)]
struct App {
    sim: Arc<FeedSim>,
    harness: Arc<Harness>,
}

/// The simulator's routes and `/__sim/`.
pub fn router(sim: Arc<FeedSim>, harness: Arc<Harness>) -> Router {
    let app = App {
        sim,
        harness: harness.clone(),
    };
    Router::new()
        .route("/feed/{file}", get(feed))
        .route("/orders", post(upload))
        .route("/orders/{file}", get(order))
        .with_state(app)
        .merge(tiltas_sim::control_router(harness))
}

fn refuse(app: &App, status: StatusCode, message: &str) -> Response {
    app.harness.count_rejected();
    (status, message.to_owned()).into_response()
}

/// The credentials check in front of every request.
fn authorise(app: &App, headers: &HeaderMap, query: &HashMap<String, String>) -> Result<(), Response> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    match app.sim.credentials() {
        SimCredentials::Basic { login, password } => {
            let decoded = authorization
                .strip_prefix("Basic ")
                .and_then(|basic| base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok());
            match decoded.as_deref().and_then(|text| text.split_once(':')) {
                Some((given, secret)) if given == login && secret == password => Ok(()),
                _ => Err(refuse(app, StatusCode::UNAUTHORIZED, "Invalid login or password")),
            }
        }
        SimCredentials::TokenAndCustomer { token, customer_id } => {
            if authorization.strip_prefix("Bearer ").map(str::trim) != Some(token.as_str()) {
                return Err(refuse(app, StatusCode::UNAUTHORIZED, "Invalid API token"));
            }
            if query.get("customer_id") != Some(customer_id) {
                return Err(refuse(
                    app,
                    StatusCode::FORBIDDEN,
                    "The token was not issued for this customer_id",
                ));
            }
            Ok(())
        }
    }
}

async fn admit(
    app: &App,
    kind: RequestKind,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<bool, Response> {
    let admission = app.harness.admit(kind).await?;
    authorise(app, headers, query)?;
    Ok(admission.fail_after_commit)
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv; charset=utf-8"
    }
}

async fn feed(
    State(app): State<App>,
    Path(file): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(&app, RequestKind::Read, &headers, &query).await {
        return refused;
    }
    let files = app.sim.files();
    let published = *app
        .sim
        .published
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let last_modified = published.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let body = if file == files.prices.0 {
        files.prices.1
    } else if file == format!("invoices.{}", files.invoice_format.extension()) {
        let since = match query.get("since") {
            None => chrono::NaiveDate::MIN,
            Some(text) => match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) => date,
                Err(_) => return refuse(&app, StatusCode::BAD_REQUEST, "since must be YYYY-MM-DD"),
            },
        };
        match files.invoices_since(since) {
            Ok(bytes) => bytes,
            Err(error) => return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        }
    } else {
        return refuse(&app, StatusCode::NOT_FOUND, &format!("No file {file}"));
    };
    (
        [
            (header::CONTENT_TYPE, content_type(&file).to_owned()),
            (header::LAST_MODIFIED, last_modified),
        ],
        body,
    )
        .into_response()
}

/// The file name of an upload, from `Content-Disposition: attachment; filename="…"`.
fn file_name(headers: &HeaderMap) -> Option<String> {
    let disposition = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    let name = disposition.split("filename=").nth(1)?.trim().trim_matches('"');
    let plain = !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.');
    plain.then(|| name.to_owned())
}

async fn upload(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let fail_after_commit = match admit(&app, RequestKind::Write, &headers, &query).await {
        Ok(fail) => fail,
        Err(refused) => return refused,
    };
    let Some(file) = file_name(&headers) else {
        return refuse(
            &app,
            StatusCode::BAD_REQUEST,
            "Content-Disposition must name the file (attachment; filename=\"N.csv\")",
        );
    };
    let layout = &app.sim.profile.supplier.orders;
    let header: Vec<&str> = layout.columns.iter().map(|(name, _)| *name).collect();
    let expected = header.join(&char::from(layout.delimiter).to_string());
    let first = body.trim_start_matches('\u{feff}').lines().next().unwrap_or("");
    if first.trim() != expected || body.lines().count() < 2 {
        return refuse(
            &app,
            StatusCode::BAD_REQUEST,
            &format!("The order file must start with the header {expected:?} and have at least one line"),
        );
    }
    if app.harness.refuses_item(&file) {
        return refuse(&app, StatusCode::UNPROCESSABLE_ENTITY, crate::sim::REFUSED_ORDER);
    }
    {
        let mut db = app.sim.db();
        if db.orders.iter().any(|order| order.file == file) {
            return (StatusCode::CONFLICT, format!("The order {file} was uploaded before")).into_response();
        }
        db.orders.push(SimOrder {
            file: file.clone(),
            text: body,
        });
    }
    if fail_after_commit {
        return app.harness.commit_then_fail();
    }
    (StatusCode::CREATED, format!("Order {file} accepted")).into_response()
}

async fn order(
    State(app): State<App>,
    Path(file): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(&app, RequestKind::Read, &headers, &query).await {
        return refused;
    }
    let db = app.sim.db();
    match db.orders.iter().find(|order| order.file == file) {
        Some(found) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            found.text.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, format!("No order {file}")).into_response(),
    }
}
