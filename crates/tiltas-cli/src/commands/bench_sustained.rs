//! `tiltas bench sustained --records N [--max-inbox-backlog L]`: sustained webhook load on the
//! embedded store (issue 19). N signed order webhooks are posted by 16 concurrent senders to
//! an in-process server (SQLite store, inbox worker and upkeep running) whose order flow
//! writes to the reference system's simulator, with that target switched off: the inbox fills
//! to L, then `/hooks` answers 503 with `Retry-After` and the senders retry; the target is
//! switched on and the inbox drains. Measured: accepted/s until the limit, 503s, the
//! write-ahead log's peak size (sampled every 10 ms), the drain time, that every order was
//! written once, that the log is truncated once idle, and the hub's peak memory.
//!
//! The simulator runs as a child process (`tiltas sim reference`), as a target is another
//! system: it keeps every order in memory, which is not the hub's to count. (A JSON Lines
//! file target, used before, reads and rewrites its whole file in each run — one run per
//! inbox round — so it held all 100 000 orders in this process: 721–758 MB, and the drain grew
//! with the square of the orders.)
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiltas_server::AppState;

const CONCURRENCY: usize = 16;
const SECRET: &str = "bench-sustained-secret";
/// The token the target simulator accepts.
const TARGET_TOKEN: &str = "bench-sustained-token";
/// The senders retry a refused delivery after this (a shop waits `Retry-After`; the bench
/// does not, to measure the store rather than the wait).
const RETRY_PAUSE: Duration = Duration::from_millis(100);

fn order(id: usize) -> (String, String) {
    let body = json!({
        "id": id, "number": id.to_string(), "status": "processing", "currency": "EUR",
        "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:00:00",
        "total": "1.21", "line_items": [{"id": 1, "sku": "A1", "quantity": 1, "price": 1, "total": "1.00"}]
    })
    .to_string();
    let signature = tiltas_systems::woocommerce::webhook::sign(SECRET, body.as_bytes());
    (body, signature)
}

fn flows(limit: usize, target_url: &str) -> String {
    format!(
        r#"
[server]
max_inbox_backlog = {limit}

[connections.shop]
system = "woocommerce"
base_url = "http://127.0.0.1:9"
consumer_key = "ck_bench"
consumer_secret = "cs_bench"
webhook_secret = "{SECRET}"

[connections.books]
system = "reference"
base_url = "{target_url}"
token = "{TARGET_TOKEN}"

[[flows]]
name = "orders"
entity = "order"
from = {{ connection = "shop" }}
to = {{ connection = "books" }}
trigger = "webhook"
"#
    )
}

/// What the senders counted.
#[derive(Default)]
struct Counters {
    next: AtomicUsize,
    accepted: AtomicUsize,
    refused: AtomicUsize,
    failed: AtomicUsize,
}

async fn send_all(url: String, orders: usize, counters: Arc<Counters>) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build()?;
    let mut senders = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, counters) = (client.clone(), url.clone(), counters.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let id = counters.next.fetch_add(1, Ordering::SeqCst) + 1;
                if id > orders {
                    return;
                }
                let (body, signature) = order(id);
                loop {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-wc-webhook-topic", "order.created")
                        .header("x-wc-webhook-signature", &signature)
                        .body(body.clone())
                        .send()
                        .await;
                    match response.map(|response| response.status().as_u16()) {
                        Ok(200) => {
                            counters.accepted.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        Ok(503) => {
                            counters.refused.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(RETRY_PAUSE).await;
                        }
                        _ => {
                            counters.failed.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                    }
                }
            }
        }));
    }
    for sender in senders {
        sender.await?;
    }
    Ok(())
}

