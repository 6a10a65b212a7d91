//! The connector contract: what every connector with a simulator must do under the engine —
//! deliver every record exactly once, write nothing when nothing changed, read changes
//! incrementally, resume a run that died between pages without writing again, read an empty
//! system to its end, ride out a failing server, wait out rate
//! limits, stop on refused credentials naming the connection, report a malformed answer
//! clearly, and never duplicate a record when the server applies a write but answers with an
//! error. Run for a connector with
//! [`connector_contract_tests!`](crate::connector_contract_tests).
//!
//! The other side of every flow is an in-process reference simulator.
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions, SyncReport};
use tiltas_model::EntityKind;
use tiltas_sim::Harness;
use tiltas_systems::reference::simulator::{router, ReferenceSim, Seeding};

/// A running simulator of the system under test.
pub struct Simulated {
    /// Its base URL (where `/__sim/` lives).
    pub url: String,
    /// The body of its `[connections.sut]` table (system, address, credentials).
    pub connection: String,
}

/// Starts the system under test's simulator with `records` seeded records of the entity.
pub type Start = fn(records: usize, entity: EntityKind) -> Pin<Box<dyn Future<Output = Simulated> + Send>>;

async fn reference(records: usize, seed: u64, entity: EntityKind) -> (String, Arc<ReferenceSim>) {
    let (url, sim, _) = reference_with_harness(records, seed, entity).await;
    (url, sim)
}

/// The peer simulator and its harness, whose faults a test sets in process (mid-run).
async fn reference_with_harness(
    records: usize,
    seed: u64,
    entity: EntityKind,
) -> (String, Arc<ReferenceSim>, Arc<Harness>) {
    let customers = if entity == EntityKind::Customer { records } else { 0 };
    let products = if customers == 0 { records } else { 0 };
    let seeding = Seeding {
        seed,
        products,
        customers,
        orders: 0,
    };
    let sim = Arc::new(ReferenceSim::new("peer-token", seeding).with_name_limit(1000));
    let harness = Harness::new(sim.clone(), seed);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .expect("start the peer simulator");
    (url, sim, harness)
}

struct World {
    _dir: tempfile::TempDir,
    engine: Engine,
}

async fn world(sut: &Simulated, peer: &str, entity: EntityKind, sut_is_source: bool, match_on: &str) -> World {
    world_paged(sut, peer, entity, sut_is_source, match_on, None).await
}

