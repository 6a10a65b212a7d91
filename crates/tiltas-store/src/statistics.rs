//! Planner statistics kept fresh while a sync grows the keyed tables (PostgreSQL).
//!
//! A first sync grows the identity map and the delivered hashes from nothing to a whole
//! catalogue within minutes. PostgreSQL plans the page's key-list look-ups from the statistics
//! of the moment and keeps the plan: made while the tables were empty, it is a sequential scan,
//! and stays one until autovacuum analyses the tables again (measured in `docs/benchmarks.md`:
//! over a second per look-up at 100 000 records, where an index scan takes 3 ms). So the store
//! analyses them itself as they grow, as autovacuum would but without waiting for its next
//! round: `ANALYZE` also invalidates the cached plans, which are then made again with the
//! tables' real sizes.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Records settled before the first analysis: below this a scan costs little.
const FIRST_AFTER: u64 = 5_000;

/// Growth, as a fraction of what was settled up to the last analysis, that calls for the next.
const GROWTH_DIVISOR: u64 = 2;

/// The tables the look-ups read by key list.
pub(crate) const ANALYZED_TABLES: &str = "xref, delivered_hash";

/// How much this process has settled since the keyed tables were last analysed.
#[derive(Default)]
pub(crate) struct Statistics {
    settled: AtomicU64,
    analysed_at: AtomicU64,
    running: AtomicBool,
}

impl Statistics {
    /// Counts `records` settled; returns whether an analysis is due now. The caller runs it and
    /// then calls [`Statistics::analysed`], so at most one runs at a time.
    pub fn settled(&self, records: u64) -> bool {
        if records == 0 {
            return false;
        }
        let settled = self.settled.fetch_add(records, Ordering::Relaxed) + records;
        let last = self.analysed_at.load(Ordering::Relaxed);
        let due = settled - last >= (last / GROWTH_DIVISOR).max(FIRST_AFTER);
        due && !self.running.swap(true, Ordering::AcqRel)
    }

    /// Marks the analysis started by a `true` from [`Statistics::settled`] as finished.
    pub fn analysed(&self) {
        self.analysed_at
            .store(self.settled.load(Ordering::Relaxed), Ordering::Relaxed);
        self.running.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyses_after_the_first_five_thousand_then_at_each_half_again_one_at_a_time() {
        let statistics = Statistics::default();
        assert!(!statistics.settled(0));
        assert!(!statistics.settled(4_999));
        assert!(statistics.settled(1), "due at 5 000");
        // While it runs, no second one starts.
        assert!(!statistics.settled(50_000));
        statistics.analysed();
        // Analysed at 55 000: next at 55 000 + 27 500.
        assert!(!statistics.settled(27_499));
        assert!(statistics.settled(1));
        statistics.analysed();
        assert!(!statistics.settled(41_249));
        assert!(statistics.settled(1));
    }
}
