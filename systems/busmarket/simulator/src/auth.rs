//! In front of every API call: the rate-limit window (its headers on every answer, 429 with
//! `Retry-After` past the limit), the harness' faults, and the raw token in `Authorization`.
use crate::{error_body, App};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tiltas_busmarket::wire;
use tiltas_sim::{Admission, RequestKind};

/// Counts the request in the current window and stamps the answer with the window's headers;
/// past the limit the answer is a 429 with `Retry-After` (whole seconds to the window's end).
pub(crate) async fn rate_limited(State(app): State<App>, request: Request, next: Next) -> Response {
    let limit = app.sim.rate_limit;
    let (used, resets_in) = {
        let mut window = app.sim.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.0.elapsed() >= limit.window {
            *window = (Instant::now(), 0);
        }
        window.1 = window.1.saturating_add(1);
        (window.1, limit.window.saturating_sub(window.0.elapsed()))
    };
    let reset_seconds = resets_in.as_secs() + u64::from(resets_in.subsec_nanos() > 0);
    let mut response = if used > limit.requests {
        app.harness.count_rejected();
        let mut refused = error_body(
            StatusCode::TOO_MANY_REQUESTS,
            "429",
            &format!(
                "Too many requests: {} per {} s",
                limit.requests,
                limit.window.as_secs_f64()
            ),
        );
        refused
            .headers_mut()
            .insert("retry-after", HeaderValue::from(reset_seconds.max(1)));
        refused
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(wire::LIMIT_HEADER, HeaderValue::from(limit.requests));
    headers.insert(
        wire::REMAINING_HEADER,
        HeaderValue::from(limit.requests.saturating_sub(used)),
    );
    headers.insert(wire::RESET_HEADER, HeaderValue::from(reset_seconds));
    response
}

/// Admits an API call: the harness' faults, then the token exactly as issued (no "Bearer").
pub(crate) async fn enter(app: &App, headers: &HeaderMap, kind: RequestKind) -> Result<Admission, Response> {
    let admission = app.harness.admit(kind).await?;
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if token.is_empty() || token != app.sim.token {
        app.harness.count_rejected();
        let message = if token.starts_with("Bearer ") {
            "Invalid token: send the token itself in Authorization, without \"Bearer\""
        } else {
            "Invalid token"
        };
        return Err(error_body(StatusCode::UNAUTHORIZED, "401", message));
    }
    Ok(admission)
}
