//! A page settles while the next one is read and prepared: a page that reads a key the
//! settling page read waits for it, so a record read twice in a row is linked, updated and
//! never looked up or created again.
use crate::fakes::{product, FakeSource, FakeTarget};
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};

const FLOWS: &str = r#"
[connections.src]
system = "jsonl"

[connections.dst]
system = "jsonl"

[[flows]]
name = "products"
entity = "product"
from = { connection = "src", file = "in.jsonl" }
to = { connection = "dst", file = "out.jsonl" }
match_on = "sku"
page_size = 400
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_consecutive_pages_is_updated_not_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let config = tiltas_config::parse_str(
        FLOWS,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    let engine = Engine::new(Arc::new(config), store.clone(), tiltas_systems::registry::systems());
    // Pages of 400: a page's settlement (400 records) takes far longer than reading and
    // comparing the next page, so without the wait the next page would see SKU-0 unlinked.
    // SKU-0 comes back at the start of the second page and again in the third.
    let mut records: Vec<_> = (0..400).map(|n| product(&format!("SKU-{n}"), "first")).collect();
    records.push(product("SKU-0", "second"));
    records.extend((400..799).map(|n| product(&format!("SKU-{n}"), "first")));
    records.push(product("SKU-0", "third"));
    records.extend((799..1198).map(|n| product(&format!("SKU-{n}"), "first")));
    let (target, state) = FakeTarget::new();
    let report = engine
        .sync_with(
            "products",
            FakeSource::products(&records),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    {
        let state = state.lock().unwrap();
        assert_eq!(state.duplicate_skus(), 0);
        assert_eq!(state.records.len(), 1198);
        assert_eq!(
            (report.counters.read, report.counters.created, report.counters.updated),
            (1200, 1198, 2),
            "{report:?}"
        );
        // A key already written was linked when its next page was prepared: never looked up again.
        let looked_up: Vec<String> = state.lookups.iter().flatten().cloned().collect();
        let mut unique = looked_up.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(looked_up.len(), unique.len(), "looked up twice: {looked_up:?}");
        let first = state.records.values().find(|record| record["sku"] == "SKU-0").unwrap();
        assert_eq!(first["name"], "third");
    }

    // Everything landed: a second run of each record's last version writes nothing.
    let last: Vec<_> = records
        .iter()
        .skip(1)
        .filter(|record| record["name"] != "second")
        .cloned()
        .collect();
    let (target, state) = FakeTarget::new();
    let again = engine
        .sync_with(
            "products",
            FakeSource::products(&last),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!((again.counters.created, again.counters.updated), (0, 0), "{again:?}");
    assert!(state.lock().unwrap().batches.is_empty());
}
