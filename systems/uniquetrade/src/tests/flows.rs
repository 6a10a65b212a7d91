//! `examples/uniquetrade-smartup.toml` through the engine, on the simulator's files in the
//! example's folders: Unique Trade's price list becomes Smartup items, then 5 invoice files
//! become 5 Smartup receipts (incoming documents, INC). A re-run writes nothing (the files are
//! in `done/`); an invoice with a part the books do not know is a dead letter naming it.
use super::{sim, SEED};
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};
use tiltas_smartup_sim::SmartupSim;

static SYSTEMS: tiltas_connector::Systems =
    tiltas_connector::Systems::new(&[&crate::UniqueTradeSystem, &tiltas_smartup::SmartupSystem]);

/// Dates every file under `folder` a minute back: the drop folder leaves files changed in the
/// last second for a later read (they may still be being copied).
fn settle(folder: &std::path::Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if let Ok(file) = std::fs::File::options().write(true).open(entry.path()) {
            file.set_modified(past).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[tokio::test]
async fn five_invoices_become_five_receipts_once_and_an_unknown_part_is_a_dead_letter() {
    let supplier = sim(40, 5);
    let unknown = supplier
        .add_unknown_part_invoice("UTW99999", "W 999/99", "MANN-FILTER")
        .unwrap_or_else(|| panic!("no parts"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    supplier
        .write_files(&dir.path().join("uniquetrade"))
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&dir.path().join("uniquetrade/invoices"));

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
    let books_url = tiltas_sim::spawn(tiltas_smartup_sim::router(
        books.clone(),
        Harness::new(books.clone(), SEED),
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let text = include_str!("../../../../examples/uniquetrade-smartup.toml")
        .replace("http://127.0.0.1:9401", &books_url)
        .replace("{ env = \"SMARTUP_PASSWORD\" }", "\"pw\"");
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
    let carried = supplier
        .records("part")
        .and_then(|p| p.as_array().map(Vec::len))
        .unwrap_or_default();
    assert_eq!(
        (parts.counters.created, parts.counters.failed),
        (carried as u64, 0),
        "{:?}",
        parts.counters
    );

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
    let from_supplier: Vec<_> = receipts
        .iter()
        .filter(|r| r["external_id"].as_str().is_some_and(|n| n.starts_with("UT-")))
        .collect();
    assert_eq!(from_supplier.len(), 5);
    assert!(from_supplier
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
        letters[0].message.contains("UTW99999") && letters[0].payload.to_string().contains(&unknown),
        "names the code and the invoice: {}",
        letters[0].message
    );
    assert!(
        letters[0].payload.to_string().contains("MANN-FILTER") && letters[0].payload.to_string().contains("W 999/99"),
        "the letter keeps the maker's number and brand for the fix"
    );
    let done = std::fs::read_dir(dir.path().join("uniquetrade/invoices/done"))
        .map(Iterator::count)
        .unwrap_or(0);
    assert_eq!(done, 6, "every invoice file imported once and moved to done/");

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
