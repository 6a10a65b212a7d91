//! `examples/b1-opencart.toml` through the engine, against the B1 simulator and an OpenCart
//! shop in MariaDB: B1 items become OpenCart products, B1 stock their quantities, OpenCart
//! orders B1 sales invoices with the shop's totals — once; also with the connection to the
//! database breaking (statements cut, commits' answers lost).
use super::faults::{relay, Faults};
use super::{records, TestDb, SEED};
use rust_decimal::Decimal;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};

const B1_KEY: &str = "b1-key";
const B1_SECRET: &str = "b1-private-key";
const PRODUCTS: usize = 200;
const ORDERS: usize = 25;

fn amount(value: &serde_json::Value) -> Decimal {
    value.as_str().and_then(|text| text.parse().ok()).unwrap_or_default()
}

#[tokio::test]
async fn b1_opencart_example_lands_200_products_and_books_25_orders_once() {
    run_example("b1_example", None).await;
}

/// 3 % of statements cut: a product is written in one transaction of about four statements, so
/// about one product write in ten fails (the HTTP shops' "10 % 5xx"); 5 % of commits carried
/// out with their answer lost.
#[tokio::test]
async fn the_example_writes_nothing_twice_when_statements_are_cut_and_commits_lost() {
    run_example("b1_example_faults", Some(Faults::new(SEED, 0.03, 0.05))).await;
}

/// The connector's URL: the database's own, or through the fault relay.
pub(super) async fn connector_url(db: &TestDb, faults: Option<Arc<Faults>>) -> String {
    let Some(faults) = faults else {
        return db.url.clone();
    };
    let (credentials, rest) = db.url.rsplit_once('@').expect("user@host in the URL");
    let (server, database) = rest.split_once('/').expect("/database in the URL");
    let relayed = relay(server.parse().expect("127.0.0.1:PORT"), faults).await;
    format!("{credentials}@{relayed}/{database}")
}

