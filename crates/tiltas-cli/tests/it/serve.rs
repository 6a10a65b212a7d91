//! `tiltas serve` as a process: keys from `tiltas keys`, the API behind them, and a burst of
//! signed WooCommerce order webhooks absorbed while Rivile allows 10 requests/s.
use crate::{simulator, started, tiltas};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const RIVILE_KEY: &str = "HOOK.key";

fn order(id: u64, sku: &str) -> String {
    json!({
        "id": id, "number": id.to_string(), "status": "processing", "currency": "EUR",
        "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:00:00",
        "total": "12.10", "total_tax": "2.10", "shipping_total": "0.00",
        "billing": {"first_name": "Ona", "last_name": "Onaitė", "email": format!("buyer{}@example.lt", id % 7), "country": "LT"},
        "line_items": [{"id": 1, "sku": sku, "name": "Kava", "quantity": 1, "price": 10, "total": "10.00", "total_tax": "2.10"}]
    })
    .to_string()
}

#[test]
fn a_burst_of_order_webhooks_is_accepted_at_once_and_reaches_a_rate_limited_erp() {
    let (_rivile, rivile_url) = simulator(&[
        "sim",
        "rivile",
        "--port",
        "0",
        "--api-key",
        RIVILE_KEY,
        "--products",
        "5",
        "--customers",
        "0",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows.toml");
    std::fs::write(
        &flows,
        format!(
            r#"
[connections.shop]
system = "woocommerce"
base_url = "http://127.0.0.1:9"
consumer_key = "ck_x"
consumer_secret = "cs_x"
webhook_secret = "hook-secret"

[connections.erp]
system = "rivile"
base_url = "{rivile_url}/client/v2"
api_key = "{RIVILE_KEY}"
warehouse = "CENTR"
rate_limit = "9/s"

[[flows]]
name = "orders"
entity = "order"
from = {{ connection = "shop" }}
to = {{ connection = "erp" }}
trigger = "webhook"
match_on = "number"
on_duplicate = "skip"
"#
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("tiltas.db").display());
    let key = tiltas()
        .args([
            "--db", &db, "keys", "create", "--scope", "read", "--name", "test", "--json",
        ])
        .output()
        .unwrap();
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key: Value = serde_json::from_slice(&key.stdout).unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    let listed = tiltas().args(["--db", &db, "keys", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("test") && !listed.contains(&key), "{listed}");

    let (_server, url) = started(
        tiltas()
            .args(["--db", &db, "serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&flows),
    );
    let client = reqwest::blocking::Client::new();

    let denied = client.get(format!("{url}/api/v1/flows")).send().unwrap();
    assert_eq!(denied.status(), 401);
    let flows: Value = client
        .get(format!("{url}/api/v1/flows"))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(flows[0]["name"], "orders");

    // 60 orders at once, from 6 threads, while Rivile takes 10 requests/s (and each order
    // needs a few: buyer look-up, product check, the invoice).
    let started = Instant::now();
    let threads: Vec<_> = (0..6u64)
        .map(|thread| {
            let url = url.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                let mut slowest = Duration::ZERO;
                for n in 0..10u64 {
                    let body = order(1000 + thread * 10 + n, "A00101");
                    let signature = tiltas_systems::woocommerce::webhook::sign("hook-secret", body.as_bytes());
                    let sent = Instant::now();
                    let response = client
                        .post(format!("{url}/hooks/shop"))
                        .header("x-wc-webhook-topic", "order.created")
                        .header("x-wc-webhook-signature", signature)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .unwrap();
                    slowest = slowest.max(sent.elapsed());
                    assert_eq!(response.status(), 200, "{}", response.text().unwrap());
                }
                slowest
            })
        })
        .collect();
    let slowest = threads.into_iter().map(|thread| thread.join().unwrap()).max().unwrap();
    assert!(
        slowest < Duration::from_secs(2),
        "acceptance waited on the ERP: {slowest:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    let documents = loop {
        let documents: Value = reqwest::blocking::get(format!("{rivile_url}/__sim/records/I06"))
            .unwrap()
            .json()
            .unwrap();
        let count = documents.as_array().map_or(0, Vec::len);
        if count == 60 || Instant::now() > deadline {
            break documents;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(documents.as_array().unwrap().len(), 60, "after {:?}", started.elapsed());
    let stats: Value = reqwest::blocking::get(format!("{rivile_url}/__sim/stats"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(stats["duplicates"], 0, "{stats}");
    let letters: Value = client
        .get(format!("{url}/api/v1/dead-letters"))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(letters, json!([]));
    let metrics = client.get(format!("{url}/metrics")).send().unwrap().text().unwrap();
    assert!(
        has_sample(
            &metrics,
            "tiltas_webhooks_total",
            "connection=\"shop\",outcome=\"accepted\"",
            "60"
        ),
        "{metrics}"
    );

    // The shop delivers one of them again (it retries when an answer is lost): no second invoice.
    let body = order(1000, "A00101");
    let signature = tiltas_systems::woocommerce::webhook::sign("hook-secret", body.as_bytes());
    let again = client
        .post(format!("{url}/hooks/shop"))
        .header("x-wc-webhook-topic", "order.updated")
        .header("x-wc-webhook-signature", signature)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(again.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = client.get(format!("{url}/metrics")).send().unwrap().text().unwrap();
        let accepted = has_sample(
            &metrics,
            "tiltas_webhooks_total",
            "connection=\"shop\",outcome=\"accepted\"",
            "61",
        );
        let drained = has_sample(&metrics, "tiltas_inbox_backlog", "worker=", "0");
        if (accepted && drained) || Instant::now() > deadline {
            assert!(accepted && drained, "{metrics}");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let documents: Value = reqwest::blocking::get(format!("{rivile_url}/__sim/records/I06"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        documents.as_array().unwrap().len(),
        60,
        "the repeated delivery wrote nothing"
    );
}

#[test]
fn the_demo_once_delivers_something_in_every_flow() {
    let output = tiltas()
        .args(["demo", "--once", "--json", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let flows = report["flows"].as_object().unwrap();
    assert_eq!(flows.len(), 5, "{report}");
    for (flow, counters) in flows {
        assert!(counters["delivered"].as_u64().unwrap_or(0) > 0, "{flow}: {counters}");
    }
    assert_eq!(report["flows"]["products-to-shop"]["created"], 60);
    assert_eq!(
        (
            &report["flows"]["stock-centr-to-shop"]["delivered"],
            &report["flows"]["stock-centr-to-shop"]["failed"]
        ),
        (&json!(60), &json!(0)),
        "stock runs after products, so every SKU is in the shop: {report}"
    );
    assert!(
        report["flows"]["orders-to-erp"]["failed"].as_u64().unwrap() >= 1,
        "the shop's own product makes a dead letter to show: {report}"
    );
}

/// Whether the metrics page has a sample `NAME{…LABELS…} VALUE` (every series also carries
/// the process's `worker` label, first).
pub(crate) fn has_sample(metrics: &str, name: &str, labels: &str, value: &str) -> bool {
    metrics.lines().any(|line| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('{'))
            .is_some_and(|rest| rest.contains(labels) && rest.ends_with(&format!("}} {value}")))
    })
}
