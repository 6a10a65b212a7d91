//! The connector against the Unique Trade simulator: products, stock per branch and offers
//! from the price list in a folder and over HTTP (Basic), a malformed row naming file, line and
//! column, wrong credentials, quotes, orders placed exactly once; and invoices into Smartup
//! through the engine ([`flows`]).
use crate::registry::{catalog, open_source, open_target};
use rust_decimal::Decimal;
use serde_json::Value;
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_connector::{
    ConnectorError, ErrorKind, OpenContext, OpenGate, PartQuery, PartQuoter, ReadRequest, RecordFailure, SourceRecord,
    System, WriteItem, WriteOutcome,
};
use tiltas_sim::{Harness, SimSystem};
use tiltas_uniquetrade_sim::{profile, router, FeedSim, Seeding, SimCredentials};

mod flows;

const LOGIN: &str = "garage";
const PASSWORD: &str = "ut-secret";
const SEED: u64 = 18;

fn sim(catalogue: usize, invoices: usize) -> FeedSim {
    let credentials = SimCredentials::Basic {
        login: LOGIN.into(),
        password: PASSWORD.into(),
    };
    FeedSim::new(
        profile(),
        credentials,
        Seeding {
            seed: SEED,
            catalogue,
            invoices,
        },
    )
}

async fn start(sim: FeedSim) -> (String, Arc<FeedSim>) {
    let sim = Arc::new(sim);
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    (url, sim)
}

/// The connection over HTTP at `url` with `password`.
fn over_http(url: &str, password: &str) -> String {
    format!(
        "feed_url = \"{url}/feed/prices.csv\"\ninvoices_url = \"{url}/feed/invoices.csv\"\n\
         order_url = \"{url}/orders\"\nlogin = \"{LOGIN}\"\npassword = \"{password}\"\n"
    )
}

/// One flow of `entity` between Unique Trade (its connection's keys in `keys`) and a file.
fn config(keys: &str, entity: &str, reading: bool, dir: &std::path::Path) -> ValidatedConfig {
    let ut = "connection = \"ut\"".to_owned();
    let other = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (ut, other) } else { (other, ut) };
    let match_on = if matches!(entity, "order" | "document") {
        "match_on = \"number\"\n"
    } else {
        ""
    };
    let text = format!(
        "[connections.ut]\nsystem = \"uniquetrade\"\n{keys}\n[connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {{ {from} }}\nto = {{ {to} }}\n{match_on}"
    );
    tiltas_config::parse_str(&text, &dir.join("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

type Read = (Vec<SourceRecord>, Vec<RecordFailure>, u64);

/// Every page of the flow's source in pages of `page_size`.
async fn read(config: &ValidatedConfig, page_size: usize) -> Result<Read, ConnectorError> {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate))?;
    let mut request = ReadRequest {
        position: None,
        changed_since: None,
        page_size,
    };
    let (mut records, mut failures, mut calls) = (Vec::new(), Vec::new(), 0);
    loop {
        let page = source.read_page(&request).await?;
        calls += page.api_calls;
        for record in page.records {
            match record {
                Ok(record) => records.push(record),
                Err(failure) => failures.push(failure),
            }
        }
        match page.next {
            Some(next) => request.position = Some(next),
            None => return Ok((records, failures, calls)),
        }
    }
}

