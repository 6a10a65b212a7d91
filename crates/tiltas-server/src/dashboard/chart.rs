//! The overview's chart: records delivered (created + updated) and failed per hour over the
//! last 24 hours, summed from the runs that started in each hour, as inline SVG with axis
//! labels, a `<title>`/`<desc>`, a text legend and the same numbers as a table.
use super::layout::count;
use chrono::{DateTime, Duration, DurationRound, Utc};
use maud::{html, Markup};
use tiltas_store::RunRecord;

/// Hours the chart covers.
pub(crate) const HOURS: usize = 24;

/// The records of the runs that started in one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HourBucket {
    /// The hour's start (UTC).
    pub start: DateTime<Utc>,
    /// Records created or updated in a target.
    pub delivered: u64,
    /// Records dead-lettered.
    pub failed: u64,
}

/// The last [`HOURS`] hours up to and including the current one, oldest first.
pub(crate) fn hourly(runs: &[RunRecord], now: DateTime<Utc>) -> Vec<HourBucket> {
    let current_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let first_hour = current_hour - Duration::hours(HOURS as i64 - 1);
    let mut buckets: Vec<HourBucket> = (0..HOURS)
        .map(|offset| HourBucket {
            start: first_hour + Duration::hours(offset as i64),
            delivered: 0,
            failed: 0,
        })
        .collect();
    for run in runs {
        let hours_in = (run.started_at - first_hour).num_hours();
        // Runs before the window are left out; a run "in the future" (clock skew) too.
        let Some(bucket) = usize::try_from(hours_in)
            .ok()
            .filter(|_| run.started_at >= first_hour)
            .and_then(|index| buckets.get_mut(index))
        else {
            continue;
        };
        bucket.delivered += run.counters.created + run.counters.updated;
        bucket.failed += run.counters.failed;
    }
    buckets
}

/// The smallest "round" axis maximum (1, 2 or 5 × 10ⁿ per gridline, four gridlines) at or
/// above `largest`, so the gridline labels are whole numbers.
fn axis_maximum(largest: u64) -> u64 {
    let wanted_step = largest.div_ceil(4).max(1);
    let mut magnitude = 1;
    loop {
        for factor in [1, 2, 5] {
            if factor * magnitude >= wanted_step {
                return factor * magnitude * 4;
            }
        }
        magnitude *= 10;
    }
}

const WIDTH: f64 = 1100.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 44.0;

fn number(value: f64) -> String {
    format!("{value:.1}")
}

