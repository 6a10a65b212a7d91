//! The connector against the B1 simulator, and `examples/b1-shop.toml` through the engine.
use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_b1_sim::{router, B1Sim, Seeding};
use tiltas_config::ValidatedConfig;
use tiltas_sim::{Harness, SimSystem};

const KEY: &str = "test-key";
const SECRET: &str = "test-private-key";
const SEED: u64 = 7;

fn seeding(items: usize, clients: usize, warehouses: usize, invoices: usize) -> Seeding {
    Seeding {
        seed: SEED,
        items,
        clients,
        warehouses,
        invoices,
    }
}

async fn start(seeding: Seeding, package: u64) -> (String, Arc<B1Sim>) {
    let sim = Arc::new(B1Sim::new(KEY, SECRET, seeding).with_package(package));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), seeding.seed)))
        .await
        .unwrap_or_else(|error| panic!("seed {}: {error}", seeding.seed));
    (url, sim)
}

/// A flow file with a B1 connection (extra lines) and a JSON Lines file on the other side.
fn config(url: &str, secret: &str, connection: &str, entity: &str, b1_side: &str, reading: bool) -> ValidatedConfig {
    let (from, to) = if reading {
        (
            format!("connection = \"b1\"{b1_side}"),
            "connection = \"file\", file = \"x.jsonl\"".to_owned(),
        )
    } else {
        (
            "connection = \"file\", file = \"x.jsonl\"".to_owned(),
            format!("connection = \"b1\"{b1_side}"),
        )
    };
    let text = format!(
        "[connections.b1]\nsystem = \"b1\"\nbase_url = \"{url}/api/\"\napi_key = \"{KEY}\"\nprivate_key = \"{secret}\"\n{connection}\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\n\
         from = {{ {from} }}\nto = {{ {to} }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

async fn read_all(config: &ValidatedConfig, page_size: usize) -> (Vec<SourceRecord>, u64) {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest {
        position: None,
        changed_since: None,
        page_size,
    };
    let (mut records, mut calls) = (Vec::new(), 0);
    loop {
        let page = source
            .read_page(&request)
            .await
            .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
        calls += page.api_calls;
        records.extend(page.records.into_iter().map(Result::unwrap));
        match page.next {
            Some(next) => request.position = Some(next),
            None => return (records, calls),
        }
    }
}

fn item(payload: Value) -> WriteItem {
    WriteItem {
        source_key: "k".into(),
        target_id: None,
        payload,
    }
}

#[tokio::test]
async fn items_are_read_in_keyset_pages_of_the_configured_rows() {
    let (url, _) = start(seeding(230, 0, 1, 0), 1000).await;
    let (records, calls) = read_all(&config(&url, SECRET, "rows = \"100\"", "product", "", true), 500).await;
    assert_eq!(records.len(), 230);
    assert_eq!(calls, 3, "pages of 100, the connection's rows");
    let first = &records[0].data;
    assert_eq!(first["sku"], "P00001");
    assert_eq!(first["vat_rate"], "21");
    assert_eq!(first["unit"], "vnt");
    assert!(tiltas_model::is_valid_gtin(first["ean"].as_str().unwrap()), "{first}");
    assert!(tiltas_model::validate_json(tiltas_model::EntityKind::Product, first).is_ok());
    let keys: std::collections::HashSet<&str> = records.iter().map(|record| record.key.as_str()).collect();
    assert_eq!(keys.len(), 230, "no record read twice");
}

#[tokio::test]
async fn stock_is_read_for_one_warehouse_by_name_or_for_every_warehouse() {
    let (url, _) = start(seeding(20, 0, 3, 0), 1000).await;
    let one = config(&url, SECRET, "", "stock", ", warehouse = \"Kauno sandėlis\"", true);
    let (records, _) = read_all(&one, 500).await;
    assert_eq!(records.len(), 20);
    assert!(records
        .iter()
        .all(|record| record.data["warehouse"] == "Kauno sandėlis"));
    let stock = &records[0].data;
    let number = |field: &str| stock[field].as_str().unwrap().parse::<i64>().unwrap();
    assert_eq!(number("available"), number("on_hand") - number("reserved"));
    let (all, _) = read_all(&config(&url, SECRET, "", "stock", "", true), 500).await;
    assert_eq!(all.len(), 60, "20 items in 3 warehouses");
}

#[tokio::test]
async fn a_wrong_private_key_is_an_auth_failure_naming_both_keys() {
    let (url, _) = start(seeding(1, 0, 1, 0), 1000).await;
    let config = config(&url, "wrong", "", "product", "", true);
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source.read_page(&ReadRequest::default()).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("Invalid signature"), "{}", error.message);
    assert!(error.message.contains("private_key"), "{}", error.message);
}

#[tokio::test]
async fn a_used_up_request_package_is_a_quota_failure_saying_when_it_resets() {
    let (url, _) = start(seeding(30, 0, 1, 0), 2).await;
    let config = config(&url, SECRET, "rows = \"10\"", "product", "", true);
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest::default();
    for _ in 0..2 {
        request.position = source.read_page(&request).await.unwrap().next;
    }
    let error = source.read_page(&request).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Quota, "{}", error.message);
    assert!(error.message.contains("request package"), "{}", error.message);
    assert!(error.message.contains("resets at 20"), "{}", error.message);
    assert!(error.retry_after.is_some());
}

