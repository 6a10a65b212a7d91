//! The connector against the Smartup simulator: reads, windows, writes, the company's
//! integration settings (`shared/seeds/002_…`), bad input; and `examples/smartup-shop.toml`
//! through the engine.
use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_sim::{Harness, SimSystem};
use tiltas_smartup_sim::wire::{CodeUse, DuplicateCheck, IntegrationSettings, QuotaClass};
use tiltas_smartup_sim::{router, Seeding, SmartupSim};

mod flows;

const LOGIN: &str = "api@demo";
const PASSWORD: &str = "test-password";
const SEED: u64 = 11;

fn seeding(items: usize, customers: usize, orders: usize) -> Seeding {
    Seeding {
        seed: SEED,
        items,
        items_without_code: 3,
        customers,
        orders,
        documents: 4,
        filials: 0,
    }
}

async fn start(sim: SmartupSim) -> (String, Arc<SmartupSim>) {
    let sim = Arc::new(sim);
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    (url, sim)
}

/// A flow file with a Smartup connection (extra lines) and a JSON Lines file on the other side.
fn config(url: &str, connection: &str, entity: &str, smartup_side: &str, reading: bool) -> ValidatedConfig {
    let smartup = format!("connection = \"smartup\"{smartup_side}");
    let file = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (smartup, file) } else { (file, smartup) };
    let text = format!(
        "[connections.smartup]\nsystem = \"smartup\"\nbase_url = \"{url}\"\nlogin = \"{LOGIN}\"\npassword = \"{PASSWORD}\"\n{connection}\n\
         [connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\n\
         from = {{ {from} }}\nto = {{ {to} }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

async fn read(
    config: &ValidatedConfig,
    changed_since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(Vec<SourceRecord>, u64), crate::ConnectorError> {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate))?;
    let mut request = ReadRequest {
        position: None,
        changed_since,
        page_size: 50,
    };
    let (mut records, mut calls) = (Vec::new(), 0);
    loop {
        let page = source.read_page(&request).await?;
        calls += page.api_calls;
        records.extend(
            page.records
                .into_iter()
                .map(|record| record.unwrap_or_else(|failure| panic!("{failure:?}"))),
        );
        match page.next {
            Some(next) => request.position = Some(next),
            None => return Ok((records, calls)),
        }
    }
}

async fn read_all(config: &ValidatedConfig) -> Vec<SourceRecord> {
    read(config, None)
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"))
        .0
}

fn item(payload: Value, target_id: Option<&str>) -> WriteItem {
    WriteItem {
        source_key: "k".into(),
        target_id: target_id.map(str::to_owned),
        payload,
    }
}

fn settings(change: impl FnOnce(&mut IntegrationSettings)) -> IntegrationSettings {
    let mut settings = IntegrationSettings::default();
    change(&mut settings);
    settings
}

#[tokio::test]
async fn items_are_read_with_the_price_types_prices_in_pages() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(120, 0, 0))).await;
    let (records, calls) = read(&config(&url, "", "product", ", price_type = \"RETAIL\"", true), None)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(records.len(), 120, "items without codes are not exported by default");
    assert_eq!(calls, 3, "settings, prices, one export handed out in three pages");
    let first = records
        .iter()
        .find(|record| record.key == "G00001")
        .expect("G00001 read");
    let price: rust_decimal::Decimal = first.data["price_gross"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();
    let stored = sim.records("price").unwrap_or_default()[0]["price"].clone();
    assert_eq!(price.to_string(), stored.as_str().unwrap_or_default());
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Product, &first.data).is_ok(),
        "{}",
        first.data
    );
}

