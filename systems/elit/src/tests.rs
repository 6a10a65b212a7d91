//! The connector against the Elit simulator: stock and offers read to the end in pages for the
//! listed items (inline and from a file), an unknown item failing alone, prices in the
//! company's currency; quotes by the maker's number and brand; orders placed exactly once
//! (a retry after a lost answer finds the order), a refused order failing alone; a wrong
//! password, a wrong company, 5xx, 429 and HTML pages.
use crate::registry::{catalog, open_source, open_target};
use crate::{
    ErrorKind, OpenContext, OpenGate, PartQuery, PartQuoter, ReadRequest, RecordFailure, SourceRecord, System,
};
use crate::{WriteItem, WriteOutcome};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_elit_sim::{router, Access, ElitSim, Seeding};
use tiltas_sim::{Harness, SimSystem};

mod flows;

pub(crate) const LOGIN: &str = "garage-7";
pub(crate) const PASSWORD: &str = "s3cret";
const SEED: u64 = 18;

pub(crate) fn sim_seeded(company: &str, seed: u64, catalogue: usize) -> ElitSim {
    let access = Access {
        login: LOGIN.into(),
        password: PASSWORD.into(),
        company: company.into(),
    };
    ElitSim::new(access, Seeding { seed, catalogue }).unwrap_or_else(|| panic!("company {company}"))
}

fn sim(company: &str, catalogue: usize) -> ElitSim {
    let access = Access {
        login: LOGIN.into(),
        password: PASSWORD.into(),
        company: company.into(),
    };
    ElitSim::new(access, Seeding { seed: SEED, catalogue }).unwrap_or_else(|| panic!("company {company}"))
}

pub(crate) async fn start(sim: ElitSim) -> (String, Arc<ElitSim>, Arc<Harness>) {
    let sim = Arc::new(sim);
    let harness = Harness::new(sim.clone(), SEED);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    (url, sim, harness)
}

/// The `[connections.el]` table reaching `url`; `extra` adds keys.
fn connection(url: &str, password: &str, company: &str, extra: &str) -> String {
    format!(
        "[connections.el]\nsystem = \"elit\"\nbase_url = \"{url}\"\nlogin = \"{LOGIN}\"\npassword = \"{password}\"\n\
         company = \"{company}\"\n{extra}\n"
    )
}

/// One flow of `entity` between Elit (`connection`) and a JSON Lines file.
fn config(connection: &str, entity: &str, reading: bool, dir: &std::path::Path) -> ValidatedConfig {
    let el = "connection = \"el\"".to_owned();
    let other = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (el, other) } else { (other, el) };
    let text = format!(
        "{connection}[connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {{ {from} }}\nto = {{ {to} }}\n"
    );
    tiltas_config::parse_str(&text, &dir.join("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn items(numbers: &[String]) -> String {
    let quoted: Vec<String> = numbers.iter().map(|n| format!("{n:?}")).collect();
    format!("items = [{}]", quoted.join(", "))
}

type Read = (Vec<SourceRecord>, Vec<RecordFailure>, u64, usize);

/// Every page of the flow's source: records, failures, calls, pages.
async fn read(config: &ValidatedConfig, page_size: usize) -> Result<Read, crate::ConnectorError> {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate))?;
    let mut request = ReadRequest {
        position: None,
        changed_since: None,
        page_size,
    };
    let (mut records, mut failures, mut calls, mut pages) = (Vec::new(), Vec::new(), 0, 0);
    loop {
        let page = source.read_page(&request).await?;
        calls += page.api_calls;
        pages += 1;
        for record in page.records {
            match record {
                Ok(record) => records.push(record),
                Err(failure) => failures.push(failure),
            }
        }
        match page.next {
            Some(next) => request.position = Some(next),
            None => return Ok((records, failures, calls, pages)),
        }
    }
}

