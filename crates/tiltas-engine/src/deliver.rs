//! Calls to connectors with retries: exponential backoff with jitter that honours the server's
//! `Retry-After`, and writes that are verified before they are resent, so a write the target
//! applied but did not acknowledge (a 500 after the commit, a dropped connection) is never
//! applied twice.
use rand::Rng;
use std::time::Duration;
use tiltas_connector::{
    BatchResult, ConnectorError, ErrorKind, Lookup, Page, ReadRequest, Source, Target, WriteItem, WriteOutcome,
};

/// How often a call that failed in transit is tried before the run gives up.
pub(crate) const ATTEMPTS: u32 = 6;
/// How long, in all, one call waits out a system's "too many requests" before the run gives
/// up. A 429 is the system asking to slow down, not a failure: several workers (or another
/// program) sharing one API key meet it for as long as they overlap, so it is waited out for
/// minutes, not six tries.
pub(crate) const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(300);
/// The first backoff; it doubles per attempt.
const BASE_DELAY: Duration = Duration::from_millis(200);
/// The longest backoff (a server's `Retry-After` may ask for more and gets it).
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Whether a failure may succeed when tried again.
pub(crate) fn is_retryable(error: &ConnectorError) -> bool {
    matches!(error.kind, ErrorKind::Transient | ErrorKind::RateLimited)
}

/// The wait before retry `attempt` (1-based): exactly the server's `Retry-After` when it sent
/// one, else `BASE_DELAY · 2^(attempt−1)` capped at `MAX_DELAY`, scaled by a random factor in
/// [0.5, 1] so that workers that failed together do not retry together.
pub(crate) fn retry_delay(attempt: u32, error: &ConnectorError) -> Duration {
    if let Some(wait) = error.retry_after {
        return wait;
    }
    let exponential = BASE_DELAY
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_DELAY);
    exponential.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// The retries of one call so far: failures in transit are tried [`ATTEMPTS`] times, refusals
/// for the rate (429) are waited out for up to [`RATE_LIMIT_PATIENCE`].
#[derive(Debug, Default)]
struct Retries {
    failed: u32,
    refused: u32,
    waited_for_rate: Duration,
}

impl Retries {
    /// The wait before trying again after `error`, or `None` when the call must give up.
    fn next(&mut self, error: &ConnectorError) -> Option<Duration> {
        match error.kind {
            ErrorKind::RateLimited => {
                let wait = retry_delay(self.refused + 1, error);
                if self.waited_for_rate + wait > RATE_LIMIT_PATIENCE {
                    return None;
                }
                self.refused += 1;
                self.waited_for_rate += wait;
                Some(wait)
            }
            ErrorKind::Transient if self.failed + 1 < ATTEMPTS => {
                self.failed += 1;
                Some(retry_delay(self.failed, error))
            }
            _ => None,
        }
    }

    /// Tries after the first, of either kind.
    fn made(&self) -> u32 {
        self.failed + self.refused
    }

    /// Waits before the next try after `error`; false (at once) when the call must give up.
    async fn wait(&mut self, error: &ConnectorError) -> bool {
        let Some(wait) = self.next(error) else {
            return false;
        };
        let attempt = self.made();
        tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying after a failure");
        tokio::time::sleep(wait).await;
        true
    }
}

