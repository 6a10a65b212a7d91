//! Per-connection pacing (`rate_limit`) and daily request budget (`daily_budget`): every request
//! a connector sends waits for its slot and is counted in the store, so the engine never
//! exceeds either, across runs and across workers sharing the store.
use async_trait::async_trait;
use chrono::{Duration as ChronoDuration, Utc};
use std::sync::Arc;
use std::time::Duration;
use tiltas_config::{Connection, RateLimit};
use tiltas_connector::{CallGate, ConnectorError, ErrorKind};
use tiltas_store::Store;
use tokio::time::Instant;

/// The gate of one connection.
pub(crate) struct ConnectionGate {
    connection: String,
    rate: Option<RateLimit>,
    budget: Option<u64>,
    next_slot: tokio::sync::Mutex<Instant>,
    store: Arc<dyn Store>,
}

impl ConnectionGate {
    pub fn new(connection: &Connection, store: Arc<dyn Store>) -> ConnectionGate {
        ConnectionGate {
            connection: connection.name.clone(),
            rate: connection.rate_limit,
            budget: connection.daily_budget,
            next_slot: tokio::sync::Mutex::new(Instant::now()),
            store,
        }
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

    async fn wait_for_slot(&self, rate: RateLimit) {
        let interval = rate.per / rate.requests.max(1);
        let wait = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot - now
        };
        if wait > Duration::ZERO {
            tokio::time::sleep(wait).await;
        }
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
        if let Some(rate) = self.rate {
            self.wait_for_slot(rate).await;
        }
        Ok(())
    }
}
