//! [`Repeats`]: an event that may happen thousands of times a second (a webhook re-delivered
//! under load, a key repeated in every page, a sender refused by backpressure) is logged once
//! per interval and key, with how many times it happened since — never one line per copy.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts repeats of an event per key and says when to log it: the first time, then at most
/// once per interval, with the number of repeats not logged since the last line.
#[derive(Debug)]
pub struct Repeats {
    interval: Duration,
    keys: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    logged_at: Instant,
    unlogged: u64,
}

impl Repeats {
    /// The interval used by the engine and the server: ten seconds.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

    /// A counter logging each key at most once per `interval`.
    pub fn new(interval: Duration) -> Repeats {
        Repeats {
            interval,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one occurrence of `key` now; see [`Repeats::occurred_at`].
    pub fn occurred(&self, key: &str) -> Option<u64> {
        self.occurred_at(key, Instant::now())
    }

    /// Counts one occurrence of `key` at `now`. `Some(n)`: log this occurrence, mentioning
    /// the `n` earlier ones that were not logged; `None`: counted only.
    pub fn occurred_at(&self, key: &str, now: Instant) -> Option<u64> {
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(window) = keys.get_mut(key) else {
            keys.insert(
                key.to_owned(),
                Window {
                    logged_at: now,
                    unlogged: 0,
                },
            );
            return Some(0);
        };
        if now.saturating_duration_since(window.logged_at) < self.interval {
            window.unlogged += 1;
            return None;
        }
        let unlogged = window.unlogged;
        *window = Window {
            logged_at: now,
            unlogged: 0,
        };
        Some(unlogged)
    }
}

impl Default for Repeats {
    fn default() -> Repeats {
        Repeats::new(Repeats::DEFAULT_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_logged_first_then_once_per_interval_with_the_repeats_in_between() {
        let repeats = Repeats::new(Duration::from_secs(10));
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        assert_eq!(repeats.occurred_at("shop", at(0)), Some(0));
        let logged: Vec<Option<u64>> = (0..1000).map(|_| repeats.occurred_at("shop", at(5))).collect();
        assert!(logged.iter().all(Option::is_none), "no line within the interval");
        assert_eq!(
            repeats.occurred_at("shop", at(10)),
            Some(1000),
            "the repeats are counted"
        );
        assert_eq!(repeats.occurred_at("shop", at(15)), None);
        assert_eq!(repeats.occurred_at("shop", at(21)), Some(1));
        assert_eq!(
            repeats.occurred_at("shop", at(40)),
            Some(0),
            "a quiet spell reports none"
        );
    }

    #[test]
    fn each_key_has_its_own_interval() {
        let repeats = Repeats::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(repeats.occurred_at("shop", start), Some(0));
        assert_eq!(repeats.occurred_at("other", start), Some(0));
        assert_eq!(repeats.occurred_at("shop", start), None);
        assert_eq!(repeats.occurred_at("other", start + Duration::from_secs(10)), Some(0));
        assert_eq!(repeats.occurred_at("shop", start + Duration::from_secs(10)), Some(1));
    }

    #[test]
    fn concurrent_occurrences_are_all_counted() {
        let repeats = std::sync::Arc::new(Repeats::new(Duration::from_secs(3600)));
        let start = Instant::now();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let repeats = repeats.clone();
                std::thread::spawn(move || (0..250).filter(|_| repeats.occurred_at("k", start).is_some()).count())
            })
            .collect();
        let logged: usize = threads.into_iter().map(|thread| thread.join().expect("thread")).sum();
        assert_eq!(logged, 1);
        assert_eq!(repeats.occurred_at("k", start + Duration::from_secs(3600)), Some(999));
    }
}
