//! `examples/omega-smartup.toml` through the engine: Omega's parts become Smartup items, then 5
//! expense invoices become 5 Smartup receipts (incoming documents, INC). A re-run writes
//! nothing; an invoice line of a part the books do not know is a dead letter naming it.
//! (Rivile's connector writes no documents yet, so the ERP here is Smartup, as for Inter Cars.)
use super::{sim, start, KEY, SEED};
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};
use tiltas_smartup_sim::SmartupSim;

static SYSTEMS: tiltas_connector::Systems =
    tiltas_connector::Systems::new(&[&crate::OmegaSystem, &tiltas_smartup::SmartupSystem]);

#[tokio::test]
async fn five_invoices_become_five_receipts_once_and_an_unknown_part_is_a_dead_letter() {
    let (omega_url, omega) = start(sim(40, 5, None)).await;
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
    let text = include_str!("../../../../examples/omega-smartup.toml")
        .replace("http://127.0.0.1:9611", &omega_url)
        .replace("http://127.0.0.1:9401", &books_url)
        .replace("{ env = \"OMEGA_KEY\" }", &format!("\"{KEY}\""))
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
    let carried = omega
        .records("part")
        .and_then(|p| p.as_array().map(Vec::len))
        .unwrap_or_default();
    assert_eq!(
        (parts.counters.created, parts.counters.failed),
        (carried as u64, 0),
        "{:?}",
        parts.counters
    );

    // A part Omega started selling after the items were synced, on a new invoice.
    let new_part = omega
        .add_part("W 999/99", "MANN-FILTER")
        .unwrap_or_else(|| panic!("no parts to copy"));
    omega.add_invoice_of(new_part, 2);
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
    let from_omega: Vec<_> = receipts
        .iter()
        .filter(|r| r["external_id"].as_str().is_some_and(|n| n.starts_with("OM-RN-")))
        .collect();
    assert_eq!(from_omega.len(), 5);
    assert!(from_omega
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
        letters[0].message.contains(&new_part.to_string()),
        "names the code: {}",
        letters[0].message
    );
    assert!(
        letters[0].payload.to_string().contains("MANN-FILTER") && letters[0].payload.to_string().contains("W 999/99"),
        "the letter keeps the maker's number and brand for the fix"
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
