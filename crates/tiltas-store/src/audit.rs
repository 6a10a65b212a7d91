//! The audit log ([`AuditLog`]): who did which admin action, to what, when and from where.
//! Its own table, never purged by activity retention.
use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An admin action to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// Who: the API key's name, or `cli:USER` for the command line.
    pub actor: String,
    /// What, e.g. `key.created`, `connection.disabled`, `dead_letter.retried` (see [`actions`]).
    pub action: String,
    /// On what: a key id, a connection, a flow, a dead letter id, an e-mail's hash.
    pub target: String,
    /// Particulars of the action (JSON; never a secret).
    pub detail: serde_json::Value,
    /// From where: the client address, or `cli`.
    pub origin: String,
}

/// A recorded admin action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its id (increasing: the order actions were recorded in).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (see [`NewAuditEntry::actor`]).
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Particulars.
    pub detail: serde_json::Value,
    /// From where.
    pub origin: String,
}

/// Which audit entries to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries with a smaller id (the next page after the last id seen).
    pub before: Option<i64>,
    /// At most this many (0 = no limit).
    pub limit: u32,
}

/// The names of the actions Tiltas records, so every recorder spells them alike.
pub mod actions {
    /// An API key was created.
    pub const KEY_CREATED: &str = "key.created";
    /// An API key was revoked.
    pub const KEY_REVOKED: &str = "key.revoked";
    /// A connection was switched on.
    pub const CONNECTION_ENABLED: &str = "connection.enabled";
    /// A connection was switched off.
    pub const CONNECTION_DISABLED: &str = "connection.disabled";
    /// A connection was tested.
    pub const CONNECTION_TESTED: &str = "connection.tested";
    /// A connection's secret was set in the store.
    pub const SECRET_SET: &str = "secret.set";
    /// A dead letter's payload was edited.
    pub const DEAD_LETTER_EDITED: &str = "dead_letter.edited";
    /// A dead letter was retried.
    pub const DEAD_LETTER_RETRIED: &str = "dead_letter.retried";
    /// Open dead letters were replayed in bulk.
    pub const DEAD_LETTERS_REPLAYED: &str = "dead_letters.replayed";
    /// A flow was run by hand.
    pub const FLOW_RUN: &str = "flow.run";
    /// A person's data was erased.
    pub const PERSON_FORGOTTEN: &str = "person.forgotten";
}

/// The audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Records an admin action now; returns its id.
    async fn audit_record(&self, entry: &NewAuditEntry) -> StoreResult<i64>;

    /// Recorded actions matching a filter, newest first.
    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
}

/// Implements [`AuditLog`] for `$store` (a struct with a `pool: sqlx::Pool<$db>` field).
macro_rules! sql_audit_log {
    ($store:ident, $db:ty) => {
        mod audit_implementation {
            use super::$store;
            use sqlx::{QueryBuilder, Row};
            use $crate::sql::{json_parse, json_text, millis, timestamp};
            use $crate::{AuditEntry, AuditFilter, AuditLog, NewAuditEntry, StoreError, StoreResult};

            fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
                move |source| StoreError::Query { operation, source }
            }

            fn entry_from_row(row: &<$db as sqlx::Database>::Row) -> StoreResult<AuditEntry> {
                Ok(AuditEntry {
                    id: row.try_get(0).map_err(query_error("audit_entries"))?,
                    at: timestamp(row.try_get(1).map_err(query_error("audit_entries"))?),
                    actor: row.try_get(2).map_err(query_error("audit_entries"))?,
                    action: row.try_get(3).map_err(query_error("audit_entries"))?,
                    target: row.try_get(4).map_err(query_error("audit_entries"))?,
                    detail: json_parse(
                        &row.try_get::<String, _>(5)
                            .map_err(query_error("audit_entries"))?,
                        "audit detail",
                    )?,
                    origin: row.try_get(6).map_err(query_error("audit_entries"))?,
                })
            }

            #[async_trait::async_trait]
            impl AuditLog for $store {
                async fn audit_record(&self, entry: &NewAuditEntry) -> StoreResult<i64> {
                    sqlx::query_scalar(
                        "INSERT INTO audit (at, actor, action, target, detail, origin) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(millis(chrono::Utc::now()))
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&entry.target)
                    .bind(json_text(&entry.detail))
                    .bind(&entry.origin)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(query_error("audit_record"))
                }

                async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
                    let mut query = QueryBuilder::<$db>::new(
                        "SELECT id, at, actor, action, target, detail, origin FROM audit WHERE 1 = 1",
                    );
                    if let Some(action) = &filter.action {
                        query.push(" AND action = ").push_bind(action.clone());
                    }
                    if let Some(actor) = &filter.actor {
                        query.push(" AND actor = ").push_bind(actor.clone());
                    }
                    if let Some(since) = filter.since {
                        query.push(" AND at >= ").push_bind(millis(since));
                    }
                    if let Some(before) = filter.before {
                        query.push(" AND id < ").push_bind(before);
                    }
                    query.push(" ORDER BY id DESC");
                    if filter.limit > 0 {
                        query.push(" LIMIT ").push_bind(i64::from(filter.limit));
                    }
                    let rows = query
                        .build()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(query_error("audit_entries"))?;
                    rows.iter().map(entry_from_row).collect()
                }
            }
        }
    };
}
pub(crate) use sql_audit_log;
