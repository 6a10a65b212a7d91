//! Re-syncs by source hash: a record read again as it was, under the same mapping, is known
//! unchanged before it is mapped; an edited mapping maps every record again (and writes only
//! what its payload changes); rows delivered before source hashes are filled in by the next run.
use crate::fakes::{product, FakeSource, FakeTarget};
use crate::sync::catalog;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_store::{Delivered, DeliveredHash, Store};

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
"#;

/// The same flow with a default that every catalogue record already has: a different mapping
/// giving the same payloads.
const EDITED: &str = r#"
defaults = { brand = "Bosch" }
"#;

async fn engine(store: &Arc<dyn Store>, dir: &std::path::Path, extra: &str) -> Engine {
    let config = tiltas_config::parse_str(
        &format!("{FLOWS}{extra}"),
        &dir.join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    Engine::new(Arc::new(config), store.clone(), tiltas_systems::registry::systems())
}

async fn delivered(store: &Arc<dyn Store>) -> HashMap<String, Delivered> {
    let keys: Vec<String> = (1..=7).map(|n| format!("SKU-{n}")).collect();
    store.delivered_hashes("products", &keys).await.unwrap()
}

async fn sync(engine: &Engine, records: &[Value]) -> (tiltas_engine::SyncReport, usize) {
    let (target, state) = FakeTarget::new();
    let report = engine
        .sync_with(
            "products",
            FakeSource::products(records),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();
    let writes = state.lock().unwrap().batches.iter().map(Vec::len).sum();
    (report, writes)
}

#[tokio::test]
async fn an_unchanged_record_is_known_by_its_source_hash_and_an_edited_mapping_maps_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let first = engine(&store, dir.path(), "").await;
    let (report, writes) = sync(&first, &catalog()).await;
    assert_eq!((report.counters.created, writes), (7, 7));
    let after_first = delivered(&store).await;
    assert!(
        after_first.values().all(|row| row.source_hash.is_some()),
        "{after_first:?}"
    );

    let (report, writes) = sync(&first, &catalog()).await;
    assert_eq!((report.counters.unchanged, writes), (7, 0));
    assert_eq!(delivered(&store).await, after_first, "nothing rewritten");

    // An edited mapping: every record mapped again; same payloads, so nothing is sent, and
    // the new source hashes are kept for the next run.
    let edited = engine(&store, dir.path(), EDITED).await;
    let (report, writes) = sync(&edited, &catalog()).await;
    assert_eq!((report.counters.unchanged, writes), (7, 0));
    let after_edit = delivered(&store).await;
    for (key, row) in &after_edit {
        assert_eq!(row.hash, after_first[key].hash, "{key}: same payload");
        assert_ne!(row.source_hash, after_first[key].source_hash, "{key}: new source hash");
    }
    let (_, writes) = sync(&edited, &catalog()).await;
    assert_eq!(writes, 0);
    assert_eq!(delivered(&store).await, after_edit);

    // A changed record is mapped and sent.
    let mut changed = catalog();
    changed[2]["price_net"] = "12.50".into();
    let (report, writes) = sync(&edited, &changed).await;
    assert_eq!((report.counters.updated, report.counters.unchanged, writes), (1, 6, 1));
}

#[tokio::test]
async fn rows_delivered_before_source_hashes_are_filled_in_without_sending_anything() {
    let dir = tempfile::tempdir().unwrap();
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = engine(&store, dir.path(), "").await;
    sync(&engine, &catalog()).await;
    let legacy: Vec<DeliveredHash> = delivered(&store)
        .await
        .into_iter()
        .map(|(source_key, row)| DeliveredHash {
            source_key,
            hash: row.hash,
            source_hash: None,
        })
        .collect();
    store.put_delivered_hashes("products", &legacy).await.unwrap();

    let (report, writes) = sync(&engine, &catalog()).await;
    assert_eq!((report.counters.unchanged, writes), (7, 0));
    assert!(delivered(&store).await.values().all(|row| row.source_hash.is_some()));
}

#[tokio::test]
async fn a_key_read_twice_in_a_page_keeps_the_later_record_even_when_the_later_one_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = engine(&store, dir.path(), "").await;
    sync(&engine, &catalog()).await;
    let mut page = vec![product("SKU-1", "Renamed in between")];
    page.extend(catalog());
    let (report, writes) = sync(&engine, &page).await;
    assert_eq!(writes, 0, "the later, unchanged record wins");
    assert_eq!((report.counters.read, report.counters.skipped), (8, 1));
}
