//! Identity, duplicate policies, exactly-once writes, echo suppression and retention.
use crate::fakes::{product, FakeSource, FakeTarget};
use crate::sync::{catalog, world};
use serde_json::Value;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_store::{ActivityFilter, DeadLetterFilter, DeadLetterStatus, NewIntent, RunMode, WriteOperation};
use tiltas_systems::SourceRecord;

fn defaults() -> SyncOptions {
    SyncOptions::default()
}

#[tokio::test]
async fn a_record_the_target_already_has_is_adopted_by_look_up_not_created_again() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state
        .lock()
        .unwrap()
        .records
        .insert("EXISTING-3".into(), product("SKU-3", "made by hand in the shop"));

    let report = world
        .engine
        .sync_with("products", FakeSource::products(&catalog()), Some(target), &defaults())
        .await
        .unwrap();

    assert_eq!((report.counters.created, report.counters.updated), (6, 1));
    let state = state.lock().unwrap();
    assert_eq!(state.records.len(), 7);
    assert_eq!(state.duplicate_skus(), 0);
    assert_eq!(
        state.records["EXISTING-3"]["name"], "Prekė 3",
        "the existing record was updated in place"
    );
    assert!(
        state.lookups.iter().all(|keys| keys.len() <= 3),
        "one look-up per page of 3: {:?}",
        state.lookups
    );
    assert_eq!(state.lookups.len(), 3, "one look-up per page, not per record");
}

#[tokio::test]
async fn the_adopted_record_is_linked_so_later_runs_update_it_without_looking_up_again() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state
        .lock()
        .unwrap()
        .records
        .insert("EXISTING-3".into(), product("SKU-3", "old"));
    world
        .engine
        .sync_with("products", FakeSource::products(&catalog()), Some(target), &defaults())
        .await
        .unwrap();
    let mut changed = catalog();
    changed[2]["name"] = "Prekė 3 nauja".into();
    state.lock().unwrap().lookups.clear();

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&changed),
            Some(FakeTarget::sharing(&state)),
            &defaults(),
        )
        .await
        .unwrap();

    assert_eq!((report.counters.updated, report.counters.unchanged), (1, 6));
    let state = state.lock().unwrap();
    assert_eq!(state.records["EXISTING-3"]["name"], "Prekė 3 nauja");
    assert!(
        state.lookups.iter().all(Vec::is_empty) || state.lookups.is_empty(),
        "{:?}",
        state.lookups
    );
}

#[tokio::test]
async fn on_duplicate_skip_leaves_records_the_target_already_has_alone() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state
        .lock()
        .unwrap()
        .records
        .insert("EXISTING-3".into(), product("SKU-3", "made by hand in the shop"));

    let report = world
        .engine
        .sync_with(
            "products-skip",
            FakeSource::products(&catalog()),
            Some(target),
            &defaults(),
        )
        .await
        .unwrap();

    assert_eq!(
        (
            report.counters.created,
            report.counters.skipped,
            report.counters.updated
        ),
        (6, 1, 0)
    );
    assert_eq!(
        state.lock().unwrap().records["EXISTING-3"]["name"],
        "made by hand in the shop"
    );
    let again = world
        .engine
        .sync_with(
            "products-skip",
            FakeSource::products(&catalog()),
            Some(FakeTarget::sharing(&state)),
            &defaults(),
        )
        .await
        .unwrap();
    assert_eq!(
        again.counters.unchanged, 7,
        "a skipped record is not reconsidered until it changes"
    );
}

#[tokio::test]
async fn on_duplicate_error_dead_letters_records_the_target_already_has_naming_the_fix() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state
        .lock()
        .unwrap()
        .records
        .insert("EXISTING-3".into(), product("SKU-3", "made by hand in the shop"));

    let report = world
        .engine
        .sync_with(
            "products-strict",
            FakeSource::products(&catalog()),
            Some(target),
            &defaults(),
        )
        .await
        .unwrap();

    assert_eq!((report.counters.created, report.counters.failed), (6, 1));
    let open = DeadLetterFilter {
        flow: Some("products-strict".into()),
        status: Some(DeadLetterStatus::Open),
        limit: 0,
    };
    let letters = world.store.dead_letters(&open).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0]
            .message
            .contains("already in connection \"dst\" as EXISTING-3"),
        "{}",
        letters[0].message
    );
    assert!(
        letters[0].message.contains("on_duplicate = \"update\" or \"skip\""),
        "{}",
        letters[0].message
    );
}

