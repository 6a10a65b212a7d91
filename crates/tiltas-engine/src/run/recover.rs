//! Before a run reads anything: the writes an interrupted run left in the outbox are settled.
//! A create the target holds (found by its key) was applied: its identity link is stored, so
//! the record is updated, never created twice, when it is read again. Everything else is
//! abandoned: its hash was never recorded as delivered, so the record is sent again.
use super::{connector_error, Ledger, RunContext};
use crate::deliver;
use crate::report::SyncReport;
use crate::EngineError;
use std::collections::HashMap;
use tiltas_connector::Target;
use tiltas_store::{IntentOutcome, IntentSettlement, WriteOperation};
use tracing::Instrument as _;

/// Settles the flow's unsettled intents against what the target holds.
pub(crate) async fn recover(
    context: &RunContext<'_>,
    report: &mut SyncReport,
    target: &mut (dyn Target + '_),
) -> Result<(), EngineError> {
    let (flow, store) = (context.flow, context.store);
    let unsettled = store.outbox_unsettled(&flow.name).await?;
    if unsettled.is_empty() {
        return Ok(());
    }
    let creates: Vec<(usize, String)> = unsettled
        .iter()
        .enumerate()
        .filter(|(_, intent)| intent.intent.operation == WriteOperation::Create)
        .filter_map(|(index, intent)| {
            let legacy = || {
                intent
                    .legacy_payload
                    .as_ref()
                    .and_then(|payload| context.prepared.match_key(payload))
            };
            intent.intent.match_key.clone().or_else(legacy).map(|key| (index, key))
        })
        .collect();
    let keys: Vec<String> = creates.iter().map(|(_, key)| key.clone()).collect();
    let found = deliver::lookup(target, flow.match_on.as_deref(), &keys)
        .instrument(crate::spans::connector_call(
            "lookup",
            &flow.name,
            &flow.to.connection,
            keys.len(),
        ))
        .await
        .map_err(|error| connector_error(flow, "target", error))?;
    let found_at: HashMap<usize, String> = creates
        .into_iter()
        .filter_map(|(index, key)| found.found.get(&key).map(|record| (index, record.target_id.clone())))
        .collect();
    let source_keys: Vec<String> = unsettled
        .iter()
        .map(|intent| intent.intent.source_key.clone())
        .collect();
    let known = store
        .xref_find_by_external(flow.entity, &flow.from.connection, &source_keys)
        .await?;
    let mut ledger = Ledger::new(context);
    ledger.settlement.counters.api_calls = found.api_calls;
    for (index, intent) in unsettled.iter().enumerate() {
        let external_id = found_at.get(&index).cloned();
        let outcome = match &external_id {
            Some(target_id) => {
                let hub_id = known
                    .get(&intent.intent.source_key)
                    .map_or_else(super::new_hub_id, |link| link.hub_id);
                ledger.link(context, hub_id, &intent.intent.source_key, target_id, None);
                IntentOutcome::FoundApplied
            }
            None => IntentOutcome::Abandoned,
        };
        ledger.settlement.intents.push(IntentSettlement {
            id: intent.id,
            outcome,
            external_id,
        });
    }
    report.recovered = found_at.len() as u64;
    tracing::info!(
        flow = %flow.name,
        unsettled = unsettled.len(),
        found_applied = found_at.len(),
        "settled the writes an interrupted run left behind"
    );
    report.counters.add(&ledger.settlement.counters);
    store.settle_page(&ledger.settlement).await?;
    Ok(())
}
