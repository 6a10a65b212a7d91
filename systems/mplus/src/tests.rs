//! The connector against its simulator.
mod prices;
use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use serde_json::json;
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_mplus_sim::{router, MplusSim, Seeding};
use tiltas_sim::{Faults, Harness, SimSystem};

const IDENT: &str = "till";
const SECRET: &str = "s3cret";

async fn start(products: usize, customers: usize) -> (String, Arc<MplusSim>, Arc<Harness>) {
    start_with_orders(products, customers, 0).await
}

async fn start_with_orders(products: usize, customers: usize, orders: usize) -> (String, Arc<MplusSim>, Arc<Harness>) {
    let sim = Arc::new(MplusSim::new(
        IDENT,
        SECRET,
        Seeding {
            seed: 5,
            products,
            customers,
            orders,
        },
    ));
    let harness = Harness::new(sim.clone(), 5);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .expect("start the simulator");
    (url, sim, harness)
}

fn connection(url: &str, secret: &str, extra: &str) -> String {
    format!("[connections.pos]\nsystem = \"mplus\"\nbase_url = \"{url}/\"\nident = \"{IDENT}\"\nsecret = \"{secret}\"\n{extra}\n")
}

fn reading(url: &str, secret: &str, entity: &str) -> ValidatedConfig {
    let text = format!(
        "{}[connections.out]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\n\
         from = {{ connection = \"pos\" }}\nto = {{ connection = \"out\", file = \"x.jsonl\" }}\n",
        connection(url, secret, "")
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn writing(url: &str, entity: &str, extra: &str) -> ValidatedConfig {
    let text = format!(
        "{}[connections.src]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\n\
         from = {{ connection = \"src\", file = \"x.jsonl\" }}\nto = {{ connection = \"pos\" }}\n",
        connection(url, SECRET, extra)
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

async fn read_all(
    config: &ValidatedConfig,
    since: Option<chrono::DateTime<chrono::Utc>>,
    page_size: usize,
) -> (Vec<SourceRecord>, Vec<String>) {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size,
    };
    let (mut records, mut positions) = (Vec::new(), Vec::new());
    loop {
        let page = source.read_page(&request).await.unwrap_or_else(|e| panic!("{e}"));
        records.extend(
            page.records
                .into_iter()
                .map(|record| record.unwrap_or_else(|f| panic!("{f:?}"))),
        );
        match page.next {
            Some(next) => {
                positions.push(next.clone());
                request.position = Some(next);
            }
            None => return (records, positions),
        }
    }
}

fn item(payload: serde_json::Value) -> WriteItem {
    WriteItem {
        source_key: payload["sku"]
            .as_str()
            .or(payload["code"].as_str())
            .unwrap_or_default()
            .to_string(),
        target_id: None,
        payload,
    }
}

#[tokio::test]
async fn products_are_paged_by_sync_marker_asking_for_the_last_seen_plus_one() {
    let (url, _, _) = start(25, 0).await;
    let (records, positions) = read_all(&reading(&url, SECRET, "product"), None, 10).await;
    assert_eq!(records.len(), 25);
    assert_eq!(positions, ["marker:11", "marker:21"], "markers 1..=25, ten a page");
    let first = &records[0].data;
    assert_eq!(first["sku"], "1001");
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Product, first).is_ok(),
        "{first}"
    );
    assert_eq!(first["vat_rate"], "9");
    assert!(
        first["price_gross"].as_str().is_some_and(|price| price.contains('.')),
        "{first}"
    );
}

#[tokio::test]
async fn a_later_run_reads_only_the_products_changed_since_its_cursor() {
    let (url, sim, _) = start(40, 0).await;
    let config = reading(&url, SECRET, "product");
    let (records, _) = read_all(&config, None, 100).await;
    let cursor = records.iter().filter_map(|record| record.updated_at).max().unwrap();
    sim.mutate("product", 3).unwrap();
    let since = cursor + chrono::Duration::seconds(1);
    let (changed, _) = read_all(&config, Some(since), 100).await;
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert!(changed
        .iter()
        .all(|record| record.data["name"].as_str().unwrap().ends_with('*')));
}

#[tokio::test]
async fn customers_and_stock_are_read_in_pages() {
    let (url, _, _) = start(12, 7).await;
    let (customers, _) = read_all(&reading(&url, SECRET, "customer"), None, 3).await;
    assert_eq!(customers.len(), 7);
    assert_eq!(customers[0].data["billing"]["city"], "Utrecht");
    let (stock, positions) = read_all(&reading(&url, SECRET, "stock"), None, 5).await;
    assert_eq!(stock.len(), 12, "branch 1 holds every article");
    assert_eq!(positions.len(), 2);
    let level = &stock[0].data;
    assert_eq!(level["warehouse"], "1");
    let number = |field: &str| level[field].as_str().unwrap().parse::<i64>().unwrap();
    assert_eq!(number("available"), number("on_hand") - number("reserved"));
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_failure_that_never_quotes_it() {
    let (url, _, _) = start(1, 0).await;
    let config = reading(&url, "not-the-secret", "product");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source
        .read_page(&ReadRequest {
            page_size: 10,
            ..ReadRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth, "{error}");
    assert!(error.message.contains("secret"), "{error}");
    assert!(
        !error.message.contains("not-the-secret"),
        "the secret is quoted: {error}"
    );
}

#[tokio::test]
async fn an_html_page_in_place_of_an_answer_is_transient_and_quoted() {
    let (url, _, harness) = start(3, 0).await;
    harness.set_faults(Faults {
        malformed_rate: 1.0,
        ..Faults::default()
    });
    let config = reading(&url, SECRET, "product");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let error = source.read_page(&ReadRequest::default()).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient, "{error}");
    assert!(error.message.contains("not a SOAP response"), "{error}");
}

#[tokio::test]
async fn a_sku_that_is_not_digits_is_refused_naming_it_and_the_fix() {
    let (url, sim, _) = start(0, 0).await;
    let config = writing(&url, "product", "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let refusal = target.precheck(&json!({"sku": "LT-000123"})).unwrap_err();
    assert!(
        refusal.contains("LT-000123") && refusal.contains("keep_digits"),
        "{refusal}"
    );
    let result = target
        .write_batch(vec![
            item(json!({"sku": "LT-7", "name": "Thee"})),
            item(json!({"sku": "2042", "name": "Koffie", "price_gross": "2.50"})),
        ])
        .await
        .unwrap();
    match &result.outcomes[0] {
        WriteOutcome::Failed(error) => {
            assert_eq!(error.kind, ErrorKind::Invalid);
            assert!(error.message.contains("\"LT-7\""), "{error}");
        }
        other => panic!("written: {other:?}"),
    }
    assert_eq!(
        result.outcomes[1],
        WriteOutcome::Written {
            target_id: "2042".into()
        }
    );
    assert_eq!(sim.record_counts()["product"], 1);
    let stored = sim.records("product").unwrap();
    assert_eq!(stored[0]["priceIncl"], 250, "money in cents");
}

#[tokio::test]
async fn keep_digits_numbers_the_article_keeps_the_sku_and_a_rewrite_updates_it() {
    let (url, sim, _) = start(0, 0).await;
    let config = writing(&url, "product", "sku_digits = \"keep_digits\"");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let first = target
        .write_batch(vec![item(json!({"sku": "LT-000123", "name": "Thee"}))])
        .await
        .unwrap();
    assert_eq!(
        first.outcomes,
        vec![WriteOutcome::Written {
            target_id: "123".into()
        }]
    );
    // A create whose answer was lost arrives again as a create: it becomes an update.
    let again = target
        .write_batch(vec![item(
            json!({"sku": "LT-000123", "name": "Groene thee", "long_description": "Biologisch"}),
        )])
        .await
        .unwrap();
    assert_eq!(
        again.outcomes,
        vec![WriteOutcome::Written {
            target_id: "123".into()
        }]
    );
    assert_eq!(sim.record_counts()["product"], 1);
    assert_eq!(sim.records("product").unwrap()[0]["description"], "Groene thee");
    let clash = target
        .write_batch(vec![item(json!({"sku": "LV-123", "name": "Koffie"}))])
        .await
        .unwrap();
    match &clash.outcomes[0] {
        WriteOutcome::Failed(error) => assert!(
            error.message.contains("LT-000123") && error.message.contains("LV-123"),
            "{error}"
        ),
        other => panic!("written: {other:?}"),
    }
    let found = target
        .lookup(Some("sku"), &["LT-000123".into(), "LV-123".into()])
        .await
        .unwrap();
    assert_eq!(found.found.len(), 1);
    assert_eq!(found.found["LT-000123"].target_id, "123");
    let read = found.found["LT-000123"].data.clone().unwrap();
    assert_eq!(read["long_description"], "Biologisch", "the product's extraText");
}

#[tokio::test]
async fn customers_are_created_found_by_code_and_updated() {
    let (url, sim, _) = start(0, 0).await;
    let config = writing(&url, "customer", "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let customer = json!({"code": "K001", "name": "Jan de Vries", "company_name": "Bakkerij De Vries", "email": "jan@example.nl", "billing": {"city": "Delft"}});
    let created = target.write_batch(vec![item(customer.clone())]).await.unwrap();
    let WriteOutcome::Written { target_id } = &created.outcomes[0] else {
        panic!("{created:?}")
    };
    let found = target
        .lookup(Some("code"), &["K001".into(), "K999".into()])
        .await
        .unwrap();
    assert_eq!(found.found.len(), 1);
    assert_eq!(&found.found["K001"].target_id, target_id);
    let mut update = item(
        json!({"code": "K001", "name": "Jan de Vries", "company_name": "Bakkerij De Vries", "phone": "+31201234567"}),
    );
    update.target_id = Some(target_id.clone());
    let updated = target.write_batch(vec![update]).await.unwrap();
    assert_eq!(
        updated.outcomes,
        vec![WriteOutcome::Written {
            target_id: target_id.clone()
        }]
    );
    assert_eq!(sim.record_counts()["customer"], 1);
    assert_eq!(sim.duplicates(), 0);
    let stored = &sim.records("customer").unwrap()[0]["fields"];
    assert_eq!(
        (&stored["name"], &stored["companyName"], &stored["contact"]),
        (
            &json!("Bakkerij De Vries"),
            &json!("Bakkerij De Vries"),
            &json!("Jan de Vries")
        ),
        "a company relation with its person as contact"
    );
    let read = found.found["K001"].data.clone().unwrap();
    assert_eq!(
        (&read["name"], &read["company_name"]),
        (&json!("Jan de Vries"), &json!("Bakkerij De Vries"))
    );
}

#[tokio::test]
async fn orders_are_read_by_sync_marker_with_lines_employee_and_branch() {
    let (url, sim, _) = start_with_orders(4, 2, 7).await;
    let config = reading(&url, SECRET, "order");
    let (orders, positions) = read_all(&config, None, 3).await;
    assert_eq!(orders.len(), 7);
    assert_eq!(positions, ["marker:4", "marker:7"], "order markers 1..=7, three a page");
    let first = &orders[0].data;
    assert_eq!(first["number"], "ORD-000001");
    assert_eq!(first["employee"], "1");
    assert_eq!(first["warehouse"], "1");
    assert_eq!(first["customer"]["email"], "klant1@example.nl", "relation 1's: {first}");
    assert_eq!(first["lines"].as_array().map(Vec::len), Some(2), "{first}");
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Order, first).is_ok(),
        "{first}"
    );
    sim.mutate("order", 2).unwrap();
    let (again, _) = read_all(&config, None, 100).await;
    assert_eq!(again.len(), 9, "new orders take the next markers");
}

#[tokio::test]
async fn an_order_names_its_buyer_from_its_relation_all_of_a_page_in_one_call() {
    let (url, sim, _) = start(2, 1).await;
    let config = writing(&url, "customer", "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let company = json!({"code": "K001", "name": "Els van Noord", "company_name": "Bakkerij Noord B.V.",
        "email": "els@noord.nl", "vat_code": "NL001234567B01", "phone": "+31301234567",
        "billing": {"line1": "Markt 1", "postcode": "3511 AA", "city": "Utrecht", "country": "NL"},
        "shipping": {"line1": "Achterom 2", "city": "Utrecht", "country": "NL"}});
    let written = target.write_batch(vec![item(company)]).await.unwrap();
    assert!(
        matches!(written.outcomes[0], WriteOutcome::Written { .. }),
        "{written:?}"
    );
    // A walk-in sale, one of relation 1 (a person, seeded) and one of relation 2 (the company).
    sim.mutate("order", 3).unwrap();
    let before = requests(&url).await;
    let (orders, _) = read_all(&reading(&url, SECRET, "order"), None, 100).await;
    assert_eq!(
        requests(&url).await - before,
        2,
        "getOrders and one getRelations for the page"
    );
    for order in &orders {
        let order = &order.data;
        assert!(
            tiltas_model::validate_json(tiltas_model::EntityKind::Order, order).is_ok(),
            "{order}"
        );
    }
    let (walk_in, person, company) = (&orders[0].data, &orders[1].data, &orders[2].data);
    assert!(walk_in["customer"].is_null(), "{walk_in}");
    assert!(
        person["customer"]["code"].is_null(),
        "a relation number is no debtor code: {person}"
    );
    assert_eq!(person["raw"]["relationNumber"], "1", "{person}");
    assert_eq!(person["customer"]["email"], "klant1@example.nl", "{person}");
    assert_eq!(person["customer"]["name"], "Jansen 1", "{person}");
    assert!(person["customer"]["company_name"].is_null(), "{person}");
    assert_eq!(
        (&person["billing"]["city"], &person["billing"]["country"]),
        (&json!("Utrecht"), &json!("NL"))
    );
    assert!(
        person["billing"]["first_name"].is_null(),
        "a person's name is not split: {person}"
    );
    let buyer = &company["customer"];
    assert_eq!(
        (
            &buyer["company_name"],
            &buyer["name"],
            &buyer["email"],
            &buyer["vat_code"]
        ),
        (
            &json!("Bakkerij Noord B.V."),
            &json!("Els van Noord"),
            &json!("els@noord.nl"),
            &json!("NL001234567B01")
        )
    );
    let billing = &company["billing"];
    assert_eq!(
        (&billing["first_name"], &billing["last_name"], &billing["company"]),
        (&json!("Els"), &json!("van Noord"), &json!("Bakkerij Noord B.V.")),
        "the contact person: {company}"
    );
    assert_eq!(
        (&billing["line1"], &billing["postcode"], &company["shipping"]["line1"]),
        (&json!("Markt 1"), &json!("3511 AA"), &json!("Achterom 2"))
    );
}

#[tokio::test]
async fn a_later_run_finds_the_first_changed_relation_by_binary_search_over_markers() {
    let (url, sim, _) = start(0, 200).await;
    let config = reading(&url, SECRET, "customer");
    let (records, _) = read_all(&config, None, 500).await;
    assert_eq!(records.len(), 200);
    let cursor = records.iter().filter_map(|record| record.updated_at).max().unwrap();
    sim.mutate("customer", 4).unwrap();
    let before = requests(&url).await;
    let (changed, _) = read_all(&config, Some(cursor + chrono::Duration::seconds(1)), 500).await;
    assert_eq!(changed.len(), 4, "{changed:?}");
    assert!(changed.iter().all(|record| record.data["phone"].is_string()));
    let calls = requests(&url).await - before;
    assert!(
        calls <= 12,
        "{calls} calls: the heads, about log2(204) probes and one page"
    );
}

/// Requests the simulator has answered so far (`/__sim/stats`).
async fn requests(url: &str) -> u64 {
    let stats: serde_json::Value = reqwest::get(format!("{url}/__sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["requests"]["total"].as_u64().unwrap()
}

#[tokio::test]
async fn stock_is_set_per_branch_absolutely_and_a_repeat_changes_nothing() {
    let (url, sim, _) = start(3, 0).await;
    let config = writing(&url, "stock", "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    assert!(!target.can_lookup());
    let level = json!({"sku": "1002", "warehouse": "2", "on_hand": "14.5", "reserved": "2"});
    for _ in 0..2 {
        let result = target.write_batch(vec![item(level.clone())]).await.unwrap();
        assert_eq!(
            result.outcomes,
            vec![WriteOutcome::Written {
                target_id: "1002@2".into()
            }]
        );
    }
    let refused = target
        .write_batch(vec![
            item(json!({"sku": "9999", "warehouse": "1", "on_hand": "1"})),
            item(json!({"sku": "1001", "warehouse": "CENTR", "on_hand": "1"})),
            item(json!({"sku": "1003", "on_hand": "4"})),
        ])
        .await
        .unwrap();
    match (&refused.outcomes[0], &refused.outcomes[1]) {
        (WriteOutcome::Failed(missing), WriteOutcome::Failed(branch)) => {
            assert!(
                missing.message.contains("SET-STOCK-RESULT-ARTICLE-NOT-FOUND")
                    && missing.message.contains("write the product first"),
                "{missing}"
            );
            assert!(branch.message.contains("\"CENTR\""), "{branch}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refused.outcomes[2],
        WriteOutcome::Written {
            target_id: "1003@1".into()
        },
        "the connection's branch"
    );
    let read = reading(&url, SECRET, "stock");
    let (levels, _) = read_all(&read, None, 100).await;
    let level = levels.iter().find(|level| level.data["sku"] == "1003").unwrap();
    assert_eq!(level.data["on_hand"], "4");
    drop(sim);
}

#[tokio::test]
async fn article_groups_are_read_as_categories_with_their_subgroups() {
    let (url, _, _) = start(3, 0).await;
    let (groups, positions) = read_all(&reading(&url, SECRET, "category"), None, 2).await;
    assert_eq!(positions, ["marker:3"], "two groups a page");
    let codes: Vec<(&str, Option<&str>)> = groups
        .iter()
        .map(|group| (group.data["code"].as_str().unwrap(), group.data["parent_code"].as_str()))
        .collect();
    assert_eq!(codes, [("1", None), ("11", Some("1")), ("2", None), ("3", None)]);
    assert!(tiltas_model::validate_json(tiltas_model::EntityKind::Category, &groups[1].data).is_ok());
}

/// A server answering every call with `status` and `body`.
async fn answering(status: u16, body: &'static str) -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move || async move {
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [("content-type", "text/xml")],
                body,
            )
        }),
    );
    tiltas_sim::spawn(app).await.expect("serve")
}

#[tokio::test]
async fn truncated_xml_and_unknown_answers_are_clear_errors_never_panics() {
    const CUT: &str = "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>\
                       <ns:GetProductsResponse xmlns:ns=\"urn:mplusqapi\"><ns:productList><ns:product><ns:productNu";
    const EMPTY: &str =
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>\
                         <ns:GetProductsResponse xmlns:ns=\"urn:mplusqapi\"/></SOAP-ENV:Body></SOAP-ENV:Envelope>";
    for (status, body, kind, says) in [
        (200, CUT, ErrorKind::Transient, "not well-formed XML"),
        (502, CUT, ErrorKind::Transient, "not well-formed XML"),
        (200, EMPTY, ErrorKind::Transient, "without <productList>"),
    ] {
        let url = answering(status, body).await;
        let config = reading(&url, SECRET, "product");
        let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
        let error = source.read_page(&ReadRequest::default()).await.unwrap_err();
        assert_eq!(error.kind, kind, "{status}: {error}");
        assert!(error.message.contains(says), "{status}: {error}");
        assert!(!error.message.contains(SECRET), "{error}");
    }
}

#[tokio::test]
async fn invoices_are_read_by_sync_marker_as_sales_invoices() {
    let (url, _, _) = start_with_orders(4, 2, 9).await;
    let (invoices, positions) = read_all(&reading(&url, SECRET, "document"), None, 2).await;
    assert_eq!(invoices.len(), 5, "every other order is invoiced");
    assert_eq!(positions, ["marker:3", "marker:5"]);
    let first = &invoices[0].data;
    assert_eq!(first["kind"], "sales_invoice");
    assert_eq!(first["number"], "2024-1");
    assert_eq!(first["raw"]["invoiceId"], "INV-000001");
    assert_eq!(first["lines"].as_array().map(Vec::len), Some(2));
    assert!(
        tiltas_model::validate_json(tiltas_model::EntityKind::Document, first).is_ok(),
        "{first}"
    );
}

#[test]
fn an_order_line_total_is_net_of_vat() {
    use tiltas_connector::soap::Element;
    let data = |fields: &[(&str, &str)]| {
        fields.iter().fold(Element::new("data"), |data, (name, value)| {
            data.with_child(Element::leaf(*name, *value))
        })
    };
    // Two coffees at 2.50 incl. 9% VAT: 5.00 gross, 4.59 net as the till computed it.
    let both = data(&[("totalInclAmount", "500"), ("totalExclAmount", "459")]);
    assert_eq!(
        crate::source::line_net(&both, Some("9")),
        Some(rust_decimal::Decimal::new(459, 2))
    );
    // Without totalExclAmount the VAT is taken off the gross at the line's rate.
    let gross_only = data(&[("totalInclAmount", "1210")]);
    assert_eq!(
        crate::source::line_net(&gross_only, Some("21")),
        Some(rust_decimal::Decimal::new(1000, 2))
    );
    assert_eq!(
        crate::source::line_net(&gross_only, None),
        None,
        "no rate: no net total"
    );
    assert_eq!(crate::source::line_net(&data(&[]), Some("21")), None);
}
