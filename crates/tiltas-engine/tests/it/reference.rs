//! The engine against two reference simulators over loopback HTTP.
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiltas_engine::{Engine, EngineError, SyncOptions};
use tiltas_sim::{Faults, Harness};
use tiltas_store::{DeadLetterFilter, FailureClass};
use tiltas_systems::reference::simulator::{router, ReferenceSim, Seeding};

struct Side {
    url: String,
    harness: Arc<Harness>,
}

async fn simulator(products: usize, token: &str) -> Side {
    // The source stores long names; the target refuses names over 120 characters.
    let name_limit = if token == "src-token" { 1000 } else { 120 };
    let sim = Arc::new(ReferenceSim::new(token, Seeding::products(11, products)).with_name_limit(name_limit));
    let harness = Harness::new(sim.clone(), 11);
    let url = tiltas_sim::spawn(router(sim, harness.clone())).await.unwrap();
    Side { url, harness }
}

async fn stats(side: &Side) -> Value {
    reqwest::get(format!("{}/__sim/stats", side.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

struct Pair {
    _dir: tempfile::TempDir,
    engine: Engine,
    store: Arc<dyn tiltas_store::Store>,
    source: Side,
    target: Side,
}

async fn pair(products: usize, target_token: &str) -> Pair {
    pair_with(products, target_token, "", 50).await
}

async fn pair_with(products: usize, target_token: &str, target_keys: &str, page_size: usize) -> Pair {
    let source = simulator(products, "src-token").await;
    let target = simulator(0, "dst-token").await;
    let text = format!(
        r#"
[connections.erp]
system = "reference"
base_url = "{}"
token = "src-token"

[connections.shop]
system = "reference"
base_url = "{}"
token = "{target_token}"
timeout = "10s"
{target_keys}

[[flows]]
name = "products"
entity = "product"
from = {{ connection = "erp" }}
to = {{ connection = "shop" }}
match_on = "sku"
page_size = {page_size}
"#,
        source.url, target.url
    );
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(
        &text,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    Pair {
        _dir: dir,
        engine: Engine::new(Arc::new(config), store.clone(), tiltas_systems::registry::systems()),
        store,
        source,
        target,
    }
}

#[tokio::test]
async fn an_unchanged_flow_makes_only_read_requests() {
    let pair = pair(120, "dst-token").await;
    let started_on = chrono::Utc::now().date_naive();
    let first = pair.engine.sync("products", &SyncOptions::default()).await.unwrap();
    assert_eq!(first.counters.created, 120);
    let writes_after_first = stats(&pair.target).await["requests"]["write"].as_u64().unwrap();
    assert_eq!(writes_after_first, 3, "120 records in pages of 50, one batch each");

    let second = pair.engine.sync("products", &SyncOptions::default()).await.unwrap();

    assert_eq!(
        (
            second.counters.created,
            second.counters.updated,
            second.counters.unchanged
        ),
        (0, 0, second.counters.read)
    );
    assert_eq!(
        stats(&pair.target).await["requests"]["write"].as_u64().unwrap(),
        writes_after_first,
        "no write request"
    );
    assert!(second.counters.api_calls >= 1);
    let target = stats(&pair.target).await;
    assert_eq!(target["records"]["product"], 120);
    assert_eq!(target["duplicates"], 0);
    // Without a daily budget the requests are still counted per connection and day.
    let mut days = vec![started_on, chrono::Utc::now().date_naive()];
    days.dedup(); // a run across midnight (UTC) counts in two days
    let mut counted = 0;
    for day in days {
        for connection in ["shop", "erp"] {
            counted += pair.store.quota_used(connection, &format!("day:{day}")).await.unwrap();
        }
    }
    assert_eq!(
        counted,
        first.counters.api_calls + second.counters.api_calls,
        "every request of both runs, on both connections"
    );
}

#[tokio::test]
async fn changes_upstream_are_read_incrementally_and_written_as_updates() {
    let pair = pair(60, "dst-token").await;
    pair.engine.sync("products", &SyncOptions::default()).await.unwrap();
    reqwest::Client::new()
        .post(format!("{}/__sim/mutate", pair.source.url))
        .json(&json!({"entity": "product", "count": 7}))
        .send()
        .await
        .unwrap();

    let report = pair.engine.sync("products", &SyncOptions::default()).await.unwrap();

    assert_eq!(report.counters.updated, 7);
    assert!(
        report.counters.read < 60,
        "an incremental read, not the whole catalogue: read {}",
        report.counters.read
    );
    assert_eq!(stats(&pair.target).await["duplicates"], 0);
}

#[tokio::test]
async fn a_401_stops_the_flow_with_an_auth_error_naming_the_connection() {
    let pair = pair(5, "stale-token").await;
    let error = pair.engine.sync("products", &SyncOptions::default()).await.unwrap_err();
    assert!(
        matches!(&error, EngineError::Connector { side: "target", .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("target connection \"shop\""), "{message}");
    assert!(message.contains("401"), "{message}");
    assert!(message.contains("check the connection's `token`"), "{message}");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_not_retried_sooner() {
    let pair = pair(30, "dst-token").await;
    pair.target.harness.set_faults(Faults {
        rate_limit_per_s: 1,
        retry_after_s: 2,
        ..Faults::default()
    });
    let started = Instant::now();

    let report = pair.engine.sync("products", &SyncOptions::default()).await.unwrap();

    assert_eq!(report.counters.created, 30);
    let rejected = stats(&pair.target).await["requests"]["rejected"].as_u64().unwrap();
    assert!(rejected >= 1, "the rate limit never applied");
    assert!(
        started.elapsed() >= Duration::from_secs(2) * u32::try_from(rejected).unwrap(),
        "{rejected} refusals answered in {:?}: a retry came sooner than Retry-After",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_400_for_one_record_dead_letters_it_and_delivers_the_rest_of_its_batch() {
    let pair = pair(0, "dst-token").await;
    let client = reqwest::Client::new();
    let records: Vec<Value> = (1..=5)
        .map(|n| {
            let name = if n == 3 {
                "Ilgas pavadinimas ".repeat(10)
            } else {
                format!("Prekė {n}")
            };
            json!({"op": "create", "record": {"sku": format!("S-{n}"), "name": name}})
        })
        .collect();
    let created: Value = client
        .post(format!("{}/api/products/batch", pair.source.url))
        .bearer_auth("src-token")
        .json(&json!({ "items": records }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["results"].as_array().unwrap().len(), 5);

    let report = pair.engine.sync("products", &SyncOptions::default()).await.unwrap();

    assert_eq!((report.counters.created, report.counters.failed), (4, 1));
    let letters = pair.store.dead_letters(&DeadLetterFilter::default()).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].class, FailureClass::Invalid);
    assert!(
        letters[0]
            .message
            .contains("refused (400): name is 180 characters; at most 120"),
        "{}",
        letters[0].message
    );
    assert_eq!(stats(&pair.target).await["records"]["product"], 4);
}

#[tokio::test]
async fn failures_after_commit_and_injected_errors_never_duplicate_records() {
    let pair = pair(300, "dst-token").await;
    pair.target.harness.set_faults(Faults {
        commit_then_fail_rate: 0.3,
        error_rate: 0.1,
        ..Faults::default()
    });

    let report = pair.engine.sync("products", &SyncOptions::default()).await.unwrap();

    assert_eq!(
        report.counters.created + report.counters.updated,
        300,
        "{:?}",
        report.counters
    );
    let target = stats(&pair.target).await;
    assert_eq!(target["records"]["product"], 300, "{target}");
    assert_eq!(target["duplicates"], 0, "{target}");
}

#[tokio::test]
async fn the_engine_paces_itself_below_the_connections_rate_limit() {
    let pair = pair_with(100, "dst-token", "rate_limit = \"20/s\"", 5).await;
    pair.target.harness.set_faults(Faults {
        rate_limit_per_s: 21,
        retry_after_s: 5,
        ..Faults::default()
    });
    let started = Instant::now();

    let report = pair.engine.sync("products", &SyncOptions::default()).await.unwrap();

    assert_eq!(report.counters.created, 100);
    let target = stats(&pair.target).await;
    let calls = target["requests"]["total"].as_u64().unwrap();
    assert_eq!(calls, 40, "20 pages: a look-up and a write each");
    assert_eq!(
        target["requests"]["rejected"], 0,
        "the server never had to refuse: {target}"
    );
    let least = Duration::from_millis(50) * u32::try_from(calls - 1).unwrap();
    assert!(
        started.elapsed() >= least,
        "{calls} calls in {:?}: faster than 20/s",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_run_that_would_exceed_the_daily_budget_stops_cleanly_and_says_when_it_can_resume() {
    let pair = pair_with(120, "dst-token", "daily_budget = 3", 50).await;

    let error = pair.engine.sync("products", &SyncOptions::default()).await.unwrap_err();

    let message = error.to_string();
    assert!(
        message.contains("daily budget of 3 requests for connection \"shop\" is used up"),
        "{message}"
    );
    assert!(message.contains("can resume after"), "{message}");
    let target = stats(&pair.target).await;
    assert_eq!(
        target["requests"]["total"], 3,
        "never more requests than the budget: {target}"
    );
    assert_eq!(
        target["records"]["product"], 50,
        "the first page was delivered and kept"
    );
    let runs = pair.store.runs(Some("products"), 1).await.unwrap();
    assert_eq!(runs[0].counters.created, 50);
    let day = format!("day:{}", chrono::Utc::now().date_naive());
    assert_eq!(pair.store.quota_used("shop", &day).await.unwrap(), 3);
}
