//! The PrestaShop connector against the simulator (products with combinations, stock in
//! `stock_availables`, customers, orders by change time) and against the recorded responses
//! of real shops in `shared/fixtures/shops/prestashop/` when that folder exists.
use crate::registry::{catalog, open_source, open_target};
use crate::xml::Element;
use crate::{OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_prestashop_sim::{router, PrestaSim, Seeding};
use tiltas_sim::{Harness, SimSystem};

const KEY: &str = "TESTPRESTASHOPKEY000000000000001";
const SEED: u64 = 7;

async fn shop(seeding: Seeding) -> (String, Arc<PrestaSim>) {
    let sim = Arc::new(PrestaSim::new(KEY, seeding));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), seeding.seed)))
        .await
        .unwrap();
    (url, sim)
}

fn seeding(products: usize, customers: usize, orders: usize) -> Seeding {
    Seeding {
        seed: SEED,
        products,
        customers,
        orders,
        combinations: true,
    }
}

/// A flow moving `entity` between the shop and a JSON Lines file.
fn config(url: &str, entity: &str, shop_is_source: bool, extra: &str) -> ValidatedConfig {
    let file = "{ connection = \"file\", file = \"x.jsonl\" }".to_owned();
    let shop = format!("{{ connection = \"shop\"{extra} }}");
    let (from, to) = if shop_is_source { (shop, file) } else { (file, shop) };
    let text = format!(
        "[connections.shop]\nsystem = \"prestashop\"\nbase_url = \"{url}\"\nkey = \"{KEY}\"\n\n\
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
        WriteOutcome::Failed(error) => panic!("seed {SEED}: {error}"),
    }
}

async fn read_all(
    config: &ValidatedConfig,
    since: Option<chrono::DateTime<chrono::Utc>>,
    page_size: usize,
) -> (Vec<SourceRecord>, u64) {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size,
    };
    let (mut records, mut calls) = (Vec::new(), 0);
    loop {
        let page = source
            .read_page(&request)
            .await
            .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
        calls += page.api_calls;
        records.extend(
            page.records
                .into_iter()
                .map(|record| record.unwrap_or_else(|f| panic!("{f:?}"))),
        );
        match page.next {
            Some(next) => request.position = Some(next),
            None => return (records, calls),
        }
    }
}

fn tee(price_m: &str) -> Value {
    json!({
        "sku": "TEE", "name": "Marškinėliai", "price_net": "20", "categories": ["Drabužiai", "Vasara"],
        "description": "Medvilniniai",
        "variants": [
            {"sku": "TEE-S", "price_net": "20", "attributes": {"Dydis": "S", "Spalva": "Juoda"}},
            {"sku": "TEE-M", "price_net": price_m, "attributes": {"Dydis": "M", "Spalva": "Juoda"}}
        ]
    })
}

#[tokio::test]
async fn a_product_with_combinations_is_written_then_replaced_whole_and_reads_back_the_same() {
    let (url, sim) = shop(seeding(0, 0, 0)).await;
    let target_config = config(&url, "product", false, "");
    let mut target = open_target(&target_config, &target_config.flows[0], Arc::new(OpenGate)).unwrap();
    let first = target.write_batch(vec![item(tee("22"), None)]).await.unwrap();
    let id = written(&first.outcomes[0]);
    // The update GETs the record, drops quantity and manufacturer_name (read-only) and PUTs it.
    let second = target.write_batch(vec![item(tee("23.5"), Some(&id))]).await.unwrap();
    assert_eq!(written(&second.outcomes[0]), id);

    let stats = sim.record_counts();
    assert_eq!(
        (stats["product"], stats["combination"], stats["stock"]),
        (1, 2, 3),
        "{stats:?}"
    );
    assert_eq!(sim.duplicates(), 0);

    let (records, _) = read_all(&config(&url, "product", true, ""), None, 100).await;
    assert_eq!(records.len(), 1);
    let product = &records[0].data;
    assert_eq!(product["sku"], "TEE");
    assert_eq!(product["name"], "Marškinėliai");
    assert_eq!(product["description"], "Medvilniniai");
    assert_eq!(product["price_net"], "20");
    assert_eq!(product["categories"], json!(["Drabužiai", "Vasara"]));
    assert_eq!(product["variants"][1]["sku"], "TEE-M");
    assert_eq!(product["variants"][1]["price_net"], "23.5");
    assert_eq!(
        product["variants"][1]["attributes"],
        json!({"Dydis": "M", "Spalva": "Juoda"})
    );
    tiltas_model::validate_json(tiltas_model::EntityKind::Product, product).unwrap();
}

