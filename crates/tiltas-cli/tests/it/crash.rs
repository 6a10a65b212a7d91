//! The crash-and-fault proof: 20 000 products from one reference simulator to another while the
//! target fails (10 % errors, 5 % applied-then-failed writes) and `tiltas sync` is killed with
//! SIGKILL at random moments. In the end the target holds exactly the source's products, with no
//! duplicate and nothing in the dead letters; a later incremental sync writes only the changes.
use crate::{tiltas, Process};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

const PRODUCTS: usize = 20_000;
const KILLS: usize = 10;
const BATCH: u64 = 100;

fn simulator(products: usize, seed: u64, token: &str) -> (Process, String) {
    let (products, seed) = (products.to_string(), seed.to_string());
    let args = [
        "sim",
        "reference",
        "--port",
        "0",
        "--seed",
        &seed,
        "--products",
        &products,
    ];
    crate::simulator(&[&args[..], &["--customers", "0", "--orders", "0", "--token", token]].concat())
}

fn get(url: &str) -> Value {
    reqwest::blocking::get(url).unwrap().json().unwrap()
}

fn post(url: &str, body: Value) {
    let response = reqwest::blocking::Client::new().post(url).json(&body).send().unwrap();
    assert!(response.status().is_success(), "POST {url}: {}", response.status());
}

fn products_by_sku(url: &str) -> HashMap<String, Value> {
    let records = get(&format!("{url}/__sim/records/product"));
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            let mut content = record.clone();
            let fields = content.as_object_mut().unwrap();
            fields.remove("id");
            fields.remove("updated_at");
            (record["sku"].as_str().unwrap().to_owned(), content)
        })
        .collect()
}

/// Runs the whole proof against the store at `db`.
fn crash_and_fault_proof(db: &str) {
    let seed: u64 = std::env::var("TILTAS_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(20_261_123);
    let context = format!("(seed {seed}; rerun with TILTAS_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let (_source, source_url) = simulator(PRODUCTS, 5, "src-token");
    let (_target, target_url) = simulator(0, 6, "dst-token");
    post(
        &format!("{target_url}/__sim/faults"),
        json!({"commit_then_fail_rate": 0.05, "error_rate": 0.1}),
    );
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows.toml");
    std::fs::write(
        &flows,
        format!(
            "[connections.erp]\nsystem = \"reference\"\nbase_url = \"{source_url}\"\ntoken = \"src-token\"\n\n\
             [connections.shop]\nsystem = \"reference\"\nbase_url = \"{target_url}\"\ntoken = \"dst-token\"\ntimeout = \"10s\"\n\n\
             [[flows]]\nname = \"products\"\nentity = \"product\"\nfrom = {{ connection = \"erp\" }}\nto = {{ connection = \"shop\" }}\n\
             match_on = \"sku\"\npage_size = 500\nbatch_size = {BATCH}\n"
        ),
    )
    .unwrap();
    let sync = || {
        tiltas()
            .args(["--db", db, "sync", "--config"])
            .arg(&flows)
            .args(["products", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    let mut kills = 0;
    let mut finished_runs = 0;
    while kills < KILLS {
        let mut child = sync();
        std::thread::sleep(Duration::from_millis(rng.gen_range(100..1500)));
        match child.try_wait().unwrap() {
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
            Some(_) => {
                // The run finished before its kill: give the next one work to be killed in.
                let _ = child.wait_with_output();
                finished_runs += 1;
                assert!(
                    finished_runs < 50,
                    "runs keep finishing before they can be killed {context}"
                );
                post(
                    &format!("{source_url}/__sim/mutate"),
                    json!({"entity": "product", "count": 2000}),
                );
            }
        }
    }

    let mut last = None;
    for _ in 0..5 {
        let output = sync().wait_with_output().unwrap();
        if output.status.success() {
            last = Some(output);
            break;
        }
        eprintln!(
            "a run after the kills failed, retrying: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let last = last.unwrap_or_else(|| panic!("no run succeeded after the kills {context}"));
    let counters: Value = serde_json::from_slice(&last.stdout).unwrap();
    assert_eq!(counters["failed"], 0, "{counters} {context}");

    let stats = get(&format!("{target_url}/__sim/stats"));
    assert_eq!(stats["records"]["product"], PRODUCTS, "{stats} {context}");
    assert_eq!(stats["duplicates"], 0, "{stats} {context}");
    let (source, target) = (products_by_sku(&source_url), products_by_sku(&target_url));
    let differing: Vec<&String> = source
        .keys()
        .filter(|sku| source.get(*sku) != target.get(*sku))
        .take(5)
        .collect();
    assert!(
        differing.is_empty(),
        "target differs from source for {differing:?} {context}"
    );
    let letters = tiltas()
        .args(["--db", db, "dead-letters", "list", "--json", "--config"])
        .arg(&flows)
        .output()
        .unwrap();
    assert!(letters.status.success(), "{}", String::from_utf8_lossy(&letters.stderr));
    assert!(
        letters.stdout.is_empty(),
        "dead letters left: {} {context}",
        String::from_utf8_lossy(&letters.stdout)
    );

    // Then a healthy target, 100 changes upstream and one more sync.
    reqwest::blocking::Client::new()
        .delete(format!("{target_url}/__sim/faults"))
        .send()
        .unwrap();
    post(
        &format!("{source_url}/__sim/mutate"),
        json!({"entity": "product", "count": 100}),
    );
    let writes_before = get(&format!("{target_url}/__sim/stats"))["requests"]["write"]
        .as_u64()
        .unwrap();
    let output = sync().wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let counters: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(counters["updated"], 100, "{counters} {context}");
    assert_eq!(counters["created"], 0, "{counters} {context}");
    let writes = get(&format!("{target_url}/__sim/stats"))["requests"]["write"]
        .as_u64()
        .unwrap()
        - writes_before;
    assert!(
        writes <= 100_u64.div_ceil(BATCH),
        "{writes} write requests for 100 changes {context}"
    );
}

#[test]
fn sqlite_store_survives_sigkill_and_a_failing_target_without_losing_or_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    crash_and_fault_proof(&format!("sqlite://{}", dir.path().join("tiltas.db").display()));
}

#[test]
fn postgres_store_survives_sigkill_and_a_failing_target_without_losing_or_duplicating() {
    let Ok(url) = std::env::var("TILTAS_TEST_POSTGRES_URL") else {
        let required = std::env::var("CI").is_ok_and(|value| value == "true")
            || std::env::var("TILTAS_REQUIRE_POSTGRES").is_ok_and(|value| value == "1");
        assert!(
            !required,
            "TILTAS_TEST_POSTGRES_URL is not set: run the tests through scripts/with-postgres"
        );
        eprintln!("skipped: set TILTAS_TEST_POSTGRES_URL (scripts/with-postgres does)");
        return;
    };
    let database = format!("crash_{}", uuid::Uuid::new_v4().simple());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
    });
    let (base, _) = url.rsplit_once('/').unwrap();
    crash_and_fault_proof(&format!("{base}/{database}"));
}
