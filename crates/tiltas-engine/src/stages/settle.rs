//! Stage 6, settle: the page's ledger goes to the store in one transaction — delivered
//! hashes, identity links, settled intents, dead letters, activity, counters and, for
//! incremental reads, the cursor — and its counters and problems to the run's report.
use crate::report::SyncReport;
use crate::run::{Ledger, RunContext, REPORTED_PROBLEMS};
use crate::EngineError;
use chrono::{DateTime, Utc};

/// Settles the page; `newest_change` becomes the cursor of an incremental read.
pub(crate) async fn stage(
    context: &RunContext<'_>,
    mut ledger: Ledger,
    report: &mut SyncReport,
    newest_change: Option<DateTime<Utc>>,
    incremental: bool,
) -> Result<(), EngineError> {
    if incremental {
        ledger.settlement.cursor = newest_change.map(|at| at.to_rfc3339());
    }
    report.counters.add(&ledger.settlement.counters);
    let room = REPORTED_PROBLEMS.saturating_sub(report.problems.len());
    report.problems.extend(ledger.problems.into_iter().take(room));
    report.planned.append(&mut ledger.planned);
    if context.run.is_some() {
        context.store.settle_page(&ledger.settlement).await?;
    }
    Ok(())
}