/// Reads a page, retrying transient failures. Returns the page and the failed calls made.
pub(crate) async fn read_page(
    source: &mut (dyn Source + '_),
    request: &ReadRequest,
) -> Result<(Page, u64), ConnectorError> {
    let mut retries = Retries::default();
    loop {
        match source.read_page(request).await {
            Err(error) => {
                if !retries.wait(&error).await {
                    return Err(error);
                }
            }
            Ok(page) => return Ok((page, u64::from(retries.made()))),
        }
    }
}

/// Looks records up by key, retrying transient failures; an empty list costs nothing.
pub(crate) async fn lookup(
    target: &mut (dyn Target + '_),
    match_on: Option<&str>,
    keys: &[String],
) -> Result<Lookup, ConnectorError> {
    if keys.is_empty() || !target.can_lookup() {
        return Ok(Lookup::default());
    }
    let mut retries = Retries::default();
    loop {
        match target.lookup(match_on, keys).await {
            Err(error) => {
                if !retries.wait(&error).await {
                    return Err(error);
                }
            }
            Ok(mut found) => {
                found.api_calls += u64::from(retries.made());
                return Ok(found);
            }
        }
    }
}

/// Writes a batch. When a call fails in a way that may still have applied it, the records it
/// would have created are looked up by key before anything is resent: those found count as
/// written (their ids adopted) and only the rest go again. Updates are resent as they are:
/// writing the same content twice changes nothing.
///
/// `keys[i]` is the match key of `items[i]` (`None` when it has none).
pub(crate) async fn write_verified(
    target: &mut (dyn Target + '_),
    match_on: Option<&str>,
    items: &[WriteItem],
    keys: &[Option<String>],
) -> Result<BatchResult, ConnectorError> {
    let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; items.len()];
    let mut pending: Vec<usize> = (0..items.len()).collect();
    let mut api_calls = 0;
    let mut retries = Retries::default();
    while !pending.is_empty() {
        let batch: Vec<WriteItem> = pending.iter().map(|&index| items[index].clone()).collect();
        // The failure to retry after, if any: of the whole call, or of some of its records
        // (targets that send one record per call report those per record).
        let failure = match target.write_batch(batch).await {
            Ok(result) => {
                api_calls += result.api_calls;
                let mut retry = Vec::new();
                let mut failure = None;
                for (&index, outcome) in pending.iter().zip(result.outcomes) {
                    match outcome {
                        WriteOutcome::Failed(error) if is_retryable(&error) => {
                            retry.push(index);
                            outcomes[index] = Some(WriteOutcome::Failed(error.clone()));
                            failure = Some(error);
                        }
                        other => outcomes[index] = Some(other),
                    }
                }
                // Records that went through this round give the rest a fresh set of attempts: the
                // limit is on attempts without progress.
                if retry.len() < pending.len() {
                    retries = Retries::default();
                }
                pending = retry;
                match failure {
                    Some(error) => error,
                    None => break,
                }
            }
            Err(error) if is_retryable(&error) => {
                api_calls += 1;
                error
            }
            Err(error) => return Err(error),
        };
        if !retries.wait(&failure).await {
            for &index in &pending {
                outcomes[index].get_or_insert_with(|| WriteOutcome::Failed(failure.clone()));
            }
            break;
        }
        // A refusal (429) was not processed; anything else may have been.
        if failure.kind != ErrorKind::RateLimited {
            let creates: Vec<(usize, String)> = pending
                .iter()
                .filter(|&&index| items[index].target_id.is_none())
                .filter_map(|&index| keys[index].clone().map(|key| (index, key)))
                .collect();
            let wanted: Vec<String> = creates.iter().map(|(_, key)| key.clone()).collect();
            let found = lookup(target, match_on, &wanted).await?;
            api_calls += found.api_calls;
            for (index, key) in creates {
                if let Some(record) = found.found.get(&key) {
                    tracing::info!(key = %key, id = %record.target_id, "an unacknowledged write was applied; not resending it");
                    outcomes[index] = Some(WriteOutcome::Written {
                        target_id: record.target_id.clone(),
                    });
                }
            }
            pending.retain(|&index| !matches!(outcomes[index], Some(WriteOutcome::Written { .. })));
        }
    }
    let outcomes = outcomes
        .into_iter()
        .map(|outcome| {
            outcome.unwrap_or_else(|| {
                WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Fatal,
                    "the target did not answer for this record",
                ))
            })
        })
        .collect();
    Ok(BatchResult { outcomes, api_calls })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_honoured_exactly() {
        let mut error = ConnectorError::new(ErrorKind::RateLimited, "429");
        error.retry_after = Some(Duration::from_secs(2));
        assert_eq!(retry_delay(1, &error), Duration::from_secs(2));
        assert_eq!(retry_delay(5, &error), Duration::from_secs(2));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let error = ConnectorError::new(ErrorKind::Transient, "503");
        for attempt in 1..=12 {
            let full = BASE_DELAY.saturating_mul(1 << (attempt - 1)).min(MAX_DELAY);
            let delay = retry_delay(attempt, &error);
            assert!(
                delay <= full && delay >= full / 2,
                "attempt {attempt}: {delay:?} outside [{:?}, {full:?}]",
                full / 2
            );
        }
    }

    #[test]
    fn refusals_for_the_rate_are_waited_out_for_minutes_failures_in_transit_six_times() {
        let mut refused = ConnectorError::new(ErrorKind::RateLimited, "429");
        refused.retry_after = Some(Duration::from_secs(1));
        let mut retries = Retries::default();
        for _ in 0..RATE_LIMIT_PATIENCE.as_secs() {
            assert_eq!(retries.next(&refused), Some(Duration::from_secs(1)));
        }
        assert_eq!(retries.next(&refused), None, "past the patience");

        let failed = ConnectorError::new(ErrorKind::Transient, "503");
        let mut retries = Retries::default();
        let waits = std::iter::from_fn(|| retries.next(&failed)).count();
        assert_eq!(waits, ATTEMPTS as usize - 1);
        assert_eq!(retries.made(), ATTEMPTS - 1);

        // Refusals in between do not use up the tries of failures, nor the other way round.
        let mut retries = Retries::default();
        for _ in 0..10 {
            assert!(retries.next(&refused).is_some());
        }
        assert!(retries.next(&failed).is_some());
        assert_eq!(retries.next(&ConnectorError::new(ErrorKind::Fatal, "400")), None);
    }
}
