//! Backpressure and a bounded store under sustained load.
//!
//! - [`InboxBacklog`]: the deliveries waiting in the inbox per connection, kept in memory so
//!   `/hooks/{connection}` checks its limit without a query: counted up by each delivery
//!   accepted, and set from the store (an indexed count) every second by [`run_upkeep`].
//!   Past the connection's `max_inbox_backlog` the hook answers 503 with `Retry-After`.
//! - [`run_upkeep`]: also checkpoints SQLite's write-ahead log: passively while deliveries
//!   arrive, truncating when the log passes [`LOG_BOUND_PAGES`] or when ingress is idle,
//!   so the log stays bounded on a busy day and shrinks to nothing on a quiet one.
use crate::AppState;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tiltas_engine::Repeats;
use tiltas_store::{Checkpoint, CheckpointMode};

/// What the hook answers in `Retry-After` when a connection's backlog is full, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 30;
/// How often the backlog is recounted and the log checkpointed.
const UPKEEP_EVERY: Duration = Duration::from_secs(1);
/// Ingress is idle when nothing was accepted for this long: the log is truncated then.
const IDLE_AFTER: Duration = Duration::from_secs(2);
/// The log size, in pages, past which a checkpoint truncates even while deliveries arrive
/// (8 192 pages of SQLite's default 4 KiB: 32 MiB). Writers wait for it a moment; without
/// it a reader that always overlaps a writer keeps the log growing.
pub const LOG_BOUND_PAGES: i64 = 8_192;

/// One connection's count.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    /// Deliveries counted as waiting.
    waiting: u64,
    /// Deliveries admitted since the start (never decreases): what a recount must add back
    /// for the deliveries admitted while the store was counting.
    admitted: u64,
}

/// Where the admissions stood when a recount began ([`InboxBacklog::recount_begins`]).
#[derive(Debug)]
pub struct RecountStart(HashMap<String, u64>);

/// Deliveries waiting in the inbox, per connection (see the module docs).
#[derive(Debug, Default)]
pub struct InboxBacklog {
    counts: Mutex<HashMap<String, Count>>,
    last_accepted: Mutex<Option<Instant>>,
    /// Events that repeat under load (refusals per connection, failed checkpoints), logged
    /// once per key and interval.
    pub(crate) repeats: Repeats,
}

impl InboxBacklog {
    /// Takes a place for one more delivery of `connection`, or `Err(backlog)` when `limit`
    /// deliveries already wait. A place taken must be given back ([`Self::give_back`]) if
    /// the delivery is not stored after all.
    pub fn admit(&self, connection: &str, limit: u64) -> Result<(), u64> {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(connection.to_owned()).or_default();
        if count.waiting >= limit {
            return Err(count.waiting);
        }
        count.waiting += 1;
        count.admitted += 1;
        drop(counts);
        *self
            .last_accepted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        Ok(())
    }

    /// Gives back a place taken by [`Self::admit`] for a delivery that was not stored.
    pub fn give_back(&self, connection: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(connection) {
            count.waiting = count.waiting.saturating_sub(1);
            count.admitted = count.admitted.saturating_sub(1);
        }
    }

    /// The deliveries of `connection` counted as waiting.
    pub fn waiting(&self, connection: &str) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.get(connection).map_or(0, |count| count.waiting)
    }

    /// Call before the store counts the backlog, and hand the answer to [`Self::recount`].
    pub fn recount_begins(&self) -> RecountStart {
        let counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        RecountStart(
            counts
                .iter()
                .map(|(name, count)| (name.clone(), count.admitted))
                .collect(),
        )
    }

    /// Sets the counts to the store's (deliveries taken by the worker leave them) plus the
    /// deliveries admitted since `start`. A delivery admitted before `start` but stored after
    /// the store counted is missed until the next recount: at most one per request in flight.
    pub fn recount(&self, start: &RecountStart, from_store: &HashMap<String, u64>) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, count) in counts.iter_mut() {
            let since = count.admitted - start.0.get(name).copied().unwrap_or(0).min(count.admitted);
            count.waiting = from_store.get(name).copied().unwrap_or(0) + since;
        }
        for (name, waiting) in from_store {
            counts.entry(name.clone()).or_insert(Count {
                waiting: *waiting,
                admitted: 0,
            });
        }
    }

    /// Whether nothing was accepted for `quiet`.
    fn idle_for(&self, quiet: Duration) -> bool {
        self.last_accepted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none_or(|at| at.elapsed() >= quiet)
    }
}

