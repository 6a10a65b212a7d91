//! The harness every simulator shares (DESIGN §4): the `/__sim/` control API (stats, faults,
//! mutations, record dumps, reset), fault injection in front of the system's own handlers,
//! request counters, and serving on 127.0.0.1 with the `listening on …` line tests wait for.
//!
//! A simulator implements [`SimSystem`] for its records and calls [`Harness::admit`] at the
//! start of every API handler; the harness decides whether the request is slowed, refused,
//! rate-limited or (for writes) answered with a failure after it was applied.
//!
//! [`contract`] holds what a simulator declares for the connector contract suite: its
//! [`ContractFixture`](contract::ContractFixture). [`parts`] is the catalogue of car parts the
//! parts-supplier simulators share.
#![forbid(unsafe_code)]

pub mod contract;
pub mod parts;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a request picked for `timeout_rate` hangs before it is answered with a 504.
const HANG: Duration = Duration::from_secs(60);

/// The body of a `malformed_rate` answer: a gateway's HTML page, cut off mid-tag.
const MALFORMED_BODY: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gat";

/// Fault knobs, set with `POST /__sim/faults` (absent knobs are off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of requests answered with `error_status` (0–1).
    pub error_rate: f64,
    /// The status of injected errors (default 503).
    pub error_status: u16,
    /// Delay added to every request.
    pub latency_ms: u64,
    /// Share of requests that hang (the client times out).
    pub timeout_rate: f64,
    /// Requests per second per simulator before 429 (0: no limit).
    pub rate_limit_per_s: u32,
    /// The `Retry-After` of a 429, in seconds.
    pub retry_after_s: u64,
    /// Share of writes applied and then answered with a 500.
    pub commit_then_fail_rate: f64,
    /// Share of requests answered `200 OK` with a body that is not the system's format: the
    /// HTML page a proxy or firewall serves in its place, cut short.
    pub malformed_rate: f64,
    /// Share of written records the system refuses as invalid, each with its own validation
    /// error in the system's format, while the rest of the request is written. Decided by the
    /// record's key and the seed alone ([`Harness::refuses_item`]), so the same records are
    /// refused on every attempt and in every run with the same seed.
    pub invalid_item_rate: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_rate: 0.0,
            error_status: 503,
            latency_ms: 0,
            timeout_rate: 0.0,
            rate_limit_per_s: 0,
            retry_after_s: 1,
            commit_then_fail_rate: 0.0,
            malformed_rate: 0.0,
            invalid_item_rate: 0.0,
        }
    }
}

impl Faults {
    fn check(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("timeout_rate", self.timeout_rate),
            ("commit_then_fail_rate", self.commit_then_fail_rate),
            ("malformed_rate", self.malformed_rate),
            ("invalid_item_rate", self.invalid_item_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, found {rate}"));
            }
        }
        if StatusCode::from_u16(self.error_status).is_err() || self.error_status < 400 {
            return Err(format!(
                "error_status must be an HTTP error status (400–599), found {}",
                self.error_status
            ));
        }
        Ok(())
    }
}

/// Whether a request reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Lists, gets and look-ups.
    Read,
    /// Creates, updates, deletes.
    Write,
}

/// What a simulated system provides to the harness.
pub trait SimSystem: Send + Sync + 'static {
    /// Record counts by entity (`product`, `customer`, `order`, `stock`).
    fn record_counts(&self) -> BTreeMap<String, usize>;
    /// Records sharing a natural key that should be unique (beyond the first of each key).
    fn duplicates(&self) -> usize;
    /// Changes `count` records of `entity` (new ones for orders), bumping modification times.
    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String>;
    /// Every record of an entity as the system stores it, or `None` for an unknown entity.
    fn records(&self, entity: &str) -> Option<Value>;
    /// Back to the seeded state.
    fn reset(&self);
    /// An error response in the system's own format.
    fn error_response(&self, status: StatusCode, code: &str, message: &str) -> Response {
        (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
    }
}