#[tokio::test]
async fn products_and_clients_are_created_updated_and_found() {
    let (url, sim) = start(seeding(0, 0, 1, 0), 1000).await;
    let config = config(&url, SECRET, "", "product", "", false);
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let written = target
        .write_batch(vec![item(
            json!({"sku": "G-1", "name": "Grąžtas", "unit": "kg", "price_net": "12.5", "vat_rate": "21"}),
        )])
        .await
        .unwrap();
    let WriteOutcome::Written { target_id } = &written.outcomes[0] else {
        panic!("{written:?}")
    };
    let update = WriteItem {
        target_id: Some(target_id.clone()),
        ..item(json!({"sku": "G-1", "name": "Grąžtas 8 mm"}))
    };
    target.write_batch(vec![update]).await.unwrap();
    let items = sim.records("product").unwrap();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["name"], "Grąžtas 8 mm");
    let found = target
        .lookup(Some("sku"), &["g-1".into(), "nope".into()])
        .await
        .unwrap();
    assert_eq!(found.found["g-1"].target_id, *target_id);

    let config = config_for(&url, "customer");
    let mut clients = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let written = clients
        .write_batch(vec![item(json!({"kind": "company", "company_name": "UAB Testas", "code": "300000001", "email": "info@testas.lt", "billing": {"country": "LV"}}))])
        .await
        .unwrap();
    assert!(
        matches!(written.outcomes[0], WriteOutcome::Written { .. }),
        "{written:?}"
    );
    let stored = sim.records("customer").unwrap()[0].clone();
    assert_eq!(
        (stored["isCompany"].clone(), stored["locationId"].clone()),
        (json!(true), json!(2))
    );
    let found = clients.lookup(Some("email"), &["INFO@testas.lt".into()]).await.unwrap();
    assert_eq!(found.found.len(), 1);
}

fn config_for(url: &str, entity: &str) -> ValidatedConfig {
    config(url, SECRET, "", entity, ", warehouse = \"Pagrindinis sandėlis\"", false)
}

fn order(number: &str, client: &Value, sku: &str) -> Value {
    json!({
        "number": number,
        "created_at": "2026-03-02T10:00:00Z",
        "currency": "EUR",
        "customer": {"code": client},
        "lines": [{"sku": sku, "name": "Prekė", "quantity": "2", "price": "10", "vat_rate": "21"}],
        "totals": {"net": "24.96", "shipping": "4.96", "shipping_tax": "1.04"}
    })
}

#[tokio::test]
async fn an_order_becomes_a_sales_invoice_with_its_lines() {
    let (url, sim) = start(seeding(3, 2, 2, 0), 1000).await;
    let client = sim.records("customer").unwrap()[0]["id"].clone();
    let config = config_for(&url, "order");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let written = target
        .write_batch(vec![item(order("WEB-1", &client, "P00002"))])
        .await
        .unwrap();
    assert!(
        matches!(written.outcomes[0], WriteOutcome::Written { .. }),
        "{written:?}"
    );
    let sale = sim.records("order").unwrap()[0].clone();
    assert_eq!(sale["number"], "WEB-1");
    assert_eq!(sale["warehouseName"], "Pagrindinis sandėlis");
    assert_eq!(sale["items"][0]["code"], "P00002");
    assert_eq!(sale["items"][1]["name"], "Pristatymas", "shipping is a named line");
    assert_eq!(sale["totalWithoutVat"], "24.96");
    let found = target.lookup(Some("number"), &["WEB-1".into()]).await.unwrap();
    assert_eq!(found.found.len(), 1);
}

