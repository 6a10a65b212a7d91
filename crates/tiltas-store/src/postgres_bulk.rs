//! A settled page's writes on PostgreSQL: each table's rows go as one array per column
//! (`unnest`), one statement per table and page. The multi-row `VALUES` lists SQLite takes
//! have 3 000 parameters per page on PostgreSQL, each parsed, bound and planned per statement;
//! arrays are a handful of parameters whatever the page size (docs/benchmarks.md, sixth
//! session). The SQLite store keeps its `VALUES` lists (it has no arrays).
use crate::sql::{enum_text, json_text};
use crate::{DeliveredHash, NewActivity, StoreError, StoreResult, XrefLink};
use sqlx::PgConnection;

fn query_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { operation, source }
}

/// Upserts the delivered hashes of `flow` (one entry per key: see `last_per_key`).
pub(crate) async fn put_hashes(conn: &mut PgConnection, flow: &str, entries: &[DeliveredHash]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = entries.iter().map(|entry| entry.source_key.as_str()).collect();
    let hashes: Vec<&str> = entries.iter().map(|entry| entry.hash.as_str()).collect();
    let source_hashes: Vec<Option<&str>> = entries.iter().map(|entry| entry.source_hash.as_deref()).collect();
    sqlx::query(
        "INSERT INTO delivered_hash (flow, source_key, hash, source_hash) \
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[]) \
         ON CONFLICT (flow, source_key) DO UPDATE SET hash = excluded.hash, source_hash = excluded.source_hash",
    )
    .bind(flow)
    .bind(keys)
    .bind(hashes)
    .bind(source_hashes)
    .execute(conn)
    .await
    .map_err(query_error("put_delivered_hashes"))?;
    Ok(())
}

/// Upserts identity links (one per entity, connection and id: see `last_per_key`).
pub(crate) async fn upsert_xrefs(conn: &mut PgConnection, links: &[XrefLink], at: i64) -> StoreResult<()> {
    if links.is_empty() {
        return Ok(());
    }
    let entities: Vec<&str> = links.iter().map(|link| link.entity.as_str()).collect();
    let connections: Vec<&str> = links.iter().map(|link| link.connection.as_str()).collect();
    let external_ids: Vec<&str> = links.iter().map(|link| link.external_id.as_str()).collect();
    let hub_ids: Vec<String> = links.iter().map(|link| link.hub_id.to_string()).collect();
    let last_hashes: Vec<Option<&str>> = links.iter().map(|link| link.last_hash.as_deref()).collect();
    sqlx::query(
        "INSERT INTO xref (entity, connection, external_id, hub_id, last_hash, updated_at) \
         SELECT *, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
         ON CONFLICT (entity, connection, external_id) DO UPDATE SET hub_id = excluded.hub_id, \
         last_hash = COALESCE(excluded.last_hash, xref.last_hash), updated_at = excluded.updated_at",
    )
    .bind(entities)
    .bind(connections)
    .bind(external_ids)
    .bind(hub_ids)
    .bind(last_hashes)
    .bind(at)
    .execute(conn)
    .await
    .map_err(query_error("xref_upsert"))?;
    Ok(())
}

/// Adds activity entries under the given `uids`, their payloads beside them.
pub(crate) async fn add_activity(
    conn: &mut PgConnection,
    entries: &[NewActivity],
    uids: &[String],
    at: i64,
) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let runs: Vec<i64> = entries.iter().map(|entry| entry.run).collect();
    let flows: Vec<&str> = entries.iter().map(|entry| entry.flow.as_str()).collect();
    let keys: Vec<&str> = entries.iter().map(|entry| entry.source_key.as_str()).collect();
    let outcomes: Vec<String> = entries.iter().map(|entry| enum_text(&entry.outcome)).collect();
    sqlx::query(
        "INSERT INTO activity (uid, run, flow, source_key, outcome, at) \
         SELECT *, $6 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])",
    )
    .bind(uids)
    .bind(runs)
    .bind(flows)
    .bind(keys)
    .bind(outcomes)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(query_error("activity_add"))?;
    let text = |payload: &Option<serde_json::Value>| payload.as_ref().map(json_text);
    let sources: Vec<Option<String>> = entries.iter().map(|entry| text(&entry.source_payload)).collect();
    let sent: Vec<Option<String>> = entries.iter().map(|entry| text(&entry.sent_payload)).collect();
    let responses: Vec<Option<String>> = entries.iter().map(|entry| text(&entry.response)).collect();
    sqlx::query(
        "INSERT INTO activity_payload (activity_uid, source_payload, sent_payload, response) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])",
    )
    .bind(uids)
    .bind(sources)
    .bind(sent)
    .bind(responses)
    .execute(conn)
    .await
    .map_err(query_error("activity_add"))?;
    Ok(())
}

/// Removes settled intents from the outbox.
pub(crate) async fn settle_intents(conn: &mut PgConnection, ids: &[i64]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM outbox WHERE id = ANY($1::bigint[])")
        .bind(ids)
        .execute(conn)
        .await
        .map_err(query_error("outbox_settle"))?;
    Ok(())
}

/// Resolves the open dead letters of `flow` for `keys`; returns how many there were.
pub(crate) async fn resolve_dead_letters(
    conn: &mut PgConnection,
    flow: &str,
    keys: &[String],
    at: i64,
) -> StoreResult<u64> {
    if keys.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE dead_letter SET status = 'resolved', updated_at = $1 \
         WHERE status = 'open' AND flow = $2 AND source_key = ANY($3::text[])",
    )
    .bind(at)
    .bind(flow)
    .bind(keys)
    .execute(conn)
    .await
    .map_err(query_error("dead_letters_resolve"))?;
    Ok(done.rows_affected())
}
