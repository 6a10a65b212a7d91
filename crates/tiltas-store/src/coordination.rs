//! What several workers on one store agree through it ([`Coordination`]): leases (one run of a
//! flow at a time), request quotas, and idempotency keys of API requests.
use crate::*;
use async_trait::async_trait;
use std::time::Duration;

/// Leases, request quotas and idempotency keys: what workers sharing a store agree through it.
#[async_trait]
pub trait Coordination: Send + Sync {
    /// Claims a lease if it is free, expired, or already held by `holder`. Exactly one of
    /// several concurrent claimants wins.
    async fn lease_acquire(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool>;

    /// Extends a lease held by `holder`; false when it was lost (expired and taken).
    async fn lease_renew(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool>;

    /// Releases a lease held by `holder` (no-op otherwise).
    async fn lease_release(&self, name: &str, holder: &str) -> StoreResult<()>;

    /// The current holder of a lease, if any and not expired.
    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>>;

    /// Atomically adds `amount` to a connection's counter for a window if the result stays
    /// within `limit` (no limit when `None`); returns the counter after the call and whether
    /// the amount was granted.
    async fn quota_consume(
        &self,
        connection: &str,
        window: &str,
        amount: u64,
        limit: Option<u64>,
    ) -> StoreResult<QuotaGrant>;

    /// A connection's counter for a window (0 when unused).
    async fn quota_used(&self, connection: &str, window: &str) -> StoreResult<u64>;

    /// Claims `key` of `scope` for `holder` until `ttl` from now, for a request whose body
    /// hashes to `request_hash`. Exactly one of several concurrent claimants gets `Claimed`;
    /// a key still held, done, or used with another body is `Taken` with what is stored. A
    /// lapsed claim of the same request is taken over (its worker is gone).
    async fn idempotency_claim(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        holder: &str,
        ttl: Duration,
    ) -> StoreResult<IdempotencyClaim>;

    /// Keeps the answer of a claimed request; false when `holder` no longer holds the key.
    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        holder: &str,
        response: &serde_json::Value,
    ) -> StoreResult<bool>;

    /// Gives a claimed key up without an answer (the request may be sent again); no-op when
    /// `holder` does not hold it or it is done.
    async fn idempotency_release(&self, scope: &str, key: &str, holder: &str) -> StoreResult<()>;
}

/// Implements [`Coordination`] for a SQL store (`$db`: its sqlx database).
macro_rules! sql_coordination {
    ($store:ident, $db:ty, $backend:expr) => {
        mod coordination_implementation {
            use super::$store;
            use $crate::sql::*;
            use $crate::*;
            use async_trait::async_trait;
            use chrono::Utc;
            use sqlx::Row;
            use std::time::Duration;

            #[async_trait]
            impl Coordination for $store {
            async fn lease_acquire(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
                let at = now();
                let won: Option<String> = sqlx::query_scalar(
                    "INSERT INTO lease (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                     WHERE lease.expires_at <= $4 OR lease.holder = excluded.holder RETURNING holder",
                )
                .bind(name)
                .bind(holder)
                .bind(at.saturating_add(ttl_millis(ttl)))
                .bind(at)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("lease_acquire"))?;
                Ok(won.is_some())
            }

            async fn lease_renew(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
                let at = now();
                let renewed = sqlx::query("UPDATE lease SET expires_at = $1 WHERE name = $2 AND holder = $3")
                    .bind(at.saturating_add(ttl_millis(ttl)))
                    .bind(name)
                    .bind(holder)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("lease_renew"))?;
                Ok(renewed.rows_affected() == 1)
            }

            async fn lease_release(&self, name: &str, holder: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM lease WHERE name = $1 AND holder = $2")
                    .bind(name)
                    .bind(holder)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("lease_release"))?;
                Ok(())
            }

            async fn lease(&self, name: &str) -> StoreResult<Option<Lease>> {
                let row = sqlx::query("SELECT name, holder, expires_at FROM lease WHERE name = $1 AND expires_at > $2")
                    .bind(name)
                    .bind(now())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("lease"))?;
                row.map(|row| {
                    Ok(Lease {
                        name: row.try_get(0).map_err(query_error("lease"))?,
                        holder: row.try_get(1).map_err(query_error("lease"))?,
                        expires_at: timestamp(row.try_get(2).map_err(query_error("lease"))?),
                    })
                })
                .transpose()
            }