fn parts(sim: &ElitSim) -> Vec<Value> {
    sim.records("part")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn stock_of_the_listed_items_is_read_in_pages_of_100_per_warehouse_and_an_unknown_item_fails_alone() {
    let (url, sim, _) = start(sim("ELIT_LT", 330)).await;
    let mut numbers = sim.item_numbers();
    assert!(numbers.len() > 150, "seed {SEED}: {} parts", numbers.len());
    numbers.truncate(150);
    numbers.insert(40, "NOSUCH-1".into());
    let dir = dir();
    let config = config(
        &connection(&url, PASSWORD, "ELIT_LT", &items(&numbers)),
        "stock",
        true,
        dir.path(),
    );
    let (records, failures, calls, pages) = read(&config, 500).await.unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!((pages, calls), (2, 2), "151 items: one call of 100, one of 51");
    assert_eq!(
        records.len(),
        150 * 3,
        "every warehouse of every known item, zero included"
    );
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].message.contains("NOSUCH-1")
            && failures[0].message.contains("\"el\"")
            && failures[0].message.contains("items"),
        "{}",
        failures[0].message
    );
    let expected = &parts(&sim)[0];
    let first: Vec<&SourceRecord> = records.iter().filter(|r| r.data["sku"] == expected["itemNo"]).collect();
    let warehouses: Vec<&str> = first.iter().filter_map(|r| r.data["warehouse"].as_str()).collect();
    assert_eq!(warehouses, ["Vilnius", "Kaunas", "Central warehouse"]);
    assert_eq!(
        first[0].data["on_hand"].as_str().map(str::to_owned),
        Some(expected["stock"]["Vilnius"].to_string())
    );
    assert_eq!(first[2].data["raw"]["deliveryTime"], "2-3");
}

