//! The connector contract (DESIGN §5): what every connector with a simulator must do under the
//! engine, against its simulator as the system under test and an in-process reference
//! simulator as the other side of every flow.
//!
//! As a source: deliver every record exactly once and write nothing on an idle re-sync, read
//! changes incrementally, resume a run that died between pages without writing again, read an
//! empty system to its end, ride out a failing server, wait out rate limits, stop on refused
//! credentials naming the connection, and report a malformed answer clearly. As a target:
//! never duplicate a record when the server applies a write but answers with an error, and
//! dead-letter the records the system refuses (with the system's own words) while writing the
//! rest of their batch. Every behaviour is one entry of [`BEHAVIOURS`].
//!
//! Where it runs: each simulator crate declares a
//! [`ContractFixture`] (how to start it, the entities
//! covered and how, the entities not covered and why); `tiltas_systems::contract_coverage`
//! lists one entry per system; and the `contract` test of this crate
//! (`cargo test -p tiltas-testkit --test contract`) runs every behaviour for every covered
//! entity of every system, named `SYSTEM::ENTITY::BEHAVIOUR`, plus a `SYSTEM::coverage` check
//! ([`coverage::check`]) that every entity a system's spec reads or writes is covered or
//! listed as not covered with a reason.
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions, SyncReport};
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, Simulated, StartRequest};
use tiltas_sim::Harness;
use tiltas_store::{DeadLetter, DeadLetterFilter, DeadLetterStatus, FailureClass};
use tiltas_systems::reference::simulator::{router, ReferenceSim, Seeding};

pub mod coverage;

/// The system under test of one contract case: its fixture, the entity, the seed.
#[derive(Debug, Clone, Copy)]
pub struct Sut {
    /// The system's fixture.
    pub fixture: ContractFixture,
    /// The entity the case reads or writes, as the fixture covers it.
    pub covered: CoveredEntity,
    /// Seed of both simulators' data and of their fault decisions.
    pub seed: u64,
}

impl Sut {
    fn entity(&self) -> EntityKind {
        self.covered.entity
    }

    /// Starts the system under test with `records` seeded records of the entity.
    async fn start(&self, records: usize) -> Simulated {
        (self.fixture.start)(StartRequest {
            records,
            entity: self.entity(),
            seed: self.seed,
        })
        .await
    }

    /// The seed of the peer of case number `case`: every case's peer has its own data.
    fn peer_seed(&self, case: u64) -> u64 {
        self.seed.wrapping_add(case)
    }
}

/// Which side of a flow the system under test is in a behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// It is read (the flow's `from`).
    Source,
    /// It is written (the flow's `to`).
    Target,
}

/// A running contract behaviour.
pub type Running<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One behaviour of the contract: its name (a sentence), the side it needs, and its body,
/// which panics when the connector falls short.
#[derive(Clone, Copy)]
pub struct Behaviour {
    /// The behaviour as a sentence (`source_waits_out_rate_limits`).
    pub name: &'static str,
    /// Run for the entities the fixture covers on this side.
    pub side: Side,
    /// Runs it against one system under test.
    pub run: for<'a> fn(&'a Sut) -> Running<'a>,
}

