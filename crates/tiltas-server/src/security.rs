//! Guards of the HTTP surface kept in memory per process: failed sign-ins slowed down per
//! client address (429 with `Retry-After`), the last use of each API key written at most once
//! a minute, and the per-connection webhook rate limit (`hooks_rate_limit`).
use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tiltas_config::{RateLimit, ValidatedConfig};

/// Failed sign-ins allowed from one address per [`SIGN_IN_WINDOW`] before it is refused.
pub const SIGN_IN_FAILURES_ALLOWED: u32 = 10;
/// The window failed sign-ins are counted in.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(60);
/// How often at most a key's last use is written to the store.
pub const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

/// The address a request came from (`unknown` when the server was not given it, as in tests
/// that call the router without a socket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(address) => write!(f, "{address}"),
            None => f.write_str("unknown"),
        }
    }
}

impl ClientAddress {
    fn of(extensions: &axum::http::Extensions) -> ClientAddress {
        ClientAddress(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(&parts.extensions))
    }
}

/// Failed sign-ins per address in the current window. Hand-written rather than `governor`:
/// a blocked address must be refused *before* its key is checked (or a guess that happens to
/// be right would still get through), and governor cannot look without spending a cell.
#[derive(Debug)]
struct SignInFailures {
    by_address: HashMap<Option<IpAddr>, (Instant, u32)>,
    /// Failures allowed per window (`TILTAS_SIGN_IN_FAILURES`, else [`SIGN_IN_FAILURES_ALLOWED`]).
    allowed: u32,
}

impl Default for SignInFailures {
    fn default() -> SignInFailures {
        SignInFailures {
            by_address: HashMap::new(),
            allowed: SIGN_IN_FAILURES_ALLOWED,
        }
    }
}

impl SignInFailures {
    /// How long `address` must wait, when it failed too often in the window.
    fn blocked_for(&mut self, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let (started, failures) = *self.by_address.get(&address)?;
        let ends = started + SIGN_IN_WINDOW;
        if now >= ends {
            self.by_address.remove(&address);
            return None;
        }
        (failures >= self.allowed).then(|| ends - now)
    }

