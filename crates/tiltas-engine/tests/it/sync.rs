use crate::fakes::{product, FakeSource, FakeTarget};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_engine::{Engine, EngineError, SyncOptions};
use tiltas_store::{ActivityFilter, DeadLetterFilter, DeadLetterStatus, FailureClass, RunStatus, Store};
use tiltas_systems::RecordFailure;

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
create_only = ["description"]
batch_size = 2
page_size = 3
redact = ["brand"]

[[flows]]
name = "products-back"
entity = "product"
from = { connection = "dst", file = "out.jsonl" }
to = { connection = "src", file = "in.jsonl" }

[[flows]]
name = "products-skip"
entity = "product"
from = { connection = "src", file = "in.jsonl" }
to = { connection = "dst", file = "out.jsonl" }
on_duplicate = "skip"

[[flows]]
name = "products-strict"
entity = "product"
from = { connection = "src", file = "in.jsonl" }
to = { connection = "dst", file = "out.jsonl" }
on_duplicate = "error"

[[flows]]
name = "products-forgetful"
entity = "product"
from = { connection = "src", file = "in.jsonl" }
to = { connection = "dst", file = "out.jsonl" }
retention = "0s"
"#;

pub struct World {
    pub _dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub engine: Engine,
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(
        FLOWS,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = Engine::new(Arc::new(config), store.clone(), tiltas_systems::registry::systems());
    World {
        _dir: dir,
        store,
        engine,
    }
}

pub fn catalog() -> Vec<Value> {
    (1..=7)
        .map(|n| product(&format!("SKU-{n}"), &format!("Prekė {n}")))
        .collect()
}

#[tokio::test]
async fn first_run_creates_every_record_in_batches_no_larger_than_batch_size() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.read, 7);
    assert_eq!(report.counters.created, 7);
    let state = state.lock().unwrap();
    assert_eq!(state.records.len(), 7);
    assert!(state.batches.iter().all(|batch| batch.len() <= 2), "batch_size = 2");
    assert_eq!(
        report.counters.api_calls,
        3 + 3 + state.batches.len() as u64,
        "3 pages read + one look-up per page + one call per batch"
    );
}

#[tokio::test]
async fn idle_resync_writes_nothing() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();
    let writes_before = state.lock().unwrap().batches.len();

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(FakeTarget::sharing(&state)),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.unchanged, 7);
    assert_eq!(report.counters.created + report.counters.updated, 0);
    assert_eq!(
        state.lock().unwrap().batches.len(),
        writes_before,
        "no write call at all"
    );
    assert_eq!(report.counters.api_calls, 3, "an idle sync costs only its reads");
}

#[tokio::test]
async fn a_changed_record_updates_the_target_record_it_created_and_keeps_create_only_fields() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();
    let mut changed = catalog();
    changed[4]["name"] = json!("Prekė 5 nauja");
    changed[4]["description"] = json!("a new description the shop must not get");

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&changed),
            Some(FakeTarget::sharing(&state)),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(
        (
            report.counters.updated,
            report.counters.unchanged,
            report.counters.created
        ),
        (1, 6, 0)
    );
    let state = state.lock().unwrap();
    let update = state.batches.last().unwrap();
    assert_eq!(update.len(), 1);
    assert_eq!(update[0].target_id.as_deref(), Some("T-SKU-5"));
    assert!(
        update[0].payload.get("description").is_none(),
        "create_only field sent on update: {}",
        update[0].payload
    );
    assert_eq!(state.records["T-SKU-5"]["name"], "Prekė 5 nauja");
    assert_eq!(state.records.len(), 7, "no duplicate created");
}

#[tokio::test]
async fn one_refused_record_is_dead_lettered_and_the_rest_of_its_batch_is_written() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state.lock().unwrap().refuse_skus.insert("SKU-2".into());

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!((report.counters.created, report.counters.failed), (6, 1));
    assert!(
        state.lock().unwrap().records.contains_key("T-SKU-1"),
        "SKU-1 shared the batch with SKU-2"
    );
    let runs = world.store.runs(Some("products"), 1).await.unwrap();
    assert_eq!(
        (runs[0].status, runs[0].counters.failed),
        (RunStatus::Partial, 1),
        "a run with a dead letter is not listed as plain succeeded"
    );
    let letters = world
        .store
        .dead_letters(&DeadLetterFilter {
            flow: Some("products".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].source_key, "SKU-2");
    assert_eq!(letters[0].class, FailureClass::Invalid);
    assert_eq!(
        letters[0].message, "wrong VAT rate for SKU-2",
        "the key is its own column"
    );
    assert_eq!(
        (
            letters[0].location.as_deref(),
            letters[0].field.as_deref(),
            letters[0].fix.as_deref()
        ),
        (Some("item 1"), Some("vat_rate"), Some("use a VAT rate the target has")),
        "what the connector's error carried"
    );
    assert_eq!(
        letters[0].payload["sku"], "SKU-2",
        "the source record is kept for retry"
    );
}

