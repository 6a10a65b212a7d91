//! `tiltas quote` across four simulated parts suppliers started with one seed (so they share
//! one catalogue of parts): Inter Cars and Bus Market answer, Omega is slowed to 2 s over a 1 s
//! budget (late, not waited for), a second Inter Cars answers 503 (failed, named).
use crate::{simulator, stderr, stdout, tiltas};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::{Duration, Instant};

const SEED: &str = "18";
const PLN_PER_EUR: &str = "4.2675";

fn get(url: &str) -> Value {
    reqwest::blocking::get(url)
        .and_then(|reply| reply.json())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn set_faults(url: &str, faults: Value) {
    let reply = reqwest::blocking::Client::new()
        .post(format!("{url}/__sim/faults"))
        .json(&faults)
        .send()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert!(reply.status().is_success(), "{url}: {:?}", reply.text());
}

fn text(value: &Value) -> String {
    value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
}

fn decimal(value: &Value) -> Decimal {
    Decimal::from_str(&text(value)).unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// Normalised `ARTICLE|BRAND` of the parts a simulator carries with stock somewhere.
fn stocked(url: &str) -> BTreeSet<(String, String, String)> {
    let normal = |value: &Value| -> String {
        text(value)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_uppercase()
    };
    get(&format!("{url}/__sim/records/part"))
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|part| {
            part["stock"]
                .as_object()
                .is_none_or(|stock| stock.values().any(|n| n.as_u64().unwrap_or(0) > 0))
        })
        .map(|part| (normal(&part["article"]), normal(&part["brand"]), text(&part["article"])))
        .collect()
}

fn flow_file(dir: &std::path::Path, ic: &str, omega: &str, bm: &str, ic_down: &str) -> std::path::PathBuf {
    let text = format!(
        "[quote]\ncurrency = \"EUR\"\nbudget = \"5s\"\n\n[quote.rates]\nPLN = \"{PLN_PER_EUR}\"\nUAH = \"48.5\"\n\n\
         [connections.ic]\nsystem = \"intercars\"\nbase_url = \"{ic}/ic\"\ntoken_url = \"{ic}/oauth2/token\"\nclient_id = \"garage\"\nclient_secret = \"s3cret\"\n\n\
         [connections.omega]\nsystem = \"omega\"\nbase_url = \"{omega}/public/api/v1.0\"\nkey = \"omega-key\"\n\n\
         [connections.bm]\nsystem = \"busmarket\"\nbase_url = \"{bm}\"\ntoken = \"bm-token\"\ncurrency = \"PLN\"\n\n\
         [connections.ic-down]\nsystem = \"intercars\"\nbase_url = \"{ic_down}/ic\"\ntoken_url = \"{ic_down}/oauth2/token\"\nclient_id = \"garage\"\nclient_secret = \"s3cret\"\n"
    );
    let path = dir.join("quote.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn intercars() -> (crate::Process, String) {
    simulator(&[
        "sim",
        "intercars",
        "--port",
        "0",
        "--seed",
        SEED,
        "--client-id",
        "garage",
        "--client-secret",
        "s3cret",
    ])
}

#[test]
fn a_quote_answers_within_the_budget_with_the_slow_supplier_late_and_the_failing_one_named() {
    let (_ic, ic) = intercars();
    let (_ic_down, ic_down) = intercars();
    let (_omega, omega) = simulator(&["sim", "omega", "--port", "0", "--seed", SEED, "--key", "omega-key"]);
    let (_bm, bm) = simulator(&["sim", "busmarket", "--port", "0", "--seed", SEED, "--token", "bm-token"]);
    let shared: Vec<_> = stocked(&ic)
        .intersection(&stocked(&bm))
        .cloned()
        .collect::<BTreeSet<_>>()
        .intersection(&stocked(&omega))
        .cloned()
        .collect();
    let (_, _, article) = shared
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("seed {SEED}: no part stocked by all three simulators"));
    set_faults(&omega, json!({ "latency_ms": 2000 }));
    set_faults(&ic_down, json!({ "error_rate": 1.0, "error_status": 503 }));

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let flows = flow_file(dir.path(), &ic, &omega, &bm, &ic_down);
    let db = format!("sqlite://{}", dir.path().join("tiltas.db").display());
    let quote = |args: &[&str]| {
        let started = Instant::now();
        let output = tiltas()
            .args(["--db", &db, "quote", "--config"])
            .arg(&flows)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (output, started.elapsed())
    };
    let (output, elapsed) = quote(&[&article, "--budget", "1s", "--json"]);
    assert_eq!(output.status.code(), Some(0), "seed {SEED}: {}", stderr(&output));
    assert!(
        elapsed < Duration::from_secs(2),
        "seed {SEED}: the quote took {elapsed:?}: the slow supplier was waited for"
    );
    let answer: Value =
        serde_json::from_str(stdout(&output).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)));
    check_suppliers(&answer);
    check_offers(&answer);

    let (table, _) = quote(&[&article, "--budget", "1s"]);
    let printed = stdout(&table);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    assert!(printed.contains("* price"), "{printed}");
    assert!(printed.contains("omega: late"), "{printed}");
    assert!(printed.contains("ic-down: failed"), "{printed}");
}