/// The chart, its legend and its numbers as a table.
pub(crate) fn render(buckets: &[HourBucket]) -> Markup {
    let delivered_total: u64 = buckets.iter().map(|bucket| bucket.delivered).sum();
    let failed_total: u64 = buckets.iter().map(|bucket| bucket.failed).sum();
    let largest = buckets
        .iter()
        .map(|bucket| bucket.delivered.max(bucket.failed))
        .max()
        .unwrap_or(0);
    let maximum = axis_maximum(largest);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / buckets.len().max(1) as f64;
    let bar = (slot - 10.0) / 2.0;
    #[allow(clippy::cast_precision_loss)]
    let y_of = |value: u64| TOP + plot_height - plot_height * value as f64 / maximum as f64;
    let summary = format!(
        "Records per hour over the last 24 hours (UTC): {} delivered (created or updated), {} failed.",
        count(delivered_total),
        count(failed_total)
    );
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (number(WIDTH)) " " (number(HEIGHT)) } role="img"
                aria-labelledby="records-chart-title records-chart-desc" {
                title #records-chart-title { "Records delivered and failed per hour, last 24 hours" }
                desc #records-chart-desc { (summary) }
                defs {
                    pattern #failed-hatch width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                        rect width="6" height="6" fill="#f4c7c3" {}
                        rect width="3" height="6" fill="#c0392b" {}
                    }
                }
                @for step in 0..=4u64 {
                    @let value = maximum / 4 * step;
                    @let y = number(y_of(value));
                    line x1=(number(LEFT)) x2=(number(WIDTH - RIGHT)) y1=(y) y2=(y) stroke="#d6dbe4" stroke-width="1" {}
                    text x=(number(LEFT - 8.0)) y=(y) dy="4" text-anchor="end" font-size="12" fill="#5b6475" { (count(value)) }
                }
                text transform={ "translate(14 " (number(TOP + plot_height / 2.0)) ") rotate(-90)" } text-anchor="middle" font-size="12" fill="#5b6475" { "Records" }
                @for (index, bucket) in buckets.iter().enumerate() {
                    @let x = LEFT + slot * index as f64 + 5.0;
                    @let hour = bucket.start.format("%H:00").to_string();
                    rect x=(number(x)) y=(number(y_of(bucket.delivered))) width=(number(bar))
                        height=(number(TOP + plot_height - y_of(bucket.delivered))) fill="#2f6fb0" {
                        title { (hour) " UTC: " (count(bucket.delivered)) " delivered" }
                    }
                    rect x=(number(x + bar)) y=(number(y_of(bucket.failed))) width=(number(bar))
                        height=(number(TOP + plot_height - y_of(bucket.failed))) fill="url(#failed-hatch)" stroke="#c0392b" stroke-width=(if bucket.failed > 0 { "1" } else { "0" }) {
                        title { (hour) " UTC: " (count(bucket.failed)) " failed" }
                    }
                    @if index % 3 == 0 {
                        text x=(number(x + bar)) y=(number(TOP + plot_height + 16.0)) text-anchor="middle" font-size="12" fill="#5b6475" { (hour) }
                    }
                }
                line x1=(number(LEFT)) x2=(number(WIDTH - RIGHT)) y1=(number(TOP + plot_height)) y2=(number(TOP + plot_height)) stroke="#5b6475" stroke-width="1" {}
                text x=(number(LEFT + plot_width / 2.0)) y=(number(HEIGHT - 6.0)) text-anchor="middle" font-size="12" fill="#5b6475" { "Hour the run started (UTC)" }
            }
            figcaption.legend {
                span { span.swatch.delivered aria-hidden="true" {} "Delivered (created + updated): " strong { (count(delivered_total)) } }
                span { span.swatch.failed aria-hidden="true" {} "Failed: " strong { (count(failed_total)) } }
            }
        }
        details {
            summary { "The chart's numbers as a table" }
            table {
                caption.muted { (summary) }
                thead { tr { th scope="col" { "Hour (UTC)" } th.num scope="col" { "Delivered" } th.num scope="col" { "Failed" } } }
                tbody {
                    @for bucket in buckets {
                        tr {
                            th scope="row" { (bucket.start.format("%Y-%m-%d %H:00").to_string()) }
                            td.num { (count(bucket.delivered)) }
                            td.num { (count(bucket.failed)) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiltas_store::{RunCounters, RunMode, RunStatus};

    fn run_at(started_at: DateTime<Utc>, created: u64, failed: u64) -> RunRecord {
        RunRecord {
            id: 1,
            flow: "products".into(),
            mode: RunMode::Incremental,
            status: RunStatus::Succeeded,
            counters: RunCounters {
                created,
                updated: 1,
                failed,
                ..RunCounters::default()
            },
            error: None,
            started_at,
            finished_at: None,
        }
    }

    #[test]
    fn runs_are_summed_into_their_hour_and_older_ones_left_out() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T10:30:00Z")
            .map(|at| at.with_timezone(&Utc))
            .unwrap();
        let runs = [
            run_at(now - Duration::minutes(10), 2, 1),
            run_at(now - Duration::minutes(20), 3, 0),
            run_at(now - Duration::hours(5), 0, 4),
            run_at(now - Duration::hours(30), 9, 9),
        ];
        let buckets = hourly(&runs, now);
        assert_eq!(buckets.len(), HOURS);
        let last = &buckets[HOURS - 1];
        assert_eq!(last.start.to_rfc3339(), "2026-11-20T10:00:00+00:00");
        assert_eq!((last.delivered, last.failed), (7, 1));
        assert_eq!((buckets[HOURS - 6].delivered, buckets[HOURS - 6].failed), (1, 4));
        let everything: u64 = buckets.iter().map(|bucket| bucket.delivered + bucket.failed).sum();
        assert_eq!(everything, 13, "the run 30 hours ago is outside the chart");
    }

    #[test]
    fn the_axis_ends_on_a_round_number_with_whole_gridlines() {
        assert_eq!(axis_maximum(0), 4);
        assert_eq!(axis_maximum(3), 4);
        assert_eq!(axis_maximum(7), 8);
        assert_eq!(axis_maximum(9), 20);
        assert_eq!(axis_maximum(130), 200);
        assert_eq!(axis_maximum(10_001), 20_000);
    }
}
