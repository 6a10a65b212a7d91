//! Per-connection pacing (`rate_limit`) and daily request budget (`daily_budget`): every request
//! a connector sends waits for its slot and is counted in the store, so the engine never
//! exceeds either, across runs and across workers sharing the store. Pacing is GCRA (the
//! `governor` crate): `10/s` spaces requests 100 ms apart; `10/s, burst 30` lets 30 go at once
//! after a quiet spell, as a system that documents such a burst allows, then 10 a second.
use async_trait::async_trait;
use chrono::{Duration as ChronoDuration, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tiltas_config::{BudgetGroup, Connection, RateLimit};
use tiltas_connector::{CallGate, ConnectorError, ErrorKind, RemoteQuota};
use tiltas_store::Store;

/// The gate of one connection.
pub(crate) struct ConnectionGate {
    connection: String,
    pacing: Option<governor::DefaultDirectRateLimiter>,
    budget: Option<u64>,
    /// The budget group it draws from too, with the group's daily budget.
    group: Option<(String, u64)>,
    store: Arc<dyn Store>,
    /// What the system last said about its own limits, by name.
    reported: Mutex<BTreeMap<String, RemoteQuota>>,
    /// No request goes before this: the system refused one for the rate (429) and said how
    /// long to wait. Other workers sharing the key are why pacing alone cannot prevent it.
    held_until: Mutex<Option<tokio::time::Instant>>,
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
    /// The gate of `connection`, which draws from `group` too when it is in one.
    pub fn new(connection: &Connection, group: Option<&BudgetGroup>, store: Arc<dyn Store>) -> ConnectionGate {
        ConnectionGate {
            connection: connection.name.clone(),
            pacing: connection.rate_limit.and_then(limiter),
            budget: connection.daily_budget,
            group: group.map(|group| (group.name.clone(), group.daily_budget)),
            store,
            reported: Mutex::new(BTreeMap::new()),
            held_until: Mutex::new(None),
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

    /// Counts one request against `counter`'s `budget` today; when used up, a quota failure:
    /// `exhausted` says what is used up (given today's count), `raise` how to allow more.
    async fn spend(
        &self,
        counter: &str,
        budget: u64,
        exhausted: impl FnOnce(u64) -> String,
        raise: &str,
    ) -> Result<(), ConnectorError> {
        let now = Utc::now();
        let window = Self::window(now.date_naive());
        let grant = self
            .store
            .quota_consume(counter, &window, 1, Some(budget))
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
                "{}; progress so far is saved and the flow can resume after {} (in {}h {:02}m), or {raise}",
                exhausted(grant.used),
                midnight.to_rfc3339(),
                left.num_hours(),
                left.num_minutes() % 60
            ),
        ))
    }

    /// Waits out a hold the system asked for (see [`CallGate::hold`]); a later hold that
    /// arrives meanwhile is waited out too.
    async fn wait_while_held(&self) {
        loop {
            let until = *self
                .held_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match until {
                Some(until) if until > tokio::time::Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }

    /// The store counter of a budget group: apart from every connection's (a connection name
    /// has no `:`).
    pub fn group_counter(group: &str) -> String {
        format!("group:{group}")
    }
}

#[async_trait]
impl CallGate for ConnectionGate {
    async fn admit(&self) -> Result<(), ConnectorError> {
        let connection = &self.connection;
        if let Some((group, budget)) = &self.group {
            self.spend(
                &Self::group_counter(group),
                *budget,
                |used| {
                    format!(
                        "the shared daily budget \"{group}\" of {budget} requests is used up ({used} sent today by its \
                         connections, UTC; connection \"{connection}\" draws from it)"
                    )
                },
                &format!("raise `daily_budget` in [budget_groups.{group}]"),
            )
            .await?;
        }
        match self.budget {
            Some(budget) => {
                self.spend(
                    connection,
                    budget,
                    |used| {
                        format!(
                            "the daily budget of {budget} requests for connection \"{connection}\" is used up \
                             ({used} sent today, UTC)"
                        )
                    },
                    "raise `daily_budget`",
                )
                .await?
            }
            None => {
                // Counted without a budget too, so "how many requests today?" has an answer on
                // every connection; a failed count never holds a request back.
                let window = Self::window(Utc::now().date_naive());
                if let Err(error) = self.store.quota_consume(&self.connection, &window, 1, None).await {
                    tracing::warn!(connection = %self.connection, %error, "request not counted");
                }
            }
        }
        self.wait_while_held().await;
        if let Some(pacing) = &self.pacing {
            pacing.until_ready().await;
        }
        Ok(())
    }

    fn hold(&self, wait: std::time::Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut held = self
            .held_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_none_or(|current| current < until) {
            *held = Some(until);
        }
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
    async fn connections_of_a_budget_group_share_its_daily_budget_and_each_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[budget_groups.package]\ndaily_budget = 5\n\n\
                    [connections.a]\nsystem = \"jsonl\"\nbudget_group = \"package\"\n\n\
                    [connections.b]\nsystem = \"jsonl\"\nbudget_group = \"package\"\ndaily_budget = 2\n\n\
                    [[flows]]\nname = \"f\"\nentity = \"product\"\n\
                    from = { connection = \"a\", file = \"in.jsonl\" }\nto = { connection = \"b\", file = \"out.jsonl\" }\n";
        let config = tiltas_config::parse_str(
            text,
            &dir.path().join("flows.toml"),
            tiltas_systems::registry::catalog(),
        )
        .unwrap_or_else(|errors| panic!("{errors}"));
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store: Arc<dyn Store> = Arc::new(tiltas_store::SqliteStore::open(&url).await.unwrap());
        let group = config.budget_group("package");
        let a = ConnectionGate::new(config.connection("a").unwrap(), group, store.clone());
        let b = ConnectionGate::new(config.connection("b").unwrap(), group, store.clone());

        b.admit().await.unwrap();
        b.admit().await.unwrap();
        let own = b.admit().await.unwrap_err();
        assert_eq!(own.kind, ErrorKind::Quota);
        assert!(own.message.contains("connection \"b\" is used up"), "{own:?}");
        // b's third request counted against the group before b's own budget refused it.
        a.admit().await.unwrap();
        a.admit().await.unwrap();
        let shared = a.admit().await.unwrap_err();
        assert_eq!(shared.kind, ErrorKind::Quota);
        assert!(
            shared
                .message
                .contains("shared daily budget \"package\" of 5 requests is used up")
                && shared
                    .message
                    .contains("raise `daily_budget` in [budget_groups.package]"),
            "{shared:?}"
        );
        let window = ConnectionGate::window(Utc::now().date_naive());
        let used = store
            .quota_used(&ConnectionGate::group_counter("package"), &window)
            .await
            .unwrap();
        assert_eq!(used, 5);
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

    /// Real time again: the hold is a lower bound a slow machine cannot break.
    #[tokio::test]
    async fn after_a_429_every_request_of_the_connection_waits_the_hold_and_a_shorter_one_does_not_cut_it() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[connections.a]\nsystem = \"jsonl\"\n\n\
                    [[flows]]\nname = \"f\"\nentity = \"product\"\n\
                    from = { connection = \"a\", file = \"in.jsonl\" }\nto = { connection = \"a\", file = \"out.jsonl\" }\n";
        let config = tiltas_config::parse_str(
            text,
            &dir.path().join("flows.toml"),
            tiltas_systems::registry::catalog(),
        )
        .unwrap_or_else(|errors| panic!("{errors}"));
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store: Arc<dyn Store> = Arc::new(tiltas_store::SqliteStore::open(&url).await.unwrap());
        let gate = Arc::new(ConnectionGate::new(config.connection("a").unwrap(), None, store));
        gate.admit().await.unwrap();

        let started = Instant::now();
        gate.hold(Duration::from_millis(400));
        gate.hold(Duration::from_millis(10));
        let beside = tokio::spawn({
            let gate = gate.clone();
            async move {
                gate.admit().await.unwrap();
                started.elapsed()
            }
        });
        gate.admit().await.unwrap();
        let waited = started.elapsed();
        let waited_beside = beside.await.unwrap();
        assert!(waited >= Duration::from_millis(390), "admitted after {waited:?}");
        assert!(
            waited_beside >= Duration::from_millis(390),
            "admitted after {waited_beside:?}"
        );
    }
}
