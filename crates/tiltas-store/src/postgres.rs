//! The shared store: PostgreSQL, for several workers.
use crate::sql::redact_url;
use crate::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::time::Duration;

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: sqlx::PgPool,
    wake: crate::workers::Wake,
    statistics: std::sync::Arc<crate::statistics::Statistics>,
    /// How the background `ANALYZE` connects: as the pool does, without sqlx's slow-statement
    /// warning, which it earns on every large table and which read as a fault.
    analyse_options: PgConnectOptions,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl PostgresStore {
    /// Connects to `url` and migrates the database.
    pub async fn open(url: &str) -> StoreResult<PostgresStore> {
        Self::open_in_schema(url, None).await
    }

    /// Connects with `search_path` set to `schema` (which must exist), so several stores can
    /// share one database — used by tests to isolate themselves.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> StoreResult<PostgresStore> {
        let connect = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
        let mut options = PgConnectOptions::from_str(url).map_err(connect)?;
        if let Some(schema) = schema {
            options = options.options([("search_path", schema)]);
        }
        // One direct connection first: the pool would retry a refused connection until its
        // acquire timeout, and a server that is down should be reported at once.
        let probe = PgConnection::connect_with(&options).await.map_err(connect)?;
        probe.close().await.map_err(connect)?;
        let analyse_options = options.clone().disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(connect)?;
        crate::migrate(&MIGRATOR, &pool, url).await?;
        Ok(PostgresStore {
            pool,
            wake: crate::workers::Wake::default(),
            statistics: Default::default(),
            analyse_options,
        })
    }

    /// PostgreSQL locks rows, not the database: page writes need no turn.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        None
    }

    /// After a page of `records` settled: analyses the keyed tables in the background when
    /// they have grown enough since the last time (see [`crate::statistics`]).
    fn settled(&self, records: u64) {
        if !self.statistics.settled(records) {
            return;
        }
        let (options, statistics) = (self.analyse_options.clone(), self.statistics.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let analysed = async {
                let mut connection = PgConnection::connect_with(&options).await?;
                sqlx::query(&format!("ANALYZE {}", crate::statistics::ANALYZED_TABLES))
                    .execute(&mut connection)
                    .await?;
                connection.close().await
            }
            .await;
            match analysed {
                Ok(_) => tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "identity map and delivered hashes analysed"
                ),
                // Only the look-ups' plans suffer; autovacuum analyses them in time anyway.
                Err(error) => tracing::warn!(%error, "cannot analyse the identity map and delivered hashes"),
            }
            statistics.analysed();
        });
    }
}

crate::sql::sql_store!(PostgresStore, sqlx::Postgres, crate::Backend::Postgres);
crate::upkeep::store_upkeep!(PostgresStore, sqlx::Postgres, crate::Backend::Postgres);
crate::workers::workers_store!(
    PostgresStore,
    sqlx::Postgres,
    "FOR UPDATE SKIP LOCKED",
    Some("SELECT pg_notify($1, '')"),
    |store: &PostgresStore| store.wake.listen_postgres(&store.pool)
);
crate::audit::sql_audit_log!(PostgresStore, sqlx::Postgres);
crate::forget::sql_forget!(PostgresStore, sqlx::Postgres);
crate::totals::sql_totals!(PostgresStore);
crate::sealed::sealed_credentials!(PostgresStore, sqlx::Postgres);
crate::inbox::sql_inbox!(PostgresStore, sqlx::Postgres, crate::Backend::Postgres);
crate::coordination::sql_coordination!(PostgresStore, sqlx::Postgres, crate::Backend::Postgres);
crate::access::sql_access!(PostgresStore, sqlx::Postgres, crate::Backend::Postgres);