    fn failed(&mut self, address: Option<IpAddr>, now: Instant) {
        // Forget lapsed windows now and then, so a scan from many addresses cannot grow the map.
        if self.by_address.len() > 10_000 {
            self.by_address
                .retain(|_, (started, _)| now < *started + SIGN_IN_WINDOW);
        }
        let entry = self.by_address.entry(address).or_insert((now, 0));
        if now >= entry.0 + SIGN_IN_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

/// The environment variable that overrides [`SIGN_IN_FAILURES_ALLOWED`] (a positive number):
/// for a server behind a proxy that shows every client with one address, or an API fuzzer.
pub const SIGN_IN_FAILURES_VARIABLE: &str = "TILTAS_SIGN_IN_FAILURES";

/// The failed sign-ins allowed per address and window: the variable's when it is a positive
/// number (a bad value is logged and the default kept).
fn sign_in_failures_allowed() -> u32 {
    let Ok(text) = std::env::var(SIGN_IN_FAILURES_VARIABLE) else {
        return SIGN_IN_FAILURES_ALLOWED;
    };
    match text.trim().parse::<u32>() {
        Ok(allowed) if allowed > 0 => allowed,
        _ => {
            tracing::warn!(
                value = %text,
                "{SIGN_IN_FAILURES_VARIABLE} must be a positive number of failed sign-ins per minute; using {SIGN_IN_FAILURES_ALLOWED}"
            );
            SIGN_IN_FAILURES_ALLOWED
        }
    }
}

/// The guards of one server process.
pub struct Security {
    sign_ins: Mutex<SignInFailures>,
    last_used: Mutex<HashMap<i64, Instant>>,
    hooks: HashMap<String, (RateLimit, governor::DefaultDirectRateLimiter)>,
}

impl Security {
    /// The guards for `config`: a webhook limiter per connection with `hooks_rate_limit`.
    pub fn new(config: &ValidatedConfig) -> Security {
        let hooks = config
            .connections
            .iter()
            .filter_map(|connection| {
                let rate = connection.hooks_rate_limit?;
                Some((connection.name.clone(), (rate, hooks_limiter(rate)?)))
            })
            .collect();
        Security {
            sign_ins: Mutex::new(SignInFailures {
                allowed: sign_in_failures_allowed(),
                ..SignInFailures::default()
            }),
            last_used: Mutex::new(HashMap::new()),
            hooks,
        }
    }

    /// Whether key `id` should have its last use written now (at most once a minute).
    pub(crate) fn key_used(&self, id: i64) -> bool {
        let now = Instant::now();
        let mut last_used = self.last_used.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match last_used.get(&id) {
            Some(at) if now.duration_since(*at) < LAST_USED_RESOLUTION => false,
            _ => {
                last_used.insert(id, now);
                true
            }
        }
    }

    /// How long a delivery for `connection` must wait, and the rate it went past, when its
    /// webhook rate is spent.
    pub(crate) fn hook_wait(&self, connection: &str) -> Option<(Duration, RateLimit)> {
        let (rate, limiter) = self.hooks.get(connection)?;
        limiter.check().err().map(|not_until| {
            use governor::clock::{Clock, DefaultClock};
            (not_until.wait_time_from(DefaultClock::default().now()), *rate)
        })
    }
}

/// The GCRA limiter of a webhook rate: `burst` at once (the rate's `requests` when no burst
/// is written: a shop sends in bursts), refilled at `requests` per `per`.
fn hooks_limiter(rate: RateLimit) -> Option<governor::DefaultDirectRateLimiter> {
    let interval = rate.per / rate.requests.max(1);
    let burst = std::num::NonZeroU32::new(rate.burst.unwrap_or(rate.requests))?;
    let quota = governor::Quota::with_period(interval)?.allow_burst(burst);
    Some(governor::RateLimiter::direct(quota))
}

/// Seconds to send in `Retry-After` (rounded up, at least 1).
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// A 429 answer with `Retry-After`.
pub(crate) fn too_many(code: &str, message: String, wait: Duration) -> Response {
    let seconds = retry_after_seconds(wait);
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message).into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

/// Middleware of the API and the dashboard: an address with too many failed sign-ins (401
/// answers) in the window is answered 429 with `Retry-After` before its key is looked at.
pub(crate) async fn throttle_sign_ins(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = ClientAddress::of(request.extensions());
    let (blocked, allowed) = {
        let mut sign_ins = state
            .security
            .sign_ins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (sign_ins.blocked_for(address.0, Instant::now()), sign_ins.allowed)
    };
    if let Some(wait) = blocked {
        tracing::warn!(client = %address, "sign-in refused: too many failed attempts");
        return too_many(
            "too_many_failed_sign_ins",
            format!(
                "more than {allowed} failed sign-ins from {address} within {}s: wait, then check the key (`tiltas keys list`)",
                SIGN_IN_WINDOW.as_secs()
            ),
            wait,
        );
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        state
            .security
            .sign_ins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .failed(address.0, Instant::now());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_the_allowed_failures_until_the_window_ends() {
        let mut failures = SignInFailures::default();
        let address = Some(IpAddr::from([10, 0, 0, 7]));
        let start = Instant::now();
        for _ in 0..SIGN_IN_FAILURES_ALLOWED {
            assert_eq!(failures.blocked_for(address, start), None);
            failures.failed(address, start);
        }
        let wait = failures.blocked_for(address, start + Duration::from_secs(20)).unwrap();
        assert_eq!(wait, Duration::from_secs(40));
        assert_eq!(failures.blocked_for(Some(IpAddr::from([10, 0, 0, 8])), start), None);
        assert_eq!(failures.blocked_for(address, start + SIGN_IN_WINDOW), None);
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
