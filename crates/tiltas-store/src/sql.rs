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
            enum_parse, enum_text, hub_id_parse, json_parse, json_text, key_list_head, last_per_key, millis,
            timestamp, CHUNK,
        };
        use $crate::*;
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use sqlx::{QueryBuilder, Row};
        use std::collections::HashMap;
        use std::time::Duration;
        use tiltas_model::EntityKind;

        type Connection = <$db as sqlx::Database>::Connection;

        fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
            move |source| StoreError::Query { operation, source }
        }

        fn now() -> i64 {
            millis(Utc::now())
        }

        fn ttl_millis(ttl: Duration) -> i64 {
            i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
        }

        fn count(value: u64) -> i64 {
            i64::try_from(value).unwrap_or(i64::MAX)
        }

        /// The rows of a look-up by key list begun with [`key_list_head`], as (key, text,
        /// optional text) triples.
        async fn key_list_rows(
            pool: &sqlx::Pool<$db>,
            mut query: QueryBuilder<'_, $db>,
            operation: &'static str,
        ) -> StoreResult<Vec<(String, String, Option<String>)>> {
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
            rows.iter()
                .map(|row| {
                    Ok((
                        row.try_get(0).map_err(query_error(operation))?,
                        row.try_get(1).map_err(query_error(operation))?,
                        row.try_get(2).map_err(query_error(operation))?,
                    ))
                })
                .collect()
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
            // Time-ordered ids (UUIDv7): new rows land at the end of the uid indexes instead of at
            // random places in them, which made every page dirty half the index (the first sync
            // of a large catalogue wrote several times the bytes it stored).
            let uids: Vec<String> = entries.iter().map(|_| uuid::Uuid::now_v7().simple().to_string()).collect();
            let rows: Vec<(&NewActivity, &String)> = entries.iter().zip(&uids).collect();
            for chunk in rows.chunks(CHUNK) {
                let mut query =
                    QueryBuilder::<$db>::new("INSERT INTO activity (uid, run, flow, source_key, outcome, at) ");
                query.push_values(chunk, |mut row, (entry, uid)| {
                    row.push_bind(uid.as_str())
                        .push_bind(entry.run)
                        .push_bind(&entry.flow)
                        .push_bind(&entry.source_key)
                        .push_bind(enum_text(&entry.outcome))
                        .push_bind(at);
                });
                query.build().execute(&mut *conn).await.map_err(query_error("activity_add"))?;
                let mut payloads = QueryBuilder::<$db>::new(
                    "INSERT INTO activity_payload (activity_uid, source_payload, sent_payload, response) ",
                );
                payloads.push_values(chunk, |mut row, (entry, uid)| {
                    row.push_bind(uid.as_str())
                        .push_bind(entry.source_payload.as_ref().map(json_text))
                        .push_bind(entry.sent_payload.as_ref().map(json_text))
                        .push_bind(entry.response.as_ref().map(json_text));
                });
                payloads.build().execute(&mut *conn).await.map_err(query_error("activity_add"))?;
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
                    for (external_id, hub, last_hash) in key_list_rows(&self.pool, query, "xref_find_by_external").await? {
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
                let mut links = Vec::new();
                for chunk in hub_ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "SELECT hub_id, entity, connection, external_id, last_hash FROM xref WHERE hub_id IN (",
                    );
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(id.to_string());
                    }
                    query.push(") ORDER BY hub_id, entity, connection, external_id");
                    let rows = query.build().fetch_all(&self.pool).await.map_err(query_error("xref_find_by_hub"))?;
                    for row in rows {
                        let hub: String = row.try_get(0).map_err(query_error("xref_find_by_hub"))?;
                        let entity: String = row.try_get(1).map_err(query_error("xref_find_by_hub"))?;
                        links.push(XrefLink {
                            hub_id: hub_id_parse(&hub)?,
                            entity: EntityKind::parse(&entity).ok_or_else(|| StoreError::Corrupt {
                                what: "entity",
                                detail: format!("unknown entity {entity:?}"),
                            })?,
                            connection: row.try_get(2).map_err(query_error("xref_find_by_hub"))?,
                            external_id: row.try_get(3).map_err(query_error("xref_find_by_hub"))?,
                            last_hash: row.try_get(4).map_err(query_error("xref_find_by_hub"))?,
                        });
                    }
                }
                Ok(links)
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
                    for (key, hash, source_hash) in key_list_rows(&self.pool, query, "delivered_hashes").await? {
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
                    "SELECT p.source_payload, p.sent_payload, p.response FROM activity a \
                     JOIN activity_payload p ON p.activity_uid = a.uid WHERE a.id = $1",
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
                let mut tx = self.pool.begin().await.map_err(query_error("activity_purge"))?;
                // Payloads first: not every SQLite connection enforces the cascade.
                let mut payloads = QueryBuilder::<$db>::new(
                    "DELETE FROM activity_payload WHERE activity_uid IN (SELECT uid FROM activity WHERE at <= ",
                );
                payloads.push_bind(millis(before));
                let mut entries = QueryBuilder::<$db>::new("DELETE FROM activity WHERE at <= ");
                entries.push_bind(millis(before));
                if let Some(flow) = flow {
                    payloads.push(" AND flow = ").push_bind(flow);
                    entries.push(" AND flow = ").push_bind(flow);
                }
                payloads.push(")");
                payloads.build().execute(&mut *tx).await.map_err(query_error("activity_purge"))?;
                let deleted =
                    entries.build().execute(&mut *tx).await.map_err(query_error("activity_purge"))?.rows_affected();
                tx.commit().await.map_err(query_error("activity_purge"))?;
                Ok(deleted)
            }

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

            async fn inbox_add(&self, event: &NewInboxEvent) -> StoreResult<i64> {
                sqlx::query_scalar(
                    "INSERT INTO inbox (connection, topic, body, received_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(&event.connection)
                .bind(&event.topic)
                .bind(&event.body)
                .bind(now())
                .fetch_one(&self.pool)
                .await
                .map_err(query_error("inbox_add"))
            }

            async fn inbox_pending(&self, limit: u32) -> StoreResult<Vec<InboxEvent>> {
                let rows = sqlx::query(
                    "SELECT id, connection, topic, body, received_at, attempts FROM inbox \
                     WHERE done_at IS NULL ORDER BY id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(query_error("inbox_pending"))?;
                rows.iter()
                    .map(|row| {
                        Ok(InboxEvent {
                            id: row.try_get(0).map_err(query_error("inbox_pending"))?,
                            connection: row.try_get(1).map_err(query_error("inbox_pending"))?,
                            topic: row.try_get(2).map_err(query_error("inbox_pending"))?,
                            body: row.try_get(3).map_err(query_error("inbox_pending"))?,
                            received_at: timestamp(row.try_get(4).map_err(query_error("inbox_pending"))?),
                            attempts: row.try_get(5).map_err(query_error("inbox_pending"))?,
                        })
                    })
                    .collect()
            }

            async fn inbox_done(&self, ids: &[i64], error: Option<&str>) -> StoreResult<()> {
                let at = now();
                for chunk in ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new("UPDATE inbox SET done_at = ");
                    query.push_bind(at).push(", error = ").push_bind(error).push(" WHERE id IN (");
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(*id);
                    }
                    query.push(")");
                    query.build().execute(&self.pool).await.map_err(query_error("inbox_done"))?;
                }
                Ok(())
            }

            async fn inbox_attempt_failed(&self, id: i64, error: &str) -> StoreResult<()> {
                sqlx::query("UPDATE inbox SET attempts = attempts + 1, error = $1 WHERE id = $2")
                    .bind(error)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("inbox_attempt_failed"))?;
                Ok(())
            }

            async fn inbox_backlog(&self) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(query_error("inbox_backlog"))?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn inbox_settle(&self, settlements: &[InboxSettlement]) -> StoreResult<()> {
                let at = now();
                let mut tx = self.pool.begin().await.map_err(query_error("inbox_settle"))?;
                // One statement per delivery, all in one transaction: each row gets its own
                // note and key, and a round settles at most a few hundred.
                for settlement in settlements {
                    sqlx::query(
                        "UPDATE inbox SET done_at = $1, error = $2, entity = $3, record_key = $4, settles = settles + 1 \
                         WHERE id = $5",
                    )
                    .bind(at)
                    .bind(&settlement.note)
                    .bind(settlement.entity.map(|entity| entity.as_str()))
                    .bind(&settlement.record_key)
                    .bind(settlement.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("inbox_settle"))?;
                }
                let rows: Vec<(i64, &DeliveryFlow)> = settlements
                    .iter()
                    .flat_map(|settlement| settlement.flows.iter().map(move |flow| (settlement.id, flow)))
                    .collect();
                let rows = last_per_key(&rows, |(id, flow)| (*id, flow.flow.clone()));
                for chunk in rows.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "INSERT INTO inbox_flow (inbox_id, flow, run, outcome, activity, target_id, detail) ",
                    );
                    query.push_values(chunk, |mut row, (id, flow)| {
                        row.push_bind(*id)
                            .push_bind(&flow.flow)
                            .push_bind(flow.run)
                            .push_bind(flow.outcome.as_str())
                            .push_bind(flow.activity)
                            .push_bind(&flow.target_id)
                            .push_bind(&flow.detail);
                    });
                    query.push(
                        " ON CONFLICT (inbox_id, flow) DO UPDATE SET run = excluded.run, outcome = excluded.outcome, \
                         activity = excluded.activity, target_id = excluded.target_id, detail = excluded.detail",
                    );
                    query.build().execute(&mut *tx).await.map_err(query_error("inbox_settle"))?;
                }
                tx.commit().await.map_err(query_error("inbox_settle"))
            }

            async fn inbox_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Vec<Delivery>> {
                let error = || query_error("inbox_deliveries");
                let mut query = QueryBuilder::<$db>::new(
                    "SELECT id, connection, topic, received_at, done_at, attempts, error, entity, record_key \
                     FROM inbox WHERE 1 = 1",
                );
                if let Some(connection) = &filter.connection {
                    query.push(" AND connection = ").push_bind(connection);
                }
                if let Some(before) = filter.before {
                    query.push(" AND id < ").push_bind(before);
                }
                match filter.outcome {
                    None => {}
                    Some(DeliveryOutcome::Pending) => {
                        query.push(" AND done_at IS NULL");
                    }
                    Some(DeliveryOutcome::Unusable) => {
                        query.push(" AND done_at IS NOT NULL AND error IS NOT NULL");
                    }
                    Some(outcome) => {
                        query
                            .push(" AND EXISTS (SELECT 1 FROM inbox_flow f WHERE f.inbox_id = inbox.id AND f.outcome = ")
                            .push_bind(outcome.as_str())
                            .push(")");
                    }
                }
                query.push(" ORDER BY id DESC");
                if filter.limit > 0 {
                    query.push(" LIMIT ").push_bind(i64::from(filter.limit));
                }
                let rows = query.build().fetch_all(&self.pool).await.map_err(error())?;
                let mut deliveries = Vec::with_capacity(rows.len());
                for row in &rows {
                    let entity: Option<String> = row.try_get(7).map_err(error())?;
                    let entity = entity
                        .map(|name| {
                            EntityKind::parse(&name).ok_or_else(|| StoreError::Corrupt {
                                what: "delivery entity",
                                detail: format!("unknown entity {name:?}"),
                            })
                        })
                        .transpose()?;
                    deliveries.push(Delivery {
                        id: row.try_get(0).map_err(error())?,
                        connection: row.try_get(1).map_err(error())?,
                        topic: row.try_get(2).map_err(error())?,
                        received_at: timestamp(row.try_get(3).map_err(error())?),
                        done_at: row.try_get::<Option<i64>, _>(4).map_err(error())?.map(timestamp),
                        attempts: row.try_get(5).map_err(error())?,
                        error: row.try_get(6).map_err(error())?,
                        entity,
                        record_key: row.try_get(8).map_err(error())?,
                        flows: Vec::new(),
                    });
                }
                let position: HashMap<i64, usize> =
                    deliveries.iter().enumerate().map(|(index, delivery)| (delivery.id, index)).collect();
                let ids: Vec<i64> = deliveries.iter().map(|delivery| delivery.id).collect();
                for chunk in ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "SELECT inbox_id, flow, run, outcome, activity, target_id, detail FROM inbox_flow WHERE inbox_id IN (",
                    );
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(*id);
                    }
                    query.push(") ORDER BY inbox_id, flow");
                    let rows = query.build().fetch_all(&self.pool).await.map_err(error())?;
                    for row in rows {
                        let id: i64 = row.try_get(0).map_err(error())?;
                        let Some(&index) = position.get(&id) else { continue };
                        deliveries[index].flows.push(DeliveryFlow {
                            flow: row.try_get(1).map_err(error())?,
                            run: row.try_get(2).map_err(error())?,
                            outcome: enum_parse(&row.try_get::<String, _>(3).map_err(error())?, "delivery outcome")?,
                            activity: row.try_get(4).map_err(error())?,
                            target_id: row.try_get(5).map_err(error())?,
                            detail: row.try_get(6).map_err(error())?,
                        });
                    }
                }
                Ok(deliveries)
            }

            async fn activity_outcomes(
                &self,
                run: RunId,
                flow: &str,
                source_keys: &[String],
            ) -> StoreResult<HashMap<String, RecordOutcome>> {
                let error = || query_error("activity_outcomes");
                let mut found = HashMap::new();
                for chunk in source_keys.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "SELECT a.id, a.source_key, a.outcome, p.response FROM activity a \
                         LEFT JOIN activity_payload p ON p.activity_uid = a.uid WHERE a.run = ",
                    );
                    query.push_bind(run).push(" AND a.flow = ").push_bind(flow).push(" AND a.source_key IN (");
                    let mut separated = query.separated(", ");
                    for key in chunk {
                        separated.push_bind(key);
                    }
                    // Oldest first, so a key's newest entry is the one kept.
                    query.push(") ORDER BY a.id");
                    let rows = query.build().fetch_all(&self.pool).await.map_err(error())?;
                    for row in rows {
                        let key: String = row.try_get(1).map_err(error())?;
                        let response: Option<String> = row.try_get(3).map_err(error())?;
                        found.insert(
                            key,
                            RecordOutcome {
                                activity: row.try_get(0).map_err(error())?,
                                outcome: enum_parse(&row.try_get::<String, _>(2).map_err(error())?, "activity outcome")?,
                                response: response.map(|text| json_parse(&text, "activity response")).transpose()?,
                            },
                        );
                    }
                }
                Ok(found)
            }

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
