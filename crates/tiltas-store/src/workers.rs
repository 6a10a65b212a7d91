//! Several workers on one store: the [`Workers`] registry (who runs, since when, what, their
//! heartbeat), inbox deliveries **claimed** by one worker at a time (one statement: `UPDATE …
//! WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …` on PostgreSQL, the same without
//! `SKIP LOCKED` on SQLite, which has one writer anyway), and wake-ups ([`Workers::notify_work`],
//! [`Workers::wait_for_work`]): `LISTEN`/`NOTIFY` on PostgreSQL, in-process on SQLite.
use crate::{InboxEvent, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// The PostgreSQL channel a new delivery or a changed flow file is announced on.
pub const WORK_CHANNEL: &str = "tiltas_inbox";

/// What kind of process a worker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerKind {
    /// `tiltas serve`: HTTP, the scheduler and the inbox.
    Serve,
    /// `tiltas worker`: the scheduler and the inbox, no HTTP.
    Worker,
}

impl WorkerKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerKind::Serve => "serve",
            WorkerKind::Worker => "worker",
        }
    }

    pub(crate) fn parse(text: &str) -> WorkerKind {
        if text == "serve" {
            WorkerKind::Serve
        } else {
            WorkerKind::Worker
        }
    }
}

/// A registered worker, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerRecord {
    /// `HOST:PID:STARTED`.
    pub id: String,
    /// Serve or worker.
    pub kind: WorkerKind,
    /// When it registered.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: DateTime<Utc>,
    /// What it was running at its last heartbeat (flow names, `inbox`).
    pub running: Vec<String>,
}

/// The workers sharing a store, their claims on inbox deliveries, and their wake-ups.
#[async_trait]
pub trait Workers: Send + Sync {
    /// Registers (or registers again, after being pruned) a worker, its heartbeat now.
    async fn worker_register(&self, id: &str, kind: WorkerKind) -> StoreResult<()>;

    /// Beats a worker's heart and records what it runs; false when it is not registered
    /// (pruned after a long pause: register again).
    async fn worker_heartbeat(&self, id: &str, running: &[String]) -> StoreResult<bool>;

    /// Every registered worker, oldest first.
    async fn workers(&self) -> StoreResult<Vec<WorkerRecord>>;

    /// Removes a worker and gives up its claims on deliveries it did not settle.
    async fn worker_remove(&self, id: &str) -> StoreResult<()>;

    /// Removes workers whose last heartbeat is before `before`; returns how many.
    async fn workers_prune(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    /// Claims up to `limit` pending deliveries, oldest first, for `worker` until `ttl` from
    /// now: ones nobody claimed and ones whose claim lapsed. Two workers never get the same
    /// delivery while its claim holds.
    async fn inbox_claim(&self, worker: &str, limit: u32, ttl: Duration) -> StoreResult<Vec<InboxEvent>>;

    /// Extends `worker`'s claims on deliveries not settled yet to `ttl` from now (its
    /// heartbeat does, so a live worker never loses a claim however long a round takes);
    /// returns how many.
    async fn inbox_claims_renew(&self, worker: &str, ttl: Duration) -> StoreResult<u64>;

    /// Gives up `worker`'s claims on deliveries not settled yet (so others may take them at
    /// once); returns how many.
    async fn inbox_release(&self, worker: &str) -> StoreResult<u64>;

    /// How many times each delivery was claimed, by id (deliveries never claimed are 0).
    async fn inbox_claim_counts(&self, ids: &[i64]) -> StoreResult<Vec<(i64, i64)>>;

    /// Tells every worker there is work (a new delivery, a changed flow file).
    async fn notify_work(&self) -> StoreResult<()>;

    /// Waits until some worker announces work or `timeout` passes; true when woken.
    async fn wait_for_work(&self, timeout: Duration) -> bool;
}

/// A store's wake-ups: a permit kept for the waiter, and on PostgreSQL the listener feeding it.
#[derive(Default)]
pub(crate) struct Wake {
    notify: Arc<Notify>,
    listener: OnceLock<tokio::task::JoinHandle<()>>,
}

impl Wake {
    pub(crate) fn notify(&self) {
        self.notify.notify_one();
    }

