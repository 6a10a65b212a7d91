//! The embedded store: one SQLite file in WAL mode (or an in-memory database for dry runs).
use crate::sql::redact_url;
use crate::{StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// The size the write-ahead log is cut back to whenever a checkpoint has copied all of it
/// (`PRAGMA journal_size_limit`): without it the file keeps its largest size for ever. The
/// log is bounded while it grows by checkpoints (SQLite's own every 1 000 pages, and
/// `tiltas serve`'s: see `StoreUpkeep::checkpoint`), not by this.
pub const JOURNAL_SIZE_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// The SQLite store.
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    wake: crate::workers::Wake,
    /// Taken by the engine's page writes (outbox intents, page settlements) for their whole
    /// transaction; see [`SqliteStore::write_turn`].
    writing: tokio::sync::Mutex<()>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

impl SqliteStore {
    /// Opens (creating when missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        let in_memory = url.contains(":memory:");
        if !in_memory {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path);
            let directory = std::path::Path::new(path)
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty());
            if let Some(directory) = directory {
                if !directory.is_dir() {
                    return Err(StoreError::MissingDirectory {
                        url: url.to_owned(),
                        directory: directory.display().to_string(),
                    });
                }
            }
        }
        let connect = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(connect)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let options = if in_memory {
            options
        } else {
            // FULL: every commit (an accepted webhook, a settled page) is on disk before the
            // caller is answered, so it survives a power cut too; NORMAL would only survive a
            // crashed process. Measured in docs/benchmarks.md ("Durable commits").
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT_BYTES.to_string())
        };
        // An in-memory database lives as long as its one connection: keep exactly one, forever.
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(4)
        };
        let pool = pool_options.connect_with(options).await.map_err(connect)?;
        crate::migrate(&MIGRATOR, &pool, url).await?;
        Ok(SqliteStore {
            pool,
            wake: crate::workers::Wake::default(),
            writing: tokio::sync::Mutex::new(()),
        })
    }
}

impl SqliteStore {
    /// After a page settled: nothing to do, SQLite's planner does not keep plans made from
    /// outdated statistics (see [`crate::statistics`] for PostgreSQL's).
    fn settled(&self, _records: u64) {}

    /// The turn of one of the engine's page writes in this process. SQLite has one writer per
    /// file, and a connection that finds the file locked polls for it, sleeping 1, 2, 5, 10,
    /// 15 ms… between tries (its busy handler): a page's outbox insert waiting for the previous
    /// page's settlement woke up several milliseconds after the lock was free, on every page.
    /// Queued here, it starts the moment the settlement commits. Writers in other processes
    /// and the rarer writes of this one still meet at SQLite's lock.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        Some(self.writing.lock().await)
    }
}

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite, crate::Backend::Sqlite);
crate::upkeep::store_upkeep!(SqliteStore, sqlx::Sqlite, crate::Backend::Sqlite);
crate::workers::workers_store!(SqliteStore, sqlx::Sqlite, "", None, |_| {});
crate::audit::sql_audit_log!(SqliteStore, sqlx::Sqlite);
crate::forget::sql_forget!(SqliteStore, sqlx::Sqlite);
crate::totals::sql_totals!(SqliteStore);
crate::sealed::sealed_credentials!(SqliteStore, sqlx::Sqlite);
crate::inbox::sql_inbox!(SqliteStore, sqlx::Sqlite, crate::Backend::Sqlite);
crate::coordination::sql_coordination!(SqliteStore, sqlx::Sqlite, crate::Backend::Sqlite);
crate::access::sql_access!(SqliteStore, sqlx::Sqlite, crate::Backend::Sqlite);
