//! Forgetting a person ([`Forget`]): their e-mail, names, phone numbers and addresses erased
//! from every stored payload (activity payloads, dead letters, webhook bodies, unsettled write
//! intents), keeping the rows, ids, amounts and counters. See [`crate::erase`] for what counts
//! as personal data.
use crate::StoreResult;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What was (or, in a dry run, would be) erased in one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedRows {
    /// Rows that held the person's data.
    pub rows: u64,
    /// Values replaced by `"[erased]"` in them.
    pub values: u64,
}

/// What forgetting a person removed, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    /// Activity payloads (the record as read, as sent, and the target's answer).
    pub activity_payloads: ErasedRows,
    /// Dead letters (payload and message).
    pub dead_letters: ErasedRows,
    /// Webhook deliveries in the inbox (body and error).
    pub inbox: ErasedRows,
    /// Write intents not yet settled (their payload).
    pub outbox: ErasedRows,
    /// Whether nothing was changed (a dry run).
    pub dry_run: bool,
}

impl ErasureReport {
    /// Values erased in all tables.
    pub fn values(&self) -> u64 {
        self.activity_payloads.values + self.dead_letters.values + self.inbox.values + self.outbox.values
    }

    /// Rows touched in all tables.
    pub fn rows(&self) -> u64 {
        self.activity_payloads.rows + self.dead_letters.rows + self.inbox.rows + self.outbox.rows
    }
}

/// Erasing one person's data from the store.
#[async_trait]
pub trait Forget: Send + Sync {
    /// Erases the personal data of the person with this e-mail address (matched
    /// case-insensitively anywhere in a stored JSON document) in one transaction; with
    /// `dry_run`, reports the same counts and changes nothing.
    async fn forget_person(&self, email: &str, dry_run: bool) -> StoreResult<ErasureReport>;
}

/// A `LIKE` pattern matching `text` anywhere (`\` escapes `%` and `_`, common in addresses).
pub(crate) fn like_anywhere(text: &str) -> String {
    let mut pattern = String::from("%");
    for character in text.trim().to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// Erases the person from one stored text: JSON when it parses, else plain text. Returns the
/// new text and how many values changed, or `None` when nothing did.
pub(crate) fn erase_stored(text: &str, email: &str) -> Option<(String, u64)> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut document) => {
            let erased = crate::erase::erase_person(&mut document, email);
            (erased > 0).then(|| (document.to_string(), erased))
        }
        Err(_) => crate::erase::erase_in_text(text, email).map(|erased| (erased, 1)),
    }
}

/// Implements [`Forget`] for `$store` (a struct with a `pool: sqlx::Pool<$db>` field).
macro_rules! sql_forget {
    ($store:ident, $db:ty) => {
        mod forget_implementation {
            use super::$store;
            use sqlx::Row;
            use $crate::forget::{erase_stored, like_anywhere};
            use $crate::{ErasedRows, ErasureReport, Forget, StoreError, StoreResult};

            type Connection = <$db as sqlx::Database>::Connection;

            fn query_error(source: sqlx::Error) -> StoreError {
                StoreError::Query {
                    operation: "forget_person",
                    source,
                }
            }

            /// Erases the person from the text columns `columns` of `table` (rows keyed by
            /// `key`, an integer column when `integer_key`, else text) that mention them.
            async fn erase_table(
                conn: &mut Connection,
                table: &str,
                (key, integer_key): (&str, bool),
                columns: &[&str],
                email: &str,
            ) -> StoreResult<ErasedRows> {
                let matches = columns
                    .iter()
                    .map(|column| format!("lower({column}) LIKE $1 ESCAPE '\\'"))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                let select = format!(
                    "SELECT CAST({key} AS TEXT), {} FROM {table} WHERE {matches}",
                    columns.join(", ")
                );
                let rows = sqlx::query(&select)
                    .bind(like_anywhere(email))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(query_error)?;
                let mut erased = ErasedRows::default();
                for row in &rows {
                    let id: String = row.try_get(0).map_err(query_error)?;
                    let mut row_values = 0;
                    for (index, column) in columns.iter().enumerate() {
                        let Some(text) = row.try_get::<Option<String>, _>(index + 1).map_err(query_error)? else {
                            continue;
                        };
                        let Some((new_text, values)) = erase_stored(&text, email) else {
                            continue;
                        };
                        // The key's own type, so the update finds the row by its index.
                        let update = format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2");
                        let update = sqlx::query(&update).bind(new_text);
                        let update = match id.parse::<i64>() {
                            Ok(number) if integer_key => update.bind(number),
                            _ => update.bind(id.clone()),
                        };
                        update.execute(&mut *conn).await.map_err(query_error)?;
                        row_values += values;
                    }
                    if row_values > 0 {
                        erased.rows += 1;
                        erased.values += row_values;
                    }
                }
                Ok(erased)
            }

            #[async_trait::async_trait]
            impl Forget for $store {
                async fn forget_person(&self, email: &str, dry_run: bool) -> StoreResult<ErasureReport> {
                    let mut transaction = self.pool.begin().await.map_err(query_error)?;
                    // Write first: SQLite cannot turn a transaction that has read into a writing
                    // one once another connection wrote meanwhile (SQLITE_BUSY_SNAPSHOT), so
                    // take the write lock before reading. A statement that matches no row does.
                    sqlx::query("UPDATE audit SET actor = actor WHERE 1 = 0")
                        .execute(&mut *transaction)
                        .await
                        .map_err(query_error)?;
                    let activity_columns = ["source_payload", "sent_payload", "response"];
                    let report = ErasureReport {
                        activity_payloads: erase_table(
                            &mut transaction,
                            "activity",
                            ("id", true),
                            &activity_columns,
                            email,
                        )
                        .await?,
                        dead_letters: erase_table(
                            &mut transaction,
                            "dead_letter",
                            ("id", true),
                            &["payload", "message"],
                            email,
                        )
                        .await?,
                        inbox: erase_table(&mut transaction, "inbox", ("id", true), &["body", "error"], email).await?,
                        outbox: erase_table(&mut transaction, "outbox", ("id", true), &["payload"], email).await?,
                        dry_run,
                    };
                    if dry_run {
                        transaction.rollback().await.map_err(query_error)?;
                    } else {
                        transaction.commit().await.map_err(query_error)?;
                    }
                    Ok(report)
                }
            }
        }
    };
}
pub(crate) use sql_forget;