/// Omega late after the budget, the second Inter Cars failed and named, the others answered.
fn check_suppliers(answer: &Value) {
    let status = |name: &str| {
        answer["suppliers"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["supplier"] == name).cloned())
            .unwrap_or_else(|| panic!("{name} not in {answer:#}"))
    };
    assert_eq!(answer["budget_ms"], 1000);
    assert!(answer["elapsed_ms"].as_u64().unwrap_or(u64::MAX) < 1800, "{answer:#}");
    assert_eq!(status("omega")["status"], "late", "{answer:#}");
    let failed = status("ic-down");
    assert_eq!(failed["status"], "failed", "{answer:#}");
    let error = text(&failed["error"]);
    assert!(
        error.contains("\"ic-down\"") && error.contains("unavailable"),
        "{error}"
    );
    for name in ["ic", "bm"] {
        let supplier = status(name);
        assert_eq!(supplier["status"], "answered", "{answer:#}");
        assert!(supplier["offers"].as_u64().unwrap_or(0) >= 1, "{name}: {answer:#}");
    }
}

/// Prices converted to EUR through the rate table, the best offers named among the offers.
fn check_offers(answer: &Value) {
    let offers = answer["offers"].as_array().cloned().unwrap_or_default();
    let bm = offers
        .iter()
        .find(|offer| offer["supplier"] == "bm")
        .unwrap_or_else(|| panic!("no Bus Market offer: {answer:#}"));
    assert_eq!(
        (
            bm["price"]["currency"].as_str(),
            bm["price_company"]["currency"].as_str()
        ),
        (Some("PLN"), Some("EUR"))
    );
    let pln = decimal(&bm["price"]["net"]);
    let expected = (pln / Decimal::from_str(PLN_PER_EUR).unwrap_or_default()).round_dp(2);
    assert_eq!(decimal(&bm["price_company"]["net"]), expected, "{bm:#}");
    let ic = offers
        .iter()
        .find(|offer| offer["supplier"] == "ic")
        .unwrap_or_else(|| panic!("no Inter Cars offer: {answer:#}"));
    assert_eq!(ic["price"]["currency"], "PLN");
    assert!(ic["availability"].as_array().is_some_and(|b| !b.is_empty()), "{ic:#}");
    let best = &answer["best_price"];
    let cheapest = offers
        .iter()
        .filter(|offer| offer["enough_stock"] == true && !offer["total_company"].is_null())
        .map(|offer| decimal(&offer["total_company"]))
        .min()
        .unwrap_or_else(|| panic!("no priced offer: {answer:#}"));
    assert_eq!(decimal(&best["total_company"]), cheapest, "{answer:#}");
    assert!(["ic", "bm"].contains(&best["supplier"].as_str().unwrap_or_default()));
    assert_eq!(answer["rates"]["source"], "fixed table [quote.rates]");
}
