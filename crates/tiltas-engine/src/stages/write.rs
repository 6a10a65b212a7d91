//! Stage 5, write: the changed records go to the target in batches of the target's size. Each
//! batch is first recorded in the outbox (so a crash mid-write is verified, never resent
//! blindly), then sent with retries and verification; each record's outcome goes to the
//! ledger. A dry run writes nothing and plans instead.
use crate::deliver;
use crate::hash::echo_hash;
use crate::problem::Problem;
use crate::report::PlannedKind;
use crate::run::{connector_error, Candidate, Ledger, RunContext};
use crate::spans;
use crate::EngineError;
use serde_json::Value;
use tiltas_connector::{ErrorKind, Target, WriteItem, WriteOutcome};
use tiltas_store::{ActivityOutcome, IntentOutcome, IntentSettlement, NewActivity, NewIntent, WriteOperation};
use tracing::Instrument as _;

/// Writes (or for a dry run, plans) `changed`; returns whether anything was sent.
pub(crate) async fn stage(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    target: Option<&mut (dyn Target + '_)>,
    changed: Vec<Candidate>,
) -> Result<bool, EngineError> {
    let target = match target {
        Some(target) if !context.options.dry_run => target,
        _ => {
            plan(ledger, &changed);
            return Ok(false);
        }
    };
    let batch_size = context
        .flow
        .batch_size
        .unwrap_or(usize::MAX)
        .min(target.max_batch())
        .max(1);
    let mut wrote = false;
    let mut remaining = changed;
    while !remaining.is_empty() {
        let rest = remaining.split_off(batch_size.min(remaining.len()));
        let batch = std::mem::replace(&mut remaining, rest);
        wrote = true;
        write_batch(context, ledger, target, batch).await?;
    }
    Ok(wrote)
}

/// A dry run: what each changed record would become.
fn plan(ledger: &mut Ledger, changed: &[Candidate]) {
    for candidate in changed {
        let kind = if candidate.target_id.is_some() {
            ledger.settlement.counters.updated += 1;
            PlannedKind::Update
        } else {
            ledger.settlement.counters.created += 1;
            PlannedKind::Create
        };
        ledger.plan(candidate.source_key.clone(), kind);
    }
}

/// One batch: outbox intents, the verified write, each record's outcome.
async fn write_batch(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    target: &mut (dyn Target + '_),
    batch: Vec<Candidate>,
) -> Result<(), EngineError> {
    let flow = context.flow;
    let items: Vec<WriteItem> = batch.iter().map(|candidate| item(context, candidate)).collect();
    let intent_ids = context.store.outbox_add(&intents(context, &items, &batch)).await?;
    let keys: Vec<Option<String>> = batch.iter().map(|candidate| candidate.match_key.clone()).collect();
    let call = spans::connector_call("write_batch", &flow.name, &flow.to.connection, items.len());
    let answer = deliver::write_verified(target, flow.match_on.as_deref(), &items, &keys)
        .instrument(call)
        .await;
    let outcomes = match answer {
        Ok(result) => {
            ledger.settlement.counters.api_calls += result.api_calls;
            result.outcomes
        }
        // A batch the target refuses as a whole fails each of its records, not the run.
        Err(error) if error.kind == ErrorKind::Invalid => {
            batch.iter().map(|_| WriteOutcome::Failed(error.clone())).collect()
        }
        Err(error) => return Err(connector_error(flow, "target", error)),
    };
    for (((candidate, intent_id), item), outcome) in batch.into_iter().zip(intent_ids).zip(items).zip(outcomes) {
        match outcome {
            WriteOutcome::Written { target_id } => {
                let stored = target.stored(&target_id);
                written(context, ledger, candidate, intent_id, item.payload, target_id, stored);
            }
            WriteOutcome::Failed(error) => {
                ledger.settlement.intents.push(IntentSettlement {
                    id: intent_id,
                    outcome: IntentOutcome::DeadLettered,
                    external_id: None,
                });
                let problem = Problem::from_connector(&error);
                ledger.dead_letter(
                    context,
                    candidate.source_key,
                    problem,
                    candidate.source,
                    Some(item.payload),
                );
            }
        }
    }
    Ok(())
}

/// What is sent for a candidate: its payload, without create-only fields on an update.
fn item(context: &RunContext<'_>, candidate: &Candidate) -> WriteItem {
    let mut payload = candidate.payload.clone();
    if candidate.target_id.is_some() {
        context.prepared.mapping.strip_create_only(&mut payload);
    }
    WriteItem {
        source_key: candidate.source_key.clone(),
        target_id: candidate.target_id.clone(),
        payload,
    }
}

/// The outbox intents of a batch: what is about to be written, recorded before it is.
fn intents(context: &RunContext<'_>, items: &[WriteItem], batch: &[Candidate]) -> Vec<NewIntent> {
    let flow = context.flow;
    items
        .iter()
        .zip(batch)
        .map(|(item, candidate)| NewIntent {
            flow: flow.name.clone(),
            run: context.run.unwrap_or_default(),
            source_key: item.source_key.clone(),
            connection: flow.to.connection.clone(),
            operation: if item.target_id.is_some() {
                WriteOperation::Update
            } else {
                WriteOperation::Create
            },
            payload_hash: candidate.hash.clone(),
            match_key: candidate.match_key.clone(),
        })
        .collect()
}

/// Settles a written record: counters, identity links (marked for echo suppression), its
/// delivered hash, its intent, its resolved dead letters and its activity.
fn written(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    candidate: Candidate,
    intent_id: i64,
    sent: Value,
    target_id: String,
    stored: Option<Value>,
) {
    let flow = context.flow;
    let created = candidate.target_id.is_none();
    if created {
        ledger.settlement.counters.created += 1;
    } else {
        ledger.settlement.counters.updated += 1;
    }
    let hub_id = candidate.hub_id.unwrap_or_else(crate::run::new_hub_id);
    // Marks what this flow wrote, so the reverse flow recognises it as an echo.
    let written_hash = format!(
        "{}:{}",
        flow.from.connection,
        echo_hash(stored.as_ref().unwrap_or(&sent))
    );
    ledger.link(context, hub_id, &candidate.source_key, &target_id, Some(written_hash));
    ledger.delivered(candidate.source_key.clone(), candidate.hash, candidate.source_hash);
    ledger.settlement.intents.push(IntentSettlement {
        id: intent_id,
        outcome: IntentOutcome::Delivered,
        external_id: Some(target_id.clone()),
    });
    ledger.settlement.resolved_keys.push(candidate.source_key.clone());
    let response = if candidate.adopted {
        serde_json::json!({ "target_id": target_id, "adopted": true })
    } else {
        serde_json::json!({ "target_id": target_id })
    };
    ledger.settlement.activity.push(NewActivity {
        run: context.run.unwrap_or_default(),
        flow: flow.name.clone(),
        source_key: candidate.source_key,
        outcome: if created {
            ActivityOutcome::Created
        } else {
            ActivityOutcome::Updated
        },
        source_payload: Some(crate::run::redacted(context, candidate.source)),
        sent_payload: Some(crate::run::redacted(context, sent)),
        response: Some(response),
    });
}
