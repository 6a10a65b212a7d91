//! The sync engine (DESIGN §2): [`Engine::sync`] runs one flow — read a page, map, hash,
//! compare with what was delivered, write the changes in batches, and settle the page (hashes,
//! identity links, dead letters, counters, cursor) in one store transaction.
//!
//! Records the target already has are found by look-up and adopted; `on_duplicate` decides
//! what happens to them; writes an interrupted run left unacknowledged are verified before
//! anything is resent; transient failures are retried with backoff and jitter.
#![forbid(unsafe_code)]

mod deliver;
mod engine;
mod error;
mod gate;
mod hash;
mod money;
mod orders;
mod plan;
mod problem;
mod progress;
pub mod quote;
mod repeats;
mod report;
mod run;
pub mod secrets;
mod spans;
mod stages;
mod supplier_order;
mod vault;

pub use engine::Engine;
pub use error::EngineError;
pub use hash::payload_hash;
pub use plan::load_config;
pub use progress::{NoProgress, Progress};
pub use repeats::Repeats;
pub use report::{PlannedChange, PlannedKind, RecordProblem, SyncOptions, SyncReport};
pub use run::{request_stop, stop_requested, worker_id};
pub use supplier_order::{
    OrderOnce, SupplierOrderError, SupplierOrderLine, SupplierOrderOutcome, SupplierOrderRequest, SupplierOrderStatus,
    SUPPLIER_ORDER_CLAIM, SUPPLIER_ORDER_SCOPE,
};
pub use vault::{
    create_new_key_file, KeySource, StoreVault, MASTER_KEY_FILE_VARIABLE, MASTER_KEY_VARIABLE, SECRET_KEY_FILE,
    SECRET_KEY_VARIABLE,
};
