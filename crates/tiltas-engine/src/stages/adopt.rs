//! Stage 3, adopt: records with no link yet are looked up in the target by their match key
//! and adopted when found; `on_duplicate` decides what happens to records the target already
//! has; records the target says it can never take as they are (and orders whose invoice would
//! not add up) are set aside before anything is written for them.
use crate::deliver;
use crate::problem::Problem;
use crate::run::{connector_error, Candidate, Ledger, RunContext};
use crate::spans;
use crate::EngineError;
use tiltas_config::DuplicatePolicy;
use tiltas_connector::Target;
use tiltas_model::EntityKind;
use tracing::Instrument as _;

/// The candidates still to write, found records adopted.
pub(crate) async fn stage(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    target: Option<&mut (dyn Target + '_)>,
    mut changed: Vec<Candidate>,
) -> Result<Vec<Candidate>, EngineError> {
    let Some(target) = target else {
        return Ok(duplicate_policy(context, ledger, changed));
    };
    look_up(context, ledger, target, &mut changed).await?;
    let remaining = duplicate_policy(context, ledger, changed);
    Ok(refuse_unwritable(context, ledger, target, remaining))
}

/// Identity by look-up: records with no link yet may already exist in the target.
async fn look_up(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    target: &mut (dyn Target + '_),
    changed: &mut [Candidate],
) -> Result<(), EngineError> {
    let flow = context.flow;
    let unlinked: Vec<(usize, String)> = changed
        .iter()
        .enumerate()
        .filter(|(_, candidate)| candidate.target_id.is_none())
        .filter_map(|(index, candidate)| candidate.match_key.clone().map(|key| (index, key)))
        .collect();
    let wanted: Vec<String> = unlinked.iter().map(|(_, key)| key.clone()).collect();
    let found = deliver::lookup(target, flow.match_on.as_deref(), &wanted)
        .instrument(spans::connector_call(
            "lookup",
            &flow.name,
            &flow.to.connection,
            wanted.len(),
        ))
        .await
        .map_err(|error| connector_error(flow, "target", error))?;
    ledger.settlement.counters.api_calls += found.api_calls;
    for (index, key) in unlinked {
        if let Some(record) = found.found.get(&key) {
            changed[index].target_id = Some(record.target_id.clone());
            changed[index].adopted = true;
        }
    }
    Ok(())
}

/// `on_duplicate`: what happens to records the target already has (linked by an earlier run,
/// or found by look-up). Returns the records still to write.
fn duplicate_policy(context: &RunContext<'_>, ledger: &mut Ledger, changed: Vec<Candidate>) -> Vec<Candidate> {
    let flow = context.flow;
    if flow.on_duplicate == DuplicatePolicy::Update {
        return changed;
    }
    let mut remaining = Vec::with_capacity(changed.len());
    for candidate in changed {
        let Some(target_id) = candidate.target_id.clone() else {
            remaining.push(candidate);
            continue;
        };
        match flow.on_duplicate {
            DuplicatePolicy::Update => remaining.push(candidate),
            DuplicatePolicy::Skip => {
                let hub_id = candidate.hub_id.unwrap_or_else(crate::run::new_hub_id);
                ledger.link(context, hub_id, &candidate.source_key, &target_id, None);
                ledger.delivered(candidate.source_key.clone(), candidate.hash, candidate.source_hash);
                let reason = format!("already in the target as {target_id} (on_duplicate = \"skip\")");
                ledger.skip(context, candidate.source_key, candidate.source, &reason);
            }
            DuplicatePolicy::Error => {
                let fix = "remove it there or set on_duplicate = \"update\" or \"skip\"";
                let problem = Problem::invalid(format!(
                    "already in connection \"{}\" as {target_id} (on_duplicate = \"error\"): {fix}",
                    flow.to.connection
                ))
                .with_fix(fix);
                ledger.dead_letter(context, candidate.source_key, problem, candidate.source, None);
            }
        }
    }
    remaining
}

/// Sets aside the records the target says it can never write as they are (before an order's
/// buyer or products are created for them), and checks an order's invoice against its totals.
fn refuse_unwritable(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    target: &(dyn Target + '_),
    changed: Vec<Candidate>,
) -> Vec<Candidate> {
    let mut writable = Vec::with_capacity(changed.len());
    for candidate in changed {
        let refusal = target.precheck(&candidate.payload).err().or_else(|| {
            (context.flow.entity == EntityKind::Order)
                .then(|| crate::orders::check_totals(&candidate.payload).err())
                .flatten()
        });
        match refusal {
            None => writable.push(candidate),
            Some(reason) => {
                ledger.dead_letter(
                    context,
                    candidate.source_key,
                    Problem::invalid(reason),
                    candidate.source,
                    None,
                );
            }
        }
    }
    writable
}
