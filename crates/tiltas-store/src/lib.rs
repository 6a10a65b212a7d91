//! Everything the engine keeps, behind one [`Store`] trait with two implementations:
//! SQLite (embedded, the default) and PostgreSQL (several workers share one database).
//! [`open`] picks one from a URL (`sqlite://PATH`, `postgres://…`).
#![forbid(unsafe_code)]

mod access;
mod audit;
mod coordination;
pub mod erase;
mod error;
mod forget;
mod inbox;
mod postgres;
pub mod sealed;
mod sql;
mod sqlite;
mod statistics;
mod totals;
mod types;
mod upkeep;
mod workers;

pub use access::Access;
pub use audit::{actions, AuditEntry, AuditFilter, AuditLog, NewAuditEntry};
pub use coordination::Coordination;
pub use error::{StoreError, StoreResult};
pub use forget::{ErasedRows, ErasureReport, Forget};
pub use inbox::Inbox;
pub use postgres::PostgresStore;
pub use sealed::{Resealed, SealedCredential, SealedCredentials};
pub use sqlite::{SqliteStore, JOURNAL_SIZE_LIMIT_BYTES};
pub use totals::{FlowRunTotals, Totals};
pub use types::*;
pub use upkeep::{Checkpoint, CheckpointMode, StoreUpkeep};
pub use workers::{WorkerKind, WorkerRecord, Workers, WORK_CHANNEL};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use tiltas_model::EntityKind;

/// The default store URL: an SQLite file in the working directory.
pub const DEFAULT_STORE_URL: &str = "sqlite://tiltas.db";

/// Opens (creating and migrating when needed) the store named by `url`.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl {
            url: sql::redact_url(url),
        })
    }
}

/// Applies the migrations a store needs; a database migrated by a newer build is refused.
async fn migrate<DB>(migrator: &sqlx::migrate::Migrator, pool: &sqlx::Pool<DB>, url: &str) -> StoreResult<()>
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
{
    let known = migrator.iter().map(|migration| migration.version).max().unwrap_or(0);
    migrator.run(pool).await.map_err(|source| match source {
        sqlx::migrate::MigrateError::VersionMissing(found) => StoreError::SchemaTooNew {
            url: sql::redact_url(url),
            found,
            known,
        },
        source => StoreError::Migrate {
            url: sql::redact_url(url),
            source,
        },
    })
}

