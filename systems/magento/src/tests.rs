//! The Magento connector against the simulator (keyset pages, configurables as variants,
//! orders with parent and child rows, writes by SKU to every store view, MSI source items,
//! Magento's error texts) and against the recorded responses of a real shop.
use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_magento_sim::{router, MagentoSim, Seeding};
use tiltas_sim::{Faults, Harness, SimSystem};

const TOKEN: &str = "t-magento";
const SEED: u64 = 15;

async fn shop(seeding: Seeding) -> (String, Arc<MagentoSim>, Arc<Harness>) {
    let sim = Arc::new(MagentoSim::new(TOKEN, seeding));
    let harness = Harness::new(sim.clone(), seeding.seed);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .expect("start the simulator");
    (url, sim, harness)
}

fn seeding(products: usize, customers: usize, orders: usize) -> Seeding {
    Seeding {
        seed: SEED,
        products,
        customers,
        orders,
    }
}

/// A flow moving `entity` between the shop and a JSON Lines file.
fn config(url: &str, token: &str, entity: &str, shop_is_source: bool, extra: &str) -> ValidatedConfig {
    let shop = format!("{{ connection = \"shop\"{extra} }}");
    let file = "{ connection = \"file\", file = \"x.jsonl\" }".to_owned();
    let (from, to) = if shop_is_source { (shop, file) } else { (file, shop) };
    let text = format!(
        "[connections.shop]\nsystem = \"magento\"\nbase_url = \"{url}\"\ntoken = \"{token}\"\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {from}\nto = {to}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

async fn read_all(
    config: &ValidatedConfig,
    since: Option<chrono::DateTime<chrono::Utc>>,
    page_size: usize,
) -> (Vec<SourceRecord>, u64, usize) {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size,
    };
    let (mut records, mut calls, mut pages) = (Vec::new(), 0, 0);
    loop {
        let page = source
            .read_page(&request)
            .await
            .unwrap_or_else(|e| panic!("{e} (seed {SEED})"));
        pages += 1;
        calls += page.api_calls;
        records.extend(
            page.records
                .into_iter()
                .map(|record| record.unwrap_or_else(|f| panic!("{f:?}"))),
        );
        match page.next {
            Some(next) => request.position = Some(next),
            None => return (records, calls, pages),
        }
    }
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

fn failed(outcome: &WriteOutcome) -> &crate::ConnectorError {
    match outcome {
        WriteOutcome::Written { target_id } => panic!("written as {target_id}, expected a failure"),
        WriteOutcome::Failed(error) => error,
    }
}

#[tokio::test]
async fn products_are_read_in_keyset_pages_with_configurables_as_variants() {
    let (url, sim, _) = shop(seeding(22, 0, 0)).await;
    let config = config(&url, TOKEN, "product", true, "");
    let (records, calls, pages) = read_all(&config, None, 7).await;
    let expected = sim.record_counts()["product"];
    assert_eq!(
        records.len(),
        expected,
        "every product once, children folded in (seed {SEED})"
    );
    assert!(pages >= 4, "pages of 7 over 22 products and their 20 children: {pages}");
    let skus: Vec<&str> = records
        .iter()
        .filter_map(|record| record.data["sku"].as_str())
        .collect();
    assert!(
        !skus.iter().any(|sku| sku.contains("-S-")),
        "a child delivered on its own: {skus:?}"
    );
    let configurable = records
        .iter()
        .find(|record| record.data["sku"] == "MT-00004")
        .expect("the configurable MT-00004");
    let variants = configurable.data["variants"].as_array().expect("variants");
    assert_eq!(variants.len(), 4);
    assert_eq!(variants[0]["sku"], "MT-00004-S-Black");
    assert_eq!(variants[0]["attributes"], json!({"Color": "Black", "Size": "S"}));
    // One search per page, one children call per configurable, one options call per attribute.
    assert_eq!(calls as usize, pages + 5 + 2, "{calls} calls for {pages} pages");
    assert!(configurable.updated_at.is_some());
}

#[tokio::test]
async fn categories_are_read_below_the_store_root_with_their_parents() {
    let (url, _, _) = shop(seeding(0, 0, 0)).await;
    let config = config(&url, TOKEN, "category", true, "");
    let (records, calls, _) = read_all(&config, None, 2).await;
    let named: Vec<(String, String, Option<String>)> = records
        .iter()
        .map(|record| {
            let text = |field: &str| record.data[field].as_str().map(str::to_owned);
            (
                record.key.clone(),
                text("name").unwrap_or_default(),
                text("parent_code"),
            )
        })
        .collect();
    assert_eq!(
        named,
        vec![
            ("3".to_owned(), "Gear".to_owned(), None),
            ("4".to_owned(), "Men".to_owned(), None),
            ("5".to_owned(), "Women".to_owned(), None),
            ("6".to_owned(), "Bags".to_owned(), Some("3".to_owned())),
        ],
        "the store's root is not a category of the catalogue"
    );
    assert!(calls >= 2, "pages of 2");
    assert!(records.iter().all(|record| record.updated_at.is_some()));
    let newest = records.iter().filter_map(|record| record.updated_at).max().unwrap();
    let (changed, _, _) = read_all(&config, Some(newest + chrono::Duration::seconds(1)), 2).await;
    assert!(changed.is_empty(), "nothing changed since");
}

#[tokio::test]
async fn customers_are_read_incrementally_by_updated_at() {
    let (url, sim, _) = shop(seeding(0, 12, 0)).await;
    let config = config(&url, TOKEN, "customer", true, "");
    let (records, _, _) = read_all(&config, None, 5).await;
    assert_eq!(records.len(), 12);
    let newest = records.iter().filter_map(|record| record.updated_at).max().unwrap();
    let company = records
        .iter()
        .find(|record| record.data["kind"] == "company")
        .expect("a company");
    assert!(company.data["company_name"].as_str().unwrap().starts_with("UAB "));
    assert_eq!(company.data["billing"]["country"], "LT");
    sim.mutate("customer", 3).unwrap();
    let (changed, _, _) = read_all(&config, Some(newest + chrono::Duration::seconds(1)), 5).await;
    assert_eq!(changed.len(), 3, "exactly the changed customers (seed {SEED})");
}

#[tokio::test]
async fn orders_are_read_by_updated_at_with_configurable_lines_booked_once() {
    let (url, sim, _) = shop(seeding(12, 4, 15)).await;
    let config = config(&url, TOKEN, "order", true, "");
    let (records, _, _) = read_all(&config, None, 4).await;
    assert_eq!(records.len(), 15);
    let stored = sim.records("order").unwrap();
    let mut saw_configurable = false;
    for (record, order) in records.iter().zip(stored.as_array().unwrap()) {
        assert_eq!(record.data["number"], order["increment_id"]);
        let parents: Vec<&Value> = order["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row.get("parent_item_id").is_none())
            .collect();
        saw_configurable |= parents.iter().any(|row| row["product_type"] == "configurable");
        let lines = record.data["lines"].as_array().unwrap();
        assert_eq!(lines.len(), parents.len(), "one line per item sold: {order}");
        for (line, row) in lines.iter().zip(&parents) {
            assert_eq!(line["sku"], row["sku"]);
            assert_eq!(line["quantity"], row["qty_ordered"].to_string());
            assert_eq!(line["vat_rate"], "21");
        }
        assert_eq!(record.data["raw"]["status_histories"][0]["comment"], "Order placed");
        assert_eq!(record.data["shipping_method"], "flatrate_flatrate");
    }
    assert!(saw_configurable, "seed {SEED} sold no configurable product");
    let newest = records.iter().filter_map(|record| record.updated_at).max().unwrap();
    sim.mutate("order", 3).unwrap();
    let (new, _, _) = read_all(&config, Some(newest + chrono::Duration::seconds(1)), 4).await;
    assert_eq!(new.len(), 3, "exactly the new orders");
}

#[tokio::test]
async fn products_are_written_by_sku_to_every_store_view_and_an_update_creates_nothing() {
    let (url, sim, _) = shop(seeding(0, 0, 0)).await;
    let config = config(&url, TOKEN, "product", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let simple = json!({"sku": "LT 1/A", "name": "Grąžtas", "price_net": "12.345678", "description": "trumpas"});
    let configurable = json!({"sku": "TEE", "name": "Marškinėliai", "price_net": "20", "variants": [
        {"sku": "TEE-S", "attributes": {"Size": "S"}},
        {"sku": "TEE-M", "attributes": {"Size": "M"}, "price_net": "21.5"},
        {"sku": "TEE-XL", "attributes": {"Size": "XL"}},
    ]});
    let result = target
        .write_batch(vec![item(simple.clone(), None), item(configurable, None)])
        .await
        .unwrap();
    assert_eq!(written(&result.outcomes[0]), "LT 1/A");
    assert_eq!(written(&result.outcomes[1]), "TEE");
    assert_eq!(
        result.api_calls, 7,
        "one PUT per product and per variant, the size attribute read once, its new option XL added"
    );
    assert_eq!(
        sim.record_counts()["product"],
        2,
        "children are not products of their own"
    );
    assert_eq!(
        sim.records("store_override").unwrap(),
        json!([]),
        "written through /rest/all"
    );
    let products = sim.records("product").unwrap();
    let stored = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "LT 1/A")
        .unwrap();
    assert_eq!(stored["price"].to_string(), "12.345678", "six decimals kept");
    assert_eq!(stored["custom_attributes"][0]["value"], "trumpas");
    let tee = products.as_array().unwrap().iter().find(|p| p["sku"] == "TEE").unwrap();
    let options = &tee["extension_attributes"]["configurable_product_options"];
    assert_eq!(options[0]["attribute_id"], "152", "{tee}");
    assert_eq!(options[0]["label"], "Size");
    let values: Vec<u64> = options[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|value| value["value_index"].as_u64())
        .collect();
    assert_eq!(&values[..2], &[167, 168], "S and M are the shop's own options");
    assert_eq!(
        tee["extension_attributes"]["configurable_product_links"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let mut changed = simple;
    changed["price_net"] = json!("13");
    let result = target.write_batch(vec![item(changed, Some("LT 1/A"))]).await.unwrap();
    written(&result.outcomes[0]);
    assert_eq!(sim.record_counts()["product"], 2);
    assert_eq!(sim.duplicates(), 0);

    let found = target
        .lookup(Some("sku"), &["TEE".to_owned(), "NONE".to_owned()])
        .await
        .unwrap();
    assert_eq!(found.found["TEE"].target_id, "TEE");
    assert!(!found.found.contains_key("NONE"));

    let source_config = config_for_read(&url);
    let (records, _, _) = read_all(&source_config, None, 50).await;
    let tee = records.iter().find(|record| record.data["sku"] == "TEE").unwrap();
    assert_eq!(tee.data["variants"][1]["sku"], "TEE-M");
    assert_eq!(tee.data["variants"][1]["price_net"], "21.5");
    let sizes: Vec<&Value> = tee.data["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| &variant["attributes"]["Size"])
        .collect();
    assert_eq!(
        sizes,
        [&json!("S"), &json!("M"), &json!("XL")],
        "option ids read back as labels"
    );

    // An attribute Magento does not have fails that product alone, saying what to create.
    let result = target
        .write_batch(vec![item(
            json!({"sku": "VAR", "name": "x", "price_net": "1", "variants": [{"sku": "VAR-1", "attributes": {"Spalva": "Raudona"}}]}),
            None,
        )])
        .await
        .unwrap();
    let error = failed(&result.outcomes[0]);
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(
        error.message.contains("create the select attribute `spalva`"),
        "{error}"
    );
}

fn config_for_read(url: &str) -> ValidatedConfig {
    config(url, TOKEN, "product", true, "")
}

#[tokio::test]
async fn magento_error_parameters_are_filled_into_the_record_failure() {
    let (url, _, _) = shop(seeding(0, 2, 0)).await;
    let config = config(&url, TOKEN, "product", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    // No usable price: Magento refuses a new product without one, naming the attribute.
    let result = target
        .write_batch(vec![item(
            json!({"sku": "NOPRICE", "name": "x", "price_net": "12,5a"}),
            None,
        )])
        .await
        .unwrap();
    let error = failed(&result.outcomes[0]);
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(
        error
            .message
            .contains("The \"price\" attribute value is empty. Set the attribute and try again."),
        "{error}"
    );

    let customers = config_customers(&url);
    let mut target = open_target(&customers, &customers.flows[0], Arc::new(OpenGate)).unwrap();
    let found = target.lookup(Some("email"), &[]).await.unwrap();
    assert!(found.found.is_empty());
    let result = target
        .write_batch(vec![
            item(json!({"email": "naujas@example.lt", "name": "Ona Naujoji"}), None),
            item(json!({"email": "naujas@example.lt", "name": "Ona Antroji"}), None),
        ])
        .await
        .unwrap();
    written(&result.outcomes[0]);
    let error = failed(&result.outcomes[1]);
    assert!(
        error
            .message
            .contains("A customer with the same email address already exists in an associated website."),
        "{error}"
    );
    let found = target
        .lookup(Some("email"), &["NAUJAS@example.lt".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        found.found["NAUJAS@example.lt"].data.as_ref().unwrap()["last_name"],
        "Naujoji"
    );
}

fn config_customers(url: &str) -> ValidatedConfig {
    config(url, TOKEN, "customer", false, "")
}

#[tokio::test]
async fn stock_goes_to_the_flow_source_and_a_refused_item_fails_alone() {
    let (url, sim, harness) = shop(seeding(0, 0, 0)).await;
    let config = config(&url, TOKEN, "stock", false, ", source = \"vilnius\"");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let levels: Vec<WriteItem> = (0..12)
        .map(|n| {
            item(
                json!({"sku": format!("S-{n}"), "warehouse": "CENTR", "on_hand": "7.5", "reserved": "2"}),
                None,
            )
        })
        .collect();
    harness.set_faults(Faults {
        invalid_item_rate: 0.3,
        ..Faults::default()
    });
    let result = target.write_batch(levels).await.unwrap();
    let refused: Vec<&crate::ConnectorError> = result
        .outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            WriteOutcome::Failed(error) => Some(error),
            WriteOutcome::Written { .. } => None,
        })
        .collect();
    assert!(
        !refused.is_empty() && refused.len() < 12,
        "seed {SEED} refuses {} of 12",
        refused.len()
    );
    assert!(refused.iter().all(|error| error.message.contains("Invalid value of")));
    let items = sim.records("stock").unwrap();
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 12 - refused.len(), "the rest of the batch is written");
    assert!(items
        .iter()
        .all(|item| item["source_code"] == "vilnius" && item["quantity"] == json!(5.5)));
    harness.set_faults(Faults::default());
    let found = target
        .lookup(None, &["S-0@CENTR".to_owned(), "S-1@CENTR".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        found.found.len(),
        items.iter().filter(|i| i["sku"] == "S-0" || i["sku"] == "S-1").count()
    );
}

/// A product flow whose shop connection signs in as an admin user.
fn admin_config(url: &str, login: &str) -> ValidatedConfig {
    let text = format!(
        "[connections.shop]\nsystem = \"magento\"\nbase_url = \"{url}\"\n{login}\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"product\"\n\
         from = {{ connection = \"shop\" }}\nto = {{ connection = \"file\", file = \"x.jsonl\" }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn an_admin_user_signs_in_once_and_again_when_its_four_hour_token_ends() {
    let (url, sim, _) = shop(seeding(12, 0, 0)).await;
    let config = admin_config(&url, "username = \"admin\"\npassword = \"admin123\"");
    let (records, _, pages) = read_all(&config, None, 3).await;
    assert!(pages >= 3 && !records.is_empty());
    assert_eq!(sim.admin_logins(), 1, "one sign-in for every page");

    // The token runs out mid-read: the next call signs in again, once, and the read goes on.
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 3,
    };
    let first = source.read_page(&request).await.unwrap();
    assert_eq!(sim.expire_admin_tokens(), 2);
    let next = ReadRequest {
        position: first.next.clone(),
        ..request
    };
    source.read_page(&next).await.expect("signed in again");
    assert_eq!(sim.admin_logins(), 3);

    let wrong = admin_config(&url, "username = \"admin\"\npassword = \"nope\"");
    let mut source = open_source(&wrong, &wrong.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source.read_page(&request).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("`username` and `password`"), "{error}");

    // Neither way of signing in: refused by validation, before anything is sent.
    let text = format!(
        "[connections.shop]\nsystem = \"magento\"\nbase_url = \"{url}\"\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"product\"\n\
         from = {{ connection = \"shop\" }}\nto = {{ connection = \"file\", file = \"x.jsonl\" }}\n"
    );
    let refused = tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog())
        .expect_err("refused")
        .to_string();
    assert!(
        refused.contains("needs `token`, or `username` and `password`"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_refused_token_is_an_auth_failure_naming_the_token() {
    let (url, _, _) = shop(seeding(3, 0, 0)).await;
    let config = config(&url, "wrong", "product", true, "");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source
        .read_page(&ReadRequest {
            position: None,
            changed_since: None,
            page_size: 10,
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error
            .message
            .contains("The consumer isn't authorized to access Magento_Catalog::products."),
        "{error}"
    );
    assert!(error.message.contains("`token`"), "{error}");
}

#[tokio::test]
async fn the_cdn_in_front_of_the_shop_is_rate_limited_transient_or_malformed_never_empty() {
    let (url, _, harness) = shop(seeding(3, 0, 0)).await;
    let config = config(&url, TOKEN, "product", true, "");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 10,
    };
    for (faults, kind, words) in [
        (
            Faults {
                rate_limit_per_s: 1,
                retry_after_s: 7,
                ..Faults::default()
            },
            ErrorKind::RateLimited,
            "429",
        ),
        (
            Faults {
                error_rate: 1.0,
                ..Faults::default()
            },
            ErrorKind::Transient,
            "Varnish",
        ),
        (
            Faults {
                malformed_rate: 1.0,
                ..Faults::default()
            },
            ErrorKind::Transient,
            "not JSON but an HTML page",
        ),
    ] {
        let limited = faults.rate_limit_per_s > 0;
        harness.set_faults(faults);
        // Under a rate limit of 1/s the first call of a second goes through.
        let mut tries = 0;
        let error = loop {
            match source.read_page(&request).await {
                Err(error) => break error,
                Ok(_) if tries < 3 => tries += 1,
                Ok(_) => panic!("no fault after {tries} calls"),
            }
        };
        assert_eq!(error.kind, kind, "{error}");
        assert!(error.message.contains(words), "{error}");
        if limited {
            assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(7)));
        }
    }
}

/// A server answering every call with `body` (status 200, JSON content type): a shop that
/// breaks off mid-answer or answers in the wrong shape.
async fn answering(body: &'static str) -> String {
    let router = axum::Router::new()
        .fallback(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) });
    tiltas_sim::spawn(router).await.expect("start the broken shop")
}

#[tokio::test]
async fn a_cut_or_misshapen_answer_is_a_clear_transient_failure_never_a_panic_or_an_empty_page() {
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 10,
    };
    for (body, words) in [
        ("{\"items\":[{\"id\":1,\"sku\":\"A", "not JSON"),
        ("{\"items\":\"none\",\"total_count\":1}", "not a search result"),
        ("{\"items\":[{\"id\":1}]}", "not a search result"),
        ("[1,2]", "not a search result"),
    ] {
        let url = answering(body).await;
        for entity in ["product", "customer", "order"] {
            let config = config(&url, TOKEN, entity, true, "");
            let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
            let error = source.read_page(&request).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::Transient, "{body}: {error}");
            assert!(error.message.contains(words), "{body}: {error}");
        }
    }
    // Records of the wrong shape fail alone, in place, and the page goes on.
    let url = answering("{\"items\":[{\"sku\":\"NO-ID\"},{\"id\":\"7\",\"sku\":[1],\"type_id\":\"simple\",\"price\":\"x\"},{\"id\":8,\"sku\":\"OK\",\"price\":1.5}],\"total_count\":3}").await;
    let config = config(&url, TOKEN, "product", true, "");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let page = source.read_page(&request).await.unwrap();
    assert_eq!(page.records.len(), 3);
    assert!(page.records[0].is_err(), "no id");
    assert!(page.records[1].is_err(), "no usable SKU");
    assert_eq!(page.records[2].as_ref().unwrap().data["price_net"], "1.5");
    assert_eq!(page.next, None, "the page held all of total_count");
}

/// The folder of the recorded responses of a real Magento 2.4 shop, when this checkout has it.
fn recorded() -> Option<std::path::PathBuf> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/shops/magento");
    folder.is_dir().then_some(folder)
}

fn file(folder: &std::path::Path, name: &str) -> Value {
    let text = std::fs::read_to_string(folder.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn product_fields_kept(name: &str, product: &Value) {
    let record = crate::mapping::product_from_shop(product, &[], &Default::default());
    assert_eq!(record["sku"], product["sku"], "{name}");
    assert_eq!(record["name"], product["name"], "{name}");
    let price = crate::mapping::decimal(product.get("price")).map(|price| Value::String(price.normalize().to_string()));
    assert_eq!(record.get("price_net"), price.as_ref(), "{name}");
    assert_eq!(record["active"], product["status"] == 1, "{name}");
    let links = product["extension_attributes"]["category_links"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(record["categories"].as_array().map_or(0, Vec::len), links, "{name}");
    if let Some(weight) = crate::mapping::decimal(product.get("weight")) {
        assert_eq!(record["weight"], weight.normalize().to_string(), "{name}");
    }
    for (canonical, code) in [
        ("description", "short_description"),
        ("long_description", "description"),
    ] {
        assert_eq!(
            record.get(canonical).and_then(Value::as_str).map(str::to_owned),
            crate::mapping::custom_attribute(product, code),
            "{name}: {canonical}"
        );
    }
    assert_eq!(record["raw"]["type_id"], product["type_id"], "{name}");
}

fn customer_fields_kept(name: &str, customer: &Value) {
    let record = crate::mapping::customer_from_shop(customer);
    assert_eq!(record["code"], customer["id"].to_string(), "{name}");
    assert_eq!(record["email"], customer["email"], "{name}");
    assert_eq!(record["first_name"], customer["firstname"], "{name}");
    assert_eq!(record["last_name"], customer["lastname"], "{name}");
    assert_eq!(record["group"], customer["group_id"].to_string(), "{name}");
    assert_eq!(record["company_name"], "Clay Company", "{name}");
    assert_eq!(record["billing"]["line1"], "Billing", "{name}");
    assert_eq!(record["shipping"]["line1"], "Shipping", "{name}");
    assert_eq!(record["billing"]["country"], "AF", "{name}");
    assert_eq!(record["phone"], "111", "{name}");
}

fn order_fields_kept(name: &str, order: &Value) {
    let record = crate::mapping::order_from_shop(order);
    assert_eq!(record["number"], order["increment_id"], "{name}");
    assert_eq!(record["status"], order["status"], "{name}");
    assert_eq!(record["currency"], order["order_currency_code"], "{name}");
    assert_eq!(record["customer"]["email"], order["customer_email"], "{name}");
    assert_eq!(record["payment_method"], order["payment"]["method"], "{name}");
    assert_eq!(record["shipping_method"], "tablerate_bestway", "{name}");
    assert_eq!(record["billing"]["city"], order["billing_address"]["city"], "{name}");
    assert_eq!(record["shipping"]["postcode"], "49628-7978", "{name}");
    let rows: Vec<&Value> = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row.get("parent_item_id").is_none_or(Value::is_null))
        .collect();
    let lines = record["lines"].as_array().unwrap();
    assert_eq!(lines.len(), rows.len(), "{name}");
    for (line, row) in lines.iter().zip(rows) {
        assert_eq!(line["sku"], row["sku"], "{name}");
        assert_eq!(line["price"], row["price"].to_string(), "{name}");
        assert_eq!(line["vat_rate"], row["tax_percent"].to_string(), "{name}");
        assert_eq!(line["discount"], row["discount_amount"].to_string(), "{name}");
        assert_eq!(line["total_tax"], row["tax_amount"].to_string(), "{name}");
    }
    assert_eq!(lines[0]["total"], "41.4", "{name}: 55.2 row total less 13.8 discount");
    assert_eq!(record["totals"]["gross"], "253.74", "{name}");
    assert_eq!(record["totals"]["vat"], "19.34", "{name}");
    assert_eq!(record["totals"]["discount"], "58.6", "{name}");
    assert_eq!(
        record["raw"]["status_histories"].as_array().map(Vec::len),
        order["status_histories"].as_array().map(Vec::len),
        "{name}"
    );
    let created = crate::wire::parse_time(order.get("created_at")).unwrap();
    assert_eq!(record["created_at"], created.to_rfc3339(), "{name}");
}

#[test]
fn every_recorded_response_is_read_without_losing_the_fields_the_model_has() {
    let Some(folder) = recorded() else {
        eprintln!("shared/fixtures/shops/magento is not beside this checkout: nothing to check");
        return;
    };
    type Check = fn(&str, &Value);
    // Every file of the folder is named here, with what reads it or why nothing does.
    let table: &[(&str, Result<Check, &str>)] = &[
        ("products_MH01_configurable.json", Ok(product_fields_kept)),
        ("products_TRN_virtual.json", Ok(product_fields_kept)),
        ("products_24-WG080_bundle.json", Ok(product_fields_kept)),
        ("products_24-WG085_Group_grouped.json", Ok(product_fields_kept)),
        ("customers_4.json", Ok(customer_fields_kept)),
        ("orders_12.json", Ok(order_fields_kept)),
        (
            "categories_1.json",
            Err("categories are not read (products carry category ids)"),
        ),
        (
            "categories_7.json",
            Err("categories are not read (products carry category ids)"),
        ),
        (
            "categories_41.json",
            Err("categories are not read (products carry category ids)"),
        ),
        (
            "customerGroups_2.json",
            Err("customer groups are read as the customer's group_id"),
        ),
        (
            "stockItems_MH09-L-Blue.json",
            Err("stock is written through MSI source items, not read"),
        ),
        ("shipment_track_post.json", Err("shipments are not written")),
        ("store_storeConfigs.json", Err("store configuration is not read")),
        ("store_websites.json", Err("websites are not read")),
    ];
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    for name in &names {
        let (_, check) = table
            .iter()
            .find(|(known, _)| known == name)
            .unwrap_or_else(|| panic!("{name} is new: say in this table what reads it"));
        let value = file(&folder, name);
        if let Ok(check) = check {
            check(name, &value);
        }
    }
}

/// `examples/b1-magento.toml` against both simulators through the engine: B1 items become
/// Magento products, B1 stock MSI source items, Magento orders B1 sales invoices, once.
#[tokio::test]
async fn b1_magento_example_books_25_magento_orders_as_25_invoices_once() {
    use tiltas_engine::{Engine, SyncOptions};
    static SYSTEMS: tiltas_connector::Systems =
        tiltas_connector::Systems::new(&[&tiltas_b1::B1System, &crate::MagentoSystem]);
    const B1_KEY: &str = "b1-key";
    const B1_SECRET: &str = "b1-private-key";

    let b1_seeding = tiltas_b1_sim::Seeding {
        seed: SEED,
        items: 40,
        clients: 5,
        warehouses: 2,
        invoices: 0,
    };
    let b1 = Arc::new(tiltas_b1_sim::B1Sim::new(B1_KEY, B1_SECRET, b1_seeding).with_package(417));
    let b1_url = tiltas_sim::spawn(tiltas_b1_sim::router(b1.clone(), Harness::new(b1.clone(), SEED)))
        .await
        .unwrap();
    let (magento_url, magento, _) = shop(seeding(0, 0, 0)).await;
    let example = include_str!("../../../examples/b1-magento.toml")
        .replace("http://127.0.0.1:9301/api/", &format!("{b1_url}/api/"))
        .replace("http://127.0.0.1:9401", &magento_url)
        .replace("{ env = \"B1_API_KEY\" }", &format!("\"{B1_KEY}\""))
        .replace("{ env = \"B1_PRIVATE_KEY\" }", &format!("\"{B1_SECRET}\""))
        .replace("{ env = \"MAGENTO_TOKEN\" }", &format!("\"{TOKEN}\""));
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(&example, &dir.path().join("b1-magento.toml"), &SYSTEMS)
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

    let products = sync("products-to-magento").await;
    assert_eq!(
        (products.counters.created, products.counters.failed),
        (40, 0),
        "{:?}",
        products.counters
    );
    assert_eq!(magento.record_counts()["product"], 40);
    assert_eq!(magento.records("store_override").unwrap(), json!([]));
    let stock = sync("stock-to-magento").await;
    assert_eq!(stock.counters.failed, 0, "{:?}", stock.counters);
    assert!(magento.record_counts()["stock"] > 0, "stock reached the source items");
    let customers = sync("customers-to-magento").await;
    assert_eq!(customers.counters.failed, 0, "{:?}", customers.counters);

    magento.mutate("order", 25).unwrap();
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
}