#[tokio::test]
async fn an_export_window_longer_than_seven_days_is_split_into_windows_of_seven() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(60, 0, 0))).await;
    let since = chrono::Utc::now() - chrono::Duration::days(20);
    let before = sim.used(QuotaClass::Reference);
    let (records, _) = read(&config(&url, "", "product", "", true), Some(since))
        .await
        .unwrap_or_else(|error| panic!("the simulator refuses windows over 7 days: {error}"));
    // 21 days (the first to today) are three windows of 7; the settings are one more call.
    assert_eq!(sim.used(QuotaClass::Reference) - before, 4);
    let expected = sim
        .records("product")
        .unwrap_or_default()
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|item| item["global_code"] != "")
                .filter(|item| {
                    let at = item["modified_on"].as_str().unwrap_or_default();
                    chrono::NaiveDate::parse_from_str(&at[..10], "%d.%m.%Y").is_ok_and(|day| day >= since.date_naive())
                })
                .count()
        })
        .unwrap_or_default();
    assert!(expected > 0 && expected < 60, "{expected}");
    assert_eq!(records.len(), expected);
}

#[tokio::test]
async fn code_choice_global_or_local_decides_the_sku_and_a_mismatch_stops_the_run() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(5, 0, 0))).await;
    let skus = |records: Vec<SourceRecord>| {
        let mut skus: Vec<String> = records
            .iter()
            .filter_map(|r| r.data["sku"].as_str().map(str::to_owned))
            .collect();
        skus.sort();
        skus
    };
    assert_eq!(
        skus(read_all(&config(&url, "", "product", "", true)).await)[0],
        "G00001"
    );
    sim.set_settings(settings(|s| s.code_use = CodeUse::Local));
    assert_eq!(
        skus(read_all(&config(&url, "", "product", "", true)).await)[0],
        "L00001"
    );
    // Writes follow the same code: an item found by its local code is updated, not doubled.
    let config_local = config(&url, "code = \"local\"", "product", "", false);
    let mut target =
        open_target(&config_local, &config_local.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let found = target
        .lookup(Some("sku"), &["L00002".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.found.len(), 1);
    let config_global = config(&url, "code = \"global\"", "product", "", true);
    let error = read(&config_global, None)
        .await
        .err()
        .unwrap_or_else(|| panic!("a mismatch must stop the read"));
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(
        error.message.contains("code = \"global\"") && error.message.contains("local code"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("Использует код"),
        "names Smartup's setting: {}",
        error.message
    );
}

#[tokio::test]
async fn exported_statuses_and_the_flows_statuses_combine_the_stricter_wins() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(5, 4, 20))).await;
    sim.set_settings(settings(|s| s.order_statuses = vec!["N".into(), "B".into()]));
    let statuses = |records: &[SourceRecord]| {
        let mut seen: Vec<String> = records
            .iter()
            .filter_map(|r| r.data["status"].as_str().map(str::to_owned))
            .collect();
        seen.sort();
        seen.dedup();
        seen
    };
    let all = read_all(&config(&url, "", "order", "", true)).await;
    assert_eq!(statuses(&all), ["B", "N"], "Smartup exports only its statuses");
    assert_eq!(all.len(), 8, "4 of each of 20 orders in 5 statuses");
    let first = &all[0].data;
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Order, first).is_ok(),
        "{first}"
    );
    assert!(
        first["customer"]["code"].is_string() && first["lines"][0]["sku"].is_string(),
        "{first}"
    );
    // New orders are read incrementally, in today's window.
    sim.mutate("order", 3).unwrap_or_else(|e| panic!("{e}"));
    let since = chrono::Utc::now() - chrono::Duration::minutes(5);
    let (new, _) = read(&config(&url, "", "order", "", true), Some(since))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.len(), 3);
    let flow = read_all(&config(&url, "", "order", ", statuses = [\"B\", \"C\"]", true)).await;
    assert_eq!(statuses(&flow), ["B"], "C is not exported: the stricter wins");
    let error = read(&config(&url, "", "order", ", statuses = [\"C\"]", true), None)
        .await
        .err();
    let error = error.unwrap_or_else(|| panic!("no status in common must stop the read"));
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(error.message.contains("Статус заказа"), "{}", error.message);
}

fn order(number: &str, person: &Value, sku: &str, quantity: &str) -> Value {
    json!({
        "number": number,
        "created_at": "2026-03-02T10:00:00Z",
        "currency": "UZS",
        "customer": {"code": person},
        "lines": [{"sku": sku, "quantity": quantity, "price": "1000"}],
    })
}