/// Every behaviour of the contract.
pub const BEHAVIOURS: &[Behaviour] = &[
    Behaviour {
        name: "source_delivers_every_record_once_and_an_idle_resync_writes_nothing",
        side: Side::Source,
        run: |sut| Box::pin(source_delivers_every_record_once_and_an_idle_resync_writes_nothing(sut)),
    },
    Behaviour {
        name: "source_changes_are_read_incrementally",
        side: Side::Source,
        run: |sut| Box::pin(source_changes_are_read_incrementally(sut)),
    },
    Behaviour {
        name: "source_rides_out_a_failing_server",
        side: Side::Source,
        run: |sut| Box::pin(source_rides_out_a_failing_server(sut)),
    },
    Behaviour {
        name: "source_resumes_after_a_run_dies_between_pages",
        side: Side::Source,
        run: |sut| Box::pin(source_resumes_after_a_run_dies_between_pages(sut)),
    },
    Behaviour {
        name: "source_with_no_records_is_read_to_an_empty_end",
        side: Side::Source,
        run: |sut| Box::pin(source_with_no_records_is_read_to_an_empty_end(sut)),
    },
    Behaviour {
        name: "source_refused_credentials_stop_the_run_naming_the_connection",
        side: Side::Source,
        run: |sut| Box::pin(source_refused_credentials_stop_the_run_naming_the_connection(sut)),
    },
    Behaviour {
        name: "source_waits_out_rate_limits",
        side: Side::Source,
        run: |sut| Box::pin(source_waits_out_rate_limits(sut)),
    },
    Behaviour {
        name: "source_reports_a_malformed_answer_clearly",
        side: Side::Source,
        run: |sut| Box::pin(source_reports_a_malformed_answer_clearly(sut)),
    },
    Behaviour {
        name: "target_never_duplicates_when_writes_fail_after_commit",
        side: Side::Target,
        run: |sut| Box::pin(target_never_duplicates_when_writes_fail_after_commit(sut)),
    },
    Behaviour {
        name: "target_dead_letters_refused_items_and_writes_the_rest_of_their_batch",
        side: Side::Target,
        run: |sut| {
            Box::pin(target_dead_letters_refused_items_and_writes_the_rest_of_their_batch(
                sut,
            ))
        },
    },
];

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

/// A flow between the system under test (`sut`) and the peer, the store in a temporary folder.
async fn world(simulated: &Simulated, peer: &str, sut: &Sut, side: Side) -> World {
    world_paged(simulated, peer, sut, side, None).await
}

