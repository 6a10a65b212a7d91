//! Whole flows through the engine: `examples/smartup-shop.toml` against the Smartup and
//! WooCommerce simulators, and a file of 100 products into Smartup with 3 refused.
use super::{seeding, start, LOGIN, PASSWORD, SEED};
use serde_json::json;
use std::sync::Arc;
use tiltas_sim::{Harness, SimSystem};
use tiltas_smartup_sim::wire::QuotaClass;
use tiltas_smartup_sim::SmartupSim;

/// `examples/smartup-shop.toml` against both simulators through the engine.
#[tokio::test]
async fn smartup_shop_example_sends_products_and_stock_and_books_25_shop_orders_once() {
    use tiltas_engine::{Engine, SyncOptions};
    use tiltas_woocommerce_sim::{Credentials, WooSim};
    static SYSTEMS: tiltas_connector::Systems =
        tiltas_connector::Systems::new(&[&crate::SmartupSystem, &tiltas_woocommerce::WooCommerceSystem]);

    let (smartup_url, smartup) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(40, 5, 0))).await;
    let woo_seeding = tiltas_woocommerce_sim::Seeding {
        seed: SEED,
        products: 0,
        customers: 4,
        orders: 0,
        some_without_sku: false,
    };
    let credentials = Credentials {
        consumer_key: "ck_test".into(),
        consumer_secret: "cs_test".into(),
    };
    let woo = Arc::new(WooSim::new(credentials, woo_seeding, None, false));
    let woo_url = tiltas_sim::spawn(tiltas_woocommerce_sim::router(
        woo.clone(),
        Harness::new(woo.clone(), SEED),
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let example = include_str!("../../../../examples/smartup-shop.toml")
        .replace("http://127.0.0.1:9401", &smartup_url)
        .replace("http://127.0.0.1:9201", &woo_url)
        .replace("\"admin@demo\"", &format!("\"{LOGIN}\""))
        .replace("{ env = \"SMARTUP_PASSWORD\" }", &format!("\"{PASSWORD}\""))
        .replace("{ env = \"WC_KEY\" }", "\"ck_test\"")
        .replace("{ env = \"WC_SECRET\" }", "\"cs_test\"");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = tiltas_config::parse_str(&example, &dir.path().join("smartup-shop.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("{errors}"));
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

    let products = sync("products-to-shop").await;
    assert_eq!(
        (products.counters.created, products.counters.failed),
        (40, 0),
        "{:?}",
        products.counters
    );
    assert_eq!(
        products.counters.skipped, 0,
        "codeless items are not exported by default: {:?}",
        products.counters
    );
    // Smartup's own count of the day's requests, from its answers' `limits`, for the quota gauge.
    let reported = engine.reported_quotas("smartup");
    let references = reported
        .iter()
        .find(|quota| quota.name == "references")
        .unwrap_or_else(|| panic!("no reported quota for references: {reported:?}"));
    assert_eq!(references.limit, 100, "{references:?}");
    assert!((1..=100).contains(&references.used), "{references:?}");
    assert!(references.resets_at.is_some(), "{references:?}");
    let stock = sync("stock-to-shop").await;
    assert_eq!(stock.counters.failed, 0, "{:?}", stock.counters);
    assert!(
        stock.counters.updated + stock.counters.created > 0,
        "{:?}",
        stock.counters
    );
    // The shop's registered customers become persons (their orders then find them).
    let registered = sync("customers-to-smartup").await;
    assert_eq!(
        (registered.counters.created, registered.counters.failed),
        (4, 0),
        "{:?}",
        registered.counters
    );
    assert_eq!(
        smartup.records("customer").unwrap_or_default().as_array().map(Vec::len),
        Some(5 + 4)
    );
    woo.mutate("order", 25).unwrap_or_else(|e| panic!("{e}"));
    let orders = sync("orders-to-smartup").await;
    assert_eq!(
        (orders.counters.created, orders.counters.failed),
        (25, 0),
        "{:?}",
        orders.counters
    );
    assert_eq!(
        smartup.records("order").unwrap_or_default().as_array().map(Vec::len),
        Some(25)
    );
    // The persons seeded, the shop's and the orders' other buyers go to the shop.
    let customers = sync("customers-to-shop").await;
    assert_eq!(customers.counters.failed, 0, "{:?}", customers.counters);
    assert!(customers.counters.created >= 5, "{:?}", customers.counters);
    for flow in [
        "products-to-shop",
        "stock-to-shop",
        "customers-to-shop",
        "customers-to-smartup",
        "orders-to-smartup",
    ] {
        let again = sync(flow).await;
        assert_eq!(
            (again.counters.created, again.counters.updated, again.counters.failed),
            (0, 0, 0),
            "{flow}: {:?}",
            again.counters
        );
    }
    assert_eq!(
        smartup.records("order").unwrap_or_default().as_array().map(Vec::len),
        Some(25)
    );
    assert_eq!(smartup.duplicates(), 0);
    let frequent = smartup.used(QuotaClass::Frequent);
    let references = smartup.used(QuotaClass::Reference);
    assert!(
        references <= 100 && frequent <= 500,
        "within the day's quotas: {references} references, {frequent} frequent"
    );
    println!("requests: {references} references, {frequent} frequent");
}

/// 100 products from a file into Smartup, 3 of them in a unit Smartup does not know: the
/// engine writes 97 and keeps 3 dead letters naming the item and Smartup's message.
#[tokio::test]
async fn through_the_engine_3_refused_of_100_are_3_dead_letters_and_97_are_written() {
    use tiltas_engine::{Engine, SyncOptions};
    static SYSTEMS: tiltas_connector::Systems =
        tiltas_connector::Systems::new(&[&crate::SmartupSystem, &tiltas_files::JsonlSystem]);
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(0, 0, 0))).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<String> = (1..=100)
        .map(|n| {
            let unit = if n % 33 == 0 { "parsec" } else { "pcs" };
            json!({ "sku": format!("NEW{n:03}"), "name": format!("Item {n}"), "unit": unit }).to_string()
        })
        .collect();
    std::fs::write(dir.path().join("items.jsonl"), lines.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "[connections.smartup]\nsystem = \"smartup\"\nbase_url = \"{url}\"\nlogin = \"{LOGIN}\"\npassword = \"{PASSWORD}\"\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"items\"\nentity = \"product\"\n\
         from = {{ connection = \"file\", file = \"items.jsonl\" }}\nto = {{ connection = \"smartup\" }}\nmatch_on = \"sku\"\n"
    );
    let config =
        tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), &SYSTEMS).unwrap_or_else(|e| panic!("{e}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(Arc::new(config), store, SYSTEMS);
    let run = engine
        .sync("items", &SyncOptions::default())
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!(
        (run.counters.created, run.counters.failed),
        (97, 3),
        "{:?}",
        run.counters
    );
    let filter = tiltas_store::DeadLetterFilter {
        flow: Some("items".into()),
        status: None,
        limit: 0,
    };
    let letters = engine
        .store()
        .dead_letters(&filter)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut named: Vec<&str> = letters.iter().map(|letter| letter.source_key.as_str()).collect();
    named.sort_unstable();
    assert_eq!(named, ["NEW033", "NEW066", "NEW099"]);
    assert!(
        letters
            .iter()
            .all(|letter| letter.message.contains("Единица измерения «parsec» не найдена")),
        "{letters:#?}"
    );
    let stored = sim.records("product").unwrap_or_default();
    assert_eq!(
        stored.as_array().map(Vec::len),
        Some(97 + 3),
        "97 written beside the 3 seeded without code"
    );
    let again = engine
        .sync("items", &SyncOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (again.counters.created, again.counters.updated),
        (0, 0),
        "{:?}",
        again.counters
    );
}