fn payment(number: &str, amount: &str) -> Value {
    json!({ "number": number, "kind": "customer_payment", "date": "2026-03-02", "counterparty": "C0001", "total": amount })
}

/// Writes `first`, then `second` (the same document changed) as an update, under `policy`.
async fn twice(policy: &str, entity: &str, side: &str, first: Value, second: Value) -> (WriteOutcome, Arc<SmartupSim>) {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(5, 3, 0))).await;
    let check = DuplicateCheck::parse(policy).unwrap_or(DuplicateCheck::Error);
    sim.set_settings(settings(|s| {
        s.duplicate_check.insert("order".into(), check);
        s.duplicate_check.insert("payment".into(), check);
    }));
    let config = config(&url, "", entity, side, false);
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let written = target
        .write_batch(vec![item(first, None)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let WriteOutcome::Written { target_id } = &written.outcomes[0] else {
        panic!("{written:?}")
    };
    let again = target
        .write_batch(vec![item(second, Some(target_id))])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (again.outcomes[0].clone(), sim)
}

#[tokio::test]
async fn orders_follow_the_duplicate_check_error_update_or_skip() {
    let person = json!("C0001");
    let quantity = |sim: &SmartupSim| sim.records("order").unwrap_or_default()[0]["products"][0]["quantity"].clone();

    let (outcome, sim) = twice(
        "error",
        "order",
        "",
        order("WEB-1", &person, "G00001", "1"),
        order("WEB-1", &person, "G00001", "5"),
    )
    .await;
    let WriteOutcome::Failed(error) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(
        error.message.contains("order WEB-1") && error.message.contains("дубликат"),
        "names the order and Smartup's words: {}",
        error.message
    );
    assert!(
        error.message.contains("Проверка на дубликат"),
        "names the setting: {}",
        error.message
    );
    assert_eq!(quantity(&sim), "1");

    let (outcome, sim) = twice(
        "update",
        "order",
        "",
        order("WEB-1", &person, "G00001", "1"),
        order("WEB-1", &person, "G00001", "5"),
    )
    .await;
    assert!(matches!(outcome, WriteOutcome::Written { .. }), "{outcome:?}");
    assert_eq!((quantity(&sim), sim.duplicates()), (json!("5"), 0));

    let (outcome, sim) = twice(
        "skip",
        "order",
        "",
        order("WEB-1", &person, "G00001", "1"),
        order("WEB-1", &person, "G00001", "5"),
    )
    .await;
    assert!(matches!(outcome, WriteOutcome::Written { .. }), "{outcome:?}");
    assert_eq!(
        (quantity(&sim), sim.duplicates()),
        (json!("1"), 0),
        "skipped: the first stays"
    );
}

#[tokio::test]
async fn payments_follow_the_duplicate_check_error_update_or_skip() {
    let amount = |sim: &SmartupSim| {
        let payments = sim.records("payment").unwrap_or_default();
        payments
            .as_array()
            .and_then(|all| all.iter().find(|p| p["external_id"] == "BANK-1"))
            .map(|p| p["amount"].clone())
    };
    let (outcome, sim) = twice(
        "error",
        "document",
        "",
        payment("BANK-1", "100"),
        payment("BANK-1", "250"),
    )
    .await;
    let WriteOutcome::Failed(error) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        error.message.contains("payment BANK-1") && error.message.contains("дубликат"),
        "{}",
        error.message
    );
    assert_eq!(amount(&sim), Some(json!("100")));
    let (outcome, sim) = twice(
        "update",
        "document",
        "",
        payment("BANK-1", "100"),
        payment("BANK-1", "250"),
    )
    .await;
    assert!(matches!(outcome, WriteOutcome::Written { .. }), "{outcome:?}");
    assert_eq!(amount(&sim), Some(json!("250")));
    let (outcome, sim) = twice(
        "skip",
        "document",
        "",
        payment("BANK-1", "100"),
        payment("BANK-1", "250"),
    )
    .await;
    assert!(matches!(outcome, WriteOutcome::Written { .. }), "{outcome:?}");
    assert_eq!(amount(&sim), Some(json!("100")));
}

