use crate::registry::{catalog, open_source};
use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_rivile_sim::{router, RivileSim, Seeding};
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

/// A flow reading `entity` from Rivile (extra connection lines and `from` keys) into a file.
fn reading(url: &str, key: &str, connection: &str, entity: &str, from: &str) -> ValidatedConfig {
    let text = format!(
        "[connections.erp]\nsystem = \"rivile\"\nbase_url = \"{url}/client/v2\"\napi_key = \"{key}\"\n{connection}\n\
         [connections.out]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\n\
         from = {{ connection = \"erp\"{from} }}\nto = {{ connection = \"out\", file = \"x.jsonl\" }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

/// A flow writing `entity` from a file into Rivile (extra `to` keys and flow keys).
fn writing(url: &str, entity: &str, to: &str, flow: &str) -> ValidatedConfig {
    let text = format!(
        "[connections.erp]\nsystem = \"rivile\"\nbase_url = \"{url}/client/v2\"\napi_key = \"{KEY}\"\nwarehouse = \"CENTR\"\n\n\
         [connections.src]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\n\
         from = {{ connection = \"src\", file = \"x.jsonl\" }}\nto = {{ connection = \"erp\"{to} }}\n{flow}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn config(url: &str, key: &str, entity: &str) -> ValidatedConfig {
    reading(url, key, "warehouse = \"CENTR\"\n", entity, "")
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
    assert_eq!(
        calls, 12,
        "3 pages of at most 100 rows, each with its barcode, price list and warehouse price calls"
    );
    let first = &records[0];
    assert_eq!(first.key, "A00101");
    assert_eq!(first.data["sku"], "A00101");
    assert_eq!(first.data["unit"], "VNT");
    assert_eq!(first.data["vat_rate"], "21");
    assert!(
        first.data["price_net"]
            .as_str()
            .is_some_and(|price| price.parse::<f64>().is_ok()),
        "{}",
        first.data
    );
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
    assert_eq!(
        records[0].data["shipping"]["city"], "Kaunas",
        "the delivery address comes from N33 (list A)"
    );
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

fn write_config(url: &str, entity: &str) -> ValidatedConfig {
    writing(url, entity, "", "")
}

fn item(payload: serde_json::Value, target_id: Option<&str>) -> crate::WriteItem {
    crate::WriteItem {
        source_key: "k".into(),
        target_id: target_id.map(str::to_owned),
        payload,
    }
}

#[tokio::test]
async fn products_are_created_and_updated_with_edit_n17_and_found_by_code() {
    let (url, sim) = start(0, 0).await;
    let config = write_config(&url, "product");
    let mut target = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let created = target
        .write_batch(vec![item(serde_json::json!({"sku": "B200", "name": "Tepalas", "unit": "VNT", "vat_rate": "21", "raw": {"N17_KILM": "DE"}}), None)])
        .await
        .unwrap();
    assert_eq!(
        created.outcomes,
        vec![crate::WriteOutcome::Written {
            target_id: "B200".into()
        }]
    );
    target
        .write_batch(vec![item(
            serde_json::json!({"sku": "B200", "name": "Tepalas 5W-30"}),
            Some("B200"),
        )])
        .await
        .unwrap();
    let rows = sim.records("product").unwrap();
    assert_eq!(rows[0]["N17_PAV"], "Tepalas 5W-30");
    assert_eq!(rows[0]["N17_KILM"], "DE");
    assert_eq!(rows[0]["N17_USERIS"], "TESTKEY", "the key's prefix is the GAMA user");

    let found = target
        .lookup(Some("sku"), &["B200".into(), "nope".into()])
        .await
        .unwrap();
    assert_eq!(found.found.len(), 1);
    assert_eq!(found.found["B200"].target_id, "B200");
}

#[tokio::test]
async fn a_duplicate_code_and_a_too_long_name_fail_alone_with_rivile_explanations() {
    let (url, _) = start(3, 0).await;
    let config = write_config(&url, "product");
    let mut target = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let result = target
        .write_batch(vec![
            item(serde_json::json!({"sku": "A00101", "name": "jau yra"}), None),
            item(serde_json::json!({"sku": "C1", "name": "x".repeat(101)}), None),
            item(serde_json::json!({"sku": "C2", "name": "gerai"}), None),
        ])
        .await
        .unwrap();
    match &result.outcomes[0] {
        crate::WriteOutcome::Failed(error) => {
            assert!(error.message.contains("5008"), "{}", error.message);
            assert!(
                error
                    .message
                    .contains("duplicate: a product with this code already exists"),
                "{}",
                error.message
            );
        }
        other => panic!("{other:?}"),
    }
    match &result.outcomes[1] {
        crate::WriteOutcome::Failed(error) => assert!(
            error
                .message
                .contains("N17_PAV holds 100 characters and the value has 101"),
            "{}",
            error.message
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        result.outcomes[2],
        crate::WriteOutcome::Written { target_id: "C2".into() }
    );
    assert_eq!(result.api_calls, 2, "the too-long record was refused without a call");
}

#[tokio::test]
async fn clients_are_written_with_edit_n08_full() {
    let (url, sim) = start(0, 0).await;
    let config = write_config(&url, "customer");
    let mut target = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let customer = serde_json::json!({"code": "K7", "company_name": "UAB Ratai", "email": "info@ratai.lt",
        "billing": {"city": "Kaunas", "country": "LT"}, "shipping": {"line1": "Sandėlio g. 1", "city": "Klaipėda", "country": "LT"}});
    let result = target.write_batch(vec![item(customer, None)]).await.unwrap();
    assert_eq!(
        result.outcomes,
        vec![crate::WriteOutcome::Written { target_id: "K7".into() }]
    );
    let rows = sim.records("customer").unwrap();
    assert_eq!(rows[0]["N08_MIESTAS"], "Kaunas");
    let found = target.lookup(Some("email"), &["INFO@ratai.lt".into()]).await.unwrap();
    assert_eq!(found.found["INFO@ratai.lt"].target_id, "K7");
    let addresses = sim.records("N33").unwrap();
    assert_eq!(
        addresses.as_array().unwrap().len(),
        1,
        "the delivery address went to N33: {addresses}"
    );
    assert_eq!(addresses[0]["N33_MIESTAS"], "Klaipėda");
}

fn order(number: &str, client: &str, sku: &str) -> serde_json::Value {
    serde_json::json!({
        "number": number,
        "created_at": "2026-11-20T10:00:00Z",
        "customer": {"code": client},
        "lines": [{"sku": sku, "quantity": "2", "price": "12.50", "vat_rate": "21"}]
    })
}

#[tokio::test]
async fn an_order_becomes_a_sales_invoice_with_its_lines_and_vat() {
    let (url, sim) = start(2, 1).await;
    let client = first_client(&sim);
    let config = orders_into_rivile(&url, ", operation = \"51\"", "match_on = \"number\"");
    let mut target = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();

    let result = target
        .write_batch(vec![
            item(order("WEB-1001", &client, "A00101"), None),
            item(order("WEB-1002", &client, "NERA"), None),
            item(order("WEB-1003", "000", "A00101"), None),
        ])
        .await
        .unwrap();

    assert_eq!(
        result.outcomes[0],
        crate::WriteOutcome::Written {
            target_id: "010R00000001".into()
        }
    );
    let failure = |index: usize| match &result.outcomes[index] {
        crate::WriteOutcome::Failed(error) => error.message.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        failure(1).contains("3002") && failure(1).starts_with("unknown product for line 1 — "),
        "{}",
        failure(1)
    );
    assert!(
        failure(2).contains("3001") && failure(2).starts_with("unknown client — "),
        "{}",
        failure(2)
    );

    let found = target
        .lookup(Some("number"), &["WEB-1001".into(), "WEB-1002".into()])
        .await
        .unwrap();
    assert_eq!(found.found.len(), 1);
    assert_eq!(found.found["WEB-1001"].target_id, "010R00000001");

    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/client/v2"))
        .header("ApiKey", KEY)
        .header("Accept", "application/json")
        .json(&serde_json::json!({"method": "GET_I06_LIST", "params": {"list": "A", "fil": "i06_op_tip = 51"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let document = &answer["I06"];
    assert_eq!(document["I06_DOK_NR"].as_str().unwrap().trim_end(), "WEB-1001");
    assert_eq!(document["I06_SUMA"], "25.00");
    assert_eq!(document["I06_PVM"], "5.25");
    assert_eq!(document["I06_KODAS_IS"].as_str().unwrap().trim_end(), "CENTR");
    assert_eq!(document["I07"][0]["I07_KODAS_IS"].as_str().unwrap().trim_end(), "CENTR");
    assert_eq!(document["I07"][0]["I07_MOKESTIS_P"], "21.00");
}

#[tokio::test]
async fn error_action_continue_stores_the_good_lines_and_answers_207_with_the_bad_ones() {
    let (url, sim) = start(1, 1).await;
    let client = first_client(&sim);
    let body = serde_json::json!({
        "method": "EDIT_I06_FULL",
        "params": {"errorAction": "CONTINUE"},
        "data": {"I06": {"I06_OP_TIP": "51", "I06_DOK_NR": "SF-104", "I06_OP_DATA": "2024-06-01", "I06_KODAS_KS": client,
            "I06_KODAS_IS": "CENTR", "I06_VAL_POZ": "0",
            "I07": [
                {"I07_KODAS": "A00101", "I07_TIPAS": "1", "I07_KIEKIS": "2", "I07_KAINA_BE": "12.5", "I07_MOKESTIS": "1", "I07_MOKESTIS_P": "21"},
                {"I07_KODAS": "NERA", "I07_TIPAS": "1", "I07_KIEKIS": "1", "I07_KAINA_BE": "1", "I07_MOKESTIS": "1", "I07_MOKESTIS_P": "21"}
            ]}}
    });
    let response = reqwest::Client::new()
        .post(format!("{url}/client/v2"))
        .header("ApiKey", KEY)
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 207);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["I06"]["I07"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer["errors"][0]["dataErrors"][0]["tag"], "I07_KODAS");
    assert_eq!(sim.record_counts()["order"], 1);
}

#[tokio::test]
async fn a_price_change_alone_brings_its_product_into_an_incremental_read() {
    let (url, sim) = start(150, 0).await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    sim.mutate("price", 4).unwrap();
    sim.mutate("product", 2).unwrap();
    let (records, _) = read_all(&config_from(&url, "product", ""), Some(before)).await;
    let prices = sim.records("price").unwrap();
    assert!(records.len() >= 4 && records.len() <= 6, "{} records", records.len());
    let keys: std::collections::HashSet<&str> = records.iter().map(|record| record.key.as_str()).collect();
    assert_eq!(keys.len(), records.len(), "a product read twice");
    for record in &records {
        let price = prices
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["N32_KODAS_PS"] == record.data["sku"])
            .unwrap();
        let expected: rust_decimal::Decimal = price["N32_KAINA1"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            record.data["price_net"].as_str().unwrap(),
            expected.normalize().to_string()
        );
    }
}

#[tokio::test]
async fn sales_documents_are_read_with_their_lines() {
    let (url, sim) = start(2, 1).await;
    let client = first_client(&sim);
    let config = orders_into_rivile(&url, "", "");
    let mut target = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    target
        .write_batch(vec![item(order("WEB-7", &client, "A00102"), None)])
        .await
        .unwrap();

    let (documents, calls) = read_all(&config_for_documents(&url), None).await;

    assert_eq!(calls, 1, "lines come nested (list A), not by extra calls");
    assert_eq!(documents.len(), 1);
    let document = &documents[0].data;
    assert_eq!(document["number"], "WEB-7");
    assert_eq!(document["kind"], "sales_invoice");
    assert_eq!(document["total"], "30.25");
    assert_eq!(document["lines"][0]["sku"], "A00102");
    assert_eq!(document["lines"][0]["quantity"], "2");
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Document, document).is_ok(),
        "{document}"
    );
}

/// The first seeded client's code.
fn first_client(sim: &RivileSim) -> String {
    sim.records("customer").unwrap()[0]["N08_KODAS_KS"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A flow writing orders from a JSON Lines file into Rivile, with extra `to` keys and flow keys.
fn orders_into_rivile(url: &str, to: &str, flow: &str) -> ValidatedConfig {
    writing(url, "order", to, flow)
}

fn config_for_documents(url: &str) -> ValidatedConfig {
    config(url, KEY, "document")
}

#[tokio::test]
async fn orders_can_be_posted_after_they_are_written() {
    let (url, sim) = start(1, 1).await;
    let client = first_client(&sim);
    let config = orders_into_rivile(&url, ", post = true", "");
    let mut target = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();

    let result = target
        .write_batch(vec![item(order("WEB-9", &client, "A00101"), None)])
        .await
        .unwrap();

    assert_eq!(
        result.outcomes,
        vec![crate::WriteOutcome::Written {
            target_id: "010R00000001".into()
        }]
    );
    assert_eq!(result.api_calls, 2, "written, then posted");
    let documents = sim.records("I06").unwrap();
    assert_eq!(documents[0]["I06_PERKELTA"], "2", "{documents}");
}

/// A config whose flow reads `entity` from Rivile with extra `from` settings.
fn config_from(url: &str, entity: &str, from: &str) -> ValidatedConfig {
    reading(url, KEY, "", entity, from)
}

#[tokio::test]
async fn a_warehouse_price_overrides_the_price_list_and_its_change_is_read_incrementally() {
    let (url, sim) = start(30, 0).await;
    let warehouse_prices = sim.records("I33").unwrap();
    let list_prices = sim.records("price").unwrap();
    let price_of = |rows: &serde_json::Value, code: &str, column: &str| -> Option<String> {
        rows.as_array()?
            .iter()
            .find(|row| row[column.replace("KAINA1", "KODAS_PS").replace("KAINA", "KODAS_PS")] == code)
            .and_then(|row| row[column].as_str())
            .map(|price| price.parse::<rust_decimal::Decimal>().unwrap().normalize().to_string())
    };

    let (records, calls) = read_all(&config_from(&url, "product", ", warehouse = \"CENTR\""), None).await;
    assert_eq!(calls, 4, "one page: products, barcodes, price list, warehouse prices");
    let (without, _) = read_all(&config_from(&url, "product", ""), None).await;
    assert_eq!(warehouse_prices.as_array().unwrap().len(), 10, "every third product");
    for (with_warehouse, plain) in records.iter().zip(&without) {
        let sku = with_warehouse.data["sku"].as_str().unwrap();
        let expected = price_of(&warehouse_prices, sku, "I33_KAINA")
            .or_else(|| price_of(&list_prices, sku, "N32_KAINA1"))
            .unwrap();
        assert_eq!(with_warehouse.data["price_net"], expected.as_str(), "{sku}");
        assert_eq!(
            plain.data["price_net"],
            price_of(&list_prices, sku, "N32_KAINA1").unwrap().as_str(),
            "{sku}: without a warehouse the price list applies"
        );
    }

    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    assert_eq!(sim.mutate("warehouse_price", 2).unwrap(), 2);
    let (changed, _) = read_all(&config_from(&url, "product", ", warehouse = \"CENTR\""), Some(before)).await;
    let changed_prices = sim.records("I33").unwrap();
    assert_eq!(changed.len(), 2, "only the two products whose warehouse price changed");
    for record in &changed {
        let sku = record.data["sku"].as_str().unwrap();
        assert_eq!(
            record.data["price_net"],
            price_of(&changed_prices, sku, "I33_KAINA").unwrap().as_str()
        );
    }
}

#[tokio::test]
async fn price_lists_are_read_as_one_record_per_level_across_pages() {
    let (url, sim) = start(230, 0).await;
    let (records, calls) = read_all(&config_from(&url, "price_list", ""), None).await;
    assert_eq!(calls, 3, "230 rows in keyset pages of 100");
    assert_eq!(records.len(), 1, "the simulator fills level A only");
    let list = &records[0].data;
    assert_eq!(list["code"], "A");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 230);
    let skus: std::collections::HashSet<&str> = items.iter().filter_map(|item| item["sku"].as_str()).collect();
    assert_eq!(skus.len(), 230, "no product twice");
    let first = &sim.records("price").unwrap()[0];
    assert_eq!(items[0]["sku"], first["N32_KODAS_PS"]);
    assert_eq!(
        items[0]["price"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        first["N32_KAINA1"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    );
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::PriceList, list).is_ok(),
        "{list}"
    );
}

#[tokio::test]
async fn internal_documents_are_read_with_their_lines() {
    let (url, sim) = start(60, 0).await;
    let (documents, calls) = read_all(&config_from(&url, "document", ", documents = \"internal\""), None).await;
    assert_eq!(calls, 1, "lines come nested (list A)");
    assert_eq!(documents.len(), 3);
    assert_eq!(
        documents[0].data["number"],
        sim.records("I09").unwrap()[0]["I09_DOK_NR"],
        "{}",
        documents[0].data
    );
    let kinds: Vec<&str> = documents.iter().filter_map(|d| d.data["kind"].as_str()).collect();
    assert_eq!(kinds, ["transfer", "write_off", "inventory"]);
    let transfer = &documents[0].data;
    assert_eq!(transfer["warehouse"], "CENTR");
    assert_eq!(transfer["to_warehouse"], "VLN");
    assert!(!transfer["lines"].as_array().unwrap().is_empty());
    for document in &documents {
        assert!(
            tiltas_model::validate_json(tiltas_model::EntityKind::Document, &document.data).is_ok(),
            "{}",
            document.data
        );
    }
}

#[tokio::test]
async fn a_document_found_unposted_is_posted_when_it_is_adopted() {
    let (url, sim) = start(1, 1).await;
    let client = first_client(&sim);
    let target_config = |post: bool| orders_into_rivile(&url, &format!(", post = {post}"), "");
    // The state a failed post leaves: the document written, not posted.
    let unposted = target_config(false);
    let mut target = crate::registry::open_target(&unposted, &unposted.flows[0], Arc::new(OpenGate)).unwrap();
    target
        .write_batch(vec![item(order("WEB-11", &client, "A00101"), None)])
        .await
        .unwrap();
    assert_ne!(sim.records("I06").unwrap()[0]["I06_PERKELTA"], "2");

    let posting = target_config(true);
    let mut target = crate::registry::open_target(&posting, &posting.flows[0], Arc::new(OpenGate)).unwrap();
    let found = target.lookup(Some("number"), &["WEB-11".to_owned()]).await.unwrap();

    assert_eq!(found.found["WEB-11"].target_id, "010R00000001");
    assert_eq!(found.api_calls, 2, "looked up, then posted");
    assert_eq!(sim.records("I06").unwrap()[0]["I06_PERKELTA"], "2");
    let again = target.lookup(Some("number"), &["WEB-11".to_owned()]).await.unwrap();
    assert_eq!(again.api_calls, 1, "a posted document is not posted twice");
}

#[tokio::test]
async fn an_order_with_no_warehouse_anywhere_fails_in_english_naming_the_fix_and_keeping_rivile_text() {
    let (url, sim) = start(3, 1).await;
    let client = first_client(&sim);
    // No `warehouse` on the connection, the flow's `to`, in `defaults` or in the map.
    let text = format!(
        "[connections.erp]\nsystem = \"rivile\"\nbase_url = \"{url}/client/v2\"\napi_key = \"{KEY}\"\n\n\
         [connections.src]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"orders-to-erp\"\nentity = \"order\"\n\
         from = {{ connection = \"src\", file = \"x.jsonl\" }}\nto = {{ connection = \"erp\" }}\n"
    );
    let config = tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog())
        .unwrap_or_else(|errors| panic!("a missing warehouse is a warning, not an error: {errors}"));
    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("flows.toml:13:1: warning: flow \"orders-to-erp\": ")
            && warnings[0].contains("`defaults.warehouse` on the flow")
            && warnings[0].contains("`warehouse` on connection \"erp\""),
        "{}",
        warnings[0]
    );

    let mut target = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut order = order("WEB-77", &client, "A00101");
    order["lines"] = serde_json::json!([
        {"sku": "A00101", "quantity": "1", "price": "10", "vat_rate": "21"},
        {"sku": "A00102", "quantity": "1", "price": "10", "vat_rate": "21"},
        {"sku": "A00103", "quantity": "1", "price": "10", "vat_rate": "21"},
    ]);
    let result = target.write_batch(vec![item(order, None)]).await.unwrap();

    let error = match &result.outcomes[0] {
        crate::WriteOutcome::Failed(error) => error,
        other => panic!("{other:?}"),
    };
    assert_eq!(error.kind, ErrorKind::Invalid, "a dead letter, not a retry");
    assert_eq!(
        error.message,
        "no warehouse for lines 1–3 — set `defaults.warehouse` on the flow or `warehouse` on the connection \
         (Rivile: I07_KODAS_IS 1 \"Nenurodytas padalinys\") (EDIT_I06_FULL answered 400 Bad Request)"
    );
    assert!(
        sim.records("I06").unwrap().as_array().unwrap().is_empty(),
        "nothing was booked"
    );
}

mod flows;
mod purchases;
