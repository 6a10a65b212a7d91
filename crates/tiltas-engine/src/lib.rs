//! The sync engine (DESIGN §2): [`Engine::sync`] runs one flow — read a page, map, hash,
//! compare with what was delivered, write the changes in batches, and settle the page (hashes,
//! identity links, dead letters, counters, cursor) in one store transaction.
//!
//! This first cut has change detection, identity links, batching with per-item settlement,
//! dead letters, activity log, one run per flow (lease) and dry runs. Look-ups in the target,
//! duplicate policies, retries with backoff, verify-before-resend and quotas slot into
//! [`runner`] next.
#![forbid(unsafe_code)]

mod error;
mod hash;
mod plan;
mod progress;
mod runner;

pub use error::EngineError;
pub use hash::payload_hash;
pub use plan::load_config;
pub use progress::{NoProgress, Progress};
pub use runner::{Engine, PlannedChange, PlannedKind, RecordProblem, SyncOptions, SyncReport};
