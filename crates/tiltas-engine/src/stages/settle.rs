//! Stage 6, settle: the page's ledger goes to the store in one transaction — delivered
//! hashes, identity links, settled intents, dead letters, activity, counters and, for
//! incremental reads, the cursor — and its counters and problems to the run's report.
//!
//! The transaction runs in its own task while the run reads and prepares the next page
//! ([`InFlight`]): the store's writer and the engine then work at the same time instead of in
//! turn. What a page decides depends on the store only through the keys it reads (delivered
//! hashes, identity links and dead letters are looked up by source key), so a page that reads
//! a key the settling page read waits for it to land first, and so does every page of an order
//! flow (its pipeline finds customers the previous page may have created). Pages land in order:
//! the next settlement starts only after the previous one is in the store, and the source
//! hears that a page is settled only then.
use crate::report::SyncReport;
use crate::run::{Ledger, RunContext, REPORTED_PROBLEMS};
use crate::EngineError;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use tiltas_connector::Page;
use tiltas_store::{PageSettlement, Store, StoreError};

/// Adds the page's counters, problems and plan to the report; returns what the store keeps
/// (`None` for a dry run, which keeps nothing). `newest_change` becomes the cursor of an
/// incremental read.
pub(crate) fn stage(
    context: &RunContext<'_>,
    mut ledger: Ledger,
    report: &mut SyncReport,
    newest_change: Option<DateTime<Utc>>,
    incremental: bool,
) -> Option<PageSettlement> {
    if incremental {
        ledger.settlement.cursor = newest_change.map(|at| at.to_rfc3339());
    }
    report.counters.add(&ledger.settlement.counters);
    let room = REPORTED_PROBLEMS.saturating_sub(report.problems.len());
    report.problems.extend(ledger.problems.into_iter().take(room));
    report.planned.append(&mut ledger.planned);
    context.run.is_some().then_some(ledger.settlement)
}

/// The keys a page read, failed reads included: what a settling page may change in the store.
pub(crate) fn keys_of(page: &Page) -> HashSet<String> {
    page.records
        .iter()
        .map(|record| match record {
            Ok(record) => record.key.clone(),
            Err(failure) => failure.key.clone(),
        })
        .collect()
}

/// A page's settlement on its way to the store.
pub(crate) struct InFlight {
    /// The transaction's task; aborted (rolled back) if the run is dropped before it lands.
    task: Option<tokio::task::JoinHandle<Result<(), StoreError>>>,
    /// Every key the page read.
    keys: HashSet<String>,
    /// The flow, to name in an error.
    flow: String,
    /// Where the page's read ended, told to the source once the page has landed.
    pub next: Option<String>,
}

impl InFlight {
    /// Starts writing `settlement` in `span`; `keys` are the keys its page read.
    pub fn start(
        store: &Arc<dyn Store>,
        settlement: PageSettlement,
        keys: HashSet<String>,
        next: Option<String>,
        span: tracing::Span,
    ) -> InFlight {
        let store = store.clone();
        let flow = settlement.flow.clone();
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move { store.settle_page(&settlement).await },
            span,
        ));
        InFlight {
            task: Some(task),
            keys,
            flow,
            next,
        }
    }

    /// Whether `keys` (a later page's) include one this page read.
    pub fn touches(&self, keys: &HashSet<String>) -> bool {
        let (small, large) = if keys.len() < self.keys.len() {
            (keys, &self.keys)
        } else {
            (&self.keys, keys)
        };
        small.iter().any(|key| large.contains(key))
    }

    /// Waits until the settlement is in the store.
    pub async fn landed(mut self) -> Result<Option<String>, EngineError> {
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(stored) => stored?,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                // Cancelled with the runtime shutting down: the transaction rolled back.
                Err(_) => return Err(EngineError::Interrupted(self.flow.clone())),
            }
        }
        Ok(self.next.take())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // A run dropped mid-way (its task cancelled) must not leave a page settling behind
        // it: the transaction is dropped and rolls back, as after a crash.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiltas_connector::{RecordFailure, SourceRecord};

    fn keys(names: &[&str]) -> HashSet<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[tokio::test]
    async fn a_page_touches_the_settling_one_through_any_key_it_read_failures_included() {
        let record = |key: &str| {
            Ok(SourceRecord {
                key: key.to_owned(),
                updated_at: None,
                data: serde_json::json!({}),
            })
        };
        let failure = Err(RecordFailure {
            key: "C".into(),
            location: "row 3".into(),
            message: "price is not a number".into(),
            raw: serde_json::json!({}),
            field: None,
            fix: None,
        });
        let page = Page {
            records: vec![record("A"), record("B"), failure],
            next: None,
            api_calls: 1,
        };
        assert_eq!(keys_of(&page), keys(&["A", "B", "C"]));
        let settling = InFlight {
            task: None,
            keys: keys_of(&page),
            flow: "products".into(),
            next: Some("2".into()),
        };
        assert!(settling.touches(&keys(&["C"])));
        assert!(settling.touches(&keys(&["X", "Y", "Z", "W", "B"])));
        assert!(!settling.touches(&keys(&["X", "Y"])));
        assert!(!settling.touches(&HashSet::new()));
        assert_eq!(settling.landed().await.unwrap().as_deref(), Some("2"));
    }
}