#[tokio::test]
async fn a_partial_completion_is_a_dead_letter_naming_the_created_invoice() {
    let (url, sim) = start(seeding(3, 2, 1, 0), 1000).await;
    let client = sim.records("customer").unwrap()[0]["id"].clone();
    let config = config_for(&url, "order");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let written = target
        .write_batch(vec![item(order("WEB-2", &client, "GONE"))])
        .await
        .unwrap();
    let WriteOutcome::Failed(error) = &written.outcomes[0] else {
        panic!("{written:?}")
    };
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(error.message.contains("B1 created invoice WEB-2"), "{}", error.message);
    assert!(error.message.contains("does not create it again"), "{}", error.message);
    assert!(
        error.message.contains("PARDAVIMU_PREKES_fk1"),
        "B1's text kept: {}",
        error.message
    );
    assert_eq!(error.field.as_deref(), Some("lines.sku"));
    assert_eq!(
        sim.records("order").unwrap().as_array().unwrap().len(),
        1,
        "created once"
    );
}

#[tokio::test]
async fn an_invoice_for_a_missing_client_is_a_dead_letter_explaining_fk1() {
    let (url, _) = start(seeding(3, 1, 1, 0), 1000).await;
    let config = config_for(&url, "order");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let written = target
        .write_batch(vec![item(order("WEB-3", &json!("999999"), "P00001"))])
        .await
        .unwrap();
    let WriteOutcome::Failed(error) = &written.outcomes[0] else {
        panic!("{written:?}")
    };
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(error.message.contains("it names the client"), "{}", error.message);
    assert!(error.message.contains("PARDAVIMAI_fk1"), "{}", error.message);
    assert_eq!(error.field.as_deref(), Some("customer.code"));
}

#[tokio::test]
async fn sales_invoices_are_read_with_their_lines() {
    let (url, _) = start(seeding(5, 3, 1, 4), 1000).await;
    let (records, _) = read_all(&config(&url, SECRET, "", "document", "", true), 500).await;
    assert_eq!(records.len(), 4);
    let invoice = &records[0].data;
    assert_eq!(invoice["kind"], "sales_invoice");
    assert!(!invoice["lines"].as_array().unwrap().is_empty(), "{invoice}");
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Document, invoice).is_ok(),
        "{invoice}"
    );
}

#[tokio::test]
async fn payments_are_read_as_customer_payments() {
    let (url, _) = start(seeding(5, 3, 1, 4), 1000).await;
    let (records, _) = read_all(
        &config(&url, SECRET, "", "document", ", documents = \"payments\"", true),
        500,
    )
    .await;
    assert_eq!(records.len(), 2, "every other seeded invoice is paid");
    assert_eq!(records[0].data["kind"], "customer_payment");
    assert!(records[0].data["note"].as_str().unwrap().contains("SF000001"));
}