#[tokio::test]
async fn a_dead_letter_resolves_itself_when_a_later_run_delivers_the_record() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state.lock().unwrap().refuse_skus.insert("SKU-2".into());
    world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();
    state.lock().unwrap().refuse_skus.clear();

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(FakeTarget::sharing(&state)),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!((report.counters.created, report.counters.unchanged), (1, 6));
    let open = world
        .store
        .dead_letters(&DeadLetterFilter {
            flow: Some("products".into()),
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await
        .unwrap();
    assert!(open.is_empty(), "{open:?}");
}

#[tokio::test]
async fn a_record_failing_validation_is_dead_lettered_naming_the_field() {
    let world = world().await;
    let (target, _state) = FakeTarget::new();
    let mut products = catalog();
    products[0]["price_net"] = json!("-5");

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&products),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!((report.counters.failed, report.counters.created), (1, 6));
    assert!(
        report.problems[0].message.starts_with("field `price_net`"),
        "{}",
        report.problems[0].message
    );
    assert_eq!(report.problems[0].field.as_deref(), Some("price_net"));
    let letters = world.store.dead_letters(&DeadLetterFilter::default()).await.unwrap();
    assert_eq!(
        (letters[0].field.as_deref(), letters[0].message.as_str()),
        (Some("price_net"), report.problems[0].message.as_str())
    );
}

#[tokio::test]
async fn a_source_record_failure_is_dead_lettered_with_its_location() {
    let world = world().await;
    let (target, _state) = FakeTarget::new();
    let mut source = FakeSource::products(&catalog());
    source.records.insert(
        1,
        Err(RecordFailure::new(
            "row 3",
            "in.csv:3",
            "column \"price\": \"12,5a\" is not a decimal number",
            json!({"price": "12,5a"}),
        )
        .at_field("price_net")
        .with_fix("write the price as a decimal number (12.50)")),
    );

    let report = world
        .engine
        .sync_with("products", source, Some(target), &SyncOptions::default())
        .await
        .unwrap();

    assert_eq!(
        (report.counters.read, report.counters.failed, report.counters.created),
        (8, 1, 7)
    );
    assert_eq!(
        report.problems[0].message,
        "column \"price\": \"12,5a\" is not a decimal number"
    );
    assert_eq!(
        report.problems[0].to_string(),
        "record row 3 (in.csv:3): column \"price\": \"12,5a\" is not a decimal number",
        "the report still reads as one line with the key and the place"
    );
    let letters = world.store.dead_letters(&DeadLetterFilter::default()).await.unwrap();
    assert_eq!(
        (
            letters[0].location.as_deref(),
            letters[0].field.as_deref(),
            letters[0].fix.as_deref()
        ),
        (
            Some("in.csv:3"),
            Some("price_net"),
            Some("write the price as a decimal number (12.50)")
        )
    );
}

#[tokio::test]
async fn a_transient_write_failure_is_retried_without_duplicating_records() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state.lock().unwrap().transient_failures_left = 2;

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.created, 7);
    assert_eq!(state.lock().unwrap().records.len(), 7);
}

#[tokio::test]
async fn an_auth_failure_stops_the_run_and_marks_it_failed() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state.lock().unwrap().auth_failure = true;

    let error = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(error, EngineError::Connector { side: "target", .. }),
        "{error}"
    );
    assert!(error.to_string().contains("API key is not valid"), "{error}");
    let runs = world.store.runs(Some("products"), 10).await.unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(
        runs[0].error.as_deref().unwrap_or("").contains("API key"),
        "{:?}",
        runs[0].error
    );
    assert!(
        world.store.lease("flow:products").await.unwrap().is_none(),
        "lease released after a failed run"
    );
}

#[tokio::test]
async fn a_second_run_of_the_same_flow_is_refused_while_the_first_holds_the_lease() {
    let world = world().await;
    assert!(world
        .store
        .lease_acquire("flow:products", "other-worker", std::time::Duration::from_secs(60))
        .await
        .unwrap());
    let (target, _state) = FakeTarget::new();

    let error = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap_err();

    assert!(matches!(error, EngineError::Busy { .. }), "{error}");
    assert!(error.to_string().contains("other-worker"), "{error}");
}

#[tokio::test]
async fn dry_run_reports_the_plan_and_writes_nothing_to_the_store_or_the_target() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    let options = SyncOptions {
        dry_run: true,
        ..SyncOptions::default()
    };

    let report = world
        .engine
        .sync_with("products", FakeSource::products(&catalog()), Some(target), &options)
        .await
        .unwrap();

    assert_eq!(report.counters.created, 7, "would create");
    assert_eq!(report.planned.len(), 7);
    assert!(state.lock().unwrap().batches.is_empty());
    assert!(world.store.runs(None, 10).await.unwrap().is_empty());
    assert!(world
        .store
        .delivered_hashes("products", &["SKU-1".into()])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_activity_log_keeps_payloads_with_redacted_fields() {
    let world = world().await;
    let (target, _state) = FakeTarget::new();
    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    let entries = world
        .store
        .activity(&ActivityFilter {
            run: report.run,
            source_key: Some("SKU-3".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let payloads = world.store.activity_payloads(entries[0].id).await.unwrap().unwrap();
    assert_eq!(payloads.sent_payload.as_ref().unwrap()["brand"], "***");
    assert_eq!(payloads.source_payload.as_ref().unwrap()["brand"], "***");
    assert_eq!(payloads.sent_payload.unwrap()["name"], "Prekė 3");
}

#[tokio::test]
async fn the_same_key_twice_in_a_page_is_written_once_with_the_later_record() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    let mut products = catalog();
    products.insert(1, product("SKU-1", "Prekė 1 vėlesnė"));

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&products),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.created, 7);
    assert_eq!(report.counters.skipped, 1);
    assert_eq!(state.lock().unwrap().records["T-SKU-1"]["name"], "Prekė 1 vėlesnė");
}