#[tokio::test]
async fn a_write_applied_but_not_acknowledged_is_verified_and_never_duplicated() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    state.lock().unwrap().commit_then_fail_left = 3;

    let report = world
        .engine
        .sync_with("products", FakeSource::products(&catalog()), Some(target), &defaults())
        .await
        .unwrap();

    assert_eq!(report.counters.created, 7);
    let state = state.lock().unwrap();
    assert_eq!(state.records.len(), 7, "{:?}", state.records.keys().collect::<Vec<_>>());
    assert_eq!(state.duplicate_skus(), 0);
}

#[tokio::test]
async fn writes_an_interrupted_run_left_unsettled_are_verified_before_anything_is_resent() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    // A run created SKU-1 and SKU-2 in the target, then died before settling its page.
    let crashed = world.store.run_start("products", RunMode::Incremental).await.unwrap();
    let intents: Vec<NewIntent> = ["SKU-1", "SKU-2", "SKU-3"]
        .iter()
        .map(|sku| NewIntent {
            flow: "products".into(),
            run: crashed,
            source_key: (*sku).into(),
            connection: "dst".into(),
            operation: WriteOperation::Create,
            payload_hash: "lost".into(),
            match_key: Some((*sku).into()),
        })
        .collect();
    world.store.outbox_add(&intents).await.unwrap();
    for sku in ["SKU-1", "SKU-2"] {
        state
            .lock()
            .unwrap()
            .records
            .insert(format!("APPLIED-{sku}"), product(sku, "sent before the crash"));
    }

    let report = world
        .engine
        .sync_with("products", FakeSource::products(&catalog()), Some(target), &defaults())
        .await
        .unwrap();

    assert_eq!(report.recovered, 2);
    assert_eq!((report.counters.created, report.counters.updated), (5, 2));
    assert!(world.store.outbox_unsettled("products").await.unwrap().is_empty());
    let state = state.lock().unwrap();
    assert_eq!(state.records.len(), 7);
    assert_eq!(state.duplicate_skus(), 0);
    assert_eq!(state.records["APPLIED-SKU-1"]["name"], "Prekė 1");
}

fn read_back(records: &std::collections::BTreeMap<String, Value>) -> Box<FakeSource> {
    Box::new(FakeSource {
        records: records
            .iter()
            .map(|(id, record)| {
                Ok(SourceRecord {
                    key: id.clone(),
                    updated_at: None,
                    data: record.clone(),
                })
            })
            .collect(),
    })
}

#[tokio::test]
async fn the_reverse_flow_recognises_what_the_forward_flow_wrote_as_an_echo() {
    let world = world().await;
    let (shop, shop_state) = FakeTarget::new();
    world
        .engine
        .sync_with("products", FakeSource::products(&catalog()), Some(shop), &defaults())
        .await
        .unwrap();
    let (erp, erp_state) = FakeTarget::new();
    let shop_records = shop_state.lock().unwrap().records.clone();

    let echo = world
        .engine
        .sync_with("products-back", read_back(&shop_records), Some(erp), &defaults())
        .await
        .unwrap();

    assert_eq!(
        (echo.counters.unchanged, echo.counters.created, echo.counters.updated),
        (7, 0, 0)
    );
    assert!(erp_state.lock().unwrap().batches.is_empty(), "nothing echoed back");

    let mut edited = shop_records.clone();
    edited.get_mut("T-SKU-4").unwrap()["name"] = "Prekė 4 (pakeista parduotuvėje)".into();
    let real_change = world
        .engine
        .sync_with(
            "products-back",
            read_back(&edited),
            Some(FakeTarget::sharing(&erp_state)),
            &defaults(),
        )
        .await
        .unwrap();
    assert_eq!((real_change.counters.unchanged, real_change.counters.updated), (6, 1));
    let erp = erp_state.lock().unwrap();
    assert_eq!(
        erp.records["SKU-4"]["name"], "Prekė 4 (pakeista parduotuvėje)",
        "the ERP record it came from is updated"
    );
}

