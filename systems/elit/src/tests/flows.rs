//! `examples/elit-files.toml` through the engine against the simulator started as its comment
//! says (seed 1): the listed items' offers into a file, then orders from a file placed with Elit
//! once — a refused order a dead letter naming the item, a re-run placing nothing, and an order
//! whose answer is lost after Elit took it found by the engine's retry instead of placed twice.
use super::{sim_seeded, start, PASSWORD};
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::SimSystem;

static SYSTEMS: tiltas_connector::Systems =
    tiltas_connector::Systems::new(&[&crate::ElitSystem, &tiltas_files::JsonlSystem]);

/// The example's seed: its `items` are parts the simulator carries with it.
const EXAMPLE_SEED: u64 = 1;

#[tokio::test]
async fn the_example_writes_offers_and_places_each_order_once() {
    let (url, sim, _) = start(sim_seeded("ELIT_LT", EXAMPLE_SEED, 250)).await;
    let text = include_str!("../../../../examples/elit-files.toml")
        .replace("http://127.0.0.1:9621", &url)
        .replace("login = \"garage-7\"", &format!("login = \"{}\"", super::LOGIN))
        .replace("{ env = \"ELIT_PASSWORD\" }", &format!("\"{PASSWORD}\""));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config =
        tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), &SYSTEMS).unwrap_or_else(|e| panic!("{e}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(Arc::new(config), store, SYSTEMS);
    let sync = |flow: &'static str| {
        let engine = &engine;
        async move {
            engine
                .sync(flow, &SyncOptions::default())
                .await
                .unwrap_or_else(|error| panic!("seed {EXAMPLE_SEED}: {flow}: {error}"))
        }
    };

    let offers = sync("offers-to-file").await;
    assert_eq!(
        (offers.counters.created, offers.counters.failed),
        (6, 0),
        "{:?}",
        offers.counters
    );
    let written = std::fs::read_to_string(dir.path().join("elit-offers.jsonl")).unwrap_or_default();
    assert_eq!(written.lines().count(), 6);
    assert!(
        written
            .lines()
            .all(|line| line.contains("\"currency\":\"EUR\"") && line.contains("Vilnius")),
        "{written}"
    );
    let stock = sync("stock-to-file").await;
    assert_eq!(
        stock.counters.created, 18,
        "6 items at 3 warehouses: {:?}",
        stock.counters
    );

    let orders = [
        r#"{"number":"WO-1001","lines":[{"sku":"MANW71425","quantity":"2"},{"sku":"KNE160006","quantity":"1"}]}"#,
        r#"{"number":"WO-1002","lines":[{"sku":"NOSUCH-77","quantity":"1"}]}"#,
    ];
    std::fs::write(dir.path().join("orders.jsonl"), orders.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let placed = sync("orders-to-elit").await;
    println!("offers: {:?}\norders: {:?}", offers.counters, placed.counters);
    assert_eq!(
        (placed.counters.created, placed.counters.failed),
        (1, 1),
        "{:?}",
        placed.counters
    );
    let letters = engine
        .store()
        .dead_letters(&tiltas_store::DeadLetterFilter {
            flow: Some("orders-to-elit".into()),
            status: None,
            limit: 0,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert!(
        letters[0].message.contains("NOSUCH-77") && letters[0].message.contains("WO-1002"),
        "{}",
        letters[0].message
    );

    let again = sync("orders-to-elit").await;
    assert_eq!(
        (again.counters.created, again.counters.updated),
        (0, 0),
        "{:?}",
        again.counters
    );

    // Elit takes the next order and its answer is lost: the engine's retry finds it.
    sim.lose_order_answers(1);
    let third = r#"{"number":"WO-1003","lines":[{"sku":"CONW64228","quantity":"4"}]}"#;
    std::fs::write(dir.path().join("orders.jsonl"), orders.join("\n") + "\n" + third + "\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let retried = sync("orders-to-elit").await;
    println!("after a lost answer: {:?}", retried.counters);
    let numbers: Vec<String> = sim
        .records("order")
        .and_then(|o| o.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|o| o["orderNo"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(numbers, ["WO-1001", "WO-1003"], "each order placed once");
    assert_eq!(sim.duplicates(), 0);
}
