//! Stage 4, orders: for order flows into an accounting system, each order's buyer is found
//! or created and every line's product checked before the order is written; an order that
//! cannot be booked is a dead letter naming why.
use crate::orders::{Decision, OrderPipeline};
use crate::run::{connector_error, Candidate, Ledger, RunContext};
use crate::EngineError;
use serde_json::Value;

/// The orders ready to write, their payloads completed by the pipeline.
pub(crate) async fn stage(
    context: &RunContext<'_>,
    ledger: &mut Ledger,
    pipeline: Option<&mut OrderPipeline>,
    changed: Vec<Candidate>,
) -> Result<Vec<Candidate>, EngineError> {
    let Some(pipeline) = pipeline.filter(|_| !changed.is_empty()) else {
        return Ok(changed);
    };
    let mut payloads: Vec<Value> = changed.iter().map(|candidate| candidate.payload.clone()).collect();
    let (decisions, calls) = pipeline
        .prepare(&mut payloads)
        .await
        .map_err(|error| connector_error(context.flow, "target", error))?;
    ledger.settlement.counters.api_calls += calls;
    let mut ready = Vec::with_capacity(changed.len());
    for ((mut candidate, payload), decision) in changed.into_iter().zip(payloads).zip(decisions) {
        match decision {
            Decision::Ready => {
                candidate.payload = payload;
                ready.push(candidate);
            }
            Decision::Rejected(problem) => {
                ledger.dead_letter(context, candidate.source_key, problem, candidate.source, None);
            }
        }
    }
    Ok(ready)
}