#[tokio::test]
async fn offers_carry_the_price_in_the_company_currency_and_delivery_dates_per_warehouse() {
    let (url, sim, _) = start(sim("ELIT_CZ", 60)).await;
    let numbers = sim.item_numbers();
    let dir = dir();
    std::fs::write(
        dir.path().join("elit-items.txt"),
        format!(
            "# parts we buy from Elit\n{}\n\n{} # again\n",
            numbers.join("\n"),
            numbers[0]
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let extra = "items_file = \"elit-items.txt\"\nbranch = \"Praha\"";
    let config = config(
        &connection(&url, PASSWORD, "ELIT_CZ", extra),
        "supplier_offer",
        true,
        dir.path(),
    );
    let (records, failures, calls, _) = read(&config, 25).await.unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(records.len(), numbers.len(), "each listed item once");
    assert_eq!(
        calls as usize,
        numbers.len() + numbers.len().div_ceil(25),
        "one getItemInfo per item"
    );
    let expected = &parts(&sim)[0];
    let offer: tiltas_model::SupplierOffer =
        serde_json::from_value(records[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(offer.supplier, "elit");
    assert_eq!(Some(offer.part_code.as_str()), expected["itemNo"].as_str());
    assert_eq!(offer.article.as_deref(), expected["article"].as_str());
    assert_eq!(offer.brand.as_deref(), expected["brand"].as_str());
    assert_eq!(offer.currency.as_deref(), Some("CZK"));
    assert_eq!(
        offer.price.map(|p| p.to_string()).as_deref(),
        expected["price"].as_str()
    );
    let net = offer.price.unwrap_or_default();
    assert_eq!(
        offer.price_gross,
        Some((net * Decimal::new(121, 2)).round_dp(2)),
        "21 % VAT in Czechia"
    );
    assert_eq!(offer.availability.len(), 1, "only branch Praha");
    assert_eq!(offer.availability[0].branch, "Praha");
    assert_eq!(
        offer.availability[0].delivery_date,
        Some(chrono::Utc::now().date_naive())
    );
}

#[tokio::test]
async fn a_source_without_an_item_list_or_with_a_wrong_branch_says_what_to_set() {
    let (url, sim, _) = start(sim("ELIT_LT", 20)).await;
    let dir = dir();
    let bare = config(&connection(&url, PASSWORD, "ELIT_LT", ""), "stock", true, dir.path());
    let error = read(&bare, 50)
        .await
        .err()
        .unwrap_or_else(|| panic!("no item list must fail"));
    assert!(
        error.message.contains("items_file") && error.message.contains("\"el\""),
        "{error}"
    );
    let extra = format!("{}\nbranch = \"Praga\"", items(&sim.item_numbers()));
    let wrong = config(
        &connection(&url, PASSWORD, "ELIT_LT", &extra),
        "stock",
        true,
        dir.path(),
    );
    let error = read(&wrong, 50)
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong branch must fail"));
    assert!(
        error.message.contains("Praga") && error.message.contains("Vilnius"),
        "{error}"
    );
}

fn quoter(url: &str, password: &str, company: &str) -> Box<dyn PartQuoter> {
    quoter_with(url, password, company, "")
}

fn quoter_with(url: &str, password: &str, company: &str, extra: &str) -> Box<dyn PartQuoter> {
    let dir = dir();
    let config = config(
        &connection(url, password, company, extra),
        "supplier_offer",
        true,
        dir.path(),
    );
    let connection = config
        .connections
        .iter()
        .find(|c| c.name == "el")
        .unwrap_or_else(|| panic!("no connection el"));
    let context = OpenContext::quote_of(&config, connection, Arc::new(OpenGate), Arc::new(crate::vault::NoVault));
    crate::ElitSystem
        .open_quoter(&context)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn query(article: &str, brand: Option<&str>, quantity: i64) -> PartQuery {
    PartQuery {
        article: article.into(),
        brand: brand.map(str::to_owned),
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn a_quote_finds_a_part_by_the_makers_number_as_typed_with_price_and_branches() {
    let (url, sim, _) = start(sim("ELIT_RO", 80)).await;
    let expected = parts(&sim)[3].clone();
    let article = expected["article"].as_str().unwrap_or_default();
    let typed = article.replace([' ', '.', '-', '/'], "").to_lowercase();
    let brand = expected["brand"].as_str().map(|b| b.to_lowercase());
    let offers = quoter(&url, PASSWORD, "ELIT_RO")
        .quote(&query(&typed, brand.as_deref(), 2))
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!(offers.len(), 1, "{offers:?}");
    let offer = &offers[0];
    assert_eq!(
        offer.part_code.as_str(),
        expected["itemNo"].as_str().unwrap_or_default()
    );
    assert_eq!(offer.article.as_deref(), Some(article));
    assert_eq!(offer.currency.as_deref(), Some("RON"));
    assert!(offer.price.is_some_and(|p| p > Decimal::ZERO));
    let branches: Vec<&str> = offer.availability.iter().map(|a| a.branch.as_str()).collect();
    assert_eq!(branches, ["București", "Cluj-Napoca", "Central warehouse"]);
    assert!(offer.availability.iter().all(|a| a.delivery_date.is_some()));

    let none = quoter(&url, PASSWORD, "ELIT_RO")
        .quote(&query("ZZ 999 999", None, 1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty(), "a part Elit does not carry is no offer: {none:?}");
}

#[tokio::test]
async fn a_wrong_password_or_company_is_an_auth_error_naming_the_setting() {
    let (url, _, _) = start(sim("ELIT_LT", 20)).await;
    let error = quoter(&url, "wrong", "ELIT_LT")
        .quote(&query("W 712/75", None, 1))
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong password must be refused"));
    assert_eq!(error.kind, ErrorKind::Auth, "{error}");
    assert!(
        error.message.contains("`login` and `password`")
            && error.message.contains("\"el\"")
            && error.message.contains("W 712/75"),
        "{error}"
    );
    for company in ["ELIT_CZ", "ELIT_XX"] {
        let error = quoter(&url, PASSWORD, company)
            .quote(&query("W 712/75", None, 1))
            .await
            .err()
            .unwrap_or_else(|| panic!("company {company} must be refused"));
        assert_eq!(error.kind, ErrorKind::Auth, "{error}");
        assert!(
            error.message.contains("check `company`") && error.message.contains(company),
            "{error}"
        );
    }
}

#[tokio::test]
async fn gateway_failures_are_transient_rate_limits_wait_and_html_pages_are_quoted() {
    let (url, _, harness) = start(sim("ELIT_LT", 20)).await;
    let cases = [
        (
            json!({ "error_rate": 1.0, "error_status": 503 }),
            ErrorKind::Transient,
            "injected",
        ),
        (
            json!({ "rate_limit_per_s": 1, "retry_after_s": 7 }),
            ErrorKind::RateLimited,
            "Too many",
        ),
        (
            json!({ "malformed_rate": 1.0 }),
            ErrorKind::Transient,
            "<!DOCTYPE html>",
        ),
    ];
    for (faults, kind, words) in cases {
        harness.set_faults(serde_json::from_value(faults.clone()).unwrap_or_else(|e| panic!("{e}")));
        let quoter = quoter(&url, PASSWORD, "ELIT_LT");
        let mut error = quoter.quote(&query("W 712/75", None, 1)).await.err();
        if kind == ErrorKind::RateLimited {
            // The first call of the second passes the limit.
            error = quoter.quote(&query("W 712/75", None, 1)).await.err();
        }
        let error = error.unwrap_or_else(|| panic!("{faults} must fail"));
        assert_eq!(error.kind, kind, "{faults}: {error}");
        assert!(error.message.contains(words), "{faults}: {error}");
        if kind == ErrorKind::RateLimited {
            assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(7)), "{error}");
        }
    }
}

#[tokio::test]
async fn a_call_that_hangs_past_the_timeout_is_transient_and_names_the_setting() {
    let (url, _, harness) = start(sim("ELIT_LT", 5)).await;
    harness.set_faults(tiltas_sim::Faults {
        timeout_rate: 1.0,
        ..tiltas_sim::Faults::default()
    });
    let started = std::time::Instant::now();
    let error = quoter_with(&url, PASSWORD, "ELIT_LT", "timeout = \"1s\"")
        .quote(&query("W 712/75", None, 1))
        .await
        .err()
        .unwrap_or_else(|| panic!("a hanging call must fail"));
    assert_eq!(error.kind, ErrorKind::Transient, "{error}");
    assert!(
        error.message.contains("timeout") && error.message.contains("\"el\""),
        "{error}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "waited {:?}",
        started.elapsed()
    );
}

fn order(number: &str, lines: &[(&str, &str)]) -> WriteItem {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, qty)| json!({ "sku": sku, "quantity": qty }))
        .collect();
    WriteItem {
        source_key: number.to_owned(),
        target_id: None,
        payload: json!({ "number": number, "lines": lines }),
    }
}

fn orders(sim: &ElitSim) -> Vec<Value> {
    sim.records("order")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn orders_are_placed_once_and_a_refused_one_fails_alone() {
    let (url, sim, _) = start(sim("ELIT_LV", 40)).await;
    let numbers = sim.item_numbers();
    let (a, b) = (numbers[0].as_str(), numbers[1].as_str());
    let dir = dir();
    let config = config(&connection(&url, PASSWORD, "ELIT_LV", ""), "order", false, dir.path());
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let written = target
        .write_batch(vec![
            order("WO-77", &[(a, "2"), (b, "1")]),
            order("WO-78", &[("NOSUCH-9", "1")]),
            order("WO-79", &[(a, "1.5")]),
            order("", &[(a, "1")]),
        ])
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    let placed = orders(&sim);
    assert_eq!(placed.len(), 1, "{placed:?}");
    assert_eq!(placed[0]["orderNo"], "WO-77");
    assert_eq!(placed[0]["currency"], "EUR");
    assert_eq!(placed[0]["items"][0]["qty"], "2");
    let outcomes = &written.outcomes;
    assert!(matches!(&outcomes[0], WriteOutcome::Written { target_id } if placed[0]["orderId"] == *target_id));
    let failure = |at: usize| match &outcomes[at] {
        WriteOutcome::Failed(error) => error.clone(),
        other => panic!("order {at} must fail: {other:?}"),
    };
    assert!(
        failure(1).message.contains("NOSUCH-9") && failure(1).message.contains("WO-78"),
        "{}",
        failure(1)
    );
    assert_eq!(failure(1).kind, ErrorKind::Invalid);
    assert!(failure(2).message.contains("whole pieces"), "{}", failure(2));
    assert!(failure(3).message.contains("map `number`"), "{}", failure(3));

    // Written again (a replay): found by its number, not ordered twice.
    let again = target
        .write_batch(vec![order("WO-77", &[(a, "2"), (b, "1")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&again.outcomes[0], WriteOutcome::Written { target_id } if placed[0]["orderId"] == *target_id));
    assert_eq!(orders(&sim).len(), 1);
    let found = target
        .lookup(None, &["WO-77".into(), "WO-00".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.found.len(), 1);
    assert_eq!(
        found.found.get("WO-77").map(|f| f.target_id.clone()),
        placed[0]["orderId"].as_str().map(str::to_owned)
    );
}

#[tokio::test]
async fn an_order_whose_answer_is_lost_after_commit_is_found_by_the_retry_not_repeated() {
    let (url, sim, _) = start(sim("ELIT_EE", 40)).await;
    let numbers = sim.item_numbers();
    let dir = dir();
    let config = config(&connection(&url, PASSWORD, "ELIT_EE", ""), "order", false, dir.path());
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    sim.lose_order_answers(1);
    let lost = target
        .write_batch(vec![order("WO-90", &[(&numbers[2], "3")])])
        .await
        .err()
        .unwrap_or_else(|| panic!("the lost answer must fail the batch"));
    assert_eq!(lost.kind, ErrorKind::Transient, "{lost}");
    assert_eq!(orders(&sim).len(), 1, "Elit took the order");
    let retried = target
        .write_batch(vec![order("WO-90", &[(&numbers[2], "3")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let placed = orders(&sim);
    assert_eq!(placed.len(), 1, "ordered twice: {placed:?}");
    assert!(matches!(&retried.outcomes[0], WriteOutcome::Written { target_id } if placed[0]["orderId"] == *target_id));
    assert_eq!(sim.duplicates(), 0);
}
