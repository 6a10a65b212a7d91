//! What keeps a store bounded under sustained load: the inbox backlog per connection (read by
//! webhook ingress for backpressure, so it must be cheap: an index of pending deliveries by
//! connection answers it without reading a row) and write-ahead-log checkpoints (SQLite: a
//! WAL that checkpoints cannot keep up with grows without end; PostgreSQL manages its own).
use crate::StoreResult;
use async_trait::async_trait;
use std::collections::HashMap;

/// How hard a checkpoint tries (SQLite's `PRAGMA wal_checkpoint` modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Copies what it can without waiting for readers or writers (never blocks ingress).
    Passive,
    /// Waits for readers and writers, copies everything and truncates the WAL file to zero
    /// bytes (writers wait meanwhile: for a moment, on an idle or a bounded log).
    Truncate,
}

/// What a checkpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// It could not finish: a reader or writer held part of the log.
    pub busy: bool,
    /// Pages in the write-ahead log when it ran.
    pub log_pages: i64,
    /// Of those, pages copied into the database.
    pub checkpointed_pages: i64,
}

/// Store upkeep under load; a supertrait of [`crate::Store`].
#[async_trait]
pub trait StoreUpkeep: Send + Sync {
    /// Deliveries waiting in the inbox, per connection (connections with none are absent).
    async fn inbox_backlog_by_connection(&self) -> StoreResult<HashMap<String, u64>>;

    /// Checkpoints the write-ahead log; `None` on a store without one to manage (PostgreSQL).
    async fn checkpoint(&self, mode: CheckpointMode) -> StoreResult<Option<Checkpoint>>;
}

/// Implements [`StoreUpkeep`] for `$store` (a struct with a `pool: sqlx::Pool<$db>` field).
macro_rules! store_upkeep {
    ($store:ident, $db:ty, $backend:expr) => {
        mod upkeep_implementation {
            use super::$store;
            use async_trait::async_trait;
            use std::collections::HashMap;
            use $crate::upkeep::{Checkpoint, CheckpointMode, StoreUpkeep};
            use $crate::{Backend, StoreError, StoreResult};

            fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
                move |source| StoreError::Query { operation, source }
            }

            #[async_trait]
            impl StoreUpkeep for $store {
                async fn inbox_backlog_by_connection(&self) -> StoreResult<HashMap<String, u64>> {
                    // Answered from the index inbox_pending_connection (migration 0011).
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT connection, COUNT(*) FROM inbox WHERE done_at IS NULL GROUP BY connection",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("inbox_backlog_by_connection"))?;
                    Ok(rows
                        .into_iter()
                        .map(|(connection, count)| (connection, u64::try_from(count).unwrap_or(0)))
                        .collect())
                }

                async fn checkpoint(&self, mode: CheckpointMode) -> StoreResult<Option<Checkpoint>> {
                    if $backend != Backend::Sqlite {
                        return Ok(None);
                    }
                    let statement = match mode {
                        CheckpointMode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
                        CheckpointMode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
                    };
                    let found: Option<(i64, i64, i64)> = sqlx::query_as(statement)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(query_error("checkpoint"))?;
                    // SQLite answers -1 pages when the checkpoint could not run: busy (another
                    // connection held the lock: try again later), or not busy when there is
                    // no log at all (an in-memory database).
                    Ok(found.and_then(|(busy, log, checkpointed)| {
                        let busy = busy != 0;
                        (busy || log >= 0).then_some(Checkpoint {
                            busy,
                            log_pages: log.max(0),
                            checkpointed_pages: checkpointed.max(0),
                        })
                    }))
                }
            }
        }
    };
}
pub(crate) use store_upkeep;
