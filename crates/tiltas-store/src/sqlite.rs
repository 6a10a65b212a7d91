//! The embedded store: one SQLite file in WAL mode (or an in-memory database for dry runs).
use crate::sql::redact_url;
use crate::{StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// The SQLite store.
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
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
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
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
        Ok(SqliteStore { pool })
    }
}

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite, crate::Backend::Sqlite);
crate::sealed::sealed_credentials!(SqliteStore, sqlx::Sqlite);
