//! Money is rounded to the target system's declared decimals before it is hashed, sent and
//! logged; a target that declares none gets amounts exactly as mapped.
use crate::fakes::{FakeSource, FakeTarget};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::{Catalog, EntityAccess, MoneyPlaces, SystemSpec};
use tiltas_engine::{Engine, SyncOptions};
use tiltas_model::EntityKind;
use tiltas_store::{ActivityFilter, Store};

/// A shop that stores prices in cents, as WooCommerce does.
static CENTS_SHOP: SystemSpec = SystemSpec {
    name: "cents-shop",
    description: "a shop that keeps two decimals of money",
    connection_keys: &[],
    source_keys: &[],
    target_keys: &[],
    entities: &[EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: false,
    }],
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: Some(MoneyPlaces::all(2)),
};

/// Every registered system plus the cents shop.
struct WithCentsShop;

impl Catalog for WithCentsShop {
    fn system(&self, name: &str) -> Option<&'static SystemSpec> {
        if name == CENTS_SHOP.name {
            return Some(&CENTS_SHOP);
        }
        tiltas_systems::registry::catalog().system(name)
    }

    fn system_names(&self) -> Vec<&'static str> {
        let mut names = tiltas_systems::registry::catalog().system_names();
        names.push(CENTS_SHOP.name);
        names
    }
}

const FLOWS: &str = r#"
[connections.erp]
system = "jsonl"

[connections.shop]
system = "cents-shop"

[connections.archive]
system = "jsonl"

[[flows]]
name = "prices-to-shop"
entity = "product"
from = { connection = "erp", file = "in.jsonl" }
to = { connection = "shop" }
map = { price_gross = "${ price_net * 1.21 }" }

[[flows]]
name = "prices-to-archive"
entity = "product"
from = { connection = "erp", file = "in.jsonl" }
to = { connection = "archive", file = "out.jsonl" }
map = { price_gross = "${ price_net * 1.21 }" }
"#;

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    engine: Engine,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(FLOWS, &dir.path().join("flows.toml"), &WithCentsShop)
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

fn priced_product() -> Vec<Value> {
    vec![json!({"sku": "KAVA-1", "name": "Kava", "price_net": "293.7100", "vat_rate": "21", "weight": "0.2505"})]
}

/// What the activity log says was sent for the product in the flow's latest run.
async fn logged_sent_payload(world: &World, run: Option<tiltas_store::RunId>) -> Value {
    let entries = world
        .store
        .activity(&ActivityFilter {
            run,
            source_key: Some("KAVA-1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let payloads = world.store.activity_payloads(entries[0].id).await.unwrap().unwrap();
    payloads.sent_payload.expect("a written record logs what was sent")
}

#[tokio::test]
async fn a_computed_price_is_sent_and_logged_at_the_targets_two_decimals() {
    let world = world().await;
    let (target, state) = FakeTarget::new();

    let report = world
        .engine
        .sync_with(
            "prices-to-shop",
            FakeSource::products(&priced_product()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.created, 1);
    let sent = state.lock().unwrap().batches[0][0].payload.clone();
    assert_eq!(sent["price_gross"], "355.39", "293.7100 × 1.21 = 355.3891 in cents");
    assert_eq!(sent["price_net"], "293.71");
    assert_eq!(sent["vat_rate"], "21", "a rate is not money");
    assert_eq!(sent["weight"], "0.2505", "a weight is not money");
    let logged = logged_sent_payload(&world, report.run).await;
    assert_eq!(logged, sent, "the log shows exactly what went over the wire");
}

#[tokio::test]
async fn a_second_run_over_an_unchanged_source_writes_nothing() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    world
        .engine
        .sync_with(
            "prices-to-shop",
            FakeSource::products(&priced_product()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    let report = world
        .engine
        .sync_with(
            "prices-to-shop",
            FakeSource::products(&priced_product()),
            Some(FakeTarget::sharing(&state)),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.unchanged, 1);
    assert_eq!(report.counters.created + report.counters.updated, 0);
    assert_eq!(state.lock().unwrap().batches.len(), 1, "no second write");
}

#[tokio::test]
async fn a_change_below_the_targets_precision_is_no_change() {
    let world = world().await;
    let (target, state) = FakeTarget::new();
    world
        .engine
        .sync_with(
            "prices-to-shop",
            FakeSource::products(&priced_product()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();
    let mut nudged = priced_product();
    // 293.7101 × 1.21 = 355.389221: still 293.71 and 355.39 in cents.
    nudged[0]["price_net"] = "293.7101".into();

    let report = world
        .engine
        .sync_with(
            "prices-to-shop",
            FakeSource::products(&nudged),
            Some(FakeTarget::sharing(&state)),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    assert_eq!(report.counters.unchanged, 1);
    assert_eq!(state.lock().unwrap().batches.len(), 1);
}

#[tokio::test]
async fn a_target_without_declared_precision_gets_the_full_value() {
    let world = world().await;
    let (target, state) = FakeTarget::new();

    let report = world
        .engine
        .sync_with(
            "prices-to-archive",
            FakeSource::products(&priced_product()),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();

    let sent = state.lock().unwrap().batches[0][0].payload.clone();
    assert_eq!(sent["price_gross"], "355.3891");
    assert_eq!(sent["price_net"], "293.7100");
    assert_eq!(logged_sent_payload(&world, report.run).await["price_gross"], "355.3891");
}
