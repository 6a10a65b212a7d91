//! Sealed credentials as a whole: the listing `tiltas secrets list` shows and the one
//! transaction `tiltas secrets rotate-master` re-seals them all in. The rows are those of the
//! `credential` table (run-time tokens and stored connection secrets alike); the store only ever
//! holds them sealed.
use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// One sealed credential as kept: never a value in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCredential {
    /// The connection it belongs to.
    pub connection: String,
    /// Its name within the connection.
    pub name: String,
    /// The value as sealed by the engine.
    pub sealed: String,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

/// One credential sealed again under a new key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resealed {
    /// The connection it belongs to.
    pub connection: String,
    /// Its name within the connection.
    pub name: String,
    /// The sealed value it must still hold (read before re-sealing).
    pub old: String,
    /// The value sealed under the new key.
    pub new: String,
}

/// Every sealed credential at once.
#[async_trait]
pub trait SealedCredentials: Send + Sync {
    /// Every credential, by connection and name.
    async fn credentials_all(&self) -> StoreResult<Vec<SealedCredential>>;

    /// Replaces every listed value in one transaction, each only while it still holds `old`:
    /// a value written meanwhile (a refresh token rotated by a running worker) undoes them all,
    /// reported as [`StoreError::Changed`](crate::StoreError::Changed). Returns how many were
    /// replaced.
    async fn credentials_reseal(&self, entries: &[Resealed]) -> StoreResult<u64>;
}

/// Implements [`SealedCredentials`] for `$store` (a struct with a `pool: sqlx::Pool<$db>`).
macro_rules! sealed_credentials {
    ($store:ident, $db:ty) => {
        mod sealed_credentials {
            use super::$store;
            use sqlx::Row;
            use $crate::sealed::{Resealed, SealedCredential, SealedCredentials};
            use $crate::sql::{millis, timestamp};
            use $crate::{StoreError, StoreResult};

            fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
                move |source| StoreError::Query { operation, source }
            }

            #[async_trait::async_trait]
            impl SealedCredentials for $store {
                async fn credentials_all(&self) -> StoreResult<Vec<SealedCredential>> {
                    let rows = sqlx::query(
                        "SELECT connection, name, sealed, updated_at FROM credential ORDER BY connection, name",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("credentials_all"))?;
                    rows.iter()
                        .map(|row| {
                            Ok(SealedCredential {
                                connection: row.try_get("connection")?,
                                name: row.try_get("name")?,
                                sealed: row.try_get("sealed")?,
                                updated_at: timestamp(row.try_get("updated_at")?),
                            })
                        })
                        .collect::<Result<_, sqlx::Error>>()
                        .map_err(query_error("credentials_all"))
                }

                async fn credentials_reseal(&self, entries: &[Resealed]) -> StoreResult<u64> {
                    let now = millis(chrono::Utc::now());
                    let mut tx = self
                        .pool
                        .begin()
                        .await
                        .map_err(query_error("credentials_reseal"))?;
                    for entry in entries {
                        let replaced = sqlx::query(
                            "UPDATE credential SET sealed = $1, updated_at = $2 \
                             WHERE connection = $3 AND name = $4 AND sealed = $5",
                        )
                        .bind(&entry.new)
                        .bind(now)
                        .bind(&entry.connection)
                        .bind(&entry.name)
                        .bind(&entry.old)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_error("credentials_reseal"))?;
                        if replaced.rows_affected() != 1 {
                            // Dropping the transaction rolls every earlier update back.
                            return Err(StoreError::Changed {
                                what: "credential",
                                id: format!("{}/{}", entry.connection, entry.name),
                            });
                        }
                    }
                    tx.commit().await.map_err(query_error("credentials_reseal"))?;
                    Ok(entries.len() as u64)
                }
            }
        }
    };
}

pub(crate) use sealed_credentials;
