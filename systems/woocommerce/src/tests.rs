//! The WooCommerce connector against the simulator: variable products, stock of variations,
//! orders by status and change time, Basic auth over "https".
use crate::registry::{catalog, open_source, open_target};
use crate::{OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_sim::{Harness, SimSystem};
use tiltas_woocommerce_sim::{router, Credentials, Seeding, WooSim};

async fn shop(seeding: Seeding, assume_https: bool) -> (String, Arc<WooSim>) {
    let sim = Arc::new(WooSim::new(
        Credentials {
            consumer_key: "ck_t".to_owned(),
            consumer_secret: "cs_t".to_owned(),
        },
        seeding,
        None,
        assume_https,
    ));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 4)))
        .await
        .unwrap();
    (url, sim)
}

fn empty() -> Seeding {
    Seeding {
        seed: 4,
        products: 0,
        customers: 0,
        orders: 0,
        some_without_sku: false,
    }
}

/// A flow moving `entity` between the shop and a JSON Lines file (`shop_side` is from or to).
fn config(url: &str, entity: &str, shop_is_source: bool, extra: &str) -> ValidatedConfig {
    let (from, to) = if shop_is_source {
        (
            format!("{{ connection = \"shop\"{extra} }}"),
            "{ connection = \"file\", file = \"x.jsonl\" }".to_owned(),
        )
    } else {
        (
            "{ connection = \"file\", file = \"x.jsonl\" }".to_owned(),
            format!("{{ connection = \"shop\"{extra} }}"),
        )
    };
    let text = format!(
        "[connections.shop]\nsystem = \"woocommerce\"\nbase_url = \"{url}\"\nconsumer_key = \"ck_t\"\nconsumer_secret = \"cs_t\"\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {from}\nto = {to}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn item(payload: Value, target_id: Option<&str>) -> WriteItem {
    WriteItem {
        source_key: payload["sku"].as_str().unwrap_or("k").to_owned(),
        target_id: target_id.map(str::to_owned),
        payload,
    }
}

fn written(outcome: &WriteOutcome) -> String {
    match outcome {
        WriteOutcome::Written { target_id } => target_id.clone(),
        WriteOutcome::Failed(error) => panic!("{error}"),
    }
}

async fn read_all(config: &ValidatedConfig, since: Option<chrono::DateTime<chrono::Utc>>) -> (Vec<SourceRecord>, u64) {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size: 100,
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

fn tee(price_m: &str) -> Value {
    json!({
        "sku": "TEE", "name": "Marškinėliai", "categories": ["Drabužiai", "Vasara"],
        "variants": [
            {"sku": "TEE-S", "price_gross": "20", "attributes": {"Dydis": "S"}},
            {"sku": "TEE-M", "price_gross": price_m, "attributes": {"Dydis": "M"}}
        ]
    })
}

#[tokio::test]
async fn a_variable_product_is_written_with_its_variations_and_categories_then_updated_in_place() {
    let (url, sim) = shop(empty(), false).await;
    let config = config(&url, "product", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();

    let first = target.write_batch(vec![item(tee("22"), None)]).await.unwrap();
    let id = written(&first.outcomes[0]);
    let second = target.write_batch(vec![item(tee("23.50"), Some(&id))]).await.unwrap();
    assert_eq!(written(&second.outcomes[0]), id);

    let products = sim.records("product").unwrap();
    assert_eq!(products.as_array().unwrap().len(), 1);
    assert_eq!(products[0]["type"], "variable");
    let categories: Vec<&str> = products[0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(categories, ["Drabužiai", "Vasara"]);
    let all_categories = sim.records("category").unwrap();
    for name in ["Drabužiai", "Vasara"] {
        let copies = all_categories
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == name)
            .count();
        assert_eq!(copies, 1, "{name}: found or created once");
    }
    let variations = sim.records("variation").unwrap();
    let variations = variations.as_array().unwrap();
    assert_eq!(variations.len(), 2, "updated by SKU, not added again");
    let m = variations.iter().find(|v| v["sku"] == "TEE-M").unwrap();
    assert_eq!(m["regular_price"], "23.50");
    assert_eq!(m["attributes"][0]["option"], "M");

    let (read, _) = read_all(&self::config(&url, "product", true, ""), None).await;
    assert_eq!(read.len(), 1);
    assert_eq!(
        read[0].data["variants"].as_array().unwrap().len(),
        2,
        "{}",
        read[0].data
    );
    assert_eq!(sim.duplicates(), 0);
}

#[tokio::test]
async fn stock_reaches_simple_products_and_variations_found_by_sku() {
    let (url, sim) = shop(empty(), false).await;
    let products = config(&url, "product", false, "");
    let mut target = open_target(&products, &products.flows[0], Arc::new(OpenGate)).unwrap();
    target
        .write_batch(vec![
            item(tee("22"), None),
            item(json!({"sku": "HAMMER", "name": "Plaktukas", "price_gross": "9"}), None),
        ])
        .await
        .unwrap();

    let stock = config(&url, "stock", false, "");
    let mut target = open_target(&stock, &stock.flows[0], Arc::new(OpenGate)).unwrap();
    let found = target
        .lookup(
            Some("sku"),
            &["TEE-M".to_owned(), "HAMMER".to_owned(), "NOPE".to_owned()],
        )
        .await
        .unwrap();
    assert!(found.found["TEE-M"].target_id.contains('/'), "a variation is parent/id");
    assert!(!found.found["HAMMER"].target_id.contains('/'));
    assert!(!found.found.contains_key("NOPE"));
    let result = target
        .write_batch(vec![
            item(
                json!({"sku": "TEE-M", "warehouse": "CENTR", "on_hand": "7", "reserved": "2", "available": "5"}),
                Some(&found.found["TEE-M"].target_id),
            ),
            item(
                json!({"sku": "HAMMER", "warehouse": "CENTR", "on_hand": "3.7", "reserved": "0"}),
                None,
            ),
            item(
                json!({"sku": "NOPE", "warehouse": "CENTR", "on_hand": "1", "reserved": "0"}),
                None,
            ),
        ])
        .await
        .unwrap();
    written(&result.outcomes[0]);
    written(&result.outcomes[1]);
    match &result.outcomes[2] {
        WriteOutcome::Failed(error) => assert!(error.message.contains("sync products first"), "{error}"),
        other => panic!("{other:?}"),
    }
    let variations = sim.records("variation").unwrap();
    let m = variations
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "TEE-M")
        .unwrap();
    assert_eq!(
        (m["manage_stock"].clone(), m["stock_quantity"].clone()),
        (json!(true), json!(5))
    );
    let products = sim.records("product").unwrap();
    let hammer = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "HAMMER")
        .unwrap();
    assert_eq!(hammer["stock_quantity"], 3, "whole units, rounded down");
}

#[tokio::test]
async fn orders_are_read_by_status_and_change_time() {
    let seeding = Seeding { products: 6, ..empty() };
    let (url, sim) = shop(seeding, false).await;
    assert_eq!(sim.mutate("order", 8).unwrap(), 8);
    let (all, _) = read_all(&config(&url, "order", true, ""), None).await;
    assert_eq!(all.len(), 8);
    let order = &all[0].data;
    assert!(
        order["customer"]["email"]
            .as_str()
            .is_some_and(|email| email.contains('@')),
        "{order}"
    );
    assert!(!order["lines"].as_array().unwrap().is_empty());
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Order, order).is_ok(),
        "{order}"
    );

    let (none, _) = read_all(&config(&url, "order", true, ", statuses = [\"completed\"]"), None).await;
    assert!(none.is_empty(), "mutated orders are processing");

    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let (changed, calls) = read_all(&config(&url, "order", true, ""), Some(later)).await;
    assert_eq!((changed.len(), calls), (0, 1), "nothing changed after the cursor");
}

