//! Stage 1, prepare: a key seen twice in one page keeps its later record; each record read is
//! admitted (webhooks pass the source's filters), and one whose source hash is the one last
//! delivered is unchanged without being mapped; the rest are filtered, mapped, money-rounded
//! and hashed into a [`Candidate`]. Mapping is pure, so a page is mapped on every core; what
//! the page decides is then written to the ledger in source order.
use crate::hash::{echo_hash, source_hash};
use crate::payload_hash;
use crate::problem::Problem;
use crate::run::{Candidate, Ledger, PreparedFlow, RunContext};
use crate::EngineError;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use tiltas_connector::{RecordFailure, SourceRecord};
use tiltas_store::Delivered;

/// Pages smaller than this are mapped on the calling thread: handing them to other cores costs
/// more than it saves.
const PARALLEL_FROM: usize = 64;

/// What preparing one record decided.
enum Prepared {
    Ready(Candidate),
    /// The record and the mapping are those of the last delivery.
    Unchanged,
    Skipped {
        key: String,
        data: Value,
        reason: String,
    },
    Failed {
        key: String,
        data: Value,
        problem: Problem,
    },
}

/// What was last delivered for the page's keys (nothing for a full run, which sends all).
pub(crate) async fn delivered(
    context: &RunContext<'_>,
    records: &[Result<SourceRecord, RecordFailure>],
) -> Result<HashMap<String, Delivered>, EngineError> {
    let keys: Vec<String> = records
        .iter()
        .filter_map(|record| record.as_ref().ok().map(|record| record.key.clone()))
        .collect();
    if context.options.full || keys.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(context.store.delivered_hashes(&context.flow.name, &keys).await?)
}

/// The page's records as candidates, and the newest change time among them (the cursor).
pub(crate) fn stage(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    records: Vec<Result<SourceRecord, RecordFailure>>,
    delivered: &HashMap<String, Delivered>,
) -> (Vec<Candidate>, Option<DateTime<Utc>>) {
    ledger.settlement.counters.read += records.len() as u64;
    let newest_change = records
        .iter()
        .filter_map(|record| record.as_ref().ok().and_then(|record| record.updated_at))
        .max();
    let records = later_wins(context, ledger, records);
    let prepared = context.prepared;
    let decide = |record: Result<SourceRecord, RecordFailure>| match record {
        Err(failure) => Prepared::Failed {
            problem: Problem::from_record_failure(&failure),
            key: failure.key,
            data: failure.raw,
        },
        Ok(record) => match admitted(context, &record) {
            Err(reason) => Prepared::Skipped {
                key: record.key,
                data: record.data,
                reason,
            },
            Ok(()) => prepare(prepared, record, delivered),
        },
    };
    let decided: Vec<Prepared> = if records.len() >= PARALLEL_FROM {
        records.into_par_iter().map(decide).collect()
    } else {
        records.into_iter().map(decide).collect()
    };
    let mut candidates = Vec::with_capacity(decided.len());
    for decision in decided {
        match decision {
            Prepared::Ready(candidate) => candidates.push(candidate),
            Prepared::Unchanged => ledger.settlement.counters.unchanged += 1,
            Prepared::Skipped { key, data, reason } => ledger.skip(context, key, data, &reason),
            Prepared::Failed { key, data, problem } => ledger.dead_letter(context, key, problem, data, None),
        }
    }
    (candidates, newest_change)
}

/// Whether a record delivered by webhook is one a read of the flow's source would return.
fn admitted(context: &RunContext<'_>, record: &SourceRecord) -> Result<(), String> {
    match &context.admission {
        None => Ok(()),
        Some(source) => source
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .admits(record),
    }
}

/// Filters, maps, rounds and hashes one source record: pure, so pages map in parallel.
fn prepare(prepared: &PreparedFlow, record: SourceRecord, delivered: &HashMap<String, Delivered>) -> Prepared {
    let source_hash = source_hash(&prepared.fingerprint, &record.data);
    let last = delivered.get(&record.key).and_then(|last| last.source_hash.as_deref());
    if last == Some(source_hash.as_str()) {
        return Prepared::Unchanged;
    }
    let failed = |record: SourceRecord, message: String| Prepared::Failed {
        key: record.key,
        data: record.data,
        problem: Problem::invalid(message),
    };
    let skipped = |record: SourceRecord, reason: &str| Prepared::Skipped {
        key: record.key,
        data: record.data,
        reason: reason.to_owned(),
    };
    match prepared.mapping.keeps(&record.data) {
        Ok(true) => {}
        Ok(false) => return skipped(record, "filtered out by the flow's filter"),
        Err(error) => return failed(record, error.message),
    }
    let mut payload = match prepared.mapping.apply(&record.data) {
        Ok(payload) => payload,
        Err(error) => return failed(record, error.message),
    };
    let flow = &prepared.flow;
    if flow.skip_without_code && tiltas_model::natural_key(flow.entity, &payload).is_none() {
        return skipped(record, "no code (skip_without_code = true)");
    }
    // Rounded before hashing: the hash, the outbox and the activity log then hold what the
    // target stores, and a change below its precision is no change.
    if let Some(money) = &prepared.money {
        money.apply(&mut payload);
    }
    // Validation waits until the record proves changed: a delivered hash means it was valid.
    let hash = payload_hash(&payload);
    let match_key = prepared.match_key(&payload);
    Prepared::Ready(Candidate {
        source_key: record.key,
        echo_hash: echo_hash(&record.data),
        source: record.data,
        payload,
        hash,
        source_hash,
        match_key,
        hub_id: None,
        target_id: None,
        adopted: false,
    })
}

/// Keys seen twice in a page, per flow: logged once per interval.
static REPEATED_KEYS: std::sync::LazyLock<crate::Repeats> = std::sync::LazyLock::new(crate::Repeats::default);

/// A key seen twice in one page: the later record wins, as it would in a later page.
/// Records that could not be read are kept: each is its own dead letter.
fn later_wins(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    records: Vec<Result<SourceRecord, RecordFailure>>,
) -> Vec<Result<SourceRecord, RecordFailure>> {
    let mut last_index: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    let mut readable = 0;
    for (index, record) in records.iter().enumerate() {
        if let Ok(record) = record {
            last_index.insert(record.key.as_str(), index);
            readable += 1;
        }
    }
    if last_index.len() == readable {
        return records;
    }
    let keep: HashSet<usize> = last_index.into_values().collect();
    let before = records.len();
    let kept: Vec<_> = records
        .into_iter()
        .enumerate()
        .filter_map(|(index, record)| match record {
            Ok(record) if !keep.contains(&index) => {
                // A source (a re-sent webhook, a feed) may repeat keys in every page: one
                // line per flow and interval, with the count, not one per copy.
                if let Some(unlogged) = REPEATED_KEYS.occurred(&context.flow.name) {
                    tracing::warn!(flow = %context.flow.name, key = %record.key, repeats_not_logged = unlogged, "the source has this key more than once; the later record is used");
                }
                None
            }
            other => Some(other),
        })
        .collect();
    ledger.settlement.counters.skipped += (before - kept.len()) as u64;
    kept
}
