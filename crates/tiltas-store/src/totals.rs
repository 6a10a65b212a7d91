//! Store-wide totals for `/metrics` ([`Totals`]): read at scrape time from the rows the engine
//! already keeps, so the counters survive a restart and every worker on one database reports
//! the same numbers. No table of its own: runs and dead letters are counted where they live.
use crate::{RunCounters, StoreError, StoreResult};
use async_trait::async_trait;

/// The runs of one flow with one status, and what they counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRunTotals {
    /// The flow.
    pub flow: String,
    /// The runs' status as stored (`running`, `succeeded`, `failed`, …): kept as text so a
    /// status added later is counted without a change here.
    pub status: String,
    /// How many runs.
    pub runs: u64,
    /// Their counters added up (records by outcome, API calls).
    pub counters: RunCounters,
}

/// Totals for the metrics page, in one query each (never one per flow).
#[async_trait]
pub trait Totals: Send + Sync {
    /// Every flow's runs per status with their counters summed, ordered by flow and status.
    async fn run_totals(&self) -> StoreResult<Vec<FlowRunTotals>>;

    /// Open dead letters per flow (flows without any are left out), ordered by flow.
    async fn open_dead_letters_by_flow(&self) -> StoreResult<Vec<(String, u64)>>;
}

/// The error of a failed totals query.
pub(crate) fn query_failed(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { operation, source }
}

/// Implements [`Totals`] for `$store` (a struct with a `pool` field of sqlx).
macro_rules! sql_totals {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::totals::Totals for $store {
            async fn run_totals(&self) -> $crate::StoreResult<Vec<$crate::totals::FlowRunTotals>> {
                use sqlx::Row as _;
                // SUM of BIGINT is NUMERIC on PostgreSQL: cast back so both decode as i64.
                let rows = sqlx::query(
                    "SELECT flow, status, COUNT(*) AS runs, \
                     CAST(SUM(records_read) AS BIGINT) AS records_read, \
                     CAST(SUM(records_unchanged) AS BIGINT) AS records_unchanged, \
                     CAST(SUM(records_created) AS BIGINT) AS records_created, \
                     CAST(SUM(records_updated) AS BIGINT) AS records_updated, \
                     CAST(SUM(records_skipped) AS BIGINT) AS records_skipped, \
                     CAST(SUM(records_failed) AS BIGINT) AS records_failed, \
                     CAST(SUM(api_calls) AS BIGINT) AS api_calls \
                     FROM run GROUP BY flow, status ORDER BY flow, status",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::totals::query_failed("run_totals"))?;
                rows.iter()
                    .map(|row| {
                        let number = |column: &str| -> $crate::StoreResult<u64> {
                            let value: i64 = row
                                .try_get(column)
                                .map_err($crate::totals::query_failed("run_totals"))?;
                            Ok(u64::try_from(value).unwrap_or(0))
                        };
                        Ok($crate::totals::FlowRunTotals {
                            flow: row
                                .try_get("flow")
                                .map_err($crate::totals::query_failed("run_totals"))?,
                            status: row
                                .try_get("status")
                                .map_err($crate::totals::query_failed("run_totals"))?,
                            runs: number("runs")?,
                            counters: $crate::RunCounters {
                                read: number("records_read")?,
                                unchanged: number("records_unchanged")?,
                                created: number("records_created")?,
                                updated: number("records_updated")?,
                                skipped: number("records_skipped")?,
                                failed: number("records_failed")?,
                                api_calls: number("api_calls")?,
                            },
                        })
                    })
                    .collect()
            }

            async fn open_dead_letters_by_flow(&self) -> $crate::StoreResult<Vec<(String, u64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT flow, COUNT(*) FROM dead_letter WHERE status = 'open' GROUP BY flow ORDER BY flow",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::totals::query_failed("open_dead_letters_by_flow"))?;
                Ok(rows
                    .into_iter()
                    .map(|(flow, open)| (flow, u64::try_from(open).unwrap_or(0)))
                    .collect())
            }
        }
    };
}
pub(crate) use sql_totals;
