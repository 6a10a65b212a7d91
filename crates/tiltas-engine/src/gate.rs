//! Per-connection pacing (`rate_limit`) and daily request budget (`daily_budget`): every request
//! a connector sends waits for its slot and is counted in the store, so the engine never
//! exceeds either, across runs and across workers sharing the store. Pacing is GCRA (the
//! `governor` crate): `10/s` spaces requests 100 ms apart; `10/s, burst 30` lets 30 go at once
//! after a quiet spell, as a system that documents such a burst allows, then 10 a second.
use async_trait::async_trait;
use chrono::{Duration as ChronoDuration, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tiltas_config::{Connection, RateLimit};
use tiltas_connector::{CallGate, ConnectorError, ErrorKind, RemoteQuota};
use tiltas_store::Store;

/// The gate of one connection.
pub(crate) struct ConnectionGate {
    connection: String,
    pacing: Option<governor::DefaultDirectRateLimiter>,
    budget: Option<u64>,
    store: Arc<dyn Store>,
    /// What the system last said about its own limits, by name.
    reported: Mutex<BTreeMap<String, RemoteQuota>>,
}

/// The GCRA limiter of a rate: one request per `per / requests`, `burst` at once (1 unless the
/// system documents more).
fn limiter(rate: RateLimit) -> Option<governor::DefaultDirectRateLimiter> {
    let interval = rate.per / rate.requests.max(1);
    let burst = std::num::NonZeroU32::new(rate.burst.unwrap_or(1))?;
    let quota = governor::Quota::with_period(interval)?.allow_burst(burst);
    Some(governor::RateLimiter::direct(quota))
}

impl ConnectionGate {
    pub fn new(connection: &Connection, store: Arc<dyn Store>) -> ConnectionGate {
        ConnectionGate {
            connection: connection.name.clone(),
            pacing: connection.rate_limit.and_then(limiter),
            budget: connection.daily_budget,
            store,
            reported: Mutex::new(BTreeMap::new()),
        }
    }

    /// The limits the system reported, by name.
    pub fn reported(&self) -> Vec<RemoteQuota> {
        let reported = self.reported.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        reported.values().cloned().collect()
    }

    /// The store's counter window of a day's budget (UTC).
    pub fn window(day: chrono::NaiveDate) -> String {
        format!("day:{day}")
    }

    async fn spend_budget(&self, budget: u64) -> Result<(), ConnectorError> {
        let now = Utc::now();
        let window = Self::window(now.date_naive());
        let grant = self
            .store
            .quota_consume(&self.connection, &window, 1, Some(budget))
            .await
            .map_err(|error| {
                ConnectorError::new(
                    ErrorKind::Transient,
                    format!("cannot count the request against the daily budget: {error}"),
                )
            })?;
        if grant.granted {
            return Ok(());
        }
        let midnight = (now.date_naive() + ChronoDuration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        let left = midnight - now;
        Err(ConnectorError::new(
            ErrorKind::Quota,
            format!(
                "the daily budget of {budget} requests for connection \"{}\" is used up ({} sent today, UTC); \
                 progress so far is saved and the flow can resume after {} (in {}h {:02}m), or raise `daily_budget`",
                self.connection,
                grant.used,
                midnight.to_rfc3339(),
                left.num_hours(),
                left.num_minutes() % 60
            ),
        ))
    }
}

#[async_trait]
impl CallGate for ConnectionGate {
    async fn admit(&self) -> Result<(), ConnectorError> {
        match self.budget {
            Some(budget) => self.spend_budget(budget).await?,
            None => {
                // Counted without a budget too, so "how many requests today?" has an answer on
                // every connection; a failed count never holds a request back.
                let window = Self::window(Utc::now().date_naive());
                if let Err(error) = self.store.quota_consume(&self.connection, &window, 1, None).await {
                    tracing::warn!(connection = %self.connection, %error, "request not counted");
                }
            }
        }
        if let Some(pacing) = &self.pacing {
            pacing.until_ready().await;
        }
        Ok(())
    }

    fn report(&self, quota: RemoteQuota) {
        let mut reported = self.reported.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        reported.insert(quota.name.clone(), quota);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Real time (governor keeps its own clock): only lower bounds are asserted, which a slow
    /// machine cannot break, and a generous upper bound on what must not wait at all.
    #[tokio::test]
    async fn a_burst_goes_at_once_then_requests_are_spaced_at_the_rate() {
        let rate = RateLimit {
            requests: 10,
            per: Duration::from_secs(1),
            burst: Some(5),
        };
        let pacing = limiter(rate).expect("a valid rate");
        let started = Instant::now();
        for _ in 0..5 {
            pacing.until_ready().await;
        }
        let burst = started.elapsed();
        for _ in 0..3 {
            pacing.until_ready().await;
        }
        let after = started.elapsed();
        assert!(burst < Duration::from_millis(250), "the burst of 5 waited {burst:?}");
        assert!(
            after >= Duration::from_millis(290),
            "3 more at 10/s took only {after:?}: the burst was exceeded"
        );
    }

    #[tokio::test]
    async fn without_a_burst_every_request_waits_its_interval() {
        let rate = RateLimit {
            requests: 20,
            per: Duration::from_secs(1),
            burst: None,
        };
        let pacing = limiter(rate).expect("a valid rate");
        let started = Instant::now();
        for _ in 0..5 {
            pacing.until_ready().await;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(195),
            "{:?}",
            started.elapsed()
        );
    }
}
