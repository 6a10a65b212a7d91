use super::simulator::{router, RivileSim, Seeding};
use crate::registry::{catalog, open_source};
use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_sim::{Harness, SimSystem};

const KEY: &str = "TESTKEY.secret";

async fn start(products: usize, customers: usize) -> (String, Arc<RivileSim>) {
    let sim = Arc::new(RivileSim::new(
        KEY,
        Seeding {
            seed: 9,
            products,
            customers,
        },
    ));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 9)))
        .await
        .unwrap();
    (url, sim)
}

fn config(url: &str, key: &str, entity: &str) -> ValidatedConfig {
    let text = format!(
        "[connections.erp]\nsystem = \"rivile\"\nbase_url = \"{url}/client/v2\"\napi_key = \"{key}\"\nwarehouse = \"CENTR\"\n\n\
         [connections.out]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {{ connection = \"erp\" }}\n\
         to = {{ connection = \"out\", file = \"x.jsonl\" }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog())
        .unwrap_or_else(|errors| panic!("{errors}"))
}

async fn read_all(config: &ValidatedConfig, since: Option<chrono::DateTime<chrono::Utc>>) -> (Vec<SourceRecord>, u64) {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size: 500,
    };
    let (mut records, mut calls) = (Vec::new(), 0);
    loop {
        let page = source.read_page(&request).await.unwrap();
        calls += page.api_calls;
        records.extend(page.records.into_iter().map(Result::unwrap));
        match page.next {
            Some(next) => request.position = Some(next),
            None => return (records, calls),
        }
    }
}

#[tokio::test]
async fn products_are_read_by_keyset_pages_with_barcodes_and_trimmed_values() {
    let (url, _) = start(250, 0).await;
    let (records, calls) = read_all(&config(&url, KEY, "product"), None).await;
    assert_eq!(records.len(), 250);
    assert_eq!(calls, 6, "3 pages of at most 100 rows, each with its barcode call");
    let first = &records[0];
    assert_eq!(first.key, "A00101");
    assert_eq!(first.data["sku"], "A00101");
    assert_eq!(first.data["unit"], "VNT");
    assert_eq!(first.data["vat_rate"], "21");
    assert_eq!(first.data["raw"]["N17_KILM"], "LT");
    assert!(tiltas_model::is_valid_gtin(first.data["ean"].as_str().unwrap()));
    let keys: std::collections::HashSet<&str> = records.iter().map(|record| record.key.as_str()).collect();
    assert_eq!(keys.len(), 250, "no row read twice");
    assert!(tiltas_model::validate_json(tiltas_model::EntityKind::Product, &first.data).is_ok());
}

#[tokio::test]
async fn an_incremental_read_asks_only_for_rows_changed_since() {
    let (url, sim) = start(120, 0).await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    sim.mutate("product", 7).unwrap();
    let (records, _) = read_all(&config(&url, KEY, "product"), Some(before)).await;
    assert_eq!(records.len(), 7);
}

#[tokio::test]
async fn stock_of_the_warehouse_has_available_as_on_hand_minus_reserved() {
    let (url, _) = start(30, 0).await;
    let (records, _) = read_all(&config(&url, KEY, "stock"), None).await;
    assert_eq!(records.len(), 30);
    let stock = &records[0].data;
    assert_eq!(stock["warehouse"], "CENTR");
    let number = |field: &str| stock[field].as_str().unwrap().parse::<i64>().unwrap();
    assert_eq!(number("available"), number("on_hand") - number("reserved"));
}

#[tokio::test]
async fn customers_are_companies_with_codes_and_addresses() {
    let (url, _) = start(0, 3).await;
    let (records, _) = read_all(&config(&url, KEY, "customer"), None).await;
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].data["billing"]["city"], "Vilnius");
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Customer, &records[0].data).is_ok(),
        "{}",
        records[0].data
    );
}

#[tokio::test]
async fn a_wrong_api_key_is_an_auth_failure_naming_the_fix() {
    let (url, _) = start(1, 0).await;
    let config = config(&url, "wrong", "product");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source
        .read_page(&ReadRequest {
            page_size: 100,
            ..ReadRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("Api key is not valid"), "{}", error.message);
    assert!(
        error.message.contains("check the connection's `api_key`"),
        "{}",
        error.message
    );
}