/// What the harness decided for an admitted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// For a write: apply it, then answer with [`Harness::commit_then_fail`].
    pub fail_after_commit: bool,
}

#[derive(Default)]
struct Counters {
    total: AtomicU64,
    read: AtomicU64,
    write: AtomicU64,
    rejected: AtomicU64,
}

/// Shared state of one simulator: its system, fault knobs, counters and seeded randomness.
pub struct Harness {
    system: Arc<dyn SimSystem>,
    faults: Mutex<Faults>,
    seed: u64,
    rng: Mutex<StdRng>,
    counters: Counters,
    window: Mutex<(Instant, u32)>,
    /// The keys of the records `invalid_item_rate` refused, for `/__sim/stats`.
    refused_items: Mutex<BTreeSet<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked cannot leave these values half-written: keep serving.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Harness {
    /// A harness for `system`, with fault decisions drawn from `seed`.
    pub fn new(system: Arc<dyn SimSystem>, seed: u64) -> Arc<Harness> {
        Arc::new(Harness {
            system,
            faults: Mutex::new(Faults::default()),
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x5EED_FA17)),
            counters: Counters::default(),
            window: Mutex::new((Instant::now(), 0)),
            refused_items: Mutex::new(BTreeSet::new()),
        })
    }

    /// The current fault knobs.
    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    /// Replaces the fault knobs.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// Counts a request the system itself refused (bad credentials, malformed body).
    pub fn count_rejected(&self) {
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Decides the fate of an API request before the system handles it: counts it, applies
    /// latency, the rate limit, injected errors and hangs. `Err` is the response to send.
    pub async fn admit(&self, kind: RequestKind) -> Result<Admission, Response> {
        self.counters.total.fetch_add(1, Ordering::Relaxed);
        match kind {
            RequestKind::Read => self.counters.read.fetch_add(1, Ordering::Relaxed),
            RequestKind::Write => self.counters.write.fetch_add(1, Ordering::Relaxed),
        };
        let faults = self.faults();
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        if faults.rate_limit_per_s > 0 {
            let mut window = lock(&self.window);
            if window.0.elapsed() >= Duration::from_secs(1) {
                *window = (Instant::now(), 0);
            }
            window.1 += 1;
            if window.1 > faults.rate_limit_per_s {
                drop(window);
                self.count_rejected();
                let mut response = self.system.error_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    &format!("more than {} requests per second", faults.rate_limit_per_s),
                );
                if let Ok(value) = HeaderValue::from_str(&faults.retry_after_s.to_string()) {
                    response.headers_mut().insert("retry-after", value);
                }
                return Err(response);
            }
        }
        let (error, hang, fail_after_commit, malformed) = {
            let mut rng = lock(&self.rng);
            (
                rng.gen_bool(faults.error_rate),
                rng.gen_bool(faults.timeout_rate),
                kind == RequestKind::Write && rng.gen_bool(faults.commit_then_fail_rate),
                rng.gen_bool(faults.malformed_rate),
            )
        };
        if malformed {
            self.count_rejected();
            return Err((
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                MALFORMED_BODY,
            )
                .into_response());
        }
        if hang {
            self.count_rejected();
            tokio::time::sleep(HANG).await;
            return Err(self
                .system
                .error_response(StatusCode::GATEWAY_TIMEOUT, "timeout", "the request timed out"));
        }
        if error {
            self.count_rejected();
            let status = StatusCode::from_u16(faults.error_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return Err(self
                .system
                .error_response(status, "injected", "injected failure (POST /__sim/faults)"));
        }
        Ok(Admission { fail_after_commit })
    }

    /// Whether the system must refuse the written record with natural key `key` as invalid
    /// (`invalid_item_rate`). Every simulator asks this for each record of a write, after its
    /// own validation, and refuses a chosen one with its own validation error, writing the rest.
    /// The choice hashes the key with the seed rather than drawing from the shared generator,
    /// so it does not depend on the order or the number of earlier requests: a retry, a
    /// re-sync or a replay meets the same refusals until the fault is cleared.
    pub fn refuses_item(&self, key: &str) -> bool {
        let rate = lock(&self.faults).invalid_item_rate;
        if rate <= 0.0 {
            return false;
        }
        let refused = unit_interval(stable_hash(key.as_bytes()) ^ self.seed) < rate;
        if refused {
            lock(&self.refused_items).insert(key.to_owned());
        }
        refused
    }

    /// The answer to a write that was applied but must look failed (`commit_then_fail`).
    pub fn commit_then_fail(&self) -> Response {
        self.count_rejected();
        self.system.error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error after the write was applied (commit_then_fail)",
        )
    }

    fn stats(&self) -> Value {
        json!({
            "records": self.system.record_counts(),
            "duplicates": self.system.duplicates(),
            "refused_items": lock(&self.refused_items).len(),
            "requests": {
                "total": self.counters.total.load(Ordering::Relaxed),
                "read": self.counters.read.load(Ordering::Relaxed),
                "write": self.counters.write.load(Ordering::Relaxed),
                "rejected": self.counters.rejected.load(Ordering::Relaxed),
            }
        })
    }

    fn reset_counters(&self) {
        for counter in [
            &self.counters.total,
            &self.counters.read,
            &self.counters.write,
            &self.counters.rejected,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        lock(&self.refused_items).clear();
    }
}

