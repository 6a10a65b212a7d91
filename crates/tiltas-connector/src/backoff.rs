//! [`Backoff`]: the policy a connector uses when it must retry *inside* one engine call (the
//! second half of a two-request page, a token fetch racing a restart). Everything else is
//! retried by the engine (`tiltas-engine/src/deliver.rs`), whose numbers the defaults share, so
//! a connector's inner retries never outlast the engine's own.
use crate::{ConnectorError, ErrorKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::future::Future;
use std::time::Duration;

/// Exponential backoff with full jitter, capped, that honours a server's `Retry-After`.
///
/// Retry `n` (1-based) waits a random time in `[0, min(base · 2^(n−1), cap)]` — full jitter, so
/// callers that failed together spread out — or exactly `retry_after` when the failure carries
/// one. Defaults match the engine: 200 ms base, 30 s cap, 6 attempts in all. The engine itself
/// draws from `[½, 1]` of the same curve: a connector's inner retries are cheaper to repeat
/// than a whole page, so they may start sooner.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempts: u32,
    random: StdRng,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

impl Backoff {
    /// The engine's first backoff; it doubles per retry.
    pub const BASE_DELAY: Duration = Duration::from_millis(200);
    /// The engine's longest backoff (a `Retry-After` may ask for more and gets it).
    pub const MAX_DELAY: Duration = Duration::from_secs(30);
    /// The engine's tries of one call, the first included.
    pub const ATTEMPTS: u32 = 6;

    /// The default policy, jitter drawn from the operating system's entropy.
    pub fn new() -> Backoff {
        Backoff::with_random(StdRng::from_entropy())
    }

    /// The default policy with jitter from a seeded generator: the same seed gives the same
    /// delays, for deterministic tests.
    pub fn seeded(seed: u64) -> Backoff {
        Backoff::with_random(StdRng::seed_from_u64(seed))
    }

    fn with_random(random: StdRng) -> Backoff {
        Backoff {
            base: Backoff::BASE_DELAY,
            cap: Backoff::MAX_DELAY,
            attempts: Backoff::ATTEMPTS,
            random,
        }
    }

    /// This policy with another first delay.
    pub fn with_base(mut self, base: Duration) -> Backoff {
        self.base = base;
        self
    }

    /// This policy with another longest delay.
    pub fn with_cap(mut self, cap: Duration) -> Backoff {
        self.cap = cap;
        self
    }

    /// This policy with another number of tries (the first included; at least one).
    pub fn with_attempts(mut self, attempts: u32) -> Backoff {
        self.attempts = attempts.max(1);
        self
    }

    /// Tries of one call, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The longest wait before retry `retry` (1-based) without a `Retry-After`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        // 2^16 · base is already far past any sensible cap; the clamp keeps the shift defined.
        self.base
            .saturating_mul(1 << retry.saturating_sub(1).min(16))
            .min(self.cap)
    }

    /// The wait before retry `retry` (1-based) after `error`.
    pub fn delay(&mut self, retry: u32, error: &ConnectorError) -> Duration {
        if let Some(wait) = error.retry_after {
            return wait;
        }
        self.ceiling(retry).mul_f64(self.random.gen_range(0.0..=1.0))
    }

    /// Whether a failure may succeed when tried again: transient and rate-limited ones.
    pub fn is_retryable(error: &ConnectorError) -> bool {
        matches!(error.kind, ErrorKind::Transient | ErrorKind::RateLimited)
    }

    /// Runs `call` until it succeeds, fails for good, or the tries are used up, waiting
    /// between tries; returns the last failure. Each try must pass the connection's
    /// `CallGate` itself, like any request.
    pub async fn retry<T, Call, Attempt>(&mut self, mut call: Call) -> Result<T, ConnectorError>
    where
        Call: FnMut() -> Attempt,
        Attempt: Future<Output = Result<T, ConnectorError>>,
    {
        let mut retry = 0;
        loop {
            match call().await {
                Err(error) if Backoff::is_retryable(&error) && retry + 1 < self.attempts => {
                    retry += 1;
                    tokio::time::sleep(self.delay(retry, &error)).await;
                }
                outcome => return outcome,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn transient() -> ConnectorError {
        ConnectorError::new(ErrorKind::Transient, "503")
    }

    #[test]
    fn delays_grow_exponentially_with_full_jitter_up_to_the_cap() {
        let mut backoff = Backoff::seeded(7);
        let mut below_half = 0;
        for retry in 1..=12 {
            let ceiling = Backoff::BASE_DELAY
                .saturating_mul(1 << (retry - 1))
                .min(Backoff::MAX_DELAY);
            assert_eq!(backoff.ceiling(retry), ceiling);
            for _ in 0..50 {
                let delay = backoff.delay(retry, &transient());
                assert!(delay <= ceiling, "retry {retry}: {delay:?} above {ceiling:?}");
                if delay < ceiling / 2 {
                    below_half += 1;
                }
            }
        }
        assert!(below_half > 0, "full jitter reaches below half the ceiling");
        assert_eq!(backoff.ceiling(40), Backoff::MAX_DELAY, "no overflow far out");
    }

    #[test]
    fn the_same_seed_gives_the_same_delays() {
        let delays = |seed| {
            let mut backoff = Backoff::seeded(seed);
            (1..=6)
                .map(|retry| backoff.delay(retry, &transient()))
                .collect::<Vec<_>>()
        };
        assert_eq!(delays(42), delays(42));
        assert_ne!(delays(42), delays(43));
    }

    #[test]
    fn retry_after_is_honoured_exactly_even_above_the_cap() {
        let mut error = ConnectorError::new(ErrorKind::RateLimited, "429");
        error.retry_after = Some(Duration::from_secs(45));
        let mut backoff = Backoff::seeded(1);
        assert_eq!(backoff.delay(1, &error), Duration::from_secs(45));
        assert_eq!(backoff.delay(9, &error), Duration::from_secs(45));
    }

    #[test]
    fn defaults_match_the_engine() {
        let backoff = Backoff::new();
        assert_eq!(backoff.attempts(), 6);
        assert_eq!(backoff.ceiling(1), Duration::from_millis(200));
        assert_eq!(backoff.ceiling(20), Duration::from_secs(30));
    }

    #[tokio::test]
    async fn retry_stops_at_success_at_a_lasting_failure_or_after_the_last_attempt() {
        let tries = AtomicU32::new(0);
        let mut backoff = Backoff::seeded(3).with_base(Duration::from_millis(1));
        let outcome = backoff
            .retry(|| async {
                match tries.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(transient()),
                    _ => Ok("page"),
                }
            })
            .await;
        assert_eq!((outcome, tries.load(Ordering::SeqCst)), (Ok("page"), 3));

        tries.store(0, Ordering::SeqCst);
        let outcome: Result<(), _> = backoff
            .retry(|| async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err(ConnectorError::new(ErrorKind::Invalid, "bad record"))
            })
            .await;
        assert_eq!(outcome.map_err(|error| error.kind), Err(ErrorKind::Invalid));
        assert_eq!(tries.load(Ordering::SeqCst), 1, "a lasting failure is not retried");

        tries.store(0, Ordering::SeqCst);
        let outcome: Result<(), _> = backoff
            .retry(|| async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err(transient())
            })
            .await;
        assert!(outcome.is_err());
        assert_eq!(tries.load(Ordering::SeqCst), Backoff::ATTEMPTS);
    }
}
