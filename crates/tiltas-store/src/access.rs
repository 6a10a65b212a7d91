//! Access ([`Access`]): the hub's API keys, and credentials a connection obtained at run time
//! (OAuth tokens), sealed.
use crate::*;
use async_trait::async_trait;

/// API keys to the hub, and credentials connections obtained at run time.
#[async_trait]
pub trait Access: Send + Sync {
    /// Stores a new API key by its hash (see [`hash_api_key`]).
    async fn api_key_create(&self, key: &NewApiKey) -> StoreResult<i64>;

    /// The live (not revoked) key with this hash, expired or not (the caller tells an expired
    /// key by its `expires_at`, to say so).
    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;

    /// Every key, revoked ones included, newest first.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>>;

    /// Revokes a key; false when no live key has this id.
    async fn api_key_revoke(&self, id: i64) -> StoreResult<bool>;

    /// Notes that a key was used at `at` (the server calls it at most once a minute per key).
    async fn api_key_touch(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()>;

    /// The sealed (encrypted) value `name` of `connection`, as the engine stored it.
    async fn credential(&self, connection: &str, name: &str) -> StoreResult<Option<String>>;

    /// Keeps a sealed value, replacing the one before; committed on return.
    async fn credential_put(&self, connection: &str, name: &str, sealed: &str) -> StoreResult<()>;

    /// Forgets every value of `connection` (a connection removed or authorised anew); how many.
    async fn credentials_forget(&self, connection: &str) -> StoreResult<u64>;
}

/// Implements [`Access`] for a SQL store (`$db`: its sqlx database).
macro_rules! sql_access {
    ($store:ident, $db:ty, $backend:expr) => {
        mod access_implementation {
            use super::$store;
            use $crate::sql::*;
            use $crate::*;
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use sqlx::Row;

            fn api_key_from_row(row: &<$db as sqlx::Database>::Row) -> StoreResult<ApiKey> {
                Ok(ApiKey {
                    id: row.try_get(0).map_err(query_error("api_keys"))?,
                    name: row.try_get(1).map_err(query_error("api_keys"))?,
                    scope: enum_parse(&row.try_get::<String, _>(2).map_err(query_error("api_keys"))?, "API key scope")?,
                    created_at: timestamp(row.try_get(3).map_err(query_error("api_keys"))?),
                    revoked_at: row.try_get::<Option<i64>, _>(4).map_err(query_error("api_keys"))?.map(timestamp),
                    expires_at: row.try_get::<Option<i64>, _>(5).map_err(query_error("api_keys"))?.map(timestamp),
                    last_used_at: row.try_get::<Option<i64>, _>(6).map_err(query_error("api_keys"))?.map(timestamp),
                })
            }

            #[async_trait]
            impl Access for $store {
            async fn api_key_create(&self, key: &NewApiKey) -> StoreResult<i64> {
                sqlx::query_scalar(
                    "INSERT INTO api_key (name, scope, key_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&key.name)
                .bind(enum_text(&key.scope))
                .bind(&key.key_hash)
                .bind(now())
                .bind(key.expires_at.map(millis))
                .fetch_one(&self.pool)
                .await
                .map_err(query_error("api_key_create"))
            }

            async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
                let row = sqlx::query(
                    "SELECT id, name, scope, created_at, revoked_at, expires_at, last_used_at FROM api_key \
                     WHERE key_hash = $1 AND revoked_at IS NULL",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("api_key_by_hash"))?;
                row.as_ref().map(api_key_from_row).transpose()
            }

            async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
                let rows = sqlx::query("SELECT id, name, scope, created_at, revoked_at, expires_at, last_used_at FROM api_key ORDER BY id DESC")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("api_keys"))?;
                rows.iter().map(api_key_from_row).collect()
            }

            async fn api_key_revoke(&self, id: i64) -> StoreResult<bool> {
                let revoked = sqlx::query("UPDATE api_key SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now())
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("api_key_revoke"))?;
                Ok(revoked.rows_affected() == 1)
            }

            async fn api_key_touch(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE api_key SET last_used_at = $1 WHERE id = $2")
                    .bind(millis(at))
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("api_key_touch"))?;
                Ok(())
            }

            async fn credential(&self, connection: &str, name: &str) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT sealed FROM credential WHERE connection = $1 AND name = $2")
                    .bind(connection)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("credential"))
            }

            async fn credential_put(&self, connection: &str, name: &str, sealed: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO credential (connection, name, sealed, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (connection, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
                )
                .bind(connection)
                .bind(name)
                .bind(sealed)
                .bind(now())
                .execute(&self.pool)
                .await
                .map_err(query_error("credential_put"))?;
                Ok(())
            }

            async fn credentials_forget(&self, connection: &str) -> StoreResult<u64> {
                let forgotten = sqlx::query("DELETE FROM credential WHERE connection = $1")
                    .bind(connection)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("credentials_forget"))?;
                Ok(forgotten.rows_affected())
            }
            }
        }
    };
}
pub(crate) use sql_access;