/// Recounts the inbox backlog and checkpoints the write-ahead log every second until the
/// process ends (started by [`crate::run_worker`]).
pub async fn run_upkeep(state: AppState) {
    let mut log = LogUpkeep::default();
    let mut ticks = tokio::time::interval(UPKEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let start = state.backlog.recount_begins();
        match state.store.inbox_backlog_by_connection().await {
            Ok(counts) => state.backlog.recount(&start, &counts),
            Err(error) => tracing::warn!(%error, "the inbox backlog could not be counted; the last count is kept"),
        }
        if log.managed {
            log.tick(&state).await;
        }
    }
}

/// The checkpoint policy of [`run_upkeep`]: every tick a passive checkpoint (it never waits,
/// and says how many pages the log holds), then a truncating one when the log passed
/// [`LOG_BOUND_PAGES`] or when ingress is idle and the log holds anything at all. The store is
/// asked rather than remembered: the inbox worker keeps writing (settling deliveries) long
/// after ingress went idle, so a log truncated once may have grown again by the next tick.
#[derive(Debug)]
struct LogUpkeep {
    /// False once the store said it has no log to manage (PostgreSQL).
    managed: bool,
}

impl Default for LogUpkeep {
    fn default() -> LogUpkeep {
        LogUpkeep { managed: true }
    }
}

impl LogUpkeep {
    async fn tick(&mut self, state: &AppState) {
        let Some(done) = self.checkpoint(state, CheckpointMode::Passive).await else {
            return;
        };
        if truncate_after(&done, state.backlog.idle_for(IDLE_AFTER)) {
            tracing::debug!(pages = done.log_pages, "truncating the write-ahead log");
            self.checkpoint(state, CheckpointMode::Truncate).await;
        }
    }

    async fn checkpoint(&mut self, state: &AppState, mode: CheckpointMode) -> Option<Checkpoint> {
        match state.store.checkpoint(mode).await {
            Ok(Some(done)) => Some(done),
            Ok(None) => {
                self.managed = false;
                None
            }
            Err(error) => {
                if let Some(unlogged) = state.backlog.repeats.occurred("checkpoint") {
                    tracing::warn!(%error, failures_not_logged = unlogged, "a write-ahead log checkpoint failed; the next is tried in a second");
                }
                None
            }
        }
    }
}

/// Whether a truncating checkpoint follows the passive one that found `passive`: always past
/// the bound (a reader that always overlaps a writer keeps a passive checkpoint from ever
/// resetting the log), and when ingress is `idle` as long as the log is not empty (an empty
/// log costs nothing to leave, so an idle store is not locked once a second for nothing).
fn truncate_after(passive: &Checkpoint, idle: bool) -> bool {
    passive.log_pages > LOG_BOUND_PAGES || (idle && passive.log_pages > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_admitted_up_to_the_limit_and_places_come_back_by_recount_or_give_back() {
        let backlog = InboxBacklog::default();
        for _ in 0..3 {
            backlog.admit("shop", 3).expect("room");
        }
        assert_eq!(backlog.admit("shop", 3), Err(3));
        assert_eq!(backlog.waiting("shop"), 3);
        backlog.admit("other", 3).expect("each connection has its own limit");
        backlog.give_back("shop");
        backlog.admit("shop", 3).expect("a place given back");
        let start = backlog.recount_begins();
        backlog.admit("other", 3).expect("admitted while the store counts");
        backlog.recount(&start, &HashMap::from([("shop".to_owned(), 1)]));
        assert_eq!(
            (backlog.waiting("shop"), backlog.waiting("other")),
            (1, 1),
            "the store's count plus what was admitted meanwhile"
        );
        backlog.admit("shop", 3).expect("the worker took deliveries");
    }

    #[test]
    fn a_log_is_truncated_past_its_bound_or_when_ingress_is_idle_and_it_is_not_empty() {
        let log = |pages| Checkpoint {
            busy: false,
            log_pages: pages,
            checkpointed_pages: pages,
        };
        assert!(!truncate_after(&log(LOG_BOUND_PAGES), false), "busy, within the bound");
        assert!(truncate_after(&log(LOG_BOUND_PAGES + 1), false), "busy, past the bound");
        assert!(
            truncate_after(&log(1), true),
            "idle, a page written since the last truncation"
        );
        assert!(!truncate_after(&log(0), true), "idle and already empty");
    }

    #[test]
    fn ingress_is_idle_until_a_delivery_is_admitted() {
        let backlog = InboxBacklog::default();
        assert!(backlog.idle_for(Duration::from_secs(2)));
        backlog.admit("shop", 10).expect("room");
        assert!(!backlog.idle_for(Duration::from_secs(2)));
        assert!(backlog.idle_for(Duration::ZERO));
    }
}
