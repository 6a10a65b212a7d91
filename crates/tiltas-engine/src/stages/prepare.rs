//! Stage 1, prepare: each record read is admitted (webhooks pass the source's filters),
//! filtered, mapped, money-rounded and hashed into a [`Candidate`]; a key seen twice in one
//! page keeps its later record. Mapping is pure, so a page is mapped on every core; what the
//! page decides is then written to the ledger in source order.
use crate::hash::echo_hash;
use crate::payload_hash;
use crate::problem::Problem;
use crate::run::{Candidate, Ledger, PreparedFlow, RunContext};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use tiltas_connector::{RecordFailure, SourceRecord};

/// Pages smaller than this are mapped on the calling thread: handing them to other cores costs
/// more than it saves.
const PARALLEL_FROM: usize = 64;

/// What preparing one record decided.
enum Prepared {
    Ready(Candidate),
    Skipped { key: String, data: Value, reason: String },
    Failed { key: String, data: Value, problem: Problem },
}

/// The page's records as candidates, and the newest change time among them (the cursor).
pub(crate) fn stage(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    records: Vec<Result<SourceRecord, RecordFailure>>,
) -> (Vec<Candidate>, Option<DateTime<Utc>>) {
    ledger.settlement.counters.read += records.len() as u64;
    let newest_change = records
        .iter()
        .filter_map(|record| record.as_ref().ok().and_then(|record| record.updated_at))
        .max();
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
            Ok(()) => prepare(prepared, record),
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
            Prepared::Skipped { key, data, reason } => ledger.skip(context, key, data, &reason),
            Prepared::Failed { key, data, problem } => ledger.dead_letter(context, key, problem, data, None),
        }
    }
    (later_wins(context, ledger, candidates), newest_change)
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
fn prepare(prepared: &PreparedFlow, record: SourceRecord) -> Prepared {
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
        match_key,
        hub_id: None,
        target_id: None,
        adopted: false,
    })
}

/// A key seen twice in one page: the later record wins, as it would in a later page.
fn later_wins(context: &RunContext<'_>, ledger: &mut Ledger, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut last_index: HashMap<&str, usize> = HashMap::with_capacity(candidates.len());
    for (index, candidate) in candidates.iter().enumerate() {
        last_index.insert(candidate.source_key.as_str(), index);
    }
    if last_index.len() == candidates.len() {
        return candidates;
    }
    let keep: HashSet<usize> = last_index.into_values().collect();
    let before = candidates.len();
    let kept: Vec<Candidate> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(index, candidate)| {
            if !keep.contains(&index) {
                tracing::warn!(flow = %context.flow.name, key = %candidate.source_key, "the source has this key more than once; the later record is used");
            }
            keep.contains(&index).then_some(candidate)
        })
        .collect();
    ledger.settlement.counters.skipped += (before - kept.len()) as u64;
    kept
}
