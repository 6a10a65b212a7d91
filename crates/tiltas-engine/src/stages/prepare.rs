//! Stage 1, prepare: each record read is admitted (webhooks pass the source's filters),
//! filtered, mapped, money-rounded and hashed into a [`Candidate`]; a key seen twice in one
//! page keeps its later record.
use crate::hash::echo_hash;
use crate::payload_hash;
use crate::problem::Problem;
use crate::run::{Candidate, Ledger, RunContext};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use tiltas_connector::{RecordFailure, SourceRecord};

/// The page's records as candidates, and the newest change time among them (the cursor).
pub(crate) fn stage(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    records: Vec<Result<SourceRecord, RecordFailure>>,
) -> (Vec<Candidate>, Option<DateTime<Utc>>) {
    let mut newest_change: Option<DateTime<Utc>> = None;
    let mut candidates = Vec::with_capacity(records.len());
    for record in records {
        ledger.settlement.counters.read += 1;
        match record {
            Err(failure) => {
                let problem = Problem::from_record_failure(&failure);
                ledger.dead_letter(context, failure.key, problem, failure.raw, None);
            }
            Ok(record) => {
                newest_change = newest_change.max(record.updated_at);
                if let Some(candidate) = prepare(context, ledger, record) {
                    candidates.push(candidate);
                }
            }
        }
    }
    (later_wins(context, ledger, candidates), newest_change)
}

/// Maps and hashes one source record; a record left alone or failing is settled here.
fn prepare(context: &RunContext<'_>, ledger: &mut Ledger, record: SourceRecord) -> Option<Candidate> {
    let prepared = context.prepared;
    let admitted = context.admission.as_ref().map(|source| {
        let source = source.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        source.admits(&record)
    });
    if let Some(Err(reason)) = admitted {
        ledger.skip(context, record.key, record.data, &reason);
        return None;
    }
    match prepared.mapping.keeps(&record.data) {
        Ok(true) => {}
        Ok(false) => {
            ledger.skip(context, record.key, record.data, "filtered out by the flow's filter");
            return None;
        }
        Err(error) => {
            ledger.dead_letter(context, record.key, Problem::invalid(error.message), record.data, None);
            return None;
        }
    }
    let mut payload = match prepared.mapping.apply(&record.data) {
        Ok(payload) => payload,
        Err(error) => {
            ledger.dead_letter(context, record.key, Problem::invalid(error.message), record.data, None);
            return None;
        }
    };
    if context.flow.skip_without_code && tiltas_model::natural_key(context.flow.entity, &payload).is_none() {
        ledger.skip(context, record.key, record.data, "no code (skip_without_code = true)");
        return None;
    }
    // Rounded before hashing: the hash, the outbox and the activity log then hold what the
    // target stores, and a change below its precision is no change.
    if let Some(money) = &prepared.money {
        money.apply(&mut payload);
    }
    // Validation waits until the record proves changed: a delivered hash means it was valid.
    let hash = payload_hash(&payload);
    let match_key = prepared.match_key(&payload);
    Some(Candidate {
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