/// All durable state of the engine. Every method that takes a slice works on a whole page at
/// once: the engine never issues one query per record.
#[async_trait]
pub trait Store:
    Send
    + Sync
    + StoreUpkeep
    + Workers
    + AuditLog
    + Forget
    + Totals
    + sealed::SealedCredentials
    + Inbox
    + Coordination
    + Access
    + 'static
{
    /// Which database this store runs on.
    fn backend(&self) -> Backend;

    /// The schema version the database is migrated to.
    async fn schema_version(&self) -> StoreResult<i64>;

    // ---- identity map (cross-reference) -------------------------------------------------

    /// Finds the links of `external_ids` in one connection for one entity, keyed by external id.
    async fn xref_find_by_external(
        &self,
        entity: EntityKind,
        connection: &str,
        external_ids: &[String],
    ) -> StoreResult<HashMap<String, XrefLink>>;

    /// Every link of the given hub ids, in all connections.
    async fn xref_find_by_hub(&self, hub_ids: &[HubId]) -> StoreResult<Vec<XrefLink>>;

    /// Inserts or updates links (unique per entity + connection + external id). A link without
    /// `last_hash` keeps the hash already stored (another flow's echo marker).
    async fn xref_upsert(&self, links: &[XrefLink]) -> StoreResult<()>;

    // ---- change hashes -----------------------------------------------------------------

    /// The hash last delivered for each source key of a flow (keys never delivered are absent).
    async fn delivered_hashes(&self, flow: &str, source_keys: &[String]) -> StoreResult<HashMap<String, Delivered>>;

    /// Records the hashes delivered for source keys of a flow.
    async fn put_delivered_hashes(&self, flow: &str, entries: &[DeliveredHash]) -> StoreResult<()>;

    /// Forgets every delivered hash of a flow (a full re-sync sends everything again).
    async fn clear_delivered_hashes(&self, flow: &str) -> StoreResult<u64>;

    // ---- outbox ------------------------------------------------------------------------

    /// Stores write intents before the writes are sent; returns their ids in input order.
    async fn outbox_add(&self, intents: &[NewIntent]) -> StoreResult<Vec<i64>>;

    /// Intents of a flow that were never settled (left behind by a crash), oldest first.
    async fn outbox_unsettled(&self, flow: &str) -> StoreResult<Vec<Intent>>;

    /// Settles intents: they leave the outbox (the activity log and identity map keep what
    /// happened).
    async fn outbox_settle(&self, settlements: &[IntentSettlement]) -> StoreResult<()>;

    // ---- cursors -----------------------------------------------------------------------

    /// The saved read cursor of a flow.
    async fn cursor(&self, flow: &str) -> StoreResult<Option<String>>;

    /// Saves (or with `None` clears) the read cursor of a flow.
    async fn set_cursor(&self, flow: &str, cursor: Option<&str>) -> StoreResult<()>;

    // ---- page settlement ---------------------------------------------------------------

    /// Applies everything a settled page produced in ONE transaction: delivered hashes,
    /// cross-references, settled intents, new and resolved dead letters, activity entries,
    /// run counters and the advanced cursor. A crash leaves all of it or none of it.
    async fn settle_page(&self, page: &PageSettlement) -> StoreResult<()>;

    // ---- runs --------------------------------------------------------------------------

    /// Records the start of a run.
    async fn run_start(&self, flow: &str, mode: RunMode) -> StoreResult<RunId>;

    /// Adds counters to a run.
    async fn run_add_counters(&self, run: RunId, delta: &RunCounters) -> StoreResult<()>;

    /// Records the end of a run with its status and, for a failed run, the reason.
    async fn run_finish(&self, run: RunId, status: RunStatus, error: Option<&str>) -> StoreResult<()>;

    /// One run.
    async fn run(&self, run: RunId) -> StoreResult<Option<RunRecord>>;

    /// The newest runs first, of one flow or all; at most `limit` (0 = no limit).
    async fn runs(&self, flow: Option<&str>, limit: u32) -> StoreResult<Vec<RunRecord>>;

    // ---- dead letters ------------------------------------------------------------------

    /// Adds dead letters; a record already open for the same flow + source key is updated
    /// (attempts + 1, new class, message and payload) instead of duplicated.
    async fn dead_letters_add(&self, letters: &[NewDeadLetter]) -> StoreResult<()>;

    /// Dead letters matching a filter, newest first.
    async fn dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>>;

    /// One dead letter.
    async fn dead_letter(&self, id: i64) -> StoreResult<Option<DeadLetter>>;

    /// Replaces the payload of an open dead letter (edit before retry).
    async fn dead_letter_set_payload(&self, id: i64, payload: &serde_json::Value) -> StoreResult<()>;

    /// Marks the open dead letters of these source keys of a flow resolved; returns how many.
    async fn dead_letters_resolve(&self, flow: &str, source_keys: &[String]) -> StoreResult<u64>;

    // ---- activity log ------------------------------------------------------------------

    /// Appends activity entries; payloads go to a separate table from the entry metadata.
    async fn activity_add(&self, entries: &[NewActivity]) -> StoreResult<()>;

    /// Activity entries (metadata only) matching a filter, newest first.
    async fn activity(&self, filter: &ActivityFilter) -> StoreResult<Vec<ActivityEntry>>;

    /// The payloads of one activity entry.
    async fn activity_payloads(&self, id: i64) -> StoreResult<Option<ActivityPayloads>>;

    /// Deletes activity from `before` or earlier (entries and payloads), of one flow or all;
    /// returns entries deleted.
    async fn activity_purge(&self, flow: Option<&str>, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The hash under which an API key is stored (SHA-256, hex): the key itself is never kept.
pub fn hash_api_key(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}