/// `examples/b1-shop.toml` against both simulators through the engine.
#[tokio::test]
async fn b1_shop_example_books_25_shop_orders_as_25_invoices_once() {
    use tiltas_engine::{Engine, SyncOptions};
    use tiltas_woocommerce_sim::{Credentials, WooSim};
    static SYSTEMS: tiltas_connector::Systems = tiltas_connector::Systems::new(&[
        &crate::B1System,
        &tiltas_woocommerce::WooCommerceSystem,
        &tiltas_bank::BankSystem,
    ]);

    let (b1_url, b1) = start(seeding(40, 5, 2, 0), 417).await;
    let woo_seeding = tiltas_woocommerce_sim::Seeding {
        seed: SEED,
        products: 0,
        customers: 0,
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
    .unwrap();
    let example = include_str!("../../../examples/b1-shop.toml")
        .replace("http://127.0.0.1:9301/api/", &format!("{b1_url}/api/"))
        .replace("http://127.0.0.1:9201", &woo_url)
        .replace("{ env = \"B1_API_KEY\" }", &format!("\"{KEY}\""))
        .replace("{ env = \"B1_PRIVATE_KEY\" }", &format!("\"{SECRET}\""))
        .replace("{ env = \"WC_KEY\" }", "\"ck_test\"")
        .replace("{ env = \"WC_SECRET\" }", "\"cs_test\"");
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(&example, &dir.path().join("b1-shop.toml"), &SYSTEMS)
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

    let products = sync("products-to-shop").await;
    assert_eq!(
        (products.counters.created, products.counters.failed),
        (40, 0),
        "{:?}",
        products.counters
    );
    let stock = sync("stock-to-shop").await;
    assert_eq!(stock.counters.failed, 0, "{:?}", stock.counters);
    woo.mutate("order", 25).unwrap();
    let orders = sync("orders-to-b1").await;
    assert_eq!(
        (orders.counters.created, orders.counters.failed),
        (25, 0),
        "{:?}",
        orders.counters
    );
    assert_eq!(b1.records("order").unwrap().as_array().unwrap().len(), 25);
    let again = sync("orders-to-b1").await;
    assert_eq!(
        (again.counters.created, again.counters.updated),
        (0, 0),
        "{:?}",
        again.counters
    );
    assert_eq!(b1.records("order").unwrap().as_array().unwrap().len(), 25);
    assert_eq!(b1.duplicates(), 0);
    assert!(b1.package_used() <= 417, "{} requests", b1.package_used());
}

/// Two B1 companies sharing one payer's request package, as two connections in one budget
/// group of the package's size: Tiltas stops before B1 would refuse, naming the group, and the
/// quota view shows the package and each company's requests.
#[tokio::test]
async fn two_b1_companies_on_one_package_stop_at_the_shared_budget_before_b1_refuses() {
    use tiltas_b1_sim::{router, B1Sim};
    static SYSTEMS: tiltas_connector::Systems =
        tiltas_connector::Systems::new(&[&crate::B1System, &tiltas_files::JsonlSystem]);
    let seeding = || tiltas_b1_sim::Seeding {
        seed: 4,
        items: 30,
        clients: 2,
        warehouses: 1,
        invoices: 0,
    };
    let payer = Arc::new(B1Sim::new("KEY-A", "SECRET-A", seeding()).with_package(1));
    let other = Arc::new(B1Sim::new("KEY-B", "SECRET-B", seeding()).sharing_package_of(&payer));
    let mut urls = Vec::new();
    for sim in [&payer, &other] {
        urls.push(
            tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 4)))
                .await
                .unwrap(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[budget_groups.package]\ndaily_budget = 1\n\n\
         [connections.company-a]\nsystem = \"b1\"\nbase_url = \"{}/api/\"\napi_key = \"KEY-A\"\nprivate_key = \"SECRET-A\"\nbudget_group = \"package\"\n\n\
         [connections.company-b]\nsystem = \"b1\"\nbase_url = \"{}/api/\"\napi_key = \"KEY-B\"\nprivate_key = \"SECRET-B\"\nbudget_group = \"package\"\n\n\
         [connections.files]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"a\"\nentity = \"product\"\nfrom = {{ connection = \"company-a\" }}\nto = {{ connection = \"files\", file = \"a.jsonl\" }}\n\n\
         [[flows]]\nname = \"b\"\nentity = \"product\"\nfrom = {{ connection = \"company-b\" }}\nto = {{ connection = \"files\", file = \"b.jsonl\" }}\n",
        urls[0], urls[1]
    );
    let config = tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let state = tiltas_server::AppState::new(Arc::new(config), store, SYSTEMS);
    let options = tiltas_engine::SyncOptions::default();
    let first = state.engine.sync("a", &options).await.unwrap();
    assert_eq!(first.counters.created, 30);
    let refused = state.engine.sync("b", &options).await.unwrap_err().to_string();
    assert!(
        refused.contains("shared daily budget \"package\" of 1 requests is used up"),
        "{refused}"
    );
    assert_eq!(payer.package_used(), 1, "Tiltas sent nothing B1 would have refused");

    let views = tiltas_server::quota_views(&state).await.unwrap();
    let b = views.iter().find(|view| view.connection == "company-b").unwrap();
    let group = b.budget_group.as_ref().unwrap();
    assert_eq!((group.used_today, group.daily_budget), (1, 1));
    assert_eq!((group.connections["company-a"], group.connections["company-b"]), (1, 0));
}