#[tokio::test]
async fn basic_auth_is_used_over_https_and_a_wrong_secret_is_an_auth_failure() {
    let (url, _) = shop(Seeding { products: 3, ..empty() }, true).await;
    let basic = config(&url, "product", true, "").flows[0].clone();
    let text = format!(
        "[connections.shop]\nsystem = \"woocommerce\"\nbase_url = \"{url}\"\nauth = \"basic\"\nconsumer_key = \"ck_t\"\nconsumer_secret = \"cs_t\"\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"placeholder\"\nentity = \"product\"\nfrom = {{ connection = \"file\", file = \"in.jsonl\" }}\nto = {{ connection = \"file\", file = \"out.jsonl\" }}\n"
    );
    let mut config =
        tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"));
    // A flow file needs a flow; the placeholder gives way to the flow under test.
    config.flows = vec![basic];
    let (records, _) = read_all(&config, None).await;
    assert_eq!(records.len(), 3);

    let wrong = config_with_secret(&url, "cs_wrong");
    let mut source = open_source(&wrong, &wrong.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source
        .read_page(&ReadRequest {
            position: None,
            changed_since: None,
            page_size: 10,
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, crate::ErrorKind::Auth, "{error}");
    assert!(
        error.message.contains("woocommerce_rest_authentication_error"),
        "{error}"
    );
}

fn config_with_secret(url: &str, secret: &str) -> ValidatedConfig {
    let text = format!(
        "[connections.shop]\nsystem = \"woocommerce\"\nbase_url = \"{url}\"\nconsumer_key = \"ck_t\"\nconsumer_secret = \"{secret}\"\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"product\"\nfrom = {{ connection = \"shop\" }}\nto = {{ connection = \"file\", file = \"x.jsonl\" }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_variation_without_a_sku_is_reported_not_dropped() {
    let (url, sim) = shop(empty(), false).await;
    let writing = config(&url, "product", false, "");
    let mut target = open_target(&writing, &writing.flows[0], Arc::new(OpenGate)).unwrap();
    let mut product = tee("22");
    product["variants"]
        .as_array_mut()
        .unwrap()
        .push(json!({"price_gross": "24", "attributes": {"Dydis": "L"}}));
    let written = target.write_batch(vec![item(product, None)]).await.unwrap();
    let id = self::written(&written.outcomes[0]);
    let variations = sim.records("variation").unwrap();
    assert_eq!(
        variations.as_array().unwrap().len(),
        3,
        "the shop holds a variation without SKU"
    );

    let reading = config(&url, "product", true, "");
    let mut source = open_source(&reading, &reading.flows[0], Arc::new(OpenGate)).unwrap();
    let page = source
        .read_page(&ReadRequest {
            position: None,
            changed_since: None,
            page_size: 100,
        })
        .await
        .unwrap();
    let (records, failures): (Vec<_>, Vec<_>) = page.records.into_iter().partition(Result::is_ok);
    let product = records.into_iter().next().unwrap().unwrap();
    assert_eq!(product.data["variants"].as_array().unwrap().len(), 2);
    assert_eq!(failures.len(), 1, "the unreadable variation is a failure of its own");
    let failure = failures.into_iter().next().unwrap().unwrap_err();
    assert!(failure.key.starts_with(&format!("{id}/variations/")), "{}", failure.key);
    assert!(
        failure.message.contains("(L) of product TEE has no SKU") && failure.message.contains("give it a SKU"),
        "{}",
        failure.message
    );
    assert_eq!(failure.raw["attributes"][0]["option"], "L");
}
