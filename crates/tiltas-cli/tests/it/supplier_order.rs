//! `tiltas order` against the Bus Market simulator: the same order run twice makes one reserve
//! (the second prints the first answer without calling Bus Market); a reserve whose answer is
//! lost after Bus Market committed it is found or completed by the retry, never repeated; the
//! same key for another order is refused.
use crate::{simulator, stderr, tiltas};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

const TOKEN: &str = "bm-test-token";
const SEED: &str = "18";

fn get(url: &str) -> Value {
    reqwest::blocking::get(url)
        .and_then(|response| response.error_for_status())
        .and_then(|response| response.json())
        .unwrap_or_else(|error| panic!("seed {SEED}: GET {url}: {error}"))
}

fn set_faults(url: &str, faults: Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{url}/__sim/faults"))
        .json(&faults)
        .send()
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// The reserves Bus Market holds for order `number` (its comment starts with the marker).
fn reserves(url: &str, number: &str) -> Vec<Value> {
    let marker = format!("Tiltas order {number}");
    get(&format!("{url}/__sim/records/order"))
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|reserve| {
            let comment = reserve["comment"].as_str().unwrap_or_default();
            comment == marker || comment.starts_with(&format!("{marker} "))
        })
        .collect()
}

fn order(flows: &Path, db: &str, args: &[&str]) -> Output {
    let mut command = tiltas();
    command
        .args(["order", "--config"])
        .arg(flows)
        .args(["--supplier", "bm", "--json"])
        .args(args)
        .env("TILTAS_DB", db);
    command.output().unwrap()
}

fn answer(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|_| panic!("seed {SEED}: stdout {text:?}, stderr {}", stderr(output)))
}

#[test]
fn supplier_order_through_tiltas_order_is_placed_once_and_a_lost_answer_is_not_repeated() {
    let (_sim, url) = simulator(&[
        "sim",
        "busmarket",
        "--port",
        "0",
        "--seed",
        SEED,
        "--token",
        TOKEN,
        "--catalogue",
        "20",
        "--invoices",
        "0",
    ]);
    let parts = get(&format!("{url}/__sim/records/part"));
    let code = |index: usize| parts[index]["code"].as_str().unwrap_or_default().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows.toml");
    std::fs::write(
        &flows,
        format!(
            "[connections.bm]\nsystem = \"busmarket\"\nbase_url = \"{url}\"\ntoken = \"{TOKEN}\"\nwarehouse = \"KYIV\"\n\n\
             [connections.files]\nsystem = \"jsonl\"\n\n\
             [[flows]]\nname = \"products\"\nentity = \"product\"\n\
             from = {{ connection = \"files\", file = \"in.jsonl\" }}\nto = {{ connection = \"files\", file = \"out.jsonl\" }}\n"
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("tiltas.db").display());
    let first_part = code(0);
    let wo77 = [
        "--part",
        first_part.as_str(),
        "--qty",
        "2",
        "--brand",
        "BOSCH",
        "--reference",
        "WO-77",
    ];

    let placed = order(&flows, &db, &wo77);
    assert!(placed.status.success(), "seed {SEED}: {}", stderr(&placed));
    let first = answer(&placed);
    assert_eq!(
        (
            first["status"].as_str(),
            first["replayed"].as_bool(),
            first["idempotency_key"].as_str()
        ),
        (Some("placed"), Some(false), Some("bm/WO-77")),
        "{first}"
    );
    assert!(first["order_id"].is_string(), "{first}");
    assert_eq!(reserves(&url, "WO-77").len(), 1);
    let requests = get(&format!("{url}/__sim/stats"))["requests"]["total"].as_u64();

    let again = order(&flows, &db, &wo77);
    assert!(again.status.success(), "{}", stderr(&again));
    let second = answer(&again);
    assert_eq!(second["replayed"], json!(true), "{second}");
    assert_eq!(
        (&second["order_id"], &second["status"]),
        (&first["order_id"], &first["status"])
    );
    assert_eq!(reserves(&url, "WO-77").len(), 1, "one reserve");
    assert_eq!(
        get(&format!("{url}/__sim/stats"))["requests"]["total"].as_u64(),
        requests,
        "Bus Market not called again"
    );

    // The same key for another quantity is another order: refused, nothing sent.
    let other = order(
        &flows,
        &db,
        &["--part", first_part.as_str(), "--qty", "5", "--reference", "WO-77"],
    );
    assert_eq!(other.status.code(), Some(1), "{}", stderr(&other));
    assert!(
        stderr(&other).contains("bm/WO-77") && stderr(&other).contains("new key"),
        "{}",
        stderr(&other)
    );
    assert_eq!(reserves(&url, "WO-77").len(), 1);

    // Every write is applied, then answered 500: the order fails as worth retrying and the key
    // stays free; the retry (faults gone) finds what the first attempt made.
    let second_part = code(1);
    let wo80 = [
        "--part",
        second_part.as_str(),
        "--qty",
        "1",
        "--idempotency-key",
        "K-80",
    ];
    set_faults(&url, json!({ "commit_then_fail_rate": 1.0 }));
    let lost = order(&flows, &db, &wo80);
    assert_eq!(lost.status.code(), Some(3), "{}", stderr(&lost));
    let failed = answer(&lost);
    assert_eq!(
        (failed["status"].as_str(), failed["retryable"].as_bool()),
        (Some("failed"), Some(true)),
        "{failed}"
    );
    assert!(
        failed["message"].as_str().unwrap_or_default().contains("\"bm\""),
        "{failed}"
    );
    set_faults(&url, json!({}));
    let retried = order(&flows, &db, &wo80);
    assert!(retried.status.success(), "{}", stderr(&retried));
    let done = answer(&retried);
    assert!(matches!(done["status"].as_str(), Some("placed" | "found")), "{done}");
    assert_eq!(
        done["reference"], "K-80",
        "the key numbers an order without a reference"
    );
    assert_eq!(reserves(&url, "K-80").len(), 1, "ordered once");
    assert_eq!(get(&format!("{url}/__sim/stats"))["duplicates"], 0);

    // Without a reference or a key there is nothing to place it once under.
    let keyless = order(&flows, &db, &["--part", first_part.as_str(), "--qty", "1"]);
    assert_eq!(keyless.status.code(), Some(1));
    assert!(stderr(&keyless).contains("--reference"), "{}", stderr(&keyless));
}