#[tokio::test]
async fn a_flow_expecting_another_duplicate_check_stops_before_writing() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(5, 3, 0))).await;
    let config = config(&url, "", "document", ", duplicate_check = \"update\"", false);
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let before = sim.records("payment").unwrap_or_default();
    let error = target
        .write_batch(vec![item(payment("BANK-9", "10"), None)])
        .await
        .err();
    let error = error.unwrap_or_else(|| panic!("the mismatch must stop the write"));
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(
        error.message.contains("\"update\"") && error.message.contains("\"error\""),
        "{}",
        error.message
    );
    assert_eq!(sim.records("payment").unwrap_or_default(), before, "nothing written");
}

#[tokio::test]
async fn items_without_codes_are_read_by_their_id_only_when_the_setting_is_on() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(10, 0, 0))).await;
    let config = config(&url, "", "product", "", true);
    let off = read_all(&config).await;
    assert_eq!(off.len(), 10);
    assert!(off.iter().all(|record| record.data.get("sku").is_some()));
    sim.set_settings(settings(|s| s.export_without_code = true));
    let on = read_all(&config).await;
    assert_eq!(on.len(), 13);
    let codeless: Vec<&SourceRecord> = on.iter().filter(|record| record.data.get("sku").is_none()).collect();
    assert_eq!(codeless.len(), 3);
    assert!(
        codeless.iter().all(|record| record.key.starts_with("id:")),
        "keyed by their Smartup id"
    );
    // `skip_without_code` decides per flow: the engine skips a product without its natural key.
    assert!(tiltas_model::natural_key(tiltas_model::EntityKind::Product, &codeless[0].data).is_none());
}

#[tokio::test]
async fn an_import_with_3_refused_of_100_writes_97_and_names_the_3_with_smartups_message() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(0, 0, 0))).await;
    let config = config(&url, "", "product", "", false);
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let items = (1..=100)
        .map(|n| {
            let unit = if n % 33 == 0 { "parsec" } else { "pcs" };
            item(
                json!({ "sku": format!("NEW{n:03}"), "name": format!("Item {n}"), "unit": unit }),
                None,
            )
        })
        .collect();
    let result = target.write_batch(items).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(result.api_calls, 2, "the settings and one $import of 100");
    let failed: Vec<&crate::ConnectorError> = result
        .outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            WriteOutcome::Failed(error) => Some(error),
            WriteOutcome::Written { .. } => None,
        })
        .collect();
    assert_eq!((result.outcomes.len() - failed.len(), failed.len()), (97, 3));
    assert!(
        failed[0].message.contains("item NEW033") && failed[0].message.contains("«parsec» не найдена"),
        "{}",
        failed[0].message
    );
    assert_eq!(failed[0].kind, ErrorKind::Invalid);
    let written = sim.records("product").unwrap_or_default();
    let written = written.as_array().map(|items| {
        items
            .iter()
            .filter(|item| item["global_code"].as_str().is_some_and(|code| code.starts_with("NEW")))
            .count()
    });
    assert_eq!(written, Some(97));
}

#[tokio::test]
async fn persons_are_read_legal_and_natural_and_written_by_kind() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(0, 6, 0))).await;
    let records = read_all(&config(&url, "", "customer", "", true)).await;
    assert_eq!(records.len(), 6);
    let companies = records.iter().filter(|record| record.data["kind"] == "company").count();
    assert_eq!(companies, 2);
    let config = config(&url, "", "customer", "", false);
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let written = target
        .write_batch(vec![
            item(
                json!({ "kind": "company", "company_name": "ООО Тест", "code": "T1", "email": "t1@x.uz" }),
                None,
            ),
            item(
                json!({ "kind": "person", "first_name": "Ali", "last_name": "Valiev", "email": "Ali@x.uz" }),
                None,
            ),
        ])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        written
            .outcomes
            .iter()
            .all(|o| matches!(o, WriteOutcome::Written { .. })),
        "{written:?}"
    );
    let persons = sim.records("customer").unwrap_or_default();
    assert!(persons.as_array().is_some_and(|all| all
        .iter()
        .any(|p| p["kind"] == "natural_person" && p["code"] == "ali@x.uz")));
    let found = target
        .lookup(Some("email"), &["ALI@x.uz".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.found.len(), 1);
}