async fn run_example(test: &str, faults: Option<Arc<Faults>>) {
    static SYSTEMS: tiltas_connector::Systems =
        tiltas_connector::Systems::new(&[&tiltas_b1::B1System, &crate::OpenCartSystem]);
    let Some(db) = TestDb::create(test).await else {
        return;
    };
    let shop = db.shop(0, 0, 0).await;
    let url = connector_url(&db, faults.clone()).await;
    let b1_seeding = tiltas_b1_sim::Seeding {
        seed: SEED,
        items: PRODUCTS,
        clients: 5,
        warehouses: 2,
        invoices: 0,
    };
    let b1 = Arc::new(tiltas_b1_sim::B1Sim::new(B1_KEY, B1_SECRET, b1_seeding).with_package(417));
    let b1_url = tiltas_sim::spawn(tiltas_b1_sim::router(b1.clone(), Harness::new(b1.clone(), SEED)))
        .await
        .unwrap();
    let example = include_str!("../../../../examples/b1-opencart.toml")
        .replace("http://127.0.0.1:9301/api/", &format!("{b1_url}/api/"))
        .replace("{ env = \"B1_API_KEY\" }", &format!("\"{B1_KEY}\""))
        .replace("{ env = \"B1_PRIVATE_KEY\" }", &format!("\"{B1_SECRET}\""))
        .replace("{ env = \"OPENCART_DATABASE_URL\" }", &format!("\"{url}\""));
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(&example, &dir.path().join("b1-opencart.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
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

    let products = sync("products-to-opencart").await;
    let counters = &products.counters;
    assert_eq!(
        (counters.created + counters.updated, counters.failed),
        (PRODUCTS as u64, 0),
        "{counters:?}"
    );
    assert_eq!(shop.record_counts().await.unwrap()["product"], PRODUCTS);
    let stock = sync("stock-to-opencart").await;
    assert_eq!(stock.counters.failed, 0, "{:?}", stock.counters);
    // Every product's quantity is its B1 balance in the flow's warehouse, on hand less reserved.
    let balances = b1.records("stock").unwrap();
    let warehouse = b1
        .records("warehouse")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .find(|warehouse| warehouse["name"] == "Pagrindinis sandėlis")
        .map(|warehouse| warehouse["id"].clone())
        .expect("the example's warehouse");
    let items = b1.records("item").unwrap();
    let mut matched = 0;
    for row in records(&shop, "stock").await {
        let item = items
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["code"] == row["sku"])
            .expect("a B1 item");
        let balance = balances
            .as_array()
            .unwrap()
            .iter()
            .find(|balance| balance["itemId"] == item["id"] && balance["warehouseId"] == warehouse);
        let expected = balance.map_or(Decimal::ZERO, |balance| {
            (amount(&balance["quantity"]) - amount(&balance["reserved"]))
                .max(Decimal::ZERO)
                .trunc()
        });
        assert_eq!(
            amount(&row["quantity"]),
            expected,
            "stock of {} (seed {SEED})",
            row["sku"]
        );
        matched += 1;
    }
    assert_eq!(matched, PRODUCTS);
    let customers = sync("customers-to-opencart").await;
    assert_eq!(customers.counters.failed, 0, "{:?}", customers.counters);

    shop.mutate("order", ORDERS).await.unwrap();
    let orders = sync("orders-to-b1").await;
    if orders.counters.failed > 0 {
        let letters = engine
            .store()
            .dead_letters(&tiltas_store::DeadLetterFilter {
                flow: Some("orders-to-b1".to_owned()),
                status: None,
                limit: 3,
            })
            .await
            .unwrap();
        eprintln!("{letters:#?}");
    }
    let counters = &orders.counters;
    assert_eq!(
        (counters.created + counters.updated, counters.failed),
        (ORDERS as u64, 0),
        "{counters:?}"
    );
    let invoices = b1.records("order").unwrap().as_array().unwrap().clone();
    assert_eq!(invoices.len(), ORDERS);
    // The net of every invoice is the order's to the cent. VAT: OpenCart sums each unit's
    // unrounded tax (4 places), B1 rounds each line's VAT to cents, so the gross may differ by
    // at most a cent per line — B1's own tolerance when it checks a sale's sums.
    let shop_orders = shop.records("order").await.unwrap().unwrap();
    let mut largest = Decimal::ZERO;
    for invoice in &invoices {
        let number = invoice["number"].as_str().expect("the sale's number");
        let order = shop_orders
            .as_array()
            .unwrap()
            .iter()
            .find(|order| order["order_id"] == number)
            .unwrap_or_else(|| panic!("order {number}"));
        let lines = invoice["items"].as_array().map_or(0, Vec::len) as i64;
        let (shop_total, shop_tax) = (amount(&order["total"]), amount(&order["tax"]));
        assert_eq!(
            amount(&invoice["totalWithoutVat"]),
            shop_total - shop_tax,
            "order {number} (seed {SEED})"
        );
        let difference = (amount(&invoice["total"]) - shop_total).abs();
        assert!(
            difference <= Decimal::new(lines, 2),
            "order {number}: {} against {shop_total}",
            invoice["total"]
        );
        largest = largest.max(difference);
    }
    eprintln!("largest difference of an invoice's gross from its order's: {largest}");

    let again = sync("orders-to-b1").await;
    assert_eq!(
        (again.counters.created, again.counters.updated),
        (0, 0),
        "{:?}",
        again.counters
    );
    let products_again = sync("products-to-opencart").await;
    assert_eq!(
        (products_again.counters.created, products_again.counters.updated),
        (0, 0),
        "{:?}",
        products_again.counters
    );
    assert_eq!(b1.records("order").unwrap().as_array().unwrap().len(), ORDERS);
    assert_eq!(b1.duplicates(), 0);
    assert_eq!(shop.duplicates().await.unwrap(), 0);
    if let Some(faults) = faults {
        let (cuts, lost) = (
            faults.cuts.load(Ordering::Relaxed),
            faults.lost_commits.load(Ordering::Relaxed),
        );
        eprintln!("statements cut: {cuts}, commits whose answer was lost: {lost}");
        assert!(cuts > 0 && lost > 0, "the faults happened (seed {SEED})");
    }
    db.drop().await;
}
