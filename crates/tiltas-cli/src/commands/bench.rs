//! `tiltas bench engine|http --records N [--json]`: records per second of a first sync, an
//! unchanged re-sync and an incremental sync after 1 % of the records changed, with API calls
//! and peak memory; the other kinds (`store`, `webhook`, `sustained`) live in files of their
//! own, `remote` at the end of this one. Not a test: numbers go to docs/benchmarks.md.
use crate::args::{BenchArgs, BenchKind, GlobalArgs};
use async_trait::async_trait;
use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use tiltas_engine::{Engine, SyncOptions, SyncReport};
use tiltas_sim::Harness;
use tiltas_systems::reference::simulator::{router, ReferenceSim, Seeding};
use tiltas_systems::{
    BatchResult, ConnectorError, Page, ReadRequest, Source, SourceRecord, Target, WriteItem, WriteOutcome,
};

/// Every hundredth record changes for the incremental run.
pub(super) const CHANGE_EVERY: usize = 100;

/// Runs the benchmark and prints its numbers.
pub async fn run(global: &GlobalArgs, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if matches!(args.kind, BenchKind::Remote) {
        let result = remote(args.records).await?;
        println!("{result}");
        return Ok(ExitCode::SUCCESS);
    }
    if args.kind == BenchKind::Store {
        let result = super::bench_store::run(global.db.as_deref(), args.records, args.page_size).await?;
        println!("{result}");
        return Ok(ExitCode::SUCCESS);
    }
    if matches!(args.kind, BenchKind::Webhook | BenchKind::Sustained) {
        let result = if args.kind == BenchKind::Sustained {
            super::bench_sustained::run(args.records, args.max_inbox_backlog).await?
        } else {
            super::bench_webhook::run(args.records).await?
        };
        if args.json {
            println!("{result}");
        } else {
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let dir = tempfile::tempdir()?;
    let db = global
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = open_for_bench(global.db.as_deref(), &db).await?;
    let (engine, urls) = match args.kind {
        BenchKind::Engine => (
            engine_for(
                dir.path(),
                "http://127.0.0.1:9/",
                "http://127.0.0.1:9/",
                args.page_size,
                &store,
            )?,
            None,
        ),
        BenchKind::Http | BenchKind::Webhook | BenchKind::Remote | BenchKind::Sustained | BenchKind::Store => {
            let source = Arc::new(ReferenceSim::new("bench", Seeding::products(1, args.records)).with_name_limit(1000));
            let source_url = tiltas_sim::spawn(router(source.clone(), Harness::new(source, 1))).await?;
            let target = Arc::new(ReferenceSim::new("bench", Seeding::products(2, 0)).with_name_limit(1000));
            let target_url = tiltas_sim::spawn(router(target.clone(), Harness::new(target, 2))).await?;
            (
                engine_for(dir.path(), &source_url, &target_url, args.page_size, &store)?,
                Some(source_url),
            )
        }
    };
    let options = SyncOptions::default();
    let records = args.records;
    let generation = |changed: bool| -> Box<dyn Source> { Box::new(Generated::new(records, changed)) };
    let sink = || -> Option<Box<dyn Target>> { Some(Box::new(Sink)) };

    let started = Instant::now();
    let first = match args.kind {
        BenchKind::Engine => engine.sync_with("bench", generation(false), sink(), &options).await?,
        BenchKind::Http | BenchKind::Webhook | BenchKind::Remote | BenchKind::Sustained | BenchKind::Store => {
            engine.sync("bench", &options).await?
        }
    };
    let first_secs = started.elapsed().as_secs_f64();
    // The re-sync reads everything again (no cursor) and compares every record's hash.
    store.set_cursor("bench", None).await?;
    let started = Instant::now();
    let resync = match args.kind {
        BenchKind::Engine => engine.sync_with("bench", generation(false), sink(), &options).await?,
        BenchKind::Http | BenchKind::Webhook | BenchKind::Remote | BenchKind::Sustained | BenchKind::Store => {
            engine.sync("bench", &options).await?
        }
    };
    let resync_secs = started.elapsed().as_secs_f64();
    if let Some(url) = &urls {
        reqwest::Client::new()
            .post(format!("{url}/__sim/mutate"))
            .json(&json!({"entity": "product", "count": records / CHANGE_EVERY}))
            .send()
            .await?
            .error_for_status()?;
    }
    let started = Instant::now();
    let incremental = match args.kind {
        BenchKind::Engine => engine.sync_with("bench", generation(true), sink(), &options).await?,
        BenchKind::Http | BenchKind::Webhook | BenchKind::Remote | BenchKind::Sustained | BenchKind::Store => {
            engine.sync("bench", &options).await?
        }
    };
    let incremental_secs = started.elapsed().as_secs_f64();
    check(&first, records, |c| c.created)?;
    check(&resync, records, |c| c.unchanged)?;
    let rate = |count: u64, secs: f64| per_second(count as usize, secs);
    let result = json!({
        "kind": format!("{:?}", args.kind).to_lowercase(),
        "records": records,
        "first_sync_rps": rate(first.counters.read, first_secs),
        "resync_rps": rate(resync.counters.read, resync_secs),
        "incremental_rps": rate(incremental.counters.read, incremental_secs),
        "incremental_read": incremental.counters.read,
        "incremental_updated": incremental.counters.updated,
        "api_calls": first.counters.api_calls + resync.counters.api_calls + incremental.counters.api_calls,
        "api_calls_by_run": [first.counters.api_calls, resync.counters.api_calls, incremental.counters.api_calls],
        "seconds": [round3(first_secs), round3(resync_secs), round3(incremental_secs)],
        "peak_rss_mb": peak_rss_mb(),
    });
    if args.json {
        println!("{result}");
    } else {
        println!("{}", serde_json::to_string_pretty(&result)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the store a benchmark writes to. One the user named (`--db`, `TILTAS_DB`) must hold no
/// runs: the benchmark adds hundreds of thousands of rows of its own, and `TILTAS_DB` may well
/// name the store the flows use.
pub(super) async fn open_for_bench(named: Option<&str>, url: &str) -> anyhow::Result<Arc<dyn tiltas_store::Store>> {
    let store = tiltas_store::open(url).await?;
    if named.is_some() && !store.runs(None, 1).await?.is_empty() {
        anyhow::bail!(
            "the store named by --db (or TILTAS_DB) already holds runs, and `tiltas bench` would add \
             hundreds of thousands of rows of its own to it: point --db at an empty database made \
             for the benchmark (e.g. `createdb tiltas_bench`, or a new sqlite:// file), or leave \
             --db out to use a temporary SQLite file"
        );
    }
    Ok(store)
}

/// Whole records per second; 0 for a run too short to time.
pub(super) fn per_second(count: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        (count as f64 / seconds).round()
    } else {
        0.0
    }
}

/// Seconds to the millisecond, for the output.
pub(super) fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn check(
    report: &SyncReport,
    records: usize,
    counter: impl Fn(&tiltas_store::RunCounters) -> u64,
) -> anyhow::Result<()> {
    let got = counter(&report.counters);
    anyhow::ensure!(
        got == records as u64,
        "the benchmark run went wrong: {:?} for {records} records",
        report.counters
    );
    Ok(())
}

/// Peak resident memory of this process (VmHWM), in MiB; 0 where /proc is missing.
pub fn peak_rss_mb() -> f64 {
    peak_rss_mb_of("/proc/self/status")
}

/// The peak resident memory (`VmHWM`) in a process's `/proc/PID/status`, in MiB (0 where unknown).
pub fn peak_rss_mb_of(status: &str) -> f64 {
    let status = std::fs::read_to_string(status).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    (kib / 1024.0 * 10.0).round() / 10.0
}

fn engine_for(
    dir: &std::path::Path,
    source_url: &str,
    target_url: &str,
    page_size: usize,
    store: &Arc<dyn tiltas_store::Store>,
) -> anyhow::Result<Engine> {
    let text = format!(
        "[connections.src]\nsystem = \"reference\"\nbase_url = \"{source_url}\"\ntoken = \"bench\"\n\n\
         [connections.dst]\nsystem = \"reference\"\nbase_url = \"{target_url}\"\ntoken = \"bench\"\n\n\
         [[flows]]\nname = \"bench\"\nentity = \"product\"\nfrom = {{ connection = \"src\" }}\nto = {{ connection = \"dst\" }}\n\
         match_on = \"sku\"\npage_size = {page_size}\n"
    );
    let config = tiltas_config::parse_str(&text, &dir.join("bench.toml"), tiltas_systems::registry::catalog())
        .map_err(|diagnostics| anyhow::anyhow!("{diagnostics}"))?;
    Ok(Engine::new(
        Arc::new(config),
        store.clone(),
        tiltas_systems::registry::systems(),
    ))
}

/// Products made up on the fly, page by page: nothing is held beyond one page.
pub(super) struct Generated {
    records: usize,
    changed: bool,
    base: DateTime<Utc>,
}

impl Generated {
    pub(super) fn new(records: usize, changed: bool) -> Generated {
        let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
        Generated { records, changed, base }
    }

    pub(super) fn record(&self, n: usize) -> SourceRecord {
        let changed = self.changed && n % CHANGE_EVERY == 0;
        let cents = (n * 37 + if changed { 11 } else { 0 }) % 100_000 + 99;
        let updated_at = if changed {
            self.base + ChronoDuration::days(30)
        } else {
            self.base + ChronoDuration::milliseconds(n as i64)
        };
        SourceRecord {
            key: format!("b-{n:08}"),
            updated_at: Some(updated_at),
            data: json!({
                "sku": format!("BENCH-{n:08}"),
                "name": format!("Prekė {n}"),
                "unit": "vnt",
                "price_net": format!("{}.{:02}", cents / 100, cents % 100),
                "vat_rate": "21",
                "currency": "EUR",
                "raw": {"id": format!("b-{n:08}")},
            }),
        }
    }
}

#[async_trait]
impl Source for Generated {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let start: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let incremental = request.changed_since.is_some() && self.changed;
        let mut records = Vec::with_capacity(request.page_size);
        let mut n = start;
        while n < self.records && records.len() < request.page_size {
            if !incremental || n % CHANGE_EVERY == 0 {
                records.push(Ok(self.record(n)));
            }
            n += 1;
        }
        let next = (n < self.records).then(|| n.to_string());
        Ok(Page {
            records,
            next,
            api_calls: 1,
        })
    }
}

/// A target that accepts everything and keeps nothing.
struct Sink;

#[async_trait]
impl Target for Sink {
    fn max_batch(&self) -> usize {
        1000
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let outcomes = items
            .iter()
            .map(|item| WriteOutcome::Written {
                target_id: item
                    .target_id
                    .clone()
                    .unwrap_or_else(|| format!("t-{}", item.source_key)),
            })
            .collect();
        Ok(BatchResult { outcomes, api_calls: 1 })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// `tiltas bench remote`: one sync of `records` products from the rate-limited ERP simulator;
/// the lower bound is the time its documented limit needs for the read calls made (the burst
/// free, then one call per interval), the efficiency that bound over the time taken.
async fn remote(records: usize) -> anyhow::Result<serde_json::Value> {
    use tiltas_systems::scenarios::RemoteBenchWorld;
    let world = RemoteBenchWorld::start(records).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("flows.toml");
    std::fs::write(&path, world.flows())?;
    let config = tiltas_engine::load_config(&path, tiltas_systems::registry::catalog())
        .map_err(|problems| anyhow::anyhow!("{problems}"))?;
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    let engine = Engine::new(Arc::new(config), store, tiltas_systems::registry::systems());
    let started = Instant::now();
    let report = engine.sync(RemoteBenchWorld::FLOW, &SyncOptions::default()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let stats: serde_json::Value = reqwest::get(format!("{}/__sim/stats", world.limited_url()))
        .await?
        .json()
        .await?;
    let calls = stats["requests"]["total"].as_u64().unwrap_or(0);
    // Whole calls: the burst goes free, then one call per interval of the documented rate.
    let paced_calls = calls.saturating_sub(u64::from(RemoteBenchWorld::DOCUMENTED_BURST));
    #[allow(clippy::cast_precision_loss)]
    let lower_bound = paced_calls as f64 / f64::from(RemoteBenchWorld::DOCUMENTED_RATE_PER_S);
    anyhow::ensure!(
        report.counters.created as usize == world.products(),
        "{} of {} products delivered",
        report.counters.created,
        world.products()
    );
    Ok(json!({
        "bench": "remote",
        "records": records,
        "seconds": round3(seconds),
        "api_calls": calls,
        "refused_429": stats["requests"]["rejected"],
        "lower_bound_seconds": round3(lower_bound),
        "efficiency": if seconds > 0.0 { round3(lower_bound / seconds) } else { 0.0 },
        "peak_rss_mb": peak_rss_mb(),
    }))
}
