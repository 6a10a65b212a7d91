//! What a caller asks of a run ([`SyncOptions`]) and what it gets back ([`SyncReport`]).
use crate::{NoProgress, Progress};
use std::sync::Arc;
use std::time::Duration;
use tiltas_store::{RunCounters, RunId};

/// How to run a flow.
#[derive(Clone)]
pub struct SyncOptions {
    /// Read and compare, report what would change, write nothing anywhere.
    pub dry_run: bool,
    /// Ignore delivered hashes and the cursor: send everything again.
    pub full: bool,
    /// Receives counters after every page.
    pub progress: Arc<dyn Progress>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            dry_run: false,
            full: false,
            progress: Arc::new(NoProgress),
        }
    }
}

/// What a dry run would do with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedKind {
    /// It would be created in the target.
    Create,
    /// It would update the target's record.
    Update,
    /// A filter or policy would leave it alone.
    Skip,
}

/// One change a dry run found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedChange {
    /// The record's key in the source.
    pub source_key: String,
    /// What would happen.
    pub kind: PlannedKind,
}

/// A record that failed, for the report (all of them are in the dead-letter inbox).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordProblem {
    /// The record's key in the source (or its position).
    pub source_key: String,
    /// What is wrong and the fix (without the key, which is beside it).
    pub message: String,
    /// Where in the source (`products.csv:17`), when the source said.
    pub location: Option<String>,
    /// The canonical field at fault, when one is.
    pub field: Option<String>,
    /// What to change, on its own, when known.
    pub fix: Option<String>,
}

impl std::fmt::Display for RecordProblem {
    /// `record KEY (products.csv:17): message` — one line for a person.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}", self.source_key)?;
        if let Some(location) = &self.location {
            write!(f, " ({location})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// The flow.
    pub flow: String,
    /// The stored run (none for a dry run).
    pub run: Option<RunId>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Record counters.
    pub counters: RunCounters,
    /// Wall time.
    pub duration: Duration,
    /// For a dry run: what would change.
    pub planned: Vec<PlannedChange>,
    /// The first failed records.
    pub problems: Vec<RecordProblem>,
    /// Writes left unacknowledged by an earlier, interrupted run and found applied.
    pub recovered: u64,
}