#[tokio::test]
async fn stock_of_one_warehouse_and_documents_are_read() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(8, 3, 0))).await;
    let stock = read_all(&config(&url, "", "stock", ", warehouse = \"WH-MAIN\"", true)).await;
    assert_eq!(stock.len(), 8);
    let row = &stock[0].data;
    let number = |field: &str| row[field].as_str().unwrap_or_default().parse::<i64>().unwrap_or(-1);
    assert_eq!(number("available"), number("on_hand") - number("reserved"));
    let receipts = read_all(&config(&url, "", "document", "", true)).await;
    assert_eq!(receipts.len(), 4);
    assert_eq!(receipts[0].data["kind"], "incoming_receipt");
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Document, &receipts[0].data).is_ok(),
        "{}",
        receipts[0].data
    );
    let payments = read_all(&config(&url, "", "document", ", documents = \"payment\"", true)).await;
    assert_eq!(payments[0].data["kind"], "customer_payment");
}

#[tokio::test]
async fn a_wrong_filial_is_an_auth_failure_naming_filial_id() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(1, 0, 0))).await;
    let error = read(&config(&url, "filial_id = \"77\"", "product", "", true), None)
        .await
        .err();
    let error = error.unwrap_or_else(|| panic!("a wrong filial must fail"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("filial_id \"77\"") && error.message.contains("A02-24-048"),
        "{}",
        error.message
    );
    let error = read(&config(&url, "", "product", "", true), None).await;
    assert!(error.is_ok(), "without filial_id the user's own organisation");
}

#[tokio::test]
async fn a_used_up_quota_stops_the_run_before_exceeding_it_and_says_when_it_resumes() {
    let sim = SmartupSim::new(LOGIN, PASSWORD, seeding(10, 0, 0)).with_quota(QuotaClass::Reference, 3);
    let (url, sim) = start(sim).await;
    let config = config(&url, "", "product", "", true);
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let since = chrono::Utc::now() - chrono::Duration::days(20);
    let mut request = ReadRequest {
        position: None,
        changed_since: Some(since),
        page_size: 50,
    };
    let page = source.read_page(&request).await.unwrap_or_else(|e| panic!("{e}"));
    request.position = page.next;
    let page = source.read_page(&request).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        sim.used(QuotaClass::Reference),
        3,
        "settings and two windows: the quota is used up"
    );
    request.position = page.next;
    let error = source
        .read_page(&request)
        .await
        .err()
        .unwrap_or_else(|| panic!("the quota is used up"));
    assert_eq!(error.kind, ErrorKind::Quota);
    assert!(
        error.message.contains("resumes at") && error.message.contains("references"),
        "{}",
        error.message
    );
    assert!(error
        .retry_after
        .is_some_and(|wait| wait <= std::time::Duration::from_secs(86_400)));
    assert_eq!(sim.used(QuotaClass::Reference), 3, "nothing sent past the quota");
    // Another flow on the same account knows it too, and sends nothing.
    let mut other = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let error = other
        .read_page(&ReadRequest::default())
        .await
        .err()
        .unwrap_or_else(|| panic!("quota used up"));
    assert_eq!(error.kind, ErrorKind::Quota);
    assert_eq!(sim.used(QuotaClass::Reference), 3);
}

