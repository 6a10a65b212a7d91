//! The OpenCart connector against a real MariaDB (`scripts/with-mariadb` exports
//! `TILTAS_TEST_MYSQL_URL`): each test creates its own database, lets the simulator build and
//! seed OpenCart's tables in it, and drops it at the end. These tests carry the connector
//! contract's behaviours for OpenCart (paging to the end, incremental reads after a mutation,
//! create-then-update without duplicates, a refused row failing alone, look-ups by match key)
//! and its connection errors; the example flow runs end to end with the B1 simulator.
use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::mysql::MySqlPool;
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_opencart_sim::{OpenCartSim, Seeding};

mod end_to_end;
mod faults;
mod variants;

const SEED: u64 = 15;

/// A database of its own for one test, on the server of `TILTAS_TEST_MYSQL_URL`.
pub(super) struct TestDb {
    pub url: String,
    name: String,
    admin: MySqlPool,
}

impl TestDb {
    /// `None` (after saying so) when no server is given and none is required.
    pub async fn create(test: &str) -> Option<TestDb> {
        let Ok(base) = std::env::var("TILTAS_TEST_MYSQL_URL") else {
            if std::env::var("TILTAS_REQUIRE_MARIADB").as_deref() == Ok("1") {
                panic!("TILTAS_REQUIRE_MARIADB=1 but TILTAS_TEST_MYSQL_URL is not set: run under scripts/with-mariadb");
            }
            eprintln!("skipped: no MariaDB (run under scripts/with-mariadb)");
            return None;
        };
        // A name from the seed and the test, so parallel tests never share a database.
        let hash = test.bytes().fold(SEED ^ 0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        let name = format!("tiltas_oc_{SEED}_{:012x}", hash & 0xffff_ffff_ffff);
        let admin = MySqlPool::connect(&base)
            .await
            .expect("connect to TILTAS_TEST_MYSQL_URL");
        sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
            .execute(&admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE `{name}`"))
            .execute(&admin)
            .await
            .unwrap();
        let (server, _) = base.rsplit_once('/').expect("a database URL ends in /database");
        Some(TestDb {
            url: format!("{server}/{name}"),
            name,
            admin,
        })
    }

    /// A shop seeded as `seeding` says, in this database.
    pub async fn shop(&self, products: usize, customers: usize, orders: usize) -> OpenCartSim {
        self.shop_of(tiltas_opencart_sim::Version::Three, products, customers, orders)
            .await
    }

    /// A shop of OpenCart `version`, seeded as `shop` seeds it.
    pub async fn shop_of(
        &self,
        version: tiltas_opencart_sim::Version,
        products: usize,
        customers: usize,
        orders: usize,
    ) -> OpenCartSim {
        let seeding = Seeding {
            seed: SEED,
            products,
            customers,
            orders,
        };
        let sim = OpenCartSim::connect(&self.url, "oc_", seeding)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .with_version(version);
        sim.install().await.unwrap_or_else(|e| panic!("{e}"));
        sim
    }

    pub async fn drop(self) {
        sqlx::query(&format!("DROP DATABASE `{}`", self.name))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}

/// A flow moving `entity` between the shop at `url` and a JSON Lines file.
fn config(url: &str, entity: &str, shop_is_source: bool, extra: &str) -> ValidatedConfig {
    let shop = "{ connection = \"shop\" }".to_owned();
    let file = "{ connection = \"file\", file = \"x.jsonl\" }".to_owned();
    let (from, to) = if shop_is_source { (shop, file) } else { (file, shop) };
    let text = format!(
        "[connections.shop]\nsystem = \"opencart\"\ndatabase_url = \"{url}\"\ntimeout = \"5s\"\n{extra}\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {from}\nto = {to}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

/// Every page of a read: the records, the failures in place, and the number of pages.
async fn read_all(
    config: &ValidatedConfig,
    since: Option<chrono::DateTime<chrono::Utc>>,
    page_size: usize,
) -> (Vec<SourceRecord>, Vec<crate::RecordFailure>, usize) {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size,
    };
    let (mut records, mut failures, mut pages) = (Vec::new(), Vec::new(), 0);
    loop {
        let page = source
            .read_page(&request)
            .await
            .unwrap_or_else(|e| panic!("{e} (seed {SEED})"));
        pages += 1;
        for record in page.records {
            match record {
                Ok(record) => records.push(record),
                Err(failure) => failures.push(failure),
            }
        }
        match page.next {
            Some(next) => request.position = Some(next),
            None => return (records, failures, pages),
        }
    }
}

fn item(payload: Value, target_id: Option<&str>) -> WriteItem {
    WriteItem {
        source_key: payload["sku"]
            .as_str()
            .or(payload["email"].as_str())
            .unwrap_or("k")
            .to_owned(),
        target_id: target_id.map(str::to_owned),
        payload,
    }
}

fn written(outcome: &WriteOutcome) -> String {
    match outcome {
        WriteOutcome::Written { target_id } => target_id.clone(),
        WriteOutcome::Failed(error) => panic!("{error} (seed {SEED})"),
    }
}

fn failed(outcome: &WriteOutcome) -> &crate::ConnectorError {
    match outcome {
        WriteOutcome::Written { target_id } => panic!("written as {target_id}, expected a failure"),
        WriteOutcome::Failed(error) => error,
    }
}

async fn records(sim: &OpenCartSim, entity: &str) -> Vec<Value> {
    sim.records(entity).await.unwrap().unwrap().as_array().unwrap().clone()
}

#[tokio::test]
async fn products_are_read_in_keyset_pages_to_the_end() {
    let Some(db) = TestDb::create("products_paged").await else {
        return;
    };
    let sim = db.shop(250, 0, 0).await;
    // A product without a code is a failure in place; one in another store is not read.
    sqlx::query("UPDATE oc_product SET sku = '' WHERE product_id = 7")
        .execute(sim.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE oc_product_to_store SET store_id = 1 WHERE product_id = 8")
        .execute(sim.pool())
        .await
        .unwrap();
    let config = config(&db.url, "product", true, "");
    let (read, failures, pages) = read_all(&config, None, 100).await;
    assert_eq!(pages, 3, "pages of 100 over 249 products");
    assert_eq!(read.len(), 248, "seed {SEED}");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].key, "7");
    assert_eq!(failures[0].field.as_deref(), Some("sku"));
    assert!(
        failures[0].fix.as_deref().unwrap_or_default().contains("SKU"),
        "{:?}",
        failures[0]
    );
    let mut keys: Vec<&str> = read.iter().map(|record| record.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 248, "every product once");
    let shop = records(&sim, "product").await;
    let first = read
        .iter()
        .find(|record| record.data["sku"] == "OC-0001")
        .expect("OC-0001");
    let price: Decimal = shop[0]["price"].as_str().unwrap().parse().unwrap();
    assert_eq!(first.data["price_net"], json!(price.normalize().to_string()));
    assert_eq!(first.data["name"], shop[0]["name"]);
    assert_eq!(first.data["active"], json!(true));
    assert_eq!(
        first.updated_at.map(|at| at.to_rfc3339()).as_deref(),
        Some("2026-01-01T00:00:00+00:00")
    );
    assert!(
        read.iter().all(|record| record.data["sku"] != "OC-0008"),
        "a product of store 1"
    );
    db.drop().await;
}

#[tokio::test]
async fn changes_are_read_incrementally_after_a_mutation() {
    let Some(db) = TestDb::create("incremental").await else {
        return;
    };
    let sim = db.shop(30, 0, 10).await;
    let products = config(&db.url, "product", true, "");
    let orders = config(&db.url, "order", true, "");
    let (all, _, _) = read_all(&products, None, 1000).await;
    assert_eq!(all.len(), 30);
    let (all_orders, failures, _) = read_all(&orders, None, 4).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        all_orders.len(),
        10,
        "confirmed orders only: the missing order (status 0) is not read"
    );
    assert_eq!(sim.record_counts().await.unwrap()["missing_order"], 1);

    let before = chrono::Utc::now() - chrono::Duration::seconds(2);
    assert_eq!(sim.mutate("product", 3).await.unwrap(), 3);
    assert_eq!(sim.mutate("order", 5).await.unwrap(), 5);
    let (changed, _, _) = read_all(&products, Some(before), 1000).await;
    assert_eq!(changed.len(), 3, "the three changed products (seed {SEED})");
    let (new_orders, _, pages) = read_all(&orders, Some(before), 2).await;
    assert_eq!(new_orders.len(), 5);
    assert_eq!(pages, 3, "pages of 2 over 5 orders");

    // Each order's totals add up: lines + shipping + VAT = the shop's total.
    for order in &new_orders {
        let data = &order.data;
        let amount = |value: &Value| value.as_str().unwrap_or("0").parse::<Decimal>().unwrap();
        let lines: Decimal = data["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| amount(&line["total"]))
            .sum();
        let line_tax: Decimal = data["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| amount(&line["total_tax"]))
            .sum();
        let totals = &data["totals"];
        assert_eq!(amount(&totals["net"]), lines + amount(&totals["shipping"]), "{data:#}");
        assert_eq!(
            amount(&totals["vat"]),
            line_tax + amount(&totals["shipping_tax"]),
            "{data:#}"
        );
        assert_eq!(
            amount(&totals["gross"]),
            amount(&totals["net"]) + amount(&totals["vat"])
        );
        assert_eq!(data["lines"][0]["vat_rate"], "21");
        assert_eq!(data["status"], "Pending");
        assert_eq!(data["shipping_method"], "flat.flat");
        assert_eq!(data["currency"], "EUR");
        assert!(data["lines"][0]["sku"].as_str().unwrap().starts_with("OC-"), "{data:#}");
        assert_eq!(data["billing"]["country"], "LT");
    }
    let shop_total = records(&sim, "order").await.last().unwrap()["total"]
        .as_str()
        .unwrap()
        .parse::<Decimal>()
        .unwrap();
    let read_total = new_orders.last().unwrap().data["totals"]["gross"]
        .as_str()
        .unwrap()
        .parse::<Decimal>()
        .unwrap();
    assert_eq!(read_total, shop_total);
    db.drop().await;
}

#[tokio::test]
async fn customers_are_read_by_id_with_their_default_address() {
    let Some(db) = TestDb::create("customers_read").await else {
        return;
    };
    let sim = db.shop(0, 15, 0).await;
    let (read, _, pages) = read_all(&config(&db.url, "customer", true, ""), None, 10).await;
    assert_eq!((read.len(), pages), (15, 2));
    let shop = records(&sim, "customer").await;
    let company = shop
        .iter()
        .position(|row| row["company"].as_str().is_some_and(|c| !c.is_empty()));
    let company = company.expect("the seed has companies");
    assert_eq!(read[company].data["kind"], "company");
    assert_eq!(read[company].data["company_name"], shop[company]["company"]);
    assert_eq!(read[0].data["email"], shop[0]["email"]);
    assert_eq!(read[0].data["billing"]["country"], "LT");
    assert_eq!(read[0].data["billing"]["city"], "Vilnius");
    db.drop().await;
}

fn product(sku: &str, name: &str, price: &str) -> Value {
    json!({ "sku": sku, "name": name, "price_net": price, "description": format!("About {name}"), "active": true })
}

#[tokio::test]
async fn a_product_written_twice_is_created_once_then_updated() {
    let Some(db) = TestDb::create("create_update").await else {
        return;
    };
    let sim = db.shop(0, 0, 0).await;
    let config = config(&db.url, "product", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let batch = |price: &str| {
        (1..=3)
            .map(|n| item(product(&format!("ERP-{n}"), &format!("Item {n}"), price), None))
            .collect::<Vec<_>>()
    };
    let first = target.write_batch(batch("10.5")).await.unwrap();
    let ids: Vec<String> = first.outcomes.iter().map(written).collect();
    // Again, as after a crash that lost the ids: found by code, updated, nothing created.
    let second = target.write_batch(batch("12.3456")).await.unwrap();
    // A code twice in one batch is created once.
    let twice = vec![
        item(product("ERP-9", "Nine", "1"), None),
        item(product("ERP-9", "Nine again", "2"), None),
    ];
    let result = target.write_batch(twice).await.unwrap();
    assert_eq!(written(&result.outcomes[0]), written(&result.outcomes[1]));
    assert_eq!(second.outcomes.iter().map(written).collect::<Vec<_>>(), ids);
    let shop = records(&sim, "product").await;
    assert_eq!(shop.len(), 4);
    assert_eq!(sim.duplicates().await.unwrap(), 0);
    assert_eq!(shop[0]["price"], "12.3456");
    assert_eq!(shop[3]["name"], "Nine again");
    assert_eq!(shop[0]["model"], "ERP-1", "the code is the model buyers see as well");
    assert_eq!(shop[0]["name"], "Item 1");
    let stores: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oc_product_to_store WHERE store_id = 0")
        .fetch_one(sim.pool())
        .await
        .unwrap();
    assert_eq!(stores, 4, "each product in the store, once");
    let (read, _, _) = read_all(&crate::tests::config(&db.url, "product", true, ""), None, 100).await;
    assert_eq!(read[0].data["description"], "About Item 1");
    db.drop().await;
}

#[tokio::test]
async fn a_refused_row_fails_alone_and_the_rest_of_the_batch_is_written() {
    let Some(db) = TestDb::create("refused_row").await else {
        return;
    };
    let sim = db.shop(0, 0, 0).await;
    let config = config(&db.url, "product", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let long = "x".repeat(300);
    assert!(target
        .precheck(&product("ERP-3", &long, "1"))
        .unwrap_err()
        .contains("at most 255"));
    let items: Vec<WriteItem> = (1..=5)
        .map(|n| {
            item(
                product(&format!("ERP-{n}"), if n == 3 { &long } else { "Fine" }, "1"),
                None,
            )
        })
        .collect();
    let result = target.write_batch(items).await.unwrap();
    let error = failed(&result.outcomes[2]);
    assert_eq!(error.kind, ErrorKind::Invalid, "{error}");
    assert!(
        error.message.contains("product ERP-3") && error.message.contains("Data too long"),
        "{error}"
    );
    for index in [0, 1, 3, 4] {
        written(&result.outcomes[index]);
    }
    let shop = records(&sim, "product").await;
    assert_eq!(shop.len(), 4, "the refused product left no row behind: {shop:?}");

    // Stock: a SKU the shop lacks fails alone; the others are set, on hand less reserved.
    let stock = crate::tests::config(&db.url, "stock", false, "");
    let mut target = open_target(&stock, &stock.flows[0], Arc::new(OpenGate)).unwrap();
    let levels = vec![
        item(
            json!({ "sku": "ERP-1", "warehouse": "Main", "on_hand": "12", "reserved": "2" }),
            None,
        ),
        item(json!({ "sku": "NOPE", "warehouse": "Main", "on_hand": "5" }), None),
        item(json!({ "sku": "ERP-2", "warehouse": "Main", "on_hand": "3.7" }), None),
    ];
    let result = target.write_batch(levels).await.unwrap();
    written(&result.outcomes[0]);
    let error = failed(&result.outcomes[1]);
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(error.message.contains("no product with sku NOPE"), "{error}");
    written(&result.outcomes[2]);
    let quantities: Vec<Value> = records(&sim, "stock")
        .await
        .iter()
        .map(|row| row["quantity"].clone())
        .collect();
    assert_eq!(quantities, vec![json!("10"), json!("3"), json!("0"), json!("0")]);
    db.drop().await;
}

#[tokio::test]
async fn lookups_find_products_stock_and_customers_by_their_match_keys() {
    let Some(db) = TestDb::create("lookups").await else {
        return;
    };
    let sim = db.shop(5, 4, 0).await;
    let products = config(&db.url, "product", false, "");
    let mut target = open_target(&products, &products.flows[0], Arc::new(OpenGate)).unwrap();
    let keys = ["OC-0002".to_owned(), "OC-0005".to_owned(), "MISSING".to_owned()];
    let found = target.lookup(Some("sku"), &keys).await.unwrap();
    assert_eq!(found.found.len(), 2);
    assert_eq!(found.found["OC-0002"].target_id, "2");
    assert_eq!(found.found["OC-0002"].data.as_ref().unwrap()["sku"], "OC-0002");
    let stock = config(&db.url, "stock", false, "");
    let mut target = open_target(&stock, &stock.flows[0], Arc::new(OpenGate)).unwrap();
    let found = target.lookup(None, &["OC-0003@Main".to_owned()]).await.unwrap();
    assert_eq!(found.found["OC-0003@Main"].target_id, "3");

    let customers = config(&db.url, "customer", false, "");
    let mut target = open_target(&customers, &customers.flows[0], Arc::new(OpenGate)).unwrap();
    let known = records(&sim, "customer").await[1]["email"].as_str().unwrap().to_owned();
    let found = target.lookup(Some("email"), &[known.to_uppercase()]).await.unwrap();
    assert_eq!(found.found[&known.to_uppercase()].target_id, "2");
    let new = json!({
        "email": "Nauja@Example.lt", "name": "Nauja Pirkėja", "kind": "company", "company_name": "UAB Nauja",
        "billing": { "line1": "Pylimo g. 1", "city": "Vilnius", "postcode": "LT-01117", "country": "lt" }
    });
    let existing = json!({ "email": known, "first_name": "Pakeista", "last_name": "Pavardė", "phone": "+37061111111" });
    let result = target
        .write_batch(vec![item(new.clone(), None), item(existing, None)])
        .await
        .unwrap();
    assert_eq!(
        written(&result.outcomes[1]),
        "2",
        "an existing e-mail is updated, not added"
    );
    let again = target.write_batch(vec![item(new, None)]).await.unwrap();
    assert_eq!(written(&again.outcomes[0]), written(&result.outcomes[0]));
    let shop = records(&sim, "customer").await;
    assert_eq!(shop.len(), 5);
    assert_eq!(sim.duplicates().await.unwrap(), 0);
    assert_eq!(shop[1]["firstname"], "Pakeista");
    let added = &shop[4];
    assert_eq!(added["email"], "nauja@example.lt");
    assert_eq!(
        (
            added["company"].clone(),
            added["city"].clone(),
            added["country_id"].clone()
        ),
        (json!("UAB Nauja"), json!("Vilnius"), json!("123"))
    );
    db.drop().await;
}

#[tokio::test]
async fn a_row_the_shop_holds_locked_fails_its_write_as_transient_and_the_rest_is_written() {
    let Some(db) = TestDb::create("lock_wait").await else {
        return;
    };
    let sim = db.shop(2, 0, 0).await;
    // The shop's admin holds OC-0001 locked in a transaction of its own.
    let mut admin = sim.pool().begin().await.unwrap();
    sqlx::query("SELECT product_id FROM oc_product WHERE product_id = 1 FOR UPDATE")
        .execute(&mut *admin)
        .await
        .unwrap();
    let config = config(&db.url, "product", false, "lock_wait = \"1s\"");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let items = vec![
        item(product("OC-0001", "Locked", "1"), Some("1")),
        item(product("OC-0002", "Free", "2"), Some("2")),
    ];
    let result = target.write_batch(items).await.unwrap();
    let error = failed(&result.outcomes[0]);
    assert_eq!(error.kind, ErrorKind::Transient, "{error}");
    assert!(error.message.contains("1205"), "{error}");
    assert_eq!(written(&result.outcomes[1]), "2");
    admin.rollback().await.unwrap();
    let shop = records(&sim, "product").await;
    assert_eq!(shop[1]["name"], "Free");
    assert_ne!(
        shop[0]["name"], "Locked",
        "the locked product is written by the retry, not now"
    );
    db.drop().await;
}

#[tokio::test]
async fn a_coupon_is_a_fee_and_a_line_whose_product_is_gone_keeps_its_model() {
    let Some(db) = TestDb::create("order_details").await else {
        return;
    };
    let sim = db.shop(3, 0, 2).await;
    let pool = sim.pool();
    // Order 1: a coupon of -5.00 taken off its total, one line's product deleted,
    // an option chosen on the first line.
    sqlx::query("INSERT INTO oc_order_total (order_id, code, title, value, sort_order) VALUES (1, 'coupon', 'Coupon (SALE)', -5, 2)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE oc_order_total SET value = value - 5 WHERE order_id = 1 AND code = 'total'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE oc_order SET total = total - 5 WHERE order_id = 1")
        .execute(pool)
        .await
        .unwrap();
    let first_line: (i64, i64) = sqlx::query_as("SELECT order_product_id, product_id FROM oc_order_product WHERE order_id = 1 ORDER BY order_product_id LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO oc_order_option (order_id, order_product_id, product_option_id, product_option_value_id, name, value, type) VALUES (1, ?, 1, 1, 'Size', 'M', 'select')")
        .bind(first_line.0)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM oc_product WHERE product_id = ?")
        .bind(first_line.1)
        .execute(pool)
        .await
        .unwrap();
    let (orders, failures, _) = read_all(&config(&db.url, "order", true, ""), None, 10).await;
    assert!(failures.is_empty(), "{failures:?}");
    let order = &orders.iter().find(|order| order.key == "1").expect("order 1").data;
    assert_eq!(order["fees"], json!([{ "name": "Coupon (SALE)", "total": "-5" }]));
    let line = &order["lines"][0];
    assert_eq!(
        line["sku"],
        format!("OC-{:04}", first_line.1),
        "the model of a deleted product's line"
    );
    assert!(line["name"].as_str().unwrap().ends_with("(Size: M)"), "{line}");
    let amount = |value: &Value| value.as_str().unwrap().parse::<Decimal>().unwrap();
    let lines: Decimal = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| amount(&line["total"]))
        .sum();
    let totals = &order["totals"];
    assert_eq!(
        amount(&totals["net"]),
        lines + amount(&totals["shipping"]) - Decimal::from(5),
        "{order:#}"
    );
    assert_eq!(order["raw"]["order_history"].as_array().unwrap().len(), 1);
    db.drop().await;
}

#[tokio::test]
async fn with_sku_column_model_codes_are_read_and_written_in_model() {
    let Some(db) = TestDb::create("model_codes").await else {
        return;
    };
    let sim = db.shop(2, 0, 0).await;
    sqlx::query("UPDATE oc_product SET sku = ''")
        .execute(sim.pool())
        .await
        .unwrap();
    let extra = "sku_column = \"model\"";
    let (read, failures, _) = read_all(&config(&db.url, "product", true, extra), None, 10).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(read[0].data["sku"], "OC-0001");
    let products = config(&db.url, "product", false, extra);
    let mut target = open_target(&products, &products.flows[0], Arc::new(OpenGate)).unwrap();
    let result = target
        .write_batch(vec![
            item(product("OC-0002", "Renamed", "9"), None),
            item(product("NEW-1", "New", "3"), None),
        ])
        .await
        .unwrap();
    assert_eq!(written(&result.outcomes[0]), "2", "found by model");
    written(&result.outcomes[1]);
    let shop = records(&sim, "product").await;
    assert_eq!(shop.len(), 3);
    assert_eq!(
        (shop[2]["model"].clone(), shop[2]["sku"].clone()),
        (json!("NEW-1"), json!(""))
    );
    db.drop().await;
}

async fn first_page_error(config: &ValidatedConfig) -> crate::ConnectorError {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 10,
    };
    source.read_page(&request).await.expect_err("the read must fail")
}

#[tokio::test]
async fn connection_failures_name_the_connection_and_the_setting_never_the_password() {
    let Some(db) = TestDb::create("connection_errors").await else {
        return;
    };
    let _sim = db.shop(1, 0, 0).await;
    let (server, name) = db.url.rsplit_once('/').unwrap();
    let (scheme_user, host) = server.rsplit_once('@').unwrap();
    let (scheme_user, _password) = scheme_user.rsplit_once(':').unwrap();

    let wrong = config(
        &format!("{scheme_user}:s3cret-wrong@{host}/{name}"),
        "product",
        true,
        "",
    );
    let error = first_page_error(&wrong).await;
    assert_eq!(error.kind, ErrorKind::Auth, "{error}");
    assert!(error.message.contains("connection shop"), "{error}");
    assert!(
        error.fix.as_deref().unwrap_or_default().contains("database_url"),
        "{error:?}"
    );
    assert!(
        !format!("{error:?}").contains("s3cret-wrong"),
        "the password is never quoted: {error:?}"
    );

    let unknown = config(&format!("{server}/no_such_shop"), "product", true, "");
    let error = first_page_error(&unknown).await;
    assert_eq!(error.kind, ErrorKind::Fatal, "{error}");
    assert!(
        error.fix.as_deref().unwrap_or_default().contains("database name"),
        "{error:?}"
    );

    let prefix = config(&db.url, "product", true, "table_prefix = \"shop_\"");
    let error = first_page_error(&prefix).await;
    assert_eq!(error.kind, ErrorKind::Fatal, "{error}");
    assert!(
        error.message.contains("shop_product") && error.fix.as_deref().unwrap_or_default().contains("table_prefix"),
        "{error:?}"
    );

    // A port nothing listens on: the server is down, which a later run may find up again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = config(&format!("{scheme_user}:x@127.0.0.1:{port}/{name}"), "product", true, "");
    let error = first_page_error(&down).await;
    assert_eq!(error.kind, ErrorKind::Transient, "{error}");
    assert!(
        error
            .fix
            .as_deref()
            .unwrap_or_default()
            .contains("host and port in database_url"),
        "{error:?}"
    );

    let bad = config(&db.url, "product", true, "table_prefix = \"oc_; DROP\"");
    let opened = open_source(&bad, &bad.flows[0], Arc::new(OpenGate));
    let error = opened
        .err()
        .expect("a prefix that is not a name is refused when opening");
    assert!(error.message.contains("table_prefix"), "{error}");
    db.drop().await;
}