#[tokio::test]
async fn products_are_paged_to_a_short_page_and_read_incrementally_by_date_upd() {
    let (url, sim) = shop(seeding(45, 0, 0)).await;
    let config = config(&url, "product", true, "");
    let (records, calls) = read_all(&config, None, 20).await;
    assert_eq!(records.len(), 45, "seed {SEED}");
    let variable = records
        .iter()
        .filter(|record| record.data.get("variants").is_some())
        .count();
    assert_eq!(variable, 11, "one product in four has combinations");
    assert!(
        calls < 20,
        "{calls} calls for 45 products: combinations and names are read per page"
    );
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    sim.mutate("product", 5).unwrap();
    let (changed, _) = read_all(&config, Some(since), 20).await;
    assert_eq!(changed.len(), 5, "seed {SEED}");
}

#[tokio::test]
async fn stock_lands_in_stock_availables_of_products_and_combinations() {
    let (url, sim) = shop(seeding(8, 0, 0)).await;
    let config = config(&url, "stock", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let result = target
        .write_batch(vec![
            item(
                json!({"sku": "PS-00001", "warehouse": "", "on_hand": "12", "reserved": "2"}),
                None,
            ),
            item(
                json!({"sku": "PS-00004-2", "warehouse": "", "on_hand": "7.9", "reserved": "0"}),
                None,
            ),
            item(
                json!({"sku": "NOPE", "warehouse": "", "on_hand": "1", "reserved": "0"}),
                None,
            ),
        ])
        .await
        .unwrap();
    assert_eq!(written(&result.outcomes[0]), "1");
    assert_eq!(written(&result.outcomes[1]), "4/2");
    match &result.outcomes[2] {
        WriteOutcome::Failed(error) => assert!(error.message.contains("sync products first"), "{error}"),
        other => panic!("{other:?}"),
    }
    let rows = sim.records("stock").unwrap();
    let quantity = |product: &str, combination: &str| -> String {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|row| row["id_product"] == product && row["id_product_attribute"] == combination)
            .map(|row| row["quantity"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(quantity("1", "0"), "10");
    assert_eq!(quantity("4", "2"), "7");
}

#[tokio::test]
async fn stock_is_read_per_product_and_combination_under_their_references() {
    let (url, _) = shop(seeding(8, 0, 0)).await;
    let config = config(&url, "stock", true, ", warehouse = \"E-SHOP\"");
    let (levels, _) = read_all(&config, None, 5).await;
    let skus: Vec<&str> = levels.iter().filter_map(|level| level.data["sku"].as_str()).collect();
    // Products 4 and 8 have combinations: their own rows (the sums) are left out.
    assert!(!skus.contains(&"PS-00004") && !skus.contains(&"PS-00008"), "{skus:?}");
    assert!(skus.contains(&"PS-00001") && skus.contains(&"PS-00004-1"), "{skus:?}");
    assert_eq!(levels.len(), skus.len());
    for level in &levels {
        assert_eq!(level.data["warehouse"], "E-SHOP");
        assert_eq!(level.data["on_hand"], level.data["available"]);
        tiltas_model::validate_json(tiltas_model::EntityKind::Stock, &level.data).unwrap();
    }
}

#[tokio::test]
async fn customers_are_written_found_by_email_and_read_with_their_address() {
    let (url, sim) = shop(seeding(0, 3, 0)).await;
    let target_config = config(&url, "customer", false, "");
    let mut target = open_target(&target_config, &target_config.flows[0], Arc::new(OpenGate)).unwrap();
    let found = target
        .lookup(
            Some("email"),
            &["PIRKEJAS2@example.lt".to_owned(), "nobody@example.lt".to_owned()],
        )
        .await
        .unwrap();
    assert_eq!(found.found.len(), 1);
    assert_eq!(found.found["PIRKEJAS2@example.lt"].target_id, "2");
    let payload = json!({"email": "ona@example.lt", "kind": "company", "name": "UAB Ona", "company_name": "UAB Ona",
        "vat_code": "LT100001", "billing": {"line1": "Laisvės al. 1", "city": "Kaunas", "postcode": "LT-44280", "country": "LT"}});
    let created = target.write_batch(vec![item(payload.clone(), None)]).await.unwrap();
    let id = written(&created.outcomes[0]);
    let mut changed = payload;
    changed["first_name"] = json!("Ona");
    changed["last_name"] = json!("Onaitė");
    let updated = target.write_batch(vec![item(changed, Some(&id))]).await.unwrap();
    assert_eq!(written(&updated.outcomes[0]), id);
    assert_eq!(sim.record_counts()["customer"], 4);

    let (records, _) = read_all(&config(&url, "customer", true, ""), None, 100).await;
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].data["billing"]["city"], "Vilnius");
    assert_eq!(records[0].data["billing"]["country"], "LT");
    assert_eq!(records[3].data["last_name"], "Onaitė");
    assert_eq!(records[3].data["company_name"], "UAB Ona");
    assert_eq!(records[3].data["billing"]["city"], "Kaunas");
    assert_eq!(records[3].data["billing"]["country"], "LT");
    assert_eq!(records[3].data["vat_code"], "LT100001");
    assert_eq!(
        sim.record_counts()["address"],
        4,
        "the address is replaced on update, not added"
    );
    tiltas_model::validate_json(tiltas_model::EntityKind::Customer, &records[0].data).unwrap();
}

#[tokio::test]
async fn orders_are_read_incrementally_with_rows_customer_and_addresses() {
    let (url, sim) = shop(seeding(12, 4, 9)).await;
    let config = config(&url, "order", true, "");
    let (orders, _) = read_all(&config, None, 4).await;
    assert_eq!(orders.len(), 9);
    for order in &orders {
        tiltas_model::validate_json(tiltas_model::EntityKind::Order, &order.data)
            .unwrap_or_else(|e| panic!("seed {SEED}: {e}: {}", order.data));
        let typed: tiltas_model::Order = serde_json::from_value(order.data.clone()).unwrap();
        assert_eq!(tiltas_model::check_order_totals(&typed), Ok(()), "{}", order.data);
        assert!(order.data["customer"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.lt"));
        assert_eq!(order.data["lines"][0]["vat_rate"], "21");
        assert_eq!(order.data["currency"], "EUR");
        assert_eq!(order.data["billing"]["country"], "LT");
    }
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    sim.mutate("order", 3).unwrap();
    let (new, _) = read_all(&config, Some(since), 4).await;
    assert_eq!(new.len(), 3);
    let only_paid = self::config(&url, "order", true, ", statuses = [\"4\"]");
    let (shipped, _) = read_all(&only_paid, None, 4).await;
    assert!(shipped.is_empty());
}

#[tokio::test]
async fn a_read_only_field_in_a_put_is_refused_as_prestashop_refuses_it() {
    let (url, _) = shop(seeding(1, 0, 0)).await;
    let client = reqwest::Client::new();
    let current = client
        .get(format!("{url}/api/products/1"))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reply = client
        .put(format!("{url}/api/products/1"))
        .basic_auth(KEY, Some(""))
        .body(current)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let body = reply.text().await.unwrap();
    assert!(
        body.contains("parameter \"manufacturer_name\" not writable")
            || body.contains("parameter \"position_in_category\" not writable"),
        "{body}"
    );
    let missing = client
        .get(format!("{url}/api/products/99"))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await.unwrap(), "");
}

#[tokio::test]
async fn a_malformed_answer_is_a_transient_failure_naming_html() {
    let (url, sim) = shop(seeding(3, 0, 0)).await;
    let harness = Harness::new(sim.clone(), SEED);
    let _ = harness; // faults are set over HTTP, as tests and operators do
    reqwest::Client::new()
        .post(format!("{url}/__sim/faults"))
        .json(&json!({"malformed_rate": 1.0}))
        .send()
        .await
        .unwrap();
    let config = config(&url, "product", true, "");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source
        .read_page(&ReadRequest {
            position: None,
            changed_since: None,
            page_size: 10,
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, crate::ErrorKind::Transient);
    assert!(error.message.contains("HTML"), "{}", error.message);
}

#[tokio::test]
async fn a_refused_key_stops_a_write_instead_of_dead_lettering_every_record() {
    let (url, _) = shop(seeding(0, 0, 0)).await;
    let text = format!(
        "[connections.shop]\nsystem = \"prestashop\"\nbase_url = \"{url}\"\nkey = \"WRONGWRONGWRONGWRONGWRONGWRONG01\"\n\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"product\"\n\
         from = {{ connection = \"file\", file = \"x.jsonl\" }}\nto = {{ connection = \"shop\" }}\n"
    );
    let config = tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap();
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let error = target
        .write_batch(vec![item(json!({"sku": "A", "name": "A", "price_net": "1"}), None)])
        .await
        .unwrap_err();
    assert_eq!(error.kind, crate::ErrorKind::Auth);
    assert!(
        error.message.contains("check the connection's `key`"),
        "{}",
        error.message
    );
    assert!(error.message.contains("code 20"), "{}", error.message);
}

/// The recorded responses of real shops, when the shared fixtures are checked out beside the repo.
fn fixtures() -> Option<std::path::PathBuf> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/shops/prestashop");
    folder.is_dir().then_some(folder)
}

fn fixture(name: &str) -> Option<Element> {
    let text = std::fs::read_to_string(fixtures()?.join(name)).ok()?;
    Some(Element::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// A recorded list of ids (no `display`): every entry has its id, none is lost.
fn list_of_ids(name: &str, list: &str, count: usize) {
    let Some(root) = fixture(name) else { return };
    let items = &root
        .child(list)
        .unwrap_or_else(|| panic!("{name}: no <{list}>"))
        .children;
    assert_eq!(items.len(), count, "{name}");
    assert!(items.iter().all(|item| item.attribute("id").is_some()), "{name}");
}

#[test]
fn recorded_products_list_is_read_whole() {
    list_of_ids("products_list.xml", "products", 7);
}

#[test]
fn recorded_categories_list_is_read_whole() {
    list_of_ids("categories_list.xml", "categories", 11);
}

#[test]
fn recorded_customers_list_is_read_whole() {
    list_of_ids("customers_list.xml", "customers", 2);
}

#[test]
fn recorded_orders_list_is_read_whole() {
    list_of_ids("orders_list.xml", "orders", 5);
}

#[test]
fn recorded_stock_availables_of_a_product_list_is_read_whole() {
    list_of_ids("stock_availables_filter_product_5.xml", "stock_availables", 12);
}

#[test]
fn a_recorded_product_becomes_a_canonical_product_without_loss() {
    let Some(root) = fixture("products_post_201.xml") else {
        return;
    };
    let product = root.child("product").unwrap();
    let catalog = crate::mapping::Catalog {
        categories: [("5".to_owned(), "Accessories".to_owned())].into_iter().collect(),
        ..Default::default()
    };
    let canonical = crate::mapping::product_from_shop(product, &[], &catalog, "1");
    assert_eq!(canonical["sku"], "NEW_PRODUCT");
    assert_eq!(canonical["name"], "New product");
    assert_eq!(canonical["ean"], "8411788010150");
    assert_eq!(canonical["price_net"], "20");
    assert_eq!(canonical["weight"], "0.1");
    assert_eq!(canonical["active"], true);
    assert_eq!(canonical["description"], "<p>New product description short</p>");
    assert_eq!(canonical["long_description"], "<p>New product description</p>");
    assert_eq!(canonical["categories"], json!(["Accessories"]));
    assert_eq!(canonical["raw"]["id"], "34");
    assert_eq!(
        crate::mapping::association_ids(product, "stock_availables"),
        vec!["96".to_owned()]
    );
    tiltas_model::validate_json(tiltas_model::EntityKind::Product, &canonical).unwrap();
    // The record is edited for a PUT with its read-only fields gone.
    let mut edited = product.clone();
    crate::mapping::strip_read_only(&mut edited, &crate::schema::PRODUCTS);
    assert!(edited.child("quantity").is_none() && edited.child("manufacturer_name").is_none());
    assert!(edited.child("reference").is_some());
}

/// A recorded category: the fields a canonical category has (code, name, parent).
fn category(name: &str, id: &str, parent: &str, title: &str) {
    let Some(root) = fixture(name) else { return };
    let category = root.child("category").unwrap_or_else(|| panic!("{name}"));
    assert_eq!(category.text_of("id"), Some(id), "{name}");
    assert_eq!(category.text_of("id_parent"), Some(parent), "{name}");
    assert_eq!(category.language_text("name", "1"), Some(title), "{name}");
}

#[test]
fn recorded_category_2_is_read() {
    category("categories_2.xml", "2", "1", "Home");
}

#[test]
fn recorded_category_5_is_read() {
    let Some(root) = fixture("categories_5.xml") else {
        return;
    };
    let category = root.child("category").unwrap();
    assert_eq!(category.text_of("id"), Some("5"));
    assert!(category.language_text("name", "1").is_some());
}

#[test]
fn recorded_created_category_is_read() {
    category("categories_post_201.xml", "19", "2", "New category");
}

#[test]
fn recorded_stock_available_is_read() {
    let Some(root) = fixture("stock_availables_1.xml") else {
        return;
    };
    let row = root.child("stock_available").unwrap();
    assert_eq!(
        (
            row.text_of("id_product"),
            row.text_of("id_product_attribute"),
            row.text_of("quantity")
        ),
        (Some("1"), Some("0"), Some("1799"))
    );
    // What a stock write PUTs back: the whole row, nothing read-only in it.
    let mut edited = row.clone();
    crate::mapping::strip_read_only(&mut edited, &crate::schema::STOCK_AVAILABLES);
    assert_eq!(edited, *row);
}

#[test]
fn recorded_stock_availables_with_display_fields_are_read() {
    let Some(root) = fixture("stock_availables_list_display.xml") else {
        return;
    };
    let rows = &root.child("stock_availables").unwrap().children;
    assert!(rows.len() > 50);
    assert!(rows.iter().all(|row| row.text_of("id").is_some()
        && row.text_of("id_product").is_some()
        && row.text_of("id_product_attribute").is_some()));
}

#[test]
fn recorded_address_becomes_a_canonical_billing_address() {
    let Some(root) = fixture("addresses_1.xml") else { return };
    let address = root.child("address").unwrap();
    let customer = Element::new("customer")
        .with_child(Element::leaf("id", "1"))
        .with_child(Element::leaf("email", "john@example.com"))
        .with_child(Element::leaf("firstname", "John"))
        .with_child(Element::leaf("lastname", "DOE"));
    let catalog = crate::mapping::Catalog {
        countries: [("8".to_owned(), "FR".to_owned())].into_iter().collect(),
        ..Default::default()
    };
    let canonical = crate::mapping::customer_from_shop(&customer, &[address], &catalog);
    assert_eq!(canonical["billing"]["name"], "John DOE");
    assert_eq!(canonical["billing"]["line1"], "16, Main street");
    assert_eq!(canonical["billing"]["line2"], "2nd floor");
    assert_eq!(canonical["billing"]["postcode"], "75002");
    assert_eq!(canonical["billing"]["city"], "Paris");
    assert_eq!(canonical["billing"]["country"], "FR");
    assert_eq!(canonical["phone"], "0102030405");
    assert_eq!(canonical["raw"]["id_country"], "8");
    tiltas_model::validate_json(tiltas_model::EntityKind::Customer, &canonical).unwrap();
}

#[test]
fn recorded_customer_group_is_read() {
    let Some(root) = fixture("groups_3.xml") else { return };
    let group = root.child("group").unwrap();
    assert_eq!(group.language_text("name", "1"), Some("Customer A"));
    assert_eq!(
        crate::mapping::decimal(group, "reduction"),
        Some(rust_decimal::Decimal::ZERO)
    );
}

#[test]
fn recorded_order_carrier_is_read() {
    let Some(root) = fixture("order_carriers_2.xml") else {
        return;
    };
    let carrier = root.child("order_carrier").unwrap();
    assert_eq!(carrier.text_of("tracking_number"), Some("ABCD"));
    assert_eq!(
        crate::mapping::decimal(carrier, "shipping_cost_tax_incl"),
        Some(rust_decimal::Decimal::new(2, 0))
    );
}