#[tokio::test]
async fn activity_older_than_the_flows_retention_is_purged_after_its_run() {
    let world = world().await;
    world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(FakeTarget::new().0),
            &defaults(),
        )
        .await
        .unwrap();
    world
        .engine
        .sync_with(
            "products-forgetful",
            FakeSource::products(&catalog()),
            Some(FakeTarget::new().0),
            &defaults(),
        )
        .await
        .unwrap();

    let forgetful = ActivityFilter {
        flow: Some("products-forgetful".into()),
        ..ActivityFilter::default()
    };
    assert!(
        world.store.activity(&forgetful).await.unwrap().is_empty(),
        "retention = \"0s\" keeps nothing"
    );
    let kept = ActivityFilter {
        flow: Some("products".into()),
        ..ActivityFilter::default()
    };
    assert_eq!(
        world.store.activity(&kept).await.unwrap().len(),
        7,
        "a flow without retention keeps its activity"
    );
}

#[tokio::test]
async fn a_lease_left_by_a_process_that_died_on_this_machine_is_taken_over() {
    let world = world().await;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if host.is_empty() {
        eprintln!("skipped: no /proc on this system");
        return;
    }
    // PIDs never reach this value on Linux (pid_max is at most 2^22).
    let dead = format!("{host}:99999999:run");
    let minute = std::time::Duration::from_secs(60);
    assert!(world.store.lease_acquire("flow:products", &dead, minute).await.unwrap());

    let report = world
        .engine
        .sync_with(
            "products",
            FakeSource::products(&catalog()),
            Some(FakeTarget::new().0),
            &defaults(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.created, 7);
}

/// A source that honours `changed_since`, as incremental systems do.
struct ChangedSince {
    records: Vec<SourceRecord>,
}

#[async_trait::async_trait]
impl tiltas_systems::Source for ChangedSince {
    async fn read_page(
        &mut self,
        request: &tiltas_systems::ReadRequest,
    ) -> Result<tiltas_systems::Page, tiltas_systems::ConnectorError> {
        let records = self
            .records
            .iter()
            .filter(|record| {
                request
                    .changed_since
                    .is_none_or(|since| record.updated_at.is_some_and(|at| at >= since))
            })
            .cloned()
            .map(Ok)
            .collect();
        Ok(tiltas_systems::Page {
            records,
            next: None,
            api_calls: 1,
        })
    }
}

fn at(minute: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, 11, 23, 10, minute, 0).unwrap()
}

fn changed_at(sku: &str, minute: u32) -> SourceRecord {
    SourceRecord {
        key: sku.into(),
        updated_at: Some(at(minute)),
        data: product(sku, sku),
    }
}

async fn incremental_world(look_back: &str) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[connections.erp]\nsystem = \"reference\"\nbase_url = \"http://127.0.0.1:9\"\ntoken = \"t\"\n\n\
         [connections.shop]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"products\"\nentity = \"product\"\n\
         from = {{ connection = \"erp\" }}\nto = {{ connection = \"shop\", file = \"out.jsonl\" }}\nlook_back = \"{look_back}\"\n"
    );
    let config = tiltas_config::parse_str(
        &text,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    (
        dir,
        Engine::new(std::sync::Arc::new(config), store, tiltas_systems::registry::systems()),
    )
}

#[tokio::test]
async fn a_record_committed_late_within_the_look_back_is_still_read() {
    for (look_back, expect_late_record) in [("2m", true), ("0s", false)] {
        let (_dir, engine) = incremental_world(look_back).await;
        let (target, state) = FakeTarget::new();
        let first = vec![changed_at("A", 0), changed_at("B", 5)];
        engine
            .sync_with(
                "products",
                Box::new(ChangedSince { records: first.clone() }),
                Some(target),
                &defaults(),
            )
            .await
            .unwrap();

        // C changed at 10:04 but became visible only after the first run read up to 10:05.
        let mut later = first;
        later.push(changed_at("C", 4));
        let report = engine
            .sync_with(
                "products",
                Box::new(ChangedSince { records: later }),
                Some(FakeTarget::sharing(&state)),
                &defaults(),
            )
            .await
            .unwrap();

        assert_eq!(
            report.counters.created,
            u64::from(expect_late_record),
            "look_back = {look_back}"
        );
        assert_eq!(
            report.counters.read,
            1 + u64::from(expect_late_record),
            "look_back = {look_back}: only the window is read"
        );
    }
}