            async fn quota_consume(
                &self,
                connection: &str,
                window: &str,
                amount: u64,
                limit: Option<u64>,
            ) -> StoreResult<QuotaGrant> {
                let limit = limit.map_or(i64::MAX, count);
                let amount = count(amount);
                if amount > limit {
                    let used = self.quota_used(connection, window).await?;
                    return Ok(QuotaGrant { granted: false, used });
                }
                let used: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO quota (connection, period, used) VALUES ($1, $2, $3) \
                     ON CONFLICT (connection, period) DO UPDATE SET used = quota.used + excluded.used \
                     WHERE quota.used + excluded.used <= $4 RETURNING used",
                )
                .bind(connection)
                .bind(window)
                .bind(amount)
                .bind(limit)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("quota_consume"))?;
                match used {
                    Some(used) => Ok(QuotaGrant { granted: true, used: u64::try_from(used).unwrap_or_default() }),
                    None => Ok(QuotaGrant { granted: false, used: self.quota_used(connection, window).await? }),
                }
            }

            async fn quota_used(&self, connection: &str, window: &str) -> StoreResult<u64> {
                let used: Option<i64> =
                    sqlx::query_scalar("SELECT used FROM quota WHERE connection = $1 AND period = $2")
                        .bind(connection)
                        .bind(window)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(query_error("quota_used"))?;
                Ok(used.map_or(0, |used| u64::try_from(used).unwrap_or_default()))
            }

            async fn idempotency_claim(
                &self,
                scope: &str,
                key: &str,
                request_hash: &str,
                holder: &str,
                ttl: Duration,
            ) -> StoreResult<IdempotencyClaim> {
                // A release between the failed claim and the read below leaves no row: claim again.
                for _ in 0..3 {
                    let at = now();
                    let won: Option<String> = sqlx::query_scalar(
                        "INSERT INTO idempotency_key \
                         (scope, key, request_hash, holder, expires_at, response, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, NULL, $6, $6) \
                         ON CONFLICT (scope, key) DO UPDATE SET holder = excluded.holder, \
                         expires_at = excluded.expires_at, updated_at = excluded.updated_at \
                         WHERE idempotency_key.response IS NULL \
                         AND idempotency_key.request_hash = excluded.request_hash \
                         AND (idempotency_key.expires_at <= $6 OR idempotency_key.holder = excluded.holder) \
                         RETURNING holder",
                    )
                    .bind(scope)
                    .bind(key)
                    .bind(request_hash)
                    .bind(holder)
                    .bind(at.saturating_add(ttl_millis(ttl)))
                    .bind(at)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("idempotency_claim"))?;
                    if won.is_some() {
                        return Ok(IdempotencyClaim::Claimed);
                    }
                    let row = sqlx::query(
                        "SELECT request_hash, holder, expires_at, response, created_at FROM idempotency_key \
                         WHERE scope = $1 AND key = $2",
                    )
                    .bind(scope)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("idempotency_claim"))?;
                    let Some(row) = row else { continue };
                    let response: Option<String> = row.try_get(3).map_err(query_error("idempotency_claim"))?;
                    return Ok(IdempotencyClaim::Taken(IdempotencyRecord {
                        scope: scope.to_owned(),
                        key: key.to_owned(),
                        request_hash: row.try_get(0).map_err(query_error("idempotency_claim"))?,
                        holder: row.try_get(1).map_err(query_error("idempotency_claim"))?,
                        expires_at: timestamp(row.try_get(2).map_err(query_error("idempotency_claim"))?),
                        response: response
                            .map(|text| json_parse(&text, "idempotency response"))
                            .transpose()?,
                        created_at: timestamp(row.try_get(4).map_err(query_error("idempotency_claim"))?),
                    }));
                }
                // Claimed and released again on every look: other workers are busy with it.
                Ok(IdempotencyClaim::Taken(IdempotencyRecord {
                    scope: scope.to_owned(),
                    key: key.to_owned(),
                    request_hash: request_hash.to_owned(),
                    holder: Some("another worker".to_owned()),
                    expires_at: Utc::now(),
                    response: None,
                    created_at: Utc::now(),
                }))
            }

            async fn idempotency_complete(
                &self,
                scope: &str,
                key: &str,
                holder: &str,
                response: &serde_json::Value,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE idempotency_key SET response = $1, holder = NULL, updated_at = $2 \
                     WHERE scope = $3 AND key = $4 AND holder = $5 AND response IS NULL",
                )
                .bind(json_text(response))
                .bind(now())
                .bind(scope)
                .bind(key)
                .bind(holder)
                .execute(&self.pool)
                .await
                .map_err(query_error("idempotency_complete"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn idempotency_release(&self, scope: &str, key: &str, holder: &str) -> StoreResult<()> {
                sqlx::query(
                    "DELETE FROM idempotency_key WHERE scope = $1 AND key = $2 AND holder = $3 AND response IS NULL",
                )
                .bind(scope)
                .bind(key)
                .bind(holder)
                .execute(&self.pool)
                .await
                .map_err(query_error("idempotency_release"))?;
                Ok(())
            }
            }
        }
    };
}
pub(crate) use sql_coordination;
