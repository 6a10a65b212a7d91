//! The one SQL implementation of [`Store`](crate::Store), instantiated for SQLite and PostgreSQL.
//!
//! Both schemas hold only integers and text (UTC milliseconds, UUIDs and JSON as text), and the
//! statements use `$N` placeholders and `ON CONFLICT … DO UPDATE … RETURNING`, which both
//! databases understand, so one body serves both. It is a macro rather than generic code
//! because sqlx's generic executor bounds would bury every query under trait clauses; each
//! expansion is ordinary code for one concrete database.
use crate::{Backend, StoreError, StoreResult};
use chrono::{DateTime, TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Rows per multi-row statement: far below SQLite's and PostgreSQL's bind-parameter limits.
pub(crate) const CHUNK: usize = 500;

/// A timestamp as stored.
pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A stored timestamp.
pub(crate) fn timestamp(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis).single().unwrap_or_default()
}

/// The stored name of an enum value (its serde name, as in the API).
pub(crate) fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => format!("{other:?}"),
    }
}

/// Reads a stored enum name back.
pub(crate) fn enum_parse<T: DeserializeOwned>(text: &str, what: &'static str) -> StoreResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| StoreError::Corrupt {
        what,
        detail: format!("unknown value {text:?}"),
    })
}

/// Reads a stored hub id back.
pub(crate) fn hub_id_parse(text: &str) -> StoreResult<crate::HubId> {
    text.parse().map_err(|_| StoreError::Corrupt {
        what: "hub id",
        detail: format!("{text:?} is not a UUID"),
    })
}

/// Stored JSON text.
pub(crate) fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

/// Names the store operation a database error happened in.
pub(crate) fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { operation, source }
}

/// The time now, as the store keeps times (milliseconds since the epoch, UTC).
pub(crate) fn now() -> i64 {
    millis(Utc::now())
}

/// A duration in milliseconds, as the store keeps them.
pub(crate) fn ttl_millis(ttl: std::time::Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

/// A count as the store's signed integers.
pub(crate) fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Reads stored JSON text back.
/// `SELECT columns FROM table` for a look-up by key list (page-sized lists of keys), whose
/// rows [`sql_store`]'s `key_list_rows` reads. On SQLite the rows come back as one JSON array
/// (`json_group_array`): its driver hands each row from its worker thread to the caller as a
/// message of its own, and 500 such hand-overs cost a page's look-up more than the look-up
/// itself (docs/benchmarks.md, sixth session).
pub(crate) fn key_list_head(backend: Backend, columns: &str, table: &str) -> String {
    match backend {
        Backend::Sqlite => format!("SELECT json_group_array(json_array({columns})) FROM {table}"),
        Backend::Postgres => format!("SELECT {columns} FROM {table}"),
    }
}

pub(crate) fn json_parse(text: &str, what: &'static str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        what,
        detail: error.to_string(),
    })
}

/// Keeps the last of several entries with the same key, in first-seen order: one multi-row
/// upsert may not touch a row twice.
pub(crate) fn last_per_key<T: Clone, K: Eq + std::hash::Hash>(items: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut index: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    let mut kept: Vec<T> = Vec::new();
    for item in items {
        match index.get(&key(item)) {
            Some(&position) => kept[position] = item.clone(),
            None => {
                index.insert(key(item), kept.len());
                kept.push(item.clone());
            }
        }
    }
    kept
}

