//! Stage 2, compare: candidates whose hash is the one last delivered are unchanged (their new
//! source hash is kept, so the next run knows them unchanged before mapping); the rest are
//! validated, and those already linked get their hub id and target id — unless the source
//! holds exactly what another flow wrote into it (an echo), which is unchanged too.
use crate::problem::Problem;
use crate::run::{Candidate, Ledger, RunContext};
use crate::EngineError;
use std::collections::HashMap;
use tiltas_store::{Delivered, HubId};

/// What the identity map says about a source key.
struct KnownLink {
    hub_id: HubId,
    target_id: Option<String>,
    source_hash: Option<String>,
}

/// The candidates that changed since they were last delivered, with their links.
pub(crate) async fn stage(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    candidates: Vec<Candidate>,
    delivered: &HashMap<String, Delivered>,
) -> Result<Vec<Candidate>, EngineError> {
    let fresh = unchanged_left_out(context, ledger, candidates, delivered);
    let fresh_keys: Vec<String> = fresh.iter().map(|candidate| candidate.source_key.clone()).collect();
    let known = known_targets(context, &fresh_keys).await?;
    let flow = context.flow;
    let mut changed = Vec::with_capacity(fresh.len());
    for mut candidate in fresh {
        if let Some(link) = known.get(&candidate.source_key) {
            // Echo suppression: the source holds exactly what another flow wrote into it.
            let echo = format!("{}:{}", flow.to.connection, candidate.echo_hash);
            if !context.options.full && link.source_hash.as_deref() == Some(echo.as_str()) {
                ledger.settlement.counters.unchanged += 1;
                ledger.delivered(candidate.source_key, candidate.hash, candidate.source_hash);
                continue;
            }
            candidate.hub_id = Some(link.hub_id);
            candidate.target_id = link.target_id.clone();
        }
        changed.push(candidate);
    }
    Ok(changed)
}

/// Leaves out the candidates delivered as they are, and dead-letters the invalid ones.
fn unchanged_left_out(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    candidates: Vec<Candidate>,
    delivered: &HashMap<String, Delivered>,
) -> Vec<Candidate> {
    let flow = context.flow;
    let mut fresh = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        if let Some(last) = delivered
            .get(&candidate.source_key)
            .filter(|last| last.hash == candidate.hash)
        {
            ledger.settlement.counters.unchanged += 1;
            // The source changed in a way the payload does not show, or the mapping was
            // edited, or the row predates source hashes: remember this source hash.
            if last.source_hash.as_deref() != Some(candidate.source_hash.as_str()) {
                ledger.delivered(candidate.source_key, candidate.hash, candidate.source_hash);
            }
            continue;
        }
        if let Err(errors) = tiltas_model::validate_json(flow.entity, &candidate.payload) {
            let problem = Problem::from_validation(&errors);
            ledger.dead_letter(context, candidate.source_key, problem, candidate.source, None);
            continue;
        }
        fresh.push(candidate);
    }
    fresh
}

/// For each source key already linked: its hub id, its id in the flow's target, and the echo
/// hash of what another flow last wrote into the source.
async fn known_targets(context: &RunContext<'_>, keys: &[String]) -> Result<HashMap<String, KnownLink>, EngineError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (flow, store) = (context.flow, context.store);
    let source_links = store
        .xref_find_by_external(flow.entity, &flow.from.connection, keys)
        .await?;
    let hub_ids: Vec<HubId> = source_links.values().map(|link| link.hub_id).collect();
    let mut target_ids: HashMap<HubId, String> = HashMap::new();
    if !hub_ids.is_empty() {
        for link in store.xref_find_by_hub(&hub_ids).await? {
            if link.connection == flow.to.connection && link.entity == flow.entity {
                target_ids.insert(link.hub_id, link.external_id);
            }
        }
    }
    Ok(source_links
        .into_iter()
        .map(|(key, link)| {
            let known = KnownLink {
                hub_id: link.hub_id,
                target_id: target_ids.get(&link.hub_id).cloned(),
                source_hash: link.last_hash,
            };
            (key, known)
        })
        .collect())
}