/// Samples the size of `wal` every 10 ms into `peak` until `stop`.
fn sample_wal(wal: std::path::PathBuf, stop: Arc<AtomicBool>, peak: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            peak.fetch_max(std::fs::metadata(&wal).map_or(0, |meta| meta.len()), Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}

/// The target: the reference system's simulator in a child process of this binary, empty,
/// killed when dropped.
struct TargetProcess {
    child: Child,
    /// Kept open: the simulator may print more, and a closed pipe would fail it.
    output: BufReader<ChildStdout>,
    url: String,
}

impl TargetProcess {
    /// Starts the simulator on a free port of 127.0.0.1 and reads the address it prints.
    fn start() -> anyhow::Result<TargetProcess> {
        let binary = std::env::current_exe()?;
        let mut child = Command::new(&binary)
            .args(["sim", "reference", "--port", "0", "--products", "0", "--customers", "0"])
            .args(["--orders", "0", "--token", TARGET_TOKEN])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| {
                anyhow::anyhow!(
                    "cannot start the target simulator ({} sim reference): {error}",
                    binary.display()
                )
            })?;
        let Some(output) = child.stdout.take() else {
            let _ = child.kill();
            anyhow::bail!("the target simulator has no output to read its address from");
        };
        let mut target = TargetProcess {
            child,
            output: BufReader::new(output),
            url: String::new(),
        };
        let mut line = String::new();
        target.output.read_line(&mut line)?;
        target.url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| anyhow::anyhow!("the target simulator did not say where it listens: {line:?}"))?
            .to_owned();
        Ok(target)
    }

    /// Orders the target holds and how many of them are there twice (`/__sim/stats`).
    async fn orders(&self, client: &reqwest::Client) -> anyhow::Result<(usize, usize)> {
        let stats: Value = client
            .get(format!("{}/__sim/stats", self.url))
            .send()
            .await?
            .json()
            .await?;
        let count = |value: &Value| {
            value
                .as_u64()
                .and_then(|count| usize::try_from(count).ok())
                .unwrap_or(0)
        };
        Ok((count(&stats["records"]["order"]), count(&stats["duplicates"])))
    }

    /// The simulator's peak memory, in MiB.
    fn peak_rss_mb(&self) -> f64 {
        super::bench::peak_rss_mb_of(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for TargetProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn server(dir: &std::path::Path, limit: usize, target_url: &str) -> anyhow::Result<(String, AppState)> {
    let path = dir.join("flows.toml");
    std::fs::write(&path, flows(limit, target_url))?;
    let config = tiltas_engine::load_config(&path, tiltas_systems::registry::catalog())
        .map_err(|problems| anyhow::anyhow!("{problems}"))?;
    let store = tiltas_store::open(&format!("sqlite://{}", dir.join("bench.db").display())).await?;
    let state = AppState::new(Arc::new(config), store, tiltas_systems::registry::systems());
    state
        .disabled
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert("books".to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(tiltas_server::run_worker(state.clone()));
    let router = tiltas_server::router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, state))
}

async fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    while !done() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the benchmark did not finish within its deadline"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Runs the benchmark and returns the numbers.
pub async fn run(orders: usize, limit: usize) -> anyhow::Result<Value> {
    anyhow::ensure!(
        orders > limit,
        "--records ({orders}) must exceed --max-inbox-backlog ({limit})"
    );
    let dir = tempfile::tempdir()?;
    let target = TargetProcess::start()?;
    let (url, state) = server(dir.path(), limit, &target.url).await?;
    let (stop, peak) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let sampler = sample_wal(dir.path().join("bench.db-wal"), stop.clone(), peak.clone());
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let sending = tokio::spawn(send_all(format!("{url}/hooks/shop"), orders, counters.clone()));
    let deadline = started + Duration::from_secs(3600);

    // Target off: accepted until the limit, then refused.
    wait_until(deadline, || counters.refused.load(Ordering::SeqCst) > 0).await?;
    let filled = started.elapsed().as_secs_f64();
    let accepted_off = counters.accepted.load(Ordering::SeqCst);
    let peak_while_off = peak.load(Ordering::SeqCst);
    state
        .disabled
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove("books");
    state.inbox.notify_one();
    let switched_on = Instant::now();

    sending.await??;
    let client = reqwest::Client::new();
    let mut backlog = u64::MAX;
    let mut written = (0, 0);
    while backlog > 0 || written.0 < counters.accepted.load(Ordering::SeqCst) {
        anyhow::ensure!(Instant::now() < deadline, "the inbox did not drain within an hour");
        tokio::time::sleep(Duration::from_millis(100)).await;
        backlog = state.store.inbox_backlog().await?;
        // The simulator counts duplicates over every order it holds: asked once the inbox
        // is empty, so the target spends the drain on the writes.
        if backlog == 0 {
            written = target.orders(&client).await?;
        }
    }
    let drained = switched_on.elapsed().as_secs_f64();
    let idle = Instant::now();
    let wal = dir.path().join("bench.db-wal");
    let truncated = wait_until(idle + Duration::from_secs(10), || {
        std::fs::metadata(&wal).map_or(0, |meta| meta.len()) == 0
    })
    .await
    .is_ok();
    let truncated_after = idle.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    sampler.await?;
    #[allow(clippy::cast_precision_loss)]
    let mib = |bytes: u64| (bytes as f64 / 1_048_576.0 * 10.0).round() / 10.0;
    #[allow(clippy::cast_precision_loss)]
    let rate = (accepted_off as f64 / filled).round();
    Ok(json!({
        "bench": "sustained",
        "concurrency": CONCURRENCY,
        "orders": orders,
        "max_inbox_backlog": limit,
        "accepted": counters.accepted.load(Ordering::SeqCst),
        "failed": counters.failed.load(Ordering::SeqCst),
        "accepted_per_s_until_full": rate,
        "accepted_while_off": accepted_off,
        "refused_503": counters.refused.load(Ordering::SeqCst),
        "wal_peak_mib": mib(peak.load(Ordering::SeqCst)),
        "wal_peak_mib_while_off": mib(peak_while_off),
        "seconds_until_drained_after_on": (drained * 10.0).round() / 10.0,
        "written": written.0,
        "written_twice": written.1,
        "wal_truncated_when_idle": truncated,
        "seconds_until_wal_truncated_after_drained": truncated.then_some((truncated_after * 10.0).round() / 10.0),
        "db_mib": mib(std::fs::metadata(dir.path().join("bench.db")).map_or(0, |meta| meta.len())),
        "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "peak_rss_mb": super::bench::peak_rss_mb(),
        "target_simulator_peak_rss_mb": target.peak_rss_mb(),
    }))
}