    pub(crate) async fn wait(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.notify.notified()).await.is_ok()
    }

    /// Starts (once) the task that turns `NOTIFY tiltas_inbox` into wake-ups of this store.
    pub(crate) fn listen_postgres(&self, pool: &sqlx::PgPool) {
        let (pool, notify) = (pool.clone(), self.notify.clone());
        self.listener
            .get_or_init(|| tokio::spawn(postgres_listener(pool, notify)));
    }
}

impl Drop for Wake {
    fn drop(&mut self) {
        if let Some(task) = self.listener.get() {
            task.abort();
        }
    }
}

/// Listens on [`WORK_CHANNEL`] for the store's life; reconnects after a lost connection (a
/// wake-up missed meanwhile is caught by the waiters' slow poll).
async fn postgres_listener(pool: sqlx::PgPool, notify: Arc<Notify>) {
    loop {
        let listening = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(WORK_CHANNEL).await?;
            // Whatever arrived before the LISTEN is picked up by one look at the inbox.
            notify.notify_one();
            loop {
                listener.recv().await?;
                notify.notify_one();
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        if let Err(error) = listening.await {
            tracing::warn!(%error, channel = WORK_CHANNEL, "listening for work failed; polling until it is back");
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// Implements [`Workers`] for `$store` (with `pool` and `wake` fields) on `$db`; `$lock` is
/// what follows the claim's inner SELECT (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
macro_rules! workers_store {
    ($store:ident, $db:ty, $lock:literal, $announce:expr, $listen:expr) => {
        mod workers_implementation {
            use super::$store;
            use $crate::sql::{millis, timestamp, CHUNK};
            use $crate::workers::{WorkerKind, WorkerRecord, Workers};
            use $crate::{InboxEvent, StoreError, StoreResult};
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use sqlx::{QueryBuilder, Row};
            use std::time::Duration;

            fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
                move |source| StoreError::Query { operation, source }
            }

            fn now() -> i64 {
                millis(Utc::now())
            }

            fn running_text(running: &[String]) -> String {
                serde_json::to_string(running).unwrap_or_else(|_| "[]".to_owned())
            }

            #[async_trait]
            impl Workers for $store {
                async fn worker_register(&self, id: &str, kind: WorkerKind) -> StoreResult<()> {
                    let at = now();
                    sqlx::query(
                        "INSERT INTO worker (id, kind, started_at, heartbeat_at, running) VALUES ($1, $2, $3, $3, '[]') \
                         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, heartbeat_at = excluded.heartbeat_at",
                    )
                    .bind(id)
                    .bind(kind.as_str())
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("worker_register"))?;
                    Ok(())
                }

                async fn worker_heartbeat(&self, id: &str, running: &[String]) -> StoreResult<bool> {
                    let updated = sqlx::query("UPDATE worker SET heartbeat_at = $1, running = $2 WHERE id = $3")
                        .bind(now())
                        .bind(running_text(running))
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(query_error("worker_heartbeat"))?;
                    Ok(updated.rows_affected() > 0)
                }

                async fn workers(&self) -> StoreResult<Vec<WorkerRecord>> {
                    let rows = sqlx::query(
                        "SELECT id, kind, started_at, heartbeat_at, running FROM worker ORDER BY started_at, id",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("workers"))?;
                    rows.iter()
                        .map(|row| {
                            let kind: String = row.try_get(1).map_err(query_error("workers"))?;
                            let running: String = row.try_get(4).map_err(query_error("workers"))?;
                            Ok(WorkerRecord {
                                id: row.try_get(0).map_err(query_error("workers"))?,
                                kind: WorkerKind::parse(&kind),
                                started_at: timestamp(row.try_get(2).map_err(query_error("workers"))?),
                                heartbeat_at: timestamp(row.try_get(3).map_err(query_error("workers"))?),
                                running: serde_json::from_str(&running).map_err(|error| StoreError::Corrupt {
                                    what: "worker.running",
                                    detail: error.to_string(),
                                })?,
                            })
                        })
                        .collect()
                }

                async fn worker_remove(&self, id: &str) -> StoreResult<()> {
                    self.inbox_release(id).await?;
                    sqlx::query("DELETE FROM worker WHERE id = $1")
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(query_error("worker_remove"))?;
                    Ok(())
                }

                async fn workers_prune(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                    let pruned = sqlx::query("DELETE FROM worker WHERE heartbeat_at < $1")
                        .bind(millis(before))
                        .execute(&self.pool)
                        .await
                        .map_err(query_error("workers_prune"))?;
                    Ok(pruned.rows_affected())
                }

                async fn inbox_claim(&self, worker: &str, limit: u32, ttl: Duration) -> StoreResult<Vec<InboxEvent>> {
                    let at = now();
                    let until = at.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
                    let rows = sqlx::query(concat!(
                        "UPDATE inbox SET claimed_by = $1, claimed_until = $2, claims = claims + 1 WHERE id IN (\
                         SELECT id FROM inbox WHERE done_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) \
                         ORDER BY id LIMIT $4 ",
                        $lock,
                        ") RETURNING id, connection, topic, body, received_at, attempts"
                    ))
                    .bind(worker)
                    .bind(until)
                    .bind(at)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("inbox_claim"))?;
                    let error = || query_error("inbox_claim");
                    let mut claimed = rows
                        .iter()
                        .map(|row| {
                            Ok(InboxEvent {
                                id: row.try_get(0).map_err(error())?,
                                connection: row.try_get(1).map_err(error())?,
                                topic: row.try_get(2).map_err(error())?,
                                body: row.try_get(3).map_err(error())?,
                                received_at: timestamp(row.try_get(4).map_err(error())?),
                                attempts: row.try_get(5).map_err(error())?,
                            })
                        })
                        .collect::<StoreResult<Vec<InboxEvent>>>()?;
                    // RETURNING promises no order; deliveries go through in arrival order.
                    claimed.sort_by_key(|event| event.id);
                    Ok(claimed)
                }

                async fn inbox_claims_renew(&self, worker: &str, ttl: Duration) -> StoreResult<u64> {
                    let until = now().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
                    let renewed = sqlx::query(
                        "UPDATE inbox SET claimed_until = $1 WHERE claimed_by = $2 AND done_at IS NULL",
                    )
                    .bind(until)
                    .bind(worker)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("inbox_claims_renew"))?;
                    Ok(renewed.rows_affected())
                }

                async fn inbox_release(&self, worker: &str) -> StoreResult<u64> {
                    let released = sqlx::query(
                        "UPDATE inbox SET claimed_by = NULL, claimed_until = NULL \
                         WHERE claimed_by = $1 AND done_at IS NULL",
                    )
                    .bind(worker)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("inbox_release"))?;
                    Ok(released.rows_affected())
                }

                async fn inbox_claim_counts(&self, ids: &[i64]) -> StoreResult<Vec<(i64, i64)>> {
                    let mut counts = Vec::with_capacity(ids.len());
                    for chunk in ids.chunks(CHUNK) {
                        let mut query = QueryBuilder::<$db>::new("SELECT id, claims FROM inbox WHERE id IN (");
                        let mut separated = query.separated(", ");
                        for id in chunk {
                            separated.push_bind(*id);
                        }
                        query.push(") ORDER BY id");
                        let rows = query
                            .build()
                            .fetch_all(&self.pool)
                            .await
                            .map_err(query_error("inbox_claim_counts"))?;
                        for row in rows {
                            counts.push((
                                row.try_get(0).map_err(query_error("inbox_claim_counts"))?,
                                row.try_get(1).map_err(query_error("inbox_claim_counts"))?,
                            ));
                        }
                    }
                    Ok(counts)
                }

                async fn notify_work(&self) -> StoreResult<()> {
                    self.wake.notify();
                    let announce: Option<&str> = $announce;
                    if let Some(statement) = announce {
                        sqlx::query(statement)
                            .bind($crate::workers::WORK_CHANNEL)
                            .execute(&self.pool)
                            .await
                            .map_err(query_error("notify_work"))?;
                    }
                    Ok(())
                }

                async fn wait_for_work(&self, timeout: Duration) -> bool {
                    let listen: fn(&$store) = $listen;
                    listen(self);
                    self.wake.wait(timeout).await
                }
            }
        }
    };
}
pub(crate) use workers_store;
