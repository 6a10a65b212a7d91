//! Progress of a long run, shown by the CLI as a bar on a terminal.
use tiltas_store::RunCounters;

/// Receives the counters after every page.
pub trait Progress: Send + Sync {
    /// Called after each settled page with the run's counters so far.
    fn page_settled(&self, counters: &RunCounters);
}

/// Shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn page_settled(&self, _counters: &RunCounters) {}
}
