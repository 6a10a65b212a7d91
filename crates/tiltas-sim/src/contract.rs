//! What a simulator tells the connector contract suite (`tiltas-testkit`) about its system: how
//! to start it as the system under test, which entities the contract runs against and how, and
//! which entities its spec has that the contract does not cover, with the reason. Each
//! simulator crate declares one [`ContractFixture`]; `tiltas-systems` lists them, and the
//! contract binary runs every behaviour for every covered entity of every system.
use std::future::Future;
use std::pin::Pin;
use tiltas_model::EntityKind;

/// A running simulator of the system under test.
#[derive(Debug, Clone)]
pub struct Simulated {
    /// Its base URL (where `/__sim/` lives).
    pub url: String,
    /// The body of a `[connections.NAME]` table that reaches it (system, address, credentials).
    pub connection: String,
    /// Credentials a person would have obtained for the connection at run time (a refresh
    /// token from `tiltas connect`): the suite puts them in the engine's vault, name → value.
    pub credentials: Vec<(String, String)>,
}

impl Simulated {
    /// A simulator at `url`, reached with the connection table body `connection`.
    pub fn new(url: String, connection: String) -> Simulated {
        Simulated {
            url,
            connection,
            credentials: Vec::new(),
        }
    }

    /// The same, with a run-time credential in the connection's vault entry `name`.
    pub fn with_credential(mut self, name: impl Into<String>, value: impl Into<String>) -> Simulated {
        self.credentials.push((name.into(), value.into()));
        self
    }
}

/// What a contract case asks a simulator to start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartRequest {
    /// How many records of `entity` it is seeded with (0: an empty system).
    pub records: usize,
    /// The entity the case reads or writes.
    pub entity: EntityKind,
    /// Seed of the generated data and of the harness' fault decisions.
    pub seed: u64,
}

/// A simulator starting on 127.0.0.1, on a free port, in the calling runtime.
pub type Starting = Pin<Box<dyn Future<Output = Simulated> + Send>>;

/// Starts a simulator of the system as the contract's system under test.
pub type Start = fn(StartRequest) -> Starting;

/// One entity the contract runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoveredEntity {
    /// The entity.
    pub entity: EntityKind,
    /// The flow's `match_on` (the canonical field records are matched on), if it takes one.
    pub match_on: Option<&'static str>,
    /// The entity `/__sim/mutate` is told to change for the incremental-read case, as the
    /// simulator names it (`product`, `customer`, `stock`).
    pub mutate: &'static str,
    /// The source cases run (the system is read).
    pub source: bool,
    /// The target cases run (the system is written).
    pub target: bool,
}

/// An entity the system's spec reads or writes that the contract does not run against (the
/// sides of it that [`CoveredEntity`] leaves out), and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotCovered {
    /// The entity.
    pub entity: EntityKind,
    /// Why, and what covers it instead (a test, a suite).
    pub reason: &'static str,
}

/// A system's part in the connector contract.
#[derive(Debug, Clone, Copy)]
pub struct ContractFixture {
    /// The system's name, as its spec has it (`system = "…"`).
    pub system: &'static str,
    /// Starts its simulator.
    pub start: Start,
    /// The entities the contract runs against.
    pub covered: &'static [CoveredEntity],
    /// The entities its spec has that the contract does not run against, each with a reason.
    pub not_covered: &'static [NotCovered],
    /// A piece of the system's own text in its refusal of a record `invalid_item_rate` picked,
    /// which the record's dead letter must carry (the connector passes the system's words on).
    pub refusal_text: &'static str,
}