async fn world_paged(simulated: &Simulated, peer: &str, sut: &Sut, side: Side, page_size: Option<usize>) -> World {
    let (from, to) = match side {
        Side::Source => ("sut", "peer"),
        Side::Target => ("peer", "sut"),
    };
    let text = format!(
        "[connections.sut]\n{}\n\n[connections.peer]\nsystem = \"reference\"\nbase_url = \"{peer}\"\ntoken = \"peer-token\"\n\n\
         [[flows]]\nname = \"contract\"\nentity = \"{}\"\nfrom = {{ connection = \"{from}\" }}\nto = {{ connection = \"{to}\" }}\n{}{}",
        simulated.connection,
        sut.entity(),
        sut.covered
            .match_on
            .map(|field| format!("match_on = \"{field}\"\n"))
            .unwrap_or_default(),
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
    let engine = Engine::new(Arc::new(config), store, tiltas_systems::registry::systems());
    for (name, value) in &simulated.credentials {
        engine
            .vault()
            .save("sut", name, value)
            .await
            .unwrap_or_else(|error| panic!("keeping the simulator's {name} in the vault: {error}"));
    }
    World { _dir: dir, engine }
}

async fn sync(world: &World) -> SyncReport {
    world
        .engine
        .sync("contract", &SyncOptions::default())
        .await
        .unwrap_or_else(|error| panic!("sync failed: {error}"))
}

async fn open_dead_letters(world: &World) -> Vec<DeadLetter> {
    world
        .engine
        .store()
        .dead_letters(&DeadLetterFilter {
            flow: Some("contract".to_owned()),
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await
        .expect("list the dead letters")
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
pub async fn source_delivers_every_record_once_and_an_idle_resync_writes_nothing(sut: &Sut) {
    let simulated = sut.start(230).await;
    let (peer, _) = reference(0, sut.peer_seed(1), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Source).await;
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
pub async fn source_changes_are_read_incrementally(sut: &Sut) {
    let simulated = sut.start(150).await;
    let (peer, _) = reference(0, sut.peer_seed(2), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Source).await;
    sync(&world).await;
    control(
        &simulated.url,
        "mutate",
        json!({ "entity": sut.covered.mutate, "count": 12 }),
    )
    .await;
    let report = sync(&world).await;
    assert_eq!(report.counters.updated, 12, "{:?}", report.counters);
    // A system that has no change filter for this entity (a shop's customers, say) declares it
    // and is read whole; the change hashes must still single out exactly the changed records.
    let incremental = world
        .engine
        .config()
        .connection("sut")
        .and_then(|connection| connection.system.access(sut.entity()))
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
pub async fn source_rides_out_a_failing_server(sut: &Sut) {
    let simulated = sut.start(230).await;
    control(
        &simulated.url,
        "faults",
        json!({ "error_rate": 0.25, "error_status": 503 }),
    )
    .await;
    let (peer, _) = reference(0, sut.peer_seed(3), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Source).await;
    let report = sync(&world).await;
    assert_eq!(report.counters.created, 230, "{:?}", report.counters);
}

/// As a source: an empty system is read to its (empty) end without a failure.
pub async fn source_with_no_records_is_read_to_an_empty_end(sut: &Sut) {
    let simulated = sut.start(0).await;
    let (peer, _) = reference(0, sut.peer_seed(5), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Source).await;
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
pub async fn source_refused_credentials_stop_the_run_naming_the_connection(sut: &Sut) {
    let simulated = sut.start(20).await;
    control(
        &simulated.url,
        "faults",
        json!({ "error_rate": 1.0, "error_status": 401 }),
    )
    .await;
    let (peer, _) = reference(0, sut.peer_seed(6), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Source).await;
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
    let calls = stats(&simulated.url).await["requests"]["total"].as_u64().unwrap_or(0);
    assert!(calls <= 3, "{calls} calls with refused credentials");
}

/// As a source: a server answering 429 with `Retry-After` is waited out and every record
/// still arrives once.
pub async fn source_waits_out_rate_limits(sut: &Sut) {
    let simulated = sut.start(120).await;
    control(
        &simulated.url,
        "faults",
        json!({ "rate_limit_per_s": 3, "retry_after_s": 1 }),
    )
    .await;
    let (peer, _) = reference(0, sut.peer_seed(7), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Source).await;
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
pub async fn source_reports_a_malformed_answer_clearly(sut: &Sut) {
    let simulated = sut.start(60).await;
    control(&simulated.url, "faults", json!({ "malformed_rate": 0.2 })).await;
    let (peer, _) = reference(0, sut.peer_seed(8), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Source).await;
    let report = sync(&world).await;
    assert_eq!(
        (report.counters.created, report.counters.failed),
        (60, 0),
        "{:?}",
        report.counters
    );

    let simulated = sut.start(20).await;
    control(&simulated.url, "faults", json!({ "malformed_rate": 1.0 })).await;
    let (peer, _) = reference(0, sut.peer_seed(9), sut.entity()).await;
    let broken = self::world(&simulated, &peer, sut, Side::Source).await;
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
pub async fn source_resumes_after_a_run_dies_between_pages(sut: &Sut) {
    let simulated = sut.start(230).await;
    let (peer_url, _, peer) = reference_with_harness(0, sut.peer_seed(10), sut.entity()).await;
    let world = world_paged(&simulated, &peer_url, sut, Side::Source, Some(50)).await;
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
    assert_eq!(peer_stats["records"][sut.entity().as_str()], 230, "{peer_stats}");
    assert_eq!(peer_stats["duplicates"], 0, "{peer_stats}");
    assert!(peer_stats["requests"]["write"].as_u64().unwrap_or(0) > writes_before);
}

/// As a target: writes the server applies but answers with an error are never duplicated.
pub async fn target_never_duplicates_when_writes_fail_after_commit(sut: &Sut) {
    let simulated = sut.start(0).await;
    control(
        &simulated.url,
        "faults",
        json!({ "commit_then_fail_rate": 0.2, "error_rate": 0.1 }),
    )
    .await;
    let (peer, _) = reference(120, sut.peer_seed(4), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Target).await;
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
    let sut_stats = stats(&simulated.url).await;
    assert_eq!(sut_stats["records"][sut.entity().as_str()], 120, "{sut_stats}");
    assert_eq!(sut_stats["duplicates"], 0, "{sut_stats}");
    let again = sync(&world).await;
    assert_eq!(
        (again.counters.created, again.counters.updated),
        (0, 0),
        "{:?}",
        again.counters
    );
}

/// As a target: records the system refuses as invalid (`invalid_item_rate`: the same records
/// for the same seed, each refused with the system's own per-item error) fail alone — the rest
/// of their batch is written, each refused record is a dead letter carrying the system's text.
/// Once the fault clears, a run that delivers a refused record resolves its letter
/// (docs/operations.md): an incremental re-sync reads again only what is at its cursor, so it
/// writes at most the refused records there; the rest stay dead letters until retried, and a
/// replay writes exactly them. Nothing is written twice.
pub async fn target_dead_letters_refused_items_and_writes_the_rest_of_their_batch(sut: &Sut) {
    const RECORDS: u64 = 60;
    let entity = sut.entity().as_str();
    let simulated = sut.start(0).await;
    control(&simulated.url, "faults", json!({ "invalid_item_rate": 0.15 })).await;
    let (peer, _) = reference(RECORDS as usize, sut.peer_seed(11), sut.entity()).await;
    let world = world(&simulated, &peer, sut, Side::Target).await;

    let first = sync(&world).await;
    let sut_stats = stats(&simulated.url).await;
    let refused = sut_stats["refused_items"].as_u64().unwrap_or(0);
    assert!(
        refused > 0 && refused < RECORDS,
        "{refused} of {RECORDS} records refused: this seed picks none or all, try another ({sut_stats})"
    );
    assert_eq!(
        (first.counters.created + first.counters.updated, first.counters.failed),
        (RECORDS - refused, refused),
        "{:?}",
        first.counters
    );
    assert_eq!(sut_stats["records"][entity], RECORDS - refused, "{sut_stats}");
    assert_eq!(sut_stats["duplicates"], 0, "{sut_stats}");
    let letters = open_dead_letters(&world).await;
    assert_eq!(letters.len() as u64, refused, "{letters:?}");
    for letter in &letters {
        assert_eq!(letter.class, FailureClass::Invalid, "{letter:?}");
        assert!(
            letter.message.contains(sut.fixture.refusal_text),
            "the dead letter of {} does not carry the system's words {:?}: {}",
            letter.source_key,
            sut.fixture.refusal_text,
            letter.message
        );
    }

    control(&simulated.url, "faults", json!({})).await;
    let again = sync(&world).await;
    let still_open = open_dead_letters(&world).await;
    assert_eq!(
        (again.counters.created + again.counters.updated, again.counters.failed),
        (refused - still_open.len() as u64, 0),
        "an incremental re-sync writes nothing but refused records it reads again (at the cursor), \
         resolving their letters: {:?}",
        again.counters
    );
    let sut_stats = stats(&simulated.url).await;
    assert_eq!(
        sut_stats["records"][entity],
        RECORDS - still_open.len() as u64,
        "{sut_stats}"
    );

    let replayed = world
        .engine
        .replay("contract", &still_open, &SyncOptions::default())
        .await
        .unwrap_or_else(|error| panic!("replay failed: {error}"));
    assert_eq!(
        (
            replayed.counters.created + replayed.counters.updated,
            replayed.counters.failed
        ),
        (still_open.len() as u64, 0),
        "{:?}",
        replayed.counters
    );
    let sut_stats = stats(&simulated.url).await;
    assert_eq!(sut_stats["records"][entity], RECORDS, "{sut_stats}");
    assert_eq!(sut_stats["duplicates"], 0, "{sut_stats}");
    let left_open = open_dead_letters(&world).await;
    assert!(left_open.is_empty(), "{left_open:?}");
}