/// Implements `Store` for `$store` (a struct with a `pool: sqlx::Pool<$db>` field).
macro_rules! sql_store {
    ($store:ident, $db:ty, $backend:expr) => {
        mod implementation {
        use super::$store;
        use $crate::sql::{
            count, enum_parse, enum_text, hub_id_parse, json_parse, json_text, key_list_head, last_per_key, millis,
            now, query_error, timestamp, CHUNK,
        };
        use $crate::*;
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use sqlx::{QueryBuilder, Row};
        use std::collections::HashMap;
        use tiltas_model::EntityKind;

        type Connection = <$db as sqlx::Database>::Connection;



        /// The rows of a look-up by key list begun with [`key_list_head`], each as a tuple of
        /// its columns.
        async fn key_list_rows<T>(
            pool: &sqlx::Pool<$db>,
            mut query: QueryBuilder<'_, $db>,
            operation: &'static str,
        ) -> StoreResult<Vec<T>>
        where
            T: serde::de::DeserializeOwned + for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
        {
            let rows = query.build().fetch_all(pool).await.map_err(query_error(operation))?;
            if $backend == Backend::Sqlite {
                let Some(row) = rows.first() else {
                    return Ok(Vec::new());
                };
                let aggregated: String = row.try_get(0).map_err(query_error(operation))?;
                return serde_json::from_str(&aggregated).map_err(|error| StoreError::Corrupt {
                    what: operation,
                    detail: error.to_string(),
                });
            }
            rows.iter().map(|row| T::from_row(row).map_err(query_error(operation))).collect()
        }

        async fn put_hashes(conn: &mut Connection, flow: &str, entries: &[DeliveredHash]) -> StoreResult<()> {
            let entries = last_per_key(entries, |entry| entry.source_key.clone());
            for chunk in entries.chunks(CHUNK) {
                let mut query =
                    QueryBuilder::<$db>::new("INSERT INTO delivered_hash (flow, source_key, hash, source_hash) ");
                query.push_values(chunk, |mut row, entry| {
                    row.push_bind(flow)
                        .push_bind(&entry.source_key)
                        .push_bind(&entry.hash)
                        .push_bind(&entry.source_hash);
                });
                query.push(
                    " ON CONFLICT (flow, source_key) DO UPDATE SET hash = excluded.hash, source_hash = excluded.source_hash",
                );
                query.build().execute(&mut *conn).await.map_err(query_error("put_delivered_hashes"))?;
            }
            Ok(())
        }

        async fn upsert_xrefs(conn: &mut Connection, links: &[XrefLink]) -> StoreResult<()> {
            let links = last_per_key(links, |link| (link.entity, link.connection.clone(), link.external_id.clone()));
            let at = now();
            for chunk in links.chunks(CHUNK) {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO xref (entity, connection, external_id, hub_id, last_hash, updated_at) ",
                );
                query.push_values(chunk, |mut row, link| {
                    row.push_bind(link.entity.as_str())
                        .push_bind(&link.connection)
                        .push_bind(&link.external_id)
                        .push_bind(link.hub_id.to_string())
                        .push_bind(&link.last_hash)
                        .push_bind(at);
                });
                query.push(
                    " ON CONFLICT (entity, connection, external_id) DO UPDATE SET hub_id = excluded.hub_id, \
                     last_hash = COALESCE(excluded.last_hash, xref.last_hash), updated_at = excluded.updated_at",
                );
                query.build().execute(&mut *conn).await.map_err(query_error("xref_upsert"))?;
            }
            Ok(())
        }

        /// Settled intents leave the outbox: what happened to each record is in the activity
        /// log and the identity map, and the outbox stays as small as the writes in flight.
        async fn settle_intents(conn: &mut Connection, settlements: &[IntentSettlement]) -> StoreResult<()> {
            for chunk in settlements.chunks(CHUNK) {
                let mut query = QueryBuilder::<$db>::new("DELETE FROM outbox WHERE id IN (");
                let mut separated = query.separated(", ");
                for settlement in chunk {
                    separated.push_bind(settlement.id);
                }
                query.push(")");
                query.build().execute(&mut *conn).await.map_err(query_error("outbox_settle"))?;
            }
            Ok(())
        }

        async fn add_dead_letters(conn: &mut Connection, letters: &[NewDeadLetter]) -> StoreResult<()> {
            let letters = last_per_key(letters, |letter| (letter.flow.clone(), letter.source_key.clone()));
            let at = now();
            for chunk in letters.chunks(CHUNK) {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO dead_letter (flow, run, source_key, class, message, location, field, fix, payload, \
                     attempts, status, created_at, updated_at) ",
                );
                query.push_values(chunk, |mut row, letter| {
                    row.push_bind(&letter.flow)
                        .push_bind(letter.run)
                        .push_bind(&letter.source_key)
                        .push_bind(letter.class.as_str())
                        .push_bind(&letter.message)
                        .push_bind(&letter.location)
                        .push_bind(&letter.field)
                        .push_bind(&letter.fix)
                        .push_bind(json_text(&letter.payload))
                        .push_bind(1_i64)
                        .push_bind("open")
                        .push_bind(at)
                        .push_bind(at);
                });
                query.push(
                    " ON CONFLICT (flow, source_key) WHERE status = 'open' DO UPDATE SET \
                     attempts = dead_letter.attempts + 1, run = excluded.run, class = excluded.class, \
                     message = excluded.message, location = excluded.location, field = excluded.field, \
                     fix = excluded.fix, payload = excluded.payload, updated_at = excluded.updated_at",
                );
                query.build().execute(&mut *conn).await.map_err(query_error("dead_letters_add"))?;
            }
            Ok(())
        }

        async fn resolve_dead_letters(conn: &mut Connection, flow: &str, keys: &[String]) -> StoreResult<u64> {
            let mut resolved = 0;
            let at = now();
            for chunk in keys.chunks(CHUNK) {
                let mut query = QueryBuilder::<$db>::new("UPDATE dead_letter SET status = 'resolved', updated_at = ");
                query.push_bind(at).push(" WHERE status = 'open' AND flow = ").push_bind(flow);
                query.push(" AND source_key IN (");
                let mut separated = query.separated(", ");
                for key in chunk {
                    separated.push_bind(key);
                }
                query.push(")");
                let done = query.build().execute(&mut *conn).await.map_err(query_error("dead_letters_resolve"))?;
                resolved += done.rows_affected();
            }
            Ok(resolved)
        }

        async fn add_activity(conn: &mut Connection, entries: &[NewActivity]) -> StoreResult<()> {
            let at = now();
            for chunk in entries.chunks(CHUNK) {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO activity (run, flow, source_key, outcome, at, source_payload, sent_payload, response) ",
                );
                query.push_values(chunk, |mut row, entry| {
                    row.push_bind(entry.run)
                        .push_bind(&entry.flow)
                        .push_bind(&entry.source_key)
                        .push_bind(enum_text(&entry.outcome))
                        .push_bind(at)
                        .push_bind(entry.source_payload.as_ref().map(json_text))
                        .push_bind(entry.sent_payload.as_ref().map(json_text))
                        .push_bind(entry.response.as_ref().map(json_text));
                });
                query.build().execute(&mut *conn).await.map_err(query_error("activity_add"))?;
            }
            Ok(())
        }

        async fn add_counters(conn: &mut Connection, run: RunId, delta: &RunCounters) -> StoreResult<()> {
            let updated = sqlx::query(
                "UPDATE run SET records_read = records_read + $1, records_unchanged = records_unchanged + $2, \
                 records_created = records_created + $3, records_updated = records_updated + $4, \
                 records_skipped = records_skipped + $5, records_failed = records_failed + $6, \
                 api_calls = api_calls + $7 WHERE id = $8",
            )
            .bind(count(delta.read))
            .bind(count(delta.unchanged))
            .bind(count(delta.created))
            .bind(count(delta.updated))
            .bind(count(delta.skipped))
            .bind(count(delta.failed))
            .bind(count(delta.api_calls))
            .bind(run)
            .execute(&mut *conn)
            .await
            .map_err(query_error("run_add_counters"))?;
            // Counters for a run that was never started would vanish silently: refuse them (in
            // `settle_page` this rolls the whole page back).
            if updated.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "run", id: run.to_string() });
            }
            Ok(())
        }

        async fn save_cursor(conn: &mut Connection, flow: &str, cursor: Option<&str>) -> StoreResult<()> {
            match cursor {
                Some(value) => sqlx::query(
                    "INSERT INTO read_cursor (flow, value) VALUES ($1, $2) \
                     ON CONFLICT (flow) DO UPDATE SET value = excluded.value",
                )
                .bind(flow)
                .bind(value)
                .execute(&mut *conn)
                .await
                .map_err(query_error("set_cursor"))?,
                None => sqlx::query("DELETE FROM read_cursor WHERE flow = $1")
                    .bind(flow)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("set_cursor"))?,
            };
            Ok(())
        }

        const RUN_COLUMNS: &str = "id, flow, mode, status, records_read, records_unchanged, records_created, \
             records_updated, records_skipped, records_failed, api_calls, error, started_at, finished_at";

        fn run_from_row(row: &<$db as sqlx::Database>::Row) -> StoreResult<RunRecord> {
            let get = |index: usize| -> StoreResult<u64> {
                let value: i64 = row.try_get(index).map_err(query_error("runs"))?;
                Ok(u64::try_from(value).unwrap_or_default())
            };
            Ok(RunRecord {
                id: row.try_get(0).map_err(query_error("runs"))?,
                flow: row.try_get(1).map_err(query_error("runs"))?,
                mode: enum_parse(&row.try_get::<String, _>(2).map_err(query_error("runs"))?, "run mode")?,
                status: enum_parse(&row.try_get::<String, _>(3).map_err(query_error("runs"))?, "run status")?,
                counters: RunCounters {
                    read: get(4)?,
                    unchanged: get(5)?,
                    created: get(6)?,
                    updated: get(7)?,
                    skipped: get(8)?,
                    failed: get(9)?,
                    api_calls: get(10)?,
                },
                error: row.try_get(11).map_err(query_error("runs"))?,
                started_at: timestamp(row.try_get(12).map_err(query_error("runs"))?),
                finished_at: row.try_get::<Option<i64>, _>(13).map_err(query_error("runs"))?.map(timestamp),
            })
        }

        const DEAD_LETTER_COLUMNS: &str =
            "id, flow, run, source_key, class, message, payload, attempts, status, created_at, updated_at, \
             location, field, fix";

        fn dead_letter_from_row(row: &<$db as sqlx::Database>::Row) -> StoreResult<DeadLetter> {
            let attempts: i64 = row.try_get(7).map_err(query_error("dead_letters"))?;
            Ok(DeadLetter {
                id: row.try_get(0).map_err(query_error("dead_letters"))?,
                flow: row.try_get(1).map_err(query_error("dead_letters"))?,
                run: row.try_get(2).map_err(query_error("dead_letters"))?,
                source_key: row.try_get(3).map_err(query_error("dead_letters"))?,
                class: enum_parse(&row.try_get::<String, _>(4).map_err(query_error("dead_letters"))?, "failure class")?,
                message: row.try_get(5).map_err(query_error("dead_letters"))?,
                payload: json_parse(
                    &row.try_get::<String, _>(6).map_err(query_error("dead_letters"))?,
                    "dead letter payload",
                )?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                status: enum_parse(
                    &row.try_get::<String, _>(8).map_err(query_error("dead_letters"))?,
                    "dead letter status",
                )?,
                created_at: timestamp(row.try_get(9).map_err(query_error("dead_letters"))?),
                updated_at: timestamp(row.try_get(10).map_err(query_error("dead_letters"))?),
                location: row.try_get(11).map_err(query_error("dead_letters"))?,
                field: row.try_get(12).map_err(query_error("dead_letters"))?,
                fix: row.try_get(13).map_err(query_error("dead_letters"))?,
            })
        }

        fn optional_json(row: &<$db as sqlx::Database>::Row, index: usize) -> StoreResult<Option<serde_json::Value>> {
            let text: Option<String> = row.try_get(index).map_err(query_error("activity_payloads"))?;
            text.map(|text| json_parse(&text, "activity payload")).transpose()
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn schema_version(&self) -> StoreResult<i64> {
                sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(query_error("schema_version"))
            }

            async fn xref_find_by_external(
                &self,
                entity: EntityKind,
                connection: &str,
                external_ids: &[String],
            ) -> StoreResult<HashMap<String, XrefLink>> {
                let mut found = HashMap::new();
                for chunk in external_ids.chunks(CHUNK) {
                    let mut query =
                        QueryBuilder::<$db>::new(key_list_head($backend, "external_id, hub_id, last_hash", "xref"));
                    query.push(" WHERE entity = ").push_bind(entity.as_str());
                    query.push(" AND connection = ").push_bind(connection);
                    query.push(" AND external_id IN (");
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(id);
                    }
                    query.push(")");
                    for (external_id, hub, last_hash) in key_list_rows::<(String, String, Option<String>)>(&self.pool, query, "xref_find_by_external").await? {
                        let hub_id = hub_id_parse(&hub)?;
                        found.insert(
                            external_id.clone(),
                            XrefLink { hub_id, entity, connection: connection.to_owned(), external_id, last_hash },
                        );
                    }
                }
                Ok(found)
            }

            async fn xref_find_by_hub(&self, hub_ids: &[HubId]) -> StoreResult<Vec<XrefLink>> {
                let mut rows: Vec<(String, String, String, String, Option<String>)> = Vec::new();
                for chunk in hub_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(key_list_head(
                        $backend,
                        "hub_id, entity, connection, external_id, last_hash",
                        "xref",
                    ));
                    query.push(" WHERE hub_id IN (");
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(id.to_string());
                    }
                    query.push(")");
                    rows.extend(key_list_rows(&self.pool, query, "xref_find_by_hub").await?);
                }
                // The order the look-up promises, whatever order the rows came back in.
                rows.sort_unstable_by(|a, b| (&a.0, &a.1, &a.2, &a.3).cmp(&(&b.0, &b.1, &b.2, &b.3)));
                rows.into_iter()
                    .map(|(hub, entity, connection, external_id, last_hash)| {
                        Ok(XrefLink {
                            hub_id: hub_id_parse(&hub)?,
                            entity: EntityKind::parse(&entity).ok_or_else(|| StoreError::Corrupt {
                                what: "entity",
                                detail: format!("unknown entity {entity:?}"),
                            })?,
                            connection,
                            external_id,
                            last_hash,
                        })
                    })
                    .collect()
            }

            async fn xref_upsert(&self, links: &[XrefLink]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(query_error("xref_upsert"))?;
                upsert_xrefs(&mut tx, links).await?;
                tx.commit().await.map_err(query_error("xref_upsert"))
            }

            async fn delivered_hashes(
                &self,
                flow: &str,
                source_keys: &[String],
            ) -> StoreResult<HashMap<String, Delivered>> {
                let mut found = HashMap::new();
                for chunk in source_keys.chunks(CHUNK) {
                    let mut query =
                        QueryBuilder::<$db>::new(key_list_head($backend, "source_key, hash, source_hash", "delivered_hash"));
                    query.push(" WHERE flow = ").push_bind(flow).push(" AND source_key IN (");
                    let mut separated = query.separated(", ");
                    for key in chunk {
                        separated.push_bind(key);
                    }
                    query.push(")");
                    for (key, hash, source_hash) in key_list_rows::<(String, String, Option<String>)>(&self.pool, query, "delivered_hashes").await? {
                        found.insert(key, Delivered { hash, source_hash });
                    }
                }
                Ok(found)
            }

            async fn put_delivered_hashes(&self, flow: &str, entries: &[DeliveredHash]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(query_error("put_delivered_hashes"))?;
                put_hashes(&mut tx, flow, entries).await?;
                tx.commit().await.map_err(query_error("put_delivered_hashes"))
            }

            async fn clear_delivered_hashes(&self, flow: &str) -> StoreResult<u64> {
                Ok(sqlx::query("DELETE FROM delivered_hash WHERE flow = $1")
                    .bind(flow)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("clear_delivered_hashes"))?
                    .rows_affected())
            }

            async fn outbox_add(&self, intents: &[NewIntent]) -> StoreResult<Vec<i64>> {
                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin().await.map_err(query_error("outbox_add"))?;
                let at = now();
                // Ids by source key, ascending: a multi-row RETURNING promises no order, but each
                // key's ids were assigned in input order within the statement.
                let mut assigned: HashMap<String, std::collections::VecDeque<i64>> = HashMap::new();
                for chunk in intents.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "INSERT INTO outbox (flow, run, source_key, connection, operation, payload_hash, payload, \
                         match_key, created_at) ",
                    );
                    query.push_values(chunk, |mut row, intent| {
                        row.push_bind(&intent.flow)
                            .push_bind(intent.run)
                            .push_bind(&intent.source_key)
                            .push_bind(&intent.connection)
                            .push_bind(enum_text(&intent.operation))
                            .push_bind(&intent.payload_hash)
                            .push_bind("")
                            .push_bind(&intent.match_key)
                            .push_bind(at);
                    });
                    query.push(" RETURNING id, source_key");
                    let rows = query.build().fetch_all(&mut *tx).await.map_err(query_error("outbox_add"))?;
                    let mut returned: Vec<(i64, String)> = rows
                        .iter()
                        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                        .collect::<Result<_, sqlx::Error>>()
                        .map_err(query_error("outbox_add"))?;
                    returned.sort();
                    for (id, key) in returned {
                        assigned.entry(key).or_default().push_back(id);
                    }
                }
                tx.commit().await.map_err(query_error("outbox_add"))?;
                intents
                    .iter()
                    .map(|intent| {
                        assigned.get_mut(&intent.source_key).and_then(|ids| ids.pop_front()).ok_or_else(|| {
                            StoreError::Corrupt {
                                what: "outbox id",
                                detail: format!("no id returned for {}", intent.source_key),
                            }
                        })
                    })
                    .collect()
            }

            async fn outbox_unsettled(&self, flow: &str) -> StoreResult<Vec<Intent>> {
                let rows = sqlx::query(
                    "SELECT id, flow, run, source_key, connection, operation, payload_hash, payload, created_at, \
                     match_key FROM outbox WHERE flow = $1 AND settled_at IS NULL ORDER BY id",
                )
                .bind(flow)
                .fetch_all(&self.pool)
                .await
                .map_err(query_error("outbox_unsettled"))?;
                rows.iter()
                    .map(|row| {
                        let error = || query_error("outbox_unsettled");
                        Ok(Intent {
                            id: row.try_get(0).map_err(error())?,
                            intent: NewIntent {
                                flow: row.try_get(1).map_err(error())?,
                                run: row.try_get(2).map_err(error())?,
                                source_key: row.try_get(3).map_err(error())?,
                                connection: row.try_get(4).map_err(error())?,
                                operation: enum_parse(
                                    &row.try_get::<String, _>(5).map_err(error())?,
                                    "write operation",
                                )?,
                                payload_hash: row.try_get(6).map_err(error())?,
                                match_key: row.try_get(9).map_err(error())?,
                            },
                            legacy_payload: match row.try_get::<String, _>(7).map_err(error())?.as_str() {
                                "" => None,
                                text => Some(json_parse(text, "intent payload")?),
                            },
                            created_at: timestamp(row.try_get(8).map_err(error())?),
                        })
                    })
                    .collect()
            }

            async fn outbox_settle(&self, settlements: &[IntentSettlement]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(query_error("outbox_settle"))?;
                settle_intents(&mut tx, settlements).await?;
                tx.commit().await.map_err(query_error("outbox_settle"))
            }

            async fn cursor(&self, flow: &str) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT value FROM read_cursor WHERE flow = $1")
                    .bind(flow)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("cursor"))
            }

            async fn set_cursor(&self, flow: &str, cursor: Option<&str>) -> StoreResult<()> {
                let mut conn = self.pool.acquire().await.map_err(query_error("set_cursor"))?;
                save_cursor(&mut conn, flow, cursor).await
            }

            async fn settle_page(&self, page: &PageSettlement) -> StoreResult<()> {
                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin().await.map_err(query_error("settle_page"))?;
                put_hashes(&mut tx, &page.flow, &page.delivered).await?;
                upsert_xrefs(&mut tx, &page.xrefs).await?;
                settle_intents(&mut tx, &page.intents).await?;
                resolve_dead_letters(&mut tx, &page.flow, &page.resolved_keys).await?;
                add_dead_letters(&mut tx, &page.dead_letters).await?;
                add_activity(&mut tx, &page.activity).await?;
                if let Some(run) = page.run {
                    add_counters(&mut tx, run, &page.counters).await?;
                }
                if let Some(cursor) = &page.cursor {
                    save_cursor(&mut tx, &page.flow, Some(cursor)).await?;
                }
                tx.commit().await.map_err(query_error("settle_page"))?;
                self.settled(page.delivered.len() as u64);
                Ok(())
            }

            async fn run_start(&self, flow: &str, mode: RunMode) -> StoreResult<RunId> {
                sqlx::query_scalar(
                    "INSERT INTO run (flow, mode, status, started_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(flow)
                .bind(enum_text(&mode))
                .bind(enum_text(&RunStatus::Running))
                .bind(now())
                .fetch_one(&self.pool)
                .await
                .map_err(query_error("run_start"))
            }

            async fn run_add_counters(&self, run: RunId, delta: &RunCounters) -> StoreResult<()> {
                let mut conn = self.pool.acquire().await.map_err(query_error("run_add_counters"))?;
                add_counters(&mut conn, run, delta).await
            }

            async fn run_finish(&self, run: RunId, status: RunStatus, error: Option<&str>) -> StoreResult<()> {
                let finished = sqlx::query("UPDATE run SET status = $1, error = $2, finished_at = $3 WHERE id = $4")
                    .bind(enum_text(&status))
                    .bind(error)
                    .bind(now())
                    .bind(run)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("run_finish"))?;
                if finished.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "run", id: run.to_string() });
                }
                Ok(())
            }

            async fn run(&self, run: RunId) -> StoreResult<Option<RunRecord>> {
                let row = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM run WHERE id = $1"))
                    .bind(run)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("run"))?;
                row.as_ref().map(run_from_row).transpose()
            }

            async fn runs(&self, flow: Option<&str>, limit: u32) -> StoreResult<Vec<RunRecord>> {
                let mut query = QueryBuilder::<$db>::new(format!("SELECT {RUN_COLUMNS} FROM run"));
                if let Some(flow) = flow {
                    query.push(" WHERE flow = ").push_bind(flow);
                }
                query.push(" ORDER BY id DESC");
                // 0 means no limit, as in the list filters.
                if limit > 0 {
                    query.push(" LIMIT ").push_bind(i64::from(limit));
                }
                let rows = query.build().fetch_all(&self.pool).await.map_err(query_error("runs"))?;
                rows.iter().map(run_from_row).collect()
            }

            async fn dead_letters_add(&self, letters: &[NewDeadLetter]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(query_error("dead_letters_add"))?;
                add_dead_letters(&mut tx, letters).await?;
                tx.commit().await.map_err(query_error("dead_letters_add"))
            }

            async fn dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
                let mut query =
                    QueryBuilder::<$db>::new(format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letter WHERE 1 = 1"));
                if let Some(flow) = &filter.flow {
                    query.push(" AND flow = ").push_bind(flow);
                }
                if let Some(status) = &filter.status {
                    query.push(" AND status = ").push_bind(enum_text(status));
                }
                query.push(" ORDER BY id DESC");
                if filter.limit > 0 {
                    query.push(" LIMIT ").push_bind(i64::from(filter.limit));
                }
                let rows = query.build().fetch_all(&self.pool).await.map_err(query_error("dead_letters"))?;
                rows.iter().map(dead_letter_from_row).collect()
            }

            async fn dead_letter(&self, id: i64) -> StoreResult<Option<DeadLetter>> {
                let row = sqlx::query(&format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letter WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("dead_letter"))?;
                row.as_ref().map(dead_letter_from_row).transpose()
            }

            async fn dead_letter_set_payload(&self, id: i64, payload: &serde_json::Value) -> StoreResult<()> {
                let updated = sqlx::query(
                    "UPDATE dead_letter SET payload = $1, updated_at = $2 WHERE id = $3 AND status = 'open'",
                )
                .bind(json_text(payload))
                .bind(now())
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(query_error("dead_letter_set_payload"))?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "open dead letter", id: id.to_string() });
                }
                Ok(())
            }

            async fn dead_letters_resolve(&self, flow: &str, source_keys: &[String]) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await.map_err(query_error("dead_letters_resolve"))?;
                let resolved = resolve_dead_letters(&mut tx, flow, source_keys).await?;
                tx.commit().await.map_err(query_error("dead_letters_resolve"))?;
                Ok(resolved)
            }

            async fn activity_add(&self, entries: &[NewActivity]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(query_error("activity_add"))?;
                add_activity(&mut tx, entries).await?;
                tx.commit().await.map_err(query_error("activity_add"))
            }

            async fn activity(&self, filter: &ActivityFilter) -> StoreResult<Vec<ActivityEntry>> {
                let mut query =
                    QueryBuilder::<$db>::new("SELECT id, run, flow, source_key, outcome, at FROM activity WHERE 1 = 1");
                if let Some(run) = filter.run {
                    query.push(" AND run = ").push_bind(run);
                }
                if let Some(flow) = &filter.flow {
                    query.push(" AND flow = ").push_bind(flow);
                }
                if let Some(key) = &filter.source_key {
                    query.push(" AND source_key = ").push_bind(key);
                }
                query.push(" ORDER BY id DESC");
                if filter.limit > 0 {
                    query.push(" LIMIT ").push_bind(i64::from(filter.limit));
                }
                let rows = query.build().fetch_all(&self.pool).await.map_err(query_error("activity"))?;
                rows.iter()
                    .map(|row| {
                        let error = || query_error("activity");
                        Ok(ActivityEntry {
                            id: row.try_get(0).map_err(error())?,
                            run: row.try_get(1).map_err(error())?,
                            flow: row.try_get(2).map_err(error())?,
                            source_key: row.try_get(3).map_err(error())?,
                            outcome: enum_parse(&row.try_get::<String, _>(4).map_err(error())?, "activity outcome")?,
                            at: timestamp(row.try_get(5).map_err(error())?),
                        })
                    })
                    .collect()
            }

            async fn activity_payloads(&self, id: i64) -> StoreResult<Option<ActivityPayloads>> {
                let row = sqlx::query(
                    "SELECT source_payload, sent_payload, response FROM activity WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("activity_payloads"))?;
                row.map(|row| {
                    Ok(ActivityPayloads {
                        source_payload: optional_json(&row, 0)?,
                        sent_payload: optional_json(&row, 1)?,
                        response: optional_json(&row, 2)?,
                    })
                })
                .transpose()
            }

            async fn activity_purge(&self, flow: Option<&str>, before: DateTime<Utc>) -> StoreResult<u64> {
                let mut entries = QueryBuilder::<$db>::new("DELETE FROM activity WHERE at <= ");
                entries.push_bind(millis(before));
                if let Some(flow) = flow {
                    entries.push(" AND flow = ").push_bind(flow);
                }
                let deleted = entries
                    .build()
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("activity_purge"))?
                    .rows_affected();
                Ok(deleted)
            }

        }
        }
    };
}

pub(crate) use sql_store;

/// The URL with its password replaced by `***`, fit for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    // postgres://user:secret@host → postgres://user:***@host
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_store_urls_shown_to_people() {
        assert_eq!(
            redact_url("postgres://tiltas:s3cret@db:5432/t"),
            "postgres://tiltas:***@db:5432/t"
        );
        assert_eq!(redact_url("postgres://tiltas@db/t"), "postgres://tiltas@db/t");
        assert_eq!(redact_url("sqlite://tiltas.db"), "sqlite://tiltas.db");
    }

    #[test]
    fn only_the_last_entry_of_a_key_is_kept_in_first_seen_order() {
        let kept = last_per_key(&[("a", 1), ("b", 2), ("a", 3)], |item| item.0);
        assert_eq!(kept, vec![("a", 3), ("b", 2)]);
    }
}