/// FNV-1a: a hash that is the same in every build and on every platform (the standard
/// library's `DefaultHasher` promises neither), so seeds reproduce across machines.
fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A number in [0, 1) from 64 bits, mixed first (SplitMix64's finaliser) so that keys differing
/// in one character land far apart.
fn unit_interval(bits: u64) -> f64 {
    let mut z = bits.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mutation {
    entity: String,
    count: usize,
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": { "code": "bad_request", "message": message } })),
    )
        .into_response()
}

/// The `/__sim/` control API of a harness.
pub fn control_router(harness: Arc<Harness>) -> Router {
    Router::new()
        .route(
            "/__sim/stats",
            get(|State(h): State<Arc<Harness>>| async move { Json(h.stats()) }),
        )
        .route(
            "/__sim/faults",
            post(|State(h): State<Arc<Harness>>, body: axum::body::Bytes| async move {
                match serde_json::from_slice::<Faults>(&body) {
                    Err(error) => bad_request(format!("faults: {error}")),
                    Ok(faults) => match faults.check() {
                        Err(message) => bad_request(message),
                        Ok(()) => {
                            h.set_faults(faults.clone());
                            Json(faults).into_response()
                        }
                    },
                }
            })
            .get(|State(h): State<Arc<Harness>>| async move { Json(h.faults()) }),
        )
        .route(
            "/__sim/faults",
            delete(|State(h): State<Arc<Harness>>| async move {
                h.set_faults(Faults::default());
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/__sim/mutate",
            post(|State(h): State<Arc<Harness>>, body: axum::body::Bytes| async move {
                let mutation = match serde_json::from_slice::<Mutation>(&body) {
                    Ok(mutation) => mutation,
                    Err(error) => {
                        return bad_request(format!("mutate: {error}; send {{\"entity\":\"product\",\"count\":N}}"))
                    }
                };
                match h.system.mutate(&mutation.entity, mutation.count) {
                    Ok(changed) => Json(json!({ "entity": mutation.entity, "changed": changed })).into_response(),
                    Err(message) => bad_request(message),
                }
            }),
        )
        .route(
            "/__sim/records/{entity}",
            get(|State(h): State<Arc<Harness>>, Path(entity): Path<String>| async move {
                match h.system.records(&entity) {
                    Some(records) => Json(records).into_response(),
                    None => (
                        StatusCode::NOT_FOUND,
                        Json(json!({ "error": { "code": "not_found", "message": format!("no entity {entity:?}") } })),
                    )
                        .into_response(),
                }
            }),
        )
        .route(
            "/__sim/reset",
            post(|State(h): State<Arc<Harness>>| async move {
                h.system.reset();
                h.set_faults(Faults::default());
                h.reset_counters();
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(harness)
}

/// Binds 127.0.0.1:`port` (0 picks a free port), prints `listening on http://127.0.0.1:PORT`
/// once ready, and serves until the process ends.
pub async fn serve(router: Router, port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    println!("listening on http://{address}");
    use std::io::Write;
    std::io::stdout().flush()?;
    axum::serve(listener, with_peer(router)).await
}

/// The router as a service that gives handlers the caller's address (`ConnectInfo<SocketAddr>`),
/// for simulators of systems that bind credentials to the client's IP address.
fn with_peer(
    router: Router,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    router.into_make_service_with_connect_info::<std::net::SocketAddr>()
}

/// Starts serving in the background on a free port; returns the base URL (tests).
pub async fn spawn(router: Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, with_peer(router)).await {
            tracing::error!(%error, "simulator stopped");
        }
    });
    Ok(format!("http://{address}"))
}

/// The flags every simulator takes (`tiltas sim SYSTEM --port 0 --seed 1`).
#[derive(Debug, Clone, clap::Args)]
pub struct CommonFlags {
    /// Port on 127.0.0.1 (0 picks a free one, printed as `listening on http://127.0.0.1:PORT`).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed of the generated data and of fault decisions: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Empty;

    impl SimSystem for Empty {
        fn record_counts(&self) -> BTreeMap<String, usize> {
            BTreeMap::new()
        }
        fn duplicates(&self) -> usize {
            0
        }
        fn mutate(&self, _: &str, _: usize) -> Result<usize, String> {
            Ok(0)
        }
        fn records(&self, _: &str) -> Option<Value> {
            None
        }
        fn reset(&self) {}
    }

    fn refusing(seed: u64, rate: f64) -> Arc<Harness> {
        let harness = Harness::new(Arc::new(Empty), seed);
        harness.set_faults(Faults {
            invalid_item_rate: rate,
            ..Faults::default()
        });
        harness
    }

    fn refused(harness: &Harness) -> Vec<String> {
        (0..400)
            .map(|n| format!("LT-{n:06}"))
            .filter(|key| harness.refuses_item(key))
            .collect()
    }

    #[tokio::test]
    async fn invalid_item_rate_refuses_the_same_keys_for_the_same_seed_whatever_came_before() {
        let first = refusing(21, 0.1);
        let chosen = refused(&first);
        // Requests admitted before draw from the shared generator; refusals must not move with them.
        let second = refusing(21, 0.1);
        for _ in 0..5 {
            let _ = second.admit(RequestKind::Write).await;
        }
        assert_eq!(refused(&second), chosen);
        assert!(
            (20..60).contains(&chosen.len()),
            "{} of 400 refused at 0.1",
            chosen.len()
        );
        assert_ne!(refused(&refusing(22, 0.1)), chosen, "another seed, other records");
        assert_eq!(
            first.stats()["refused_items"],
            chosen.len(),
            "distinct keys, asked twice"
        );
    }

    #[tokio::test]
    async fn handlers_of_a_spawned_simulator_see_the_callers_address() {
        let router = Router::new().route(
            "/peer",
            get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>| async move {
                    peer.ip().to_string()
                },
            ),
        );
        let url = spawn(router).await.expect("spawn on 127.0.0.1");
        let address = url.trim_start_matches("http://").to_owned();
        // A plain blocking client on its own thread: the server keeps this runtime.
        let answer = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(address)?;
            stream.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok::<_, std::io::Error>(answer)
        })
        .await
        .expect("the client thread")
        .expect("ask the simulator");
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("127.0.0.1"),
            "{answer}"
        );
    }

    #[test]
    fn invalid_item_rate_zero_refuses_nothing_and_one_refuses_everything() {
        assert!(refused(&refusing(1, 0.0)).is_empty());
        assert_eq!(refused(&refusing(1, 1.0)).len(), 400);
        let faults = Faults {
            invalid_item_rate: 1.5,
            ..Faults::default()
        };
        assert_eq!(
            faults.check(),
            Err("invalid_item_rate must be between 0 and 1, found 1.5".to_owned())
        );
    }
}