async fn world_paged(
    sut: &Simulated,
    peer: &str,
    entity: EntityKind,
    sut_is_source: bool,
    match_on: &str,
    page_size: Option<usize>,
) -> World {
    let (from, to) = if sut_is_source {
        ("sut", "peer")
    } else {
        ("peer", "sut")
    };
    let text = format!(
        "[connections.sut]\n{}\n\n[connections.peer]\nsystem = \"reference\"\nbase_url = \"{peer}\"\ntoken = \"peer-token\"\n\n\
         [[flows]]\nname = \"contract\"\nentity = \"{entity}\"\nfrom = {{ connection = \"{from}\" }}\nto = {{ connection = \"{to}\" }}\n{}{}",
        sut.connection,
        if match_on.is_empty() { String::new() } else { format!("match_on = \"{match_on}\"\n") },
        page_size.map(|size| format!("page_size = {size}\n")).unwrap_or_default()
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = tiltas_config::parse_str(
        &text,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("the contract's flow file is refused: {errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .expect("open the store");
    World {
        _dir: dir,
        engine: Engine::new(Arc::new(config), store, tiltas_systems::registry::systems()),
    }
}

async fn sync(world: &World) -> SyncReport {
    world
        .engine
        .sync("contract", &SyncOptions::default())
        .await
        .unwrap_or_else(|error| panic!("sync failed: {error}"))
}

async fn control(url: &str, path: &str, body: Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/__sim/{path}"))
        .json(&body)
        .send()
        .await
        .expect("control API");
    assert!(
        response.status().is_success(),
        "POST /__sim/{path}: {}",
        response.status()
    );
}

async fn stats(url: &str) -> Value {
    reqwest::get(format!("{url}/__sim/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON")
}

/// As a source: a first sync delivers every record once; an idle re-sync writes nothing.
pub async fn source_delivers_every_record_once_and_an_idle_resync_writes_nothing(
    start: Start,
    entity: EntityKind,
    match_on: &str,
) {
    let sut = start(230, entity).await;
    let (peer, _) = reference(0, 1, entity).await;
    let world = world(&sut, &peer, entity, true, match_on).await;
    let first = sync(&world).await;
    assert_eq!(
        (first.counters.created, first.counters.failed),
        (230, 0),
        "{:?}",
        first.counters
    );
    let writes = stats(&peer).await["requests"]["write"].clone();
    let second = sync(&world).await;
    assert_eq!(
        (second.counters.created, second.counters.updated),
        (0, 0),
        "{:?}",
        second.counters
    );
    assert_eq!(stats(&peer).await["requests"]["write"], writes, "an idle re-sync wrote");
    assert_eq!(stats(&peer).await["duplicates"], 0);
}

/// As a source: records changed upstream are read incrementally and updated, nothing else.
pub async fn source_changes_are_read_incrementally(start: Start, entity: EntityKind, match_on: &str, mutated: &str) {
    let sut = start(150, entity).await;
    let (peer, _) = reference(0, 2, entity).await;
    let world = world(&sut, &peer, entity, true, match_on).await;
    sync(&world).await;
    control(&sut.url, "mutate", json!({ "entity": mutated, "count": 12 })).await;
    let report = sync(&world).await;
    assert_eq!(report.counters.updated, 12, "{:?}", report.counters);
    // A system that has no change filter for this entity (WooCommerce customers) declares it
    // and is read whole; the change hashes must still single out exactly the changed records.
    let incremental = world
        .engine
        .config()
        .connection("sut")
        .and_then(|connection| connection.system.access(entity))
        .is_some_and(|access| access.incremental);
    if incremental {
        assert!(
            report.counters.read < 150,
            "not an incremental read: {:?}",
            report.counters
        );
    }
}

/// As a source: a server failing one request in four is ridden out without losing a record.
pub async fn source_rides_out_a_failing_server(start: Start, entity: EntityKind, match_on: &str) {
    let sut = start(230, entity).await;
    control(&sut.url, "faults", json!({ "error_rate": 0.25, "error_status": 503 })).await;
    let (peer, _) = reference(0, 3, entity).await;
    let world = world(&sut, &peer, entity, true, match_on).await;
    let report = sync(&world).await;
    assert_eq!(report.counters.created, 230, "{:?}", report.counters);
}

/// As a source: an empty system is read to its (empty) end without a failure.
pub async fn source_with_no_records_is_read_to_an_empty_end(start: Start, entity: EntityKind, match_on: &str) {
    let sut = start(0, entity).await;
    let (peer, _) = reference(0, 5, entity).await;
    let world = world(&sut, &peer, entity, true, match_on).await;
    let report = sync(&world).await;
    assert_eq!(
        (report.counters.read, report.counters.created, report.counters.failed),
        (0, 0, 0),
        "{:?}",
        report.counters
    );
}

/// As a source: refused credentials stop the run with an auth failure naming the connection,
/// after no more than a few calls (credentials do not get better by retrying).
pub async fn source_refused_credentials_stop_the_run_naming_the_connection(
    start: Start,
    entity: EntityKind,
    match_on: &str,
) {
    let sut = start(20, entity).await;
    control(&sut.url, "faults", json!({ "error_rate": 1.0, "error_status": 401 })).await;
    let (peer, _) = reference(0, 6, entity).await;
    let world = world(&sut, &peer, entity, true, match_on).await;
    let error = world
        .engine
        .sync("contract", &SyncOptions::default())
        .await
        .expect_err("a run whose credentials are refused fails");
    match &error {
        tiltas_engine::EngineError::Connector { connection, error, .. } => {
            assert_eq!(connection, "sut", "{error}");
            assert_eq!(error.kind, tiltas_connector::ErrorKind::Auth, "{error}");
        }
        other => panic!("not a connector failure: {other}"),
    }
    assert!(error.to_string().contains("sut"), "{error}");
    let calls = stats(&sut.url).await["requests"]["total"].as_u64().unwrap_or(0);
    assert!(calls <= 3, "{calls} calls with refused credentials");
}

/// As a source: a server answering 429 with `Retry-After` is waited out and every record
/// still arrives once.
pub async fn source_waits_out_rate_limits(start: Start, entity: EntityKind, match_on: &str) {
    let sut = start(120, entity).await;
    control(&sut.url, "faults", json!({ "rate_limit_per_s": 3, "retry_after_s": 1 })).await;
    let (peer, _) = reference(0, 7, entity).await;
    let world = world(&sut, &peer, entity, true, match_on).await;
    let report = sync(&world).await;
    assert_eq!(
        (report.counters.created, report.counters.failed),
        (120, 0),
        "{:?}",
        report.counters
    );
    assert_eq!(stats(&peer).await["duplicates"], 0);
}

/// As a source: an answer that is not the system's format (a proxy's HTML page, cut short) is
/// a clear failure — retried when it comes and goes, reported when it stays — never a panic.
pub async fn source_reports_a_malformed_answer_clearly(start: Start, entity: EntityKind, match_on: &str) {
    let sut = start(60, entity).await;
    control(&sut.url, "faults", json!({ "malformed_rate": 0.2 })).await;
    let (peer, _) = reference(0, 8, entity).await;
    let world = world(&sut, &peer, entity, true, match_on).await;
    let report = sync(&world).await;
    assert_eq!(
        (report.counters.created, report.counters.failed),
        (60, 0),
        "{:?}",
        report.counters
    );

    let sut = start(20, entity).await;
    control(&sut.url, "faults", json!({ "malformed_rate": 1.0 })).await;
    let (peer, _) = reference(0, 9, entity).await;
    let broken = self::world(&sut, &peer, entity, true, match_on).await;
    let error = broken
        .engine
        .sync("contract", &SyncOptions::default())
        .await
        .expect_err("a system answering only HTML cannot be read");
    let message = error.to_string();
    assert!(message.contains("sut"), "the failure names the connection: {message}");
    assert!(
        message.contains("<!DOCTYPE html>") || message.contains("HTML"),
        "the failure quotes or names what came: {message}"
    );
}

/// Stops the peer accepting anything once the first page of a run has settled: a run that
/// dies between two pages.
struct CutAfterFirstPage {
    peer: Arc<Harness>,
    delivered_before_the_cut: std::sync::Mutex<Option<u64>>,
}

impl tiltas_engine::Progress for CutAfterFirstPage {
    fn page_settled(&self, counters: &tiltas_store::RunCounters) {
        let mut cut = self
            .delivered_before_the_cut
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cut.is_none() {
            *cut = Some(counters.created);
            self.peer.set_faults(tiltas_sim::Faults {
                error_rate: 1.0,
                error_status: 401,
                ..tiltas_sim::Faults::default()
            });
        }
    }
}

/// As a source: a run that dies between two pages is resumed by the next one from where it
/// stopped — what the first page delivered is not written again, nothing is lost.
pub async fn source_resumes_after_a_run_dies_between_pages(start: Start, entity: EntityKind, match_on: &str) {
    let sut = start(230, entity).await;
    let (peer_url, _, peer) = reference_with_harness(0, 10, entity).await;
    let world = world_paged(&sut, &peer_url, entity, true, match_on, Some(50)).await;
    let cut = Arc::new(CutAfterFirstPage {
        peer: peer.clone(),
        delivered_before_the_cut: std::sync::Mutex::new(None),
    });
    let options = SyncOptions {
        progress: cut.clone(),
        ..SyncOptions::default()
    };
    let first = world.engine.sync("contract", &options).await;
    let before = cut
        .delivered_before_the_cut
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .expect("the first page settled");
    assert!(
        before > 0 && before < 230,
        "a first page of {before} records: the source must page (page_size = 50)"
    );
    assert!(first.is_err(), "the run went on past the cut: {first:?}");
    peer.set_faults(tiltas_sim::Faults::default());
    let writes_before = stats(&peer_url).await["requests"]["write"].as_u64().unwrap_or(0);
    let second = sync(&world).await;
    assert_eq!(
        (second.counters.created, second.counters.updated, second.counters.failed),
        (230 - before, 0, 0),
        "the resumed run wrote again what the first page delivered: {:?}",
        second.counters
    );
    let peer_stats = stats(&peer_url).await;
    assert_eq!(peer_stats["records"][entity.as_str()], 230, "{peer_stats}");
    assert_eq!(peer_stats["duplicates"], 0, "{peer_stats}");
    assert!(peer_stats["requests"]["write"].as_u64().unwrap_or(0) > writes_before);
}

/// As a target: writes the server applies but answers with an error are never duplicated.
pub async fn target_never_duplicates_when_writes_fail_after_commit(start: Start, entity: EntityKind, match_on: &str) {
    let sut = start(0, entity).await;
    control(
        &sut.url,
        "faults",
        json!({ "commit_then_fail_rate": 0.2, "error_rate": 0.1 }),
    )
    .await;
    let (peer, _) = reference(120, 4, entity).await;
    let world = world(&sut, &peer, entity, false, match_on).await;
    let report = sync(&world).await;
    assert_eq!(
        (
            report.counters.created + report.counters.updated,
            report.counters.failed
        ),
        (120, 0),
        "{:?}",
        report.counters
    );
    let sut_stats = stats(&sut.url).await;
    assert_eq!(sut_stats["records"][entity.as_str()], 120, "{sut_stats}");
    assert_eq!(sut_stats["duplicates"], 0, "{sut_stats}");
    let again = sync(&world).await;
    assert_eq!(
        (again.counters.created, again.counters.updated),
        (0, 0),
        "{:?}",
        again.counters
    );
}

/// Expands to one `#[tokio::test]` per behaviour for a connector and entity; the target
/// behaviour only for entities the connector writes:
/// `connector_contract_tests!(start_fn, EntityKind::Product, "product", match_on = "sku", writes = true)`.
#[macro_export]
macro_rules! connector_contract_tests {
    ($start:expr, $entity:expr, $mutated:expr, match_on = $match_on:expr, writes = true) => {
        $crate::connector_contract_tests!($start, $entity, $mutated, match_on = $match_on, writes = false);

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn target_never_duplicates_when_writes_fail_after_commit() {
            $crate::connector_contract::target_never_duplicates_when_writes_fail_after_commit(
                $start, $entity, $match_on,
            )
            .await;
        }
    };
    ($start:expr, $entity:expr, $mutated:expr, match_on = $match_on:expr, writes = false) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_delivers_every_record_once_and_an_idle_resync_writes_nothing() {
            $crate::connector_contract::source_delivers_every_record_once_and_an_idle_resync_writes_nothing(
                $start, $entity, $match_on,
            )
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_changes_are_read_incrementally() {
            $crate::connector_contract::source_changes_are_read_incrementally($start, $entity, $match_on, $mutated)
                .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_rides_out_a_failing_server() {
            $crate::connector_contract::source_rides_out_a_failing_server($start, $entity, $match_on).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_resumes_after_a_run_dies_between_pages() {
            $crate::connector_contract::source_resumes_after_a_run_dies_between_pages($start, $entity, $match_on).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_with_no_records_is_read_to_an_empty_end() {
            $crate::connector_contract::source_with_no_records_is_read_to_an_empty_end($start, $entity, $match_on)
                .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_refused_credentials_stop_the_run_naming_the_connection() {
            $crate::connector_contract::source_refused_credentials_stop_the_run_naming_the_connection(
                $start, $entity, $match_on,
            )
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_waits_out_rate_limits() {
            $crate::connector_contract::source_waits_out_rate_limits($start, $entity, $match_on).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn source_reports_a_malformed_answer_clearly() {
            $crate::connector_contract::source_reports_a_malformed_answer_clearly($start, $entity, $match_on).await;
        }
    };
}
