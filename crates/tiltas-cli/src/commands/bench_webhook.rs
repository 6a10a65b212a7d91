//! `tiltas bench webhook`: signed shop order webhooks posted at concurrency 16 to the server,
//! whose order flow writes to the ERP simulator (the world of
//! `tiltas_systems::scenarios::WebhookBenchWorld`). Two phases:
//! 1. acceptance: `--records` orders with the ERP connection switched off (they wait in the
//!    inbox), so the numbers are the ingress alone — orders/s, p50/p99 latency;
//! 2. delivery: a burst of 500 with the ERP on — the time until all are invoices in the ERP,
//!    dead letters (must be none) and the 429s the simulator answered (all waited out).
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiltas_server::AppState;
use tiltas_store::{DeadLetterFilter, DeadLetterStatus};
use tiltas_systems::scenarios::{Delivery, WebhookBenchWorld};

const CONCURRENCY: usize = 16;
const BURST: usize = 500;

struct Posted {
    seconds: f64,
    latencies: Vec<Duration>,
    refused: usize,
}

/// Posts orders `ids` to the server at `url` from 16 concurrent senders.
async fn post_all(world: &WebhookBenchWorld, url: &str, ids: std::ops::Range<usize>) -> anyhow::Result<Posted> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build()?;
    let deliveries: Vec<Delivery> = ids.map(|id| world.order(id)).collect();
    let queue = Arc::new(std::sync::Mutex::new(deliveries));
    let url = format!("{url}/hooks/{}", WebhookBenchWorld::WEBHOOK_CONNECTION);
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, queue, url) = (client.clone(), queue.clone(), url.to_owned());
        senders.push(tokio::spawn(async move {
            let (mut latencies, mut refused) = (Vec::new(), 0);
            loop {
                let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
                let Some(delivery) = next else { break };
                let sent = Instant::now();
                let mut request = client.post(&url).body(delivery.body);
                for (name, value) in delivery.headers {
                    request = request.header(name, value);
                }
                let response = request.send().await;
                latencies.push(sent.elapsed());
                if !response.is_ok_and(|response| response.status().is_success()) {
                    refused += 1;
                }
            }
            (latencies, refused)
        }));
    }
    let (mut latencies, mut refused) = (Vec::new(), 0);
    for sender in senders {
        let (sent, failed) = sender.await?;
        latencies.extend(sent);
        refused += failed;
    }
    latencies.sort();
    Ok(Posted {
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        refused,
    })
}

fn percentile_ms(sorted: &[Duration], share: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1;
    (sorted[index].as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// A server on a free port with its own store, the inbox worker running.
async fn server(
    world: &WebhookBenchWorld,
    dir: &std::path::Path,
    target_on: bool,
) -> anyhow::Result<(String, AppState)> {
    let path = dir.join("flows.toml");
    std::fs::write(&path, world.flows())?;
    let config = tiltas_engine::load_config(&path, tiltas_systems::registry::catalog())
        .map_err(|problems| anyhow::anyhow!("{problems}"))?;
    let store = tiltas_store::open(&format!("sqlite://{}", dir.join("bench.db").display())).await?;
    let state = AppState::new(Arc::new(config), store, tiltas_systems::registry::systems());
    if !target_on {
        state
            .disabled
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(WebhookBenchWorld::TARGET_CONNECTION.to_owned());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(tiltas_server::run_worker(state.clone()));
    let router = tiltas_server::router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, state))
}

/// Runs both phases and returns the numbers.
pub async fn run(orders: usize) -> anyhow::Result<Value> {
    let world = WebhookBenchWorld::start().await?;

    // Phase 1: the ingress alone.
    let accept_dir = tempfile::tempdir()?;
    let (url, state) = server(&world, accept_dir.path(), false).await?;
    let accepted = post_all(&world, &url, 1..orders + 1).await?;
    let kept = state.store.inbox_backlog().await?;
    anyhow::ensure!(
        accepted.refused == 0 && kept == orders as u64,
        "{} deliveries refused, {kept} of {orders} kept",
        accepted.refused
    );

    // Phase 2: a burst of 500 delivered to the rate-limited ERP.
    let deliver_dir = tempfile::tempdir()?;
    let (url, state) = server(&world, deliver_dir.path(), true).await?;
    let started = Instant::now();
    let burst = post_all(&world, &url, 1_000_001..1_000_001 + BURST).await?;
    let deadline = started + Duration::from_secs(600);
    let documents = || world.orders_in_target();
    while documents() < BURST && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all_in_erp = started.elapsed().as_secs_f64();
    let letters = state
        .store
        .dead_letters(&DeadLetterFilter {
            flow: None,
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await?;
    let stats: Value = reqwest::get(format!("{}/__sim/stats", world.target_url()))
        .await?
        .json()
        .await?;
    #[allow(clippy::cast_precision_loss)]
    let rate = |count: usize, seconds: f64| (count as f64 / seconds).round();
    Ok(json!({
        "bench": "webhook",
        "concurrency": CONCURRENCY,
        "accept": {
            "orders": orders,
            "seconds": (accepted.seconds * 1000.0).round() / 1000.0,
            "orders_per_s": rate(orders, accepted.seconds),
            "p50_ms": percentile_ms(&accepted.latencies, 0.50),
            "p99_ms": percentile_ms(&accepted.latencies, 0.99),
        },
        "burst": {
            "orders": BURST,
            "accepted_per_s": rate(BURST, burst.seconds),
            "p99_ms": percentile_ms(&burst.latencies, 0.99),
            "refused": burst.refused,
            "in_erp": documents(),
            "seconds_until_all_in_erp": (all_in_erp * 10.0).round() / 10.0,
            "dead_letters": letters.len(),
            "erp_429_answers": stats["requests"]["rejected"],
            "erp_requests": stats["requests"]["total"],
            "duplicates": stats["duplicates"],
        },
        "peak_rss_mb": super::bench::peak_rss_mb(),
    }))
}