fn parts(sim: &FeedSim) -> Vec<Value> {
    sim.records("part")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn products_stock_and_offers_are_read_from_the_folder_and_a_malformed_row_names_file_line_and_column() {
    let sim = sim(120, 0);
    let expected = parts(&sim);
    let dir = tempdir();
    sim.write_files(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let keys = "folder = \"prices\"\n";
    std::fs::create_dir(dir.path().join("prices")).unwrap_or_else(|e| panic!("{e}"));
    let mut text = std::fs::read_to_string(dir.path().join("prices.csv")).unwrap_or_else(|e| panic!("{e}"));
    text.push_str("UTBAD1;BAD 1;BOSCH;Bad row;12,3x;UAH;;1;1;1\r\n");
    std::fs::write(dir.path().join("prices/prices.csv"), &text).unwrap_or_else(|e| panic!("{e}"));

    let (products, failures, _) = read(&config(keys, "product", true, dir.path()), 50)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!(products.len(), expected.len());
    assert_eq!(products[0].data["sku"], expected[0]["code"]);
    assert_eq!(products[0].data["brand"], expected[0]["brand"]);
    assert_eq!(
        products[0].data["raw"]["article"], expected[0]["article"],
        "the maker's number kept"
    );
    assert_eq!(failures.len(), 1);
    let line = expected.len() + 2;
    assert_eq!(failures[0].location, format!("prices.csv:{line}"));
    assert!(
        failures[0].message.contains("Unique Trade feed prices.csv")
            && failures[0].message.contains(&format!("line {line}, column \"Ціна\""))
            && failures[0].message.contains("\"12,3x\" is not a number")
            && failures[0].message.contains("connection \"ut\""),
        "{}",
        failures[0].message
    );

    let (stock, _, _) = read(&config(keys, "stock", true, dir.path()), 50)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stock.len(), expected.len() * 3, "one record per part and branch");
    assert_eq!(stock[0].data["warehouse"], "Київ");
    assert_eq!(
        stock[0].data["on_hand"].as_str(),
        Some(expected[0]["stock"]["Київ"].to_string().as_str())
    );

    let (offers, _, calls) = read(&config(keys, "supplier_offer", true, dir.path()), 500)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((offers.len(), calls), (expected.len(), 0));
    let offer: tiltas_model::SupplierOffer =
        serde_json::from_value(offers[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (offer.supplier.as_str(), offer.currency.as_deref()),
        ("uniquetrade", Some("UAH"))
    );
    assert_eq!(
        offer.price.map(|p| p.to_string()),
        expected[0]["price"].as_str().map(str::to_owned)
    );
    assert_eq!(offer.availability.len(), 3);
}

#[tokio::test]
async fn offers_are_read_over_http_with_basic_credentials_and_a_wrong_password_is_an_auth_error_naming_the_keys() {
    let (url, sim) = start(sim(80, 0)).await;
    let dir = tempdir();
    let (offers, failures, calls) = read(
        &config(&over_http(&url, PASSWORD), "supplier_offer", true, dir.path()),
        25,
    )
    .await
    .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        (offers.len(), calls),
        (parts(&sim).len(), 1),
        "one fetch for every page"
    );
    assert!(offers[0].data["raw"]["feed_date"].as_str().is_some());

    let error = read(&config(&over_http(&url, "wrong"), "product", true, dir.path()), 25)
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong password must be refused"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("`login` and `password`")
            && error.message.contains("connection \"ut\"")
            && error.message.contains("401"),
        "{}",
        error.message
    );
}

