//! `examples/busmarket-smartup.toml` through the engine: Bus Market's parts become Smartup
//! items, then 5 invoices become 5 Smartup receipts (incoming documents, INC). A re-run writes
//! nothing; an invoice line of a part the books do not know is a dead letter naming it.
//! (Rivile's connector writes no documents yet, so the ERP here is Smartup, as for Inter Cars.)
use super::{sim, start, SEED};
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};
use tiltas_smartup_sim::SmartupSim;

static SYSTEMS: tiltas_connector::Systems =
    tiltas_connector::Systems::new(&[&crate::BusmarketSystem, &tiltas_smartup::SmartupSystem]);

async fn books() -> (String, Arc<SmartupSim>) {
    let seeding = tiltas_smartup_sim::Seeding {
        seed: SEED,
        items: 0,
        items_without_code: 0,
        customers: 0,
        orders: 0,
        documents: 0,
        filials: 0,
    };
    let books = Arc::new(SmartupSim::new("api@garage", "pw", seeding));
    let url = tiltas_sim::spawn(tiltas_smartup_sim::router(
        books.clone(),
        Harness::new(books.clone(), SEED),
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    (url, books)
}

#[tokio::test]
async fn five_invoices_become_five_receipts_once_and_an_unknown_part_is_a_dead_letter() {
    let (bm_url, bm, _) = start(sim(40, 5)).await;
    let (books_url, books) = books().await;
    let text = include_str!("../../../../examples/busmarket-smartup.toml")
        .replace("http://127.0.0.1:9611", &bm_url)
        .replace("http://127.0.0.1:9401", &books_url)
        .replace("{ env = \"BUSMARKET_TOKEN\" }", &format!("\"{}\"", super::TOKEN))
        .replace("{ env = \"SMARTUP_PASSWORD\" }", "\"pw\"");
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
                .unwrap_or_else(|error| panic!("seed {SEED}: {flow}: {error}"))
        }
    };
    let parts = sync("parts-to-books").await;
    let carried = bm
        .records("part")
        .and_then(|p| p.as_array().map(Vec::len))
        .unwrap_or_default();
    assert_eq!(
        (parts.counters.created, parts.counters.failed),
        (carried as u64, 0),
        "{:?}",
        parts.counters
    );

    // A part Bus Market started selling after the items were synced, on a new invoice.
    bm.add_part("999001", "W 999/99", "MANN-FILTER");
    bm.add_invoice_of("999001", 2);
    let invoices = sync("invoices-to-books").await;
    assert_eq!(
        (invoices.counters.created, invoices.counters.failed),
        (5, 1),
        "{:?}",
        invoices.counters
    );
    let receipts = books
        .records("input")
        .and_then(|r| r.as_array().cloned())
        .unwrap_or_default();
    let from_busmarket: Vec<_> = receipts
        .iter()
        .filter(|r| r["external_id"].as_str().is_some_and(|n| n.starts_with("BM-")))
        .collect();
    assert_eq!(from_busmarket.len(), 5);
    assert!(from_busmarket
        .iter()
        .all(|r| r["warehouse_code"] == "WH-MAIN" && r["currency_code"] == "UAH"));

    let filter = tiltas_store::DeadLetterFilter {
        flow: Some("invoices-to-books".into()),
        status: None,
        limit: 0,
    };
    let letters = engine
        .store()
        .dead_letters(&filter)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert!(
        letters[0].message.contains("999001"),
        "names the code: {}",
        letters[0].message
    );
    assert!(
        letters[0].payload.to_string().contains("MANN-FILTER"),
        "the letter keeps the brand for the fix"
    );

    println!("parts: {:?}\ninvoices: {:?}", parts.counters, invoices.counters);
    let again = sync("invoices-to-books").await;
    println!("re-run: {:?}", again.counters);
    assert_eq!(
        (again.counters.created, again.counters.updated),
        (0, 0),
        "{:?}",
        again.counters
    );
    assert_eq!(
        books.records("input").and_then(|r| r.as_array().map(Vec::len)),
        Some(receipts.len())
    );
}
