//! `examples/rivile-prestashop.toml` run by the engine against the Rivile and PrestaShop
//! simulators on 127.0.0.1: products and stock from Rivile land in the shop, the shop's orders
//! become Rivile sales documents, a second run writes nothing, nothing is duplicated.
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_connector::Systems;
use tiltas_engine::{Engine, SyncOptions, SyncReport};
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 15;
const RIVILE_KEY: &str = "SHOP.example-key";
const PS_KEY: &str = "EXAMPLEPRESTASHOPKEY000000000001";

static SYSTEMS: Systems = Systems::new(&[&tiltas_rivile::RivileSystem, &tiltas_prestashop::PrestaShopSystem]);

async fn sync(engine: &Engine, flow: &str) -> SyncReport {
    engine
        .sync(flow, &SyncOptions::default())
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {flow}: {error}"))
}

#[tokio::test]
async fn the_rivile_prestashop_example_moves_products_stock_and_orders_once() {
    let rivile = Arc::new(tiltas_rivile_sim::RivileSim::new(
        RIVILE_KEY,
        tiltas_rivile_sim::Seeding {
            seed: SEED,
            products: 200,
            customers: 10,
        },
    ));
    let rivile_url = tiltas_sim::spawn(tiltas_rivile_sim::router(
        rivile.clone(),
        Harness::new(rivile.clone(), SEED),
    ))
    .await
    .unwrap();
    let shop = Arc::new(tiltas_prestashop_sim::PrestaSim::new(
        PS_KEY,
        tiltas_prestashop_sim::Seeding {
            seed: SEED,
            products: 0,
            customers: 5,
            orders: 0,
            combinations: true,
        },
    ));
    let shop_url = tiltas_sim::spawn(tiltas_prestashop_sim::router(
        shop.clone(),
        Harness::new(shop.clone(), SEED),
    ))
    .await
    .unwrap();

    let example = include_str!("../../../../examples/rivile-prestashop.toml")
        .replace("http://127.0.0.1:9101", &rivile_url)
        .replace("http://127.0.0.1:9301", &shop_url)
        // The simulator has no request budget to protect; keep the test quick.
        .replace("rate_limit = \"8/s\"", "rate_limit = \"500/s\"")
        .replace("{ env = \"RIVILE_API_KEY\" }", &format!("\"{RIVILE_KEY}\""))
        .replace("{ env = \"PS_WEBSERVICE_KEY\" }", &format!("\"{PS_KEY}\""));
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(&example, &dir.path().join("rivile-prestashop.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("the example is refused: {errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = Engine::new(Arc::new(config), store, SYSTEMS);

    let products = sync(&engine, "products-to-shop").await;
    assert_eq!(
        (products.counters.created, products.counters.failed),
        (200, 0),
        "seed {SEED}: {:?}",
        products.counters
    );
    assert_eq!(shop.record_counts()["product"], 200);
    let stock = sync(&engine, "stock-centr-to-shop").await;
    assert_eq!(stock.counters.failed, 0, "seed {SEED}: {:?}", stock.counters);
    assert!(
        stock.counters.created + stock.counters.updated > 0,
        "{:?}",
        stock.counters
    );

    let placed = reqwest::Client::new()
        .post(format!("{shop_url}/__sim/mutate"))
        .json(&json!({"entity": "order", "count": 25}))
        .send()
        .await
        .unwrap();
    assert!(placed.status().is_success());
    let documents_before = rivile
        .records("I06")
        .map_or(0, |records| records.as_array().map_or(0, Vec::len));
    let orders = sync(&engine, "orders-to-erp").await;
    assert_eq!(
        (orders.counters.created, orders.counters.failed),
        (25, 0),
        "seed {SEED}: {:?}",
        orders.counters
    );
    let documents: Value = rivile.records("I06").unwrap_or_default();
    assert_eq!(documents.as_array().map_or(0, Vec::len), documents_before + 25);

    for flow in ["products-to-shop", "stock-centr-to-shop", "orders-to-erp"] {
        let again = sync(&engine, flow).await;
        assert_eq!(
            (again.counters.created, again.counters.updated, again.counters.failed),
            (0, 0, 0),
            "seed {SEED}: a second run of {flow} wrote: {:?}",
            again.counters
        );
    }
    assert_eq!(shop.duplicates(), 0);
    assert_eq!(rivile.duplicates(), 0);
}