fn quoter(keys: &str, dir: &std::path::Path) -> Box<dyn PartQuoter> {
    let config = config(keys, "supplier_offer", true, dir);
    let connection = config
        .connections
        .iter()
        .find(|c| c.name == "ut")
        .unwrap_or_else(|| panic!("no connection ut"));
    let context = OpenContext::quote_of(
        &config,
        connection,
        Arc::new(OpenGate),
        Arc::new(tiltas_connector::vault::NoVault),
    );
    crate::UniqueTradeSystem
        .open_quoter(&context)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn query(article: &str) -> PartQuery {
    PartQuery {
        article: article.into(),
        brand: None,
        quantity: Decimal::ONE,
    }
}

#[tokio::test]
async fn a_quote_finds_a_carried_part_however_typed_with_its_branches_and_nothing_for_another() {
    let (url, sim) = start(sim(80, 0)).await;
    assert!(crate::UniqueTradeSystem.quotes());
    let part = parts(&sim)[4].clone();
    let article = part["article"].as_str().unwrap_or_default().to_owned();
    let dir = tempdir();
    let asking = quoter(&over_http(&url, PASSWORD), dir.path());
    let typed = article.to_lowercase().replace([' ', '/', '.', '-'], "");
    for asked in [article.as_str(), typed.as_str()] {
        let offers = asking
            .quote(&query(asked))
            .await
            .unwrap_or_else(|e| panic!("seed {SEED}: {asked}: {e}"));
        assert_eq!(offers.len(), 1, "{asked}: {offers:?}");
        assert_eq!(offers[0].part_code, part["code"].as_str().unwrap_or_default());
        assert_eq!(offers[0].brand.as_deref(), part["brand"].as_str());
        assert_eq!(offers[0].availability.len(), 3);
        assert!(offers[0].price.is_some_and(|p| p > Decimal::ZERO));
        assert!(offers[0].raw["feed_date"].as_str().is_some_and(|d| d.starts_with("20")));
    }
    let none = asking
        .quote(&query("NOT-CARRIED 123"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty(), "{none:?}");

    let error = quoter(&over_http(&url, "wrong"), dir.path())
        .quote(&query(&article))
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong password must be refused"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("`login` and `password`"), "{}", error.message);
}

#[tokio::test]
async fn an_order_is_uploaded_once_in_the_supplier_layout_and_a_retry_finds_it() {
    let (url, sim) = start(sim(40, 0)).await;
    let code = parts(&sim)[0]["code"].as_str().unwrap_or_default().to_owned();
    let dir = tempdir();
    let config = config(&over_http(&url, PASSWORD), "order", false, dir.path());
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let order = serde_json::json!({
        "number": "SO-1001", "note": "to the garage",
        "lines": [{ "sku": code, "name": "Oil filter", "quantity": "2", "price": "310.5" }]
    });
    let item = || WriteItem {
        source_key: "SO-1001".into(),
        target_id: None,
        payload: order.clone(),
    };
    let lookup = target
        .lookup(Some("number"), &["SO-1001".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(lookup.found.is_empty());
    for _ in 0..2 {
        let written = target.write_batch(vec![item()]).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&written.outcomes[0], WriteOutcome::Written { target_id } if target_id == "SO-1001.csv"),
            "{:?}",
            written.outcomes
        );
    }
    let orders = sim
        .records("order")
        .and_then(|o| o.as_array().cloned())
        .unwrap_or_default();
    assert_eq!(orders.len(), 1, "placed once: {orders:?}");
    assert_eq!(
        orders[0]["text"].as_str().unwrap_or_default(),
        format!("Номер замовлення;Код;Найменування;Кількість;Ціна;Коментар\nSO-1001;{code};Oil filter;2;310,5;to the garage\n")
    );
    let lookup = target
        .lookup(Some("number"), &["SO-1001".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        lookup.found.get("SO-1001").map(|f| f.target_id.as_str()),
        Some("SO-1001.csv")
    );

    let bad = serde_json::json!({ "number": "SO-1002", "lines": [{ "sku": code, "quantity": "1.5" }] });
    let refused = target
        .write_batch(vec![WriteItem {
            source_key: "SO-1002".into(),
            target_id: None,
            payload: bad,
        }])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&refused.outcomes[0], WriteOutcome::Failed(e) if e.kind == ErrorKind::Invalid && e.message.contains("whole pieces")),
        "{:?}",
        refused.outcomes
    );
}

#[tokio::test]
async fn invoices_over_http_are_receipts_asked_since_a_date() {
    let (url, sim) = start(sim(40, 5)).await;
    let dir = tempdir();
    let keys = over_http(&url, PASSWORD);
    let config = config(&keys, "document", true, dir.path());
    let (records, failures, calls) = read(&config, 2).await.unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!((records.len(), calls), (5, 1));
    let document: tiltas_model::Document =
        serde_json::from_value(records[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    let invoices = sim
        .records("invoice")
        .and_then(|i| i.as_array().cloned())
        .unwrap_or_default();
    assert_eq!(document.number, invoices[0]["number"].as_str().unwrap_or_default());
    assert_eq!(
        document.lines.len(),
        invoices[0]["lines"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(
        (document.currency.as_deref(), document.counterparty.as_deref()),
        (Some("UAH"), Some("UNIQUETRADE"))
    );
    assert_eq!(
        records[0].data["raw"]["lines"][0]["article"],
        invoices[0]["lines"][0]["article"]
    );
}

#[tokio::test]
async fn an_upload_whose_answer_is_lost_after_it_was_kept_is_found_by_the_retry_not_placed_twice() {
    let sim = Arc::new(sim(40, 0));
    let harness = Harness::new(sim.clone(), SEED);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let code = parts(&sim)[1]["code"].as_str().unwrap_or_default().to_owned();
    let dir = tempdir();
    let config = config(&over_http(&url, PASSWORD), "order", false, dir.path());
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let item = || WriteItem {
        source_key: "SO-77".into(),
        target_id: None,
        payload: serde_json::json!({ "number": "SO-77", "lines": [{ "sku": code, "quantity": "1" }] }),
    };
    harness.set_faults(tiltas_sim::Faults {
        commit_then_fail_rate: 1.0,
        ..tiltas_sim::Faults::default()
    });
    let lost = target
        .write_batch(vec![item()])
        .await
        .err()
        .unwrap_or_else(|| panic!("the answer is lost"));
    assert_eq!(lost.kind, ErrorKind::Transient, "{}", lost.message);
    harness.set_faults(tiltas_sim::Faults::default());
    // What the engine does before retrying an uncertain write: look it up.
    let lookup = target
        .lookup(Some("number"), &["SO-77".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        lookup.found.get("SO-77").map(|f| f.target_id.as_str()),
        Some("SO-77.csv")
    );
    let retried = target.write_batch(vec![item()]).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&retried.outcomes[0], WriteOutcome::Written { .. }),
        "{:?}",
        retried.outcomes
    );
    let orders = sim.records("order").and_then(|o| o.as_array().map(Vec::len));
    assert_eq!(orders, Some(1), "placed once");
    assert_eq!(sim.duplicates(), 0);
}

#[test]
fn a_feed_url_without_credentials_is_refused_on_opening_naming_the_keys_to_set() {
    let dir = tempdir();
    let config = config(
        "feed_url = \"http://127.0.0.1:9/feed/prices.csv\"\n",
        "product",
        true,
        dir.path(),
    );
    let error = open_source(&config, &config.flows[0], Arc::new(OpenGate))
        .err()
        .unwrap_or_else(|| panic!("no credentials must be refused"));
    assert!(
        error.message.contains("connection \"ut\"") && error.message.contains("set `login` and `password`"),
        "{}",
        error.message
    );
}
