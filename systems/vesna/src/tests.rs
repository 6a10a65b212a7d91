//! The connector against the Vesna simulator: products, stock per branch and offers from the
//! XLSX price list in a folder and over HTTP (token and customer id), rows priced in another
//! currency refused and malformed rows naming file, line and column, wrong credentials,
//! quotes, orders placed exactly once; and invoices into Smartup through the engine ([`flows`]).
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
use tiltas_vesna_sim::{profile, router, FeedSim, Seeding, SimCredentials};

mod flows;

const TOKEN: &str = "vs-token";
const CUSTOMER: &str = "10001";
const SEED: u64 = 18;

fn sim(catalogue: usize, invoices: usize) -> FeedSim {
    let credentials = SimCredentials::TokenAndCustomer {
        token: TOKEN.into(),
        customer_id: CUSTOMER.into(),
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

/// The connection over HTTP at `url` with `token` and `customer`.
fn over_http(url: &str, token: &str, customer: &str) -> String {
    format!(
        "feed_url = \"{url}/feed/prices.xlsx\"\ninvoices_url = \"{url}/feed/invoices.xlsx\"\n\
         order_url = \"{url}/orders\"\ntoken = \"{token}\"\ncustomer_id = \"{customer}\"\n"
    )
}

/// One flow of `entity` between Vesna (its connection's keys in `keys`) and a file.
fn config(keys: &str, entity: &str, reading: bool, dir: &std::path::Path) -> ValidatedConfig {
    let vesna = "connection = \"vs\"".to_owned();
    let other = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (vesna, other) } else { (other, vesna) };
    let match_on = if matches!(entity, "order" | "document") {
        "match_on = \"number\"\n"
    } else {
        ""
    };
    let text = format!(
        "[connections.vs]\nsystem = \"vesna\"\n{keys}\n[connections.file]\nsystem = \"jsonl\"\n\n\
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
async fn the_xlsx_price_list_is_read_from_the_folder_and_a_row_in_another_currency_is_refused() {
    let sim = sim(120, 0);
    let expected = parts(&sim);
    let dir = tempdir();
    sim.write_files(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    // The simulator's workbook with a row in USD and one with a negative stock added.
    let workbook = std::fs::read(dir.path().join("prices.xlsx")).unwrap_or_else(|e| panic!("{e}"));
    let table = tiltas_feed::table::read_table(&workbook).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = vec![table.header.clone()];
    rows.extend(table.rows.iter().map(|row| row.cells.clone()));
    let mut usd = rows[1].clone();
    usd[0] = "V-USD-1".into();
    usd[5] = "USD".into();
    let mut negative = rows[1].clone();
    negative[0] = "V-NEG-1".into();
    negative[8] = "-3".into();
    rows.push(usd);
    rows.push(negative);
    std::fs::create_dir(dir.path().join("prices")).unwrap_or_else(|e| panic!("{e}"));
    let bytes = tiltas_feed::xlsx::write_xlsx(&rows).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("prices/prices.xlsx"), bytes).unwrap_or_else(|e| panic!("{e}"));
    let keys = "folder = \"prices\"\n";

    let (offers, failures, _) = read(&config(keys, "supplier_offer", true, dir.path()), 40)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!(offers.len(), expected.len());
    let offer: tiltas_model::SupplierOffer =
        serde_json::from_value(offers[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (offer.supplier.as_str(), offer.currency.as_deref()),
        ("vesna", Some("EUR"))
    );
    assert_eq!(offer.part_code, expected[0]["code"].as_str().unwrap_or_default());
    assert_eq!(
        offer.price.map(|p| p.to_string()),
        expected[0]["price"].as_str().map(str::to_owned)
    );
    assert_eq!(offer.availability.len(), 3);
    assert_eq!(offer.availability[0].branch, "Kyiv");
    assert_eq!(failures.len(), 2, "{failures:?}");
    let line = expected.len() + 2;
    assert_eq!(
        (failures[0].key.as_str(), failures[0].location.clone()),
        ("V-USD-1", format!("prices.xlsx:{line}"))
    );
    assert!(
        failures[0].message.contains("Vesna feed prices.xlsx")
            && failures[0]
                .message
                .contains(&format!("line {line}, column \"Currency\""))
            && failures[0].message.contains("in USD; Vesna prices in EUR only"),
        "{}",
        failures[0].message
    );
    assert!(
        failures[1].message.contains("column \"Stock Odesa\"") && failures[1].message.contains("negative"),
        "{}",
        failures[1].message
    );

    let (stock, _, _) = read(&config(keys, "stock", true, dir.path()), 40)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stock.len(), expected.len() * 3);
    let (products, _, _) = read(&config(keys, "product", true, dir.path()), 40)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(products[0].data["raw"]["article"], expected[0]["article"]);
}

#[tokio::test]
async fn the_feed_is_fetched_with_the_token_and_customer_id_and_either_wrong_is_an_auth_error_naming_the_keys() {
    let (url, sim) = start(sim(80, 0)).await;
    let dir = tempdir();
    let (offers, failures, calls) = read(
        &config(&over_http(&url, TOKEN, CUSTOMER), "supplier_offer", true, dir.path()),
        25,
    )
    .await
    .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!((offers.len(), calls), (parts(&sim).len(), 1));
    for (token, customer, status) in [("wrong", CUSTOMER, "401"), (TOKEN, "99999", "403")] {
        let error = read(
            &config(&over_http(&url, token, customer), "product", true, dir.path()),
            25,
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("{token}/{customer} must be refused"));
        assert_eq!(error.kind, ErrorKind::Auth);
        assert!(
            error.message.contains("`token` and `customer_id`")
                && error.message.contains("connection \"vs\"")
                && error.message.contains(status),
            "{}",
            error.message
        );
    }
}

fn quoter(keys: &str, dir: &std::path::Path) -> Box<dyn PartQuoter> {
    let config = config(keys, "supplier_offer", true, dir);
    let connection = config
        .connections
        .iter()
        .find(|c| c.name == "vs")
        .unwrap_or_else(|| panic!("no connection vs"));
    let context = OpenContext::quote_of(
        &config,
        connection,
        Arc::new(OpenGate),
        Arc::new(tiltas_connector::vault::NoVault),
    );
    crate::VesnaSystem
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
async fn a_quote_answers_in_eur_from_the_last_fetched_feed_and_nothing_for_a_part_not_carried() {
    let (url, sim) = start(sim(80, 0)).await;
    assert!(crate::VesnaSystem.quotes());
    let part = parts(&sim)[2].clone();
    let article = part["article"].as_str().unwrap_or_default().to_owned();
    let dir = tempdir();
    let asking = quoter(&over_http(&url, TOKEN, CUSTOMER), dir.path());
    let typed = article.to_lowercase().replace([' ', '/', '.', '-'], "");
    for asked in [article.as_str(), typed.as_str()] {
        let offers = asking
            .quote(&query(asked))
            .await
            .unwrap_or_else(|e| panic!("seed {SEED}: {asked}: {e}"));
        assert_eq!(offers.len(), 1, "{asked}: {offers:?}");
        assert_eq!(offers[0].part_code, part["code"].as_str().unwrap_or_default());
        assert_eq!(
            (offers[0].currency.as_deref(), offers[0].availability.len()),
            (Some("EUR"), 3)
        );
        assert!(offers[0].raw["feed_date"].as_str().is_some_and(|d| d.starts_with("20")));
    }
    let none = asking
        .quote(&query("NOT-CARRIED 123"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty(), "{none:?}");

    let error = quoter(&over_http(&url, "wrong", CUSTOMER), dir.path())
        .quote(&query(&article))
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong token must be refused"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("`token` and `customer_id`"), "{}", error.message);
}

#[tokio::test]
async fn an_order_is_uploaded_once_with_the_customer_id_and_a_retry_finds_it() {
    let (url, sim) = start(sim(40, 0)).await;
    let code = parts(&sim)[0]["code"].as_str().unwrap_or_default().to_owned();
    let dir = tempdir();
    let config = config(&over_http(&url, TOKEN, CUSTOMER), "order", false, dir.path());
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let order = serde_json::json!({
        "number": "SO-2001", "lines": [{ "sku": code, "quantity": "3", "price": "12.40" }]
    });
    for _ in 0..2 {
        let item = WriteItem {
            source_key: "SO-2001".into(),
            target_id: None,
            payload: order.clone(),
        };
        let written = target.write_batch(vec![item]).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&written.outcomes[0], WriteOutcome::Written { target_id } if target_id == "SO-2001.csv"),
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
        format!("customer_id,order_no,code,quantity,price_eur,comment\n{CUSTOMER},SO-2001,{code},3,12.4,\n")
    );
    let lookup = target
        .lookup(Some("number"), &["SO-2001".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        lookup.found.get("SO-2001").map(|f| f.target_id.as_str()),
        Some("SO-2001.csv")
    );
}

#[tokio::test]
async fn invoices_over_http_are_xlsx_lines_read_as_receipts_in_eur() {
    let (url, sim) = start(sim(40, 5)).await;
    let dir = tempdir();
    let config = config(&over_http(&url, TOKEN, CUSTOMER), "document", true, dir.path());
    let (records, failures, calls) = read(&config, 2).await.unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!((records.len(), calls), (5, 1));
    let invoices = sim
        .records("invoice")
        .and_then(|i| i.as_array().cloned())
        .unwrap_or_default();
    let document: tiltas_model::Document =
        serde_json::from_value(records[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(document.number, invoices[0]["number"].as_str().unwrap_or_default());
    assert_eq!(
        (document.currency.as_deref(), document.counterparty.as_deref()),
        (Some("EUR"), Some("VESNA"))
    );
    assert_eq!(
        records[0].data["raw"]["lines"][0]["brand"],
        invoices[0]["lines"][0]["brand"]
    );
}