#[tokio::test]
async fn a_supplier_invoice_becomes_a_receipt_once_and_an_unknown_item_is_a_dead_letter() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(5, 0, 0))).await;
    let config = config(
        &url,
        "",
        "document",
        ", documents = \"input\", warehouse = \"WH-MAIN\"",
        false,
    );
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let receipt = |number: &str, sku: &str| {
        json!({ "number": number, "kind": "incoming_receipt", "date": "2026-03-02", "counterparty": "SUP-1",
                "lines": [{ "sku": sku, "quantity": "4", "price": "1500" }] })
    };
    let written = target
        .write_batch(vec![
            item(receipt("INC-1", "G00002"), None),
            item(receipt("INC-2", "NOPE"), None),
        ])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(written.outcomes[0], WriteOutcome::Written { .. }),
        "{written:?}"
    );
    let WriteOutcome::Failed(error) = &written.outcomes[1] else {
        panic!("{written:?}")
    };
    assert!(
        error.message.contains("receipt INC-2") && error.message.contains("«NOPE» не найден"),
        "{}",
        error.message
    );
    assert_eq!(error.field.as_deref(), Some("lines.sku"));
    let inputs = sim.records("input").unwrap_or_default();
    let stored = inputs
        .as_array()
        .and_then(|all| all.iter().find(|input| input["external_id"] == "INC-1"))
        .cloned();
    let stored = stored.unwrap_or_else(|| panic!("INC-1 not stored: {inputs}"));
    assert_eq!(
        (
            stored["warehouse_code"].as_str(),
            stored["products"][0]["quantity"].as_str()
        ),
        (Some("WH-MAIN"), Some("4"))
    );
    let found = target
        .lookup(Some("number"), &["INC-1".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.found.len(), 1, "found again: not sent twice");
}

#[tokio::test]
async fn a_malformed_import_answer_is_transient_and_nothing_is_taken_as_written() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(0, 0, 0))).await;
    let config = config(&url, "", "product", "", false);
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    target
        .lookup(Some("sku"), &["X".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = reqwest::Client::new();
    client
        .post(format!("{url}/__sim/faults"))
        .json(&json!({ "malformed_rate": 1.0 }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let error = target
        .write_batch(vec![item(json!({ "sku": "NEW1", "name": "Новый" }), None)])
        .await
        .err()
        .unwrap_or_else(|| panic!("a malformed answer is no success"));
    assert_eq!(error.kind, ErrorKind::Transient);
    assert!(error.message.contains("not JSON but an HTML page"), "{}", error.message);
    assert!(
        error.message.contains("inventory$import"),
        "names the call: {}",
        error.message
    );
    drop(sim);
}

#[tokio::test]
async fn a_head_organisation_reads_one_branch_by_filial_code_or_all() {
    let mut seeding = seeding(6, 0, 0);
    seeding.filials = 2;
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding)).await;
    let all = read_all(&config(&url, "filial_id = \"100\"", "stock", "", true)).await;
    assert_eq!(all.len(), 12, "6 items in 2 branches");
    let one = read_all(&config(
        &url,
        "filial_id = \"100\"\nfilial_code = \"F2\"",
        "stock",
        "",
        true,
    ))
    .await;
    assert_eq!(one.len(), 6);
    assert!(one.iter().all(|record| record.data["warehouse"] == "WH-F2"));
}

#[tokio::test]
async fn price_types_are_read_as_price_lists_with_every_items_price() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding(7, 0, 0))).await;
    let lists = read_all(&config(&url, "", "price_list", "", true)).await;
    let codes: Vec<&str> = lists.iter().map(|list| list.key.as_str()).collect();
    assert_eq!(codes, ["RETAIL", "WHOLESALE"]);
    let retail = &lists[0].data;
    assert_eq!(
        retail["items"].as_array().map(Vec::len),
        Some(7),
        "items without codes left out: {retail}"
    );
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::PriceList, retail).is_ok(),
        "{retail}"
    );
}

#[tokio::test]
async fn a_head_organisation_writes_into_the_branch_its_filial_code_names() {
    let mut seeding = seeding(4, 2, 0);
    seeding.filials = 2;
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding)).await;
    let config = config(&url, "filial_id = \"100\"\nfilial_code = \"F2\"", "document", "", false);
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let written = target
        .write_batch(vec![item(payment("BANK-F2", "75"), None)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(written.outcomes[0], WriteOutcome::Written { .. }),
        "{written:?}"
    );
    let payments = sim.records("payment").unwrap_or_default();
    let stored = payments
        .as_array()
        .and_then(|all| all.iter().find(|p| p["external_id"] == "BANK-F2"))
        .cloned();
    assert_eq!(stored.map(|p| p["filial_code"].clone()), Some(json!("F2")));
}
