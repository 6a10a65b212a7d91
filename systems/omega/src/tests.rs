//! The connector against the Omega simulator: the product list, stock and offers read to the
//! end in pages, expense invoices read incrementally, quotes for one part, orders placed
//! exactly once, `Success: false` for a wrong key, a key used from another address and a
//! refused order, 5xx and HTML pages; and invoices into Smartup through the engine ([`flows`]).
use crate::registry::{catalog, open_source, open_target};
use crate::{
    ErrorKind, OpenContext, OpenGate, PartQuery, PartQuoter, ReadRequest, RecordFailure, SourceRecord, System,
};
use crate::{WriteItem, WriteOutcome};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_omega_sim::{router, Access, OmegaSim, Seeding};
use tiltas_sim::{Harness, SimSystem};

mod flows;

const KEY: &str = "om-key-1";
const SEED: u64 = 18;

fn sim(catalogue: usize, invoices: usize, allowed_ip: Option<&str>) -> OmegaSim {
    let access = Access {
        key: KEY.into(),
        allowed_ip: allowed_ip.and_then(|ip| ip.parse().ok()),
    };
    OmegaSim::new(
        access,
        Seeding {
            seed: SEED,
            catalogue,
            invoices,
        },
    )
}

async fn start(sim: OmegaSim) -> (String, Arc<OmegaSim>) {
    let sim = Arc::new(sim);
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    (url, sim)
}

/// The `[connections.om]` table reaching `url` with `key`.
fn connection(url: &str, key: &str) -> String {
    format!("[connections.om]\nsystem = \"omega\"\nbase_url = \"{url}/public/api/v1.0\"\nkey = \"{key}\"\n")
}

/// One flow of `entity` between Omega and a JSON Lines file.
fn config_with(url: &str, key: &str, entity: &str, reading: bool, side: &str) -> ValidatedConfig {
    let om = format!("connection = \"om\"{side}");
    let other = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (om, other) } else { (other, om) };
    let text = format!(
        "{}[connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {{ {from} }}\nto = {{ {to} }}\n",
        connection(url, key)
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn config(url: &str, entity: &str, reading: bool, side: &str) -> ValidatedConfig {
    config_with(url, KEY, entity, reading, side)
}

type Read = (Vec<SourceRecord>, Vec<RecordFailure>, u64, usize);

/// Every page of the flow's source: records, failures, calls, pages.
async fn read(
    config: &ValidatedConfig,
    page_size: usize,
    changed_since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Read, crate::ConnectorError> {
    let mut source = open_source(config, &config.flows[0], Arc::new(OpenGate))?;
    let mut request = ReadRequest {
        position: None,
        changed_since,
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

fn parts(sim: &OmegaSim) -> Vec<Value> {
    sim.records("part")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_product_list_is_read_to_the_end_in_pages_of_at_most_100() {
    let (url, sim) = start(sim(330, 0, None)).await;
    let expected = parts(&sim);
    assert!(expected.len() > 200, "seed {SEED}: {} parts", expected.len());
    let (records, failures, calls, pages) = read(&config(&url, "product", true, ""), 500, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(records.len(), expected.len());
    // Omega does not say how many there are: the page after the last full one is asked too.
    assert_eq!(
        (pages, calls as usize),
        (expected.len() / 100 + 1, expected.len() / 100 + 1)
    );
    let first = &records[0].data;
    assert_eq!(first["sku"], expected[0]["sku"]);
    assert_eq!(first["brand"], expected[0]["brand"]);
    assert_eq!(
        first["raw"]["Number"], expected[0]["article"],
        "the maker's number kept for matching"
    );
}

#[tokio::test]
async fn stock_is_one_record_per_warehouse_and_offers_carry_price_gross_and_rests() {
    let (url, sim) = start(sim(60, 0, None)).await;
    let all = parts(&sim);
    let (stock, failures, _, _) = read(&config(&url, "stock", true, ""), 100, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(stock.len(), all.len() * 4);
    assert!(stock.iter().any(|r| r.data["warehouse"] == "Харьков"));
    let one = config_with(&url, &format!("{KEY}\"\nbranch = \"Харьков"), "stock", true, "");
    let (kharkiv, _, _, _) = read(&one, 100, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kharkiv.len(), all.len(), "one warehouse with `branch`");
    assert!(kharkiv.iter().all(|r| r.data["warehouse"] == "Харьков"));
    let (offers, _, calls, _) = read(&config(&url, "supplier_offer", true, ""), 100, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!((offers.len(), calls), (all.len(), 1));
    let offer: tiltas_model::SupplierOffer =
        serde_json::from_value(offers[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    let price: Decimal = all[0]["CustomerPrice"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or_default();
    assert_eq!(
        (offer.supplier.as_str(), offer.currency.as_deref(), offer.price),
        ("omega", Some("UAH"), Some(price))
    );
    assert_eq!(offer.price_gross, Some((price * Decimal::new(12, 1)).round_dp(2)));
    assert_eq!(offer.article.as_deref(), all[0]["article"].as_str());
    assert_eq!(offer.availability.len(), 4);
}

#[tokio::test]
async fn invoices_are_incoming_documents_with_net_lines_and_are_read_incrementally_by_date() {
    let (url, sim) = start(sim(50, 12, None)).await;
    let config = config(&url, "document", true, ", warehouse = \"WH-MAIN\"");
    let (records, failures, calls, pages) = read(&config, 5, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        (records.len(), pages, calls),
        (12, 3, 1 + 12),
        "one list, one details call each"
    );
    let document: tiltas_model::Document =
        serde_json::from_value(records[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(document.kind, tiltas_model::DocumentKind::IncomingReceipt);
    assert_eq!(
        (
            document.counterparty.as_deref(),
            document.warehouse.as_deref(),
            document.currency.as_deref()
        ),
        (Some("OMEGA"), Some("WH-MAIN"), Some("UAH"))
    );
    let gross: Decimal = document
        .lines
        .iter()
        .map(|l| (l.quantity * (l.price.unwrap_or_default() * Decimal::new(12, 1)).round_dp(2)).round_dp(2))
        .sum();
    assert_eq!(
        Some(gross),
        document.total,
        "net prices give back Omega's prices with VAT"
    );
    assert!(document.lines.iter().all(|l| l.vat_rate == Some(Decimal::from(20))));

    // Omega refuses one document's lines: that invoice fails alone, with Omega's words.
    let withheld = records[7].key.clone();
    sim.withhold_lines(&withheld);
    let (rest, failures, _, _) = read(&config, 5, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((rest.len(), failures.len()), (11, 1));
    assert_eq!(failures[0].key, withheld);
    assert!(
        failures[0].message.contains("The document is being corrected")
            && failures[0].message.contains("connection \"om\""),
        "{}",
        failures[0].message
    );

    let before = chrono::Utc::now();
    sim.mutate("invoice", 3).unwrap_or_else(|e| panic!("{e}"));
    let (new, _, _, _) = read(&config, 100, Some(before)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.len(), 3, "only today's invoices");
}

fn quoter(url: &str, key: &str) -> Box<dyn PartQuoter> {
    let config = config_with(url, key, "supplier_offer", true, "");
    let connection = config
        .connections
        .iter()
        .find(|c| c.name == "om")
        .unwrap_or_else(|| panic!("no connection om"));
    let context = OpenContext::quote_of(&config, connection, Arc::new(OpenGate), Arc::new(crate::vault::NoVault));
    crate::OmegaSystem
        .open_quoter(&context)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn query(article: &str, brand: Option<&str>) -> PartQuery {
    PartQuery {
        article: article.into(),
        brand: brand.map(str::to_owned),
        quantity: Decimal::ONE,
    }
}

#[tokio::test]
async fn a_quote_finds_a_carried_part_by_number_and_brand_however_typed_and_nothing_for_another() {
    let (url, sim) = start(sim(80, 0, None)).await;
    let part = parts(&sim)[5].clone();
    let article = part["article"].as_str().unwrap_or_default().to_owned();
    let brand = part["brand"].as_str().unwrap_or_default().to_owned();
    let quoter = quoter(&url, KEY);
    let typed = article.to_lowercase().replace([' ', '/', '.', '-'], "");
    for (asked, with_brand) in [(article.as_str(), Some(brand.as_str())), (typed.as_str(), None)] {
        let offers = quoter
            .quote(&query(asked, with_brand))
            .await
            .unwrap_or_else(|e| panic!("seed {SEED}: {asked}: {e}"));
        assert_eq!(offers.len(), 1, "{asked} {with_brand:?}: {offers:?}");
        assert_eq!(offers[0].part_code, part["sku"].as_str().unwrap_or_default());
        assert_eq!(offers[0].availability.len(), 4);
        assert!(offers[0].price.is_some_and(|p| p > Decimal::ZERO));
    }
    let none = quoter
        .quote(&query("NOT-CARRIED 123", Some("BOSCH")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty(), "{none:?}");

    let error = quoter_error(&url, "wrong-key").await;
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("`key`") && error.message.contains("connection \"om\""),
        "{}",
        error.message
    );
}

async fn quoter_error(url: &str, key: &str) -> crate::ConnectorError {
    quoter(url, key)
        .quote(&query("W 712/75", Some("MANN-FILTER")))
        .await
        .err()
        .unwrap_or_else(|| panic!("key {key} must be refused"))
}

#[tokio::test]
async fn a_key_issued_for_another_address_is_an_auth_error_telling_to_have_it_issued_for_this_server() {
    let (url, _) = start(sim(10, 0, Some("203.0.113.7"))).await;
    let error = quoter_error(&url, KEY).await;
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("127.0.0.1")
            && error.message.contains("ask Omega to issue it")
            && error.message.contains("`key`"),
        "{}",
        error.message
    );
    let read = read(&config(&url, "product", true, ""), 100, None).await;
    assert!(
        read.is_err_and(|e| e.kind == ErrorKind::Auth),
        "a read is refused the same way"
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

fn orders(sim: &OmegaSim) -> Vec<Value> {
    sim.records("order")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_order_is_placed_once_even_when_sent_again_or_when_its_answer_is_lost() {
    let (url, sim) = start(sim(30, 0, None)).await;
    let all = parts(&sim);
    let sku = |n: usize| all[n]["sku"].as_str().unwrap_or_default().to_owned();
    let (a, b) = (sku(0), sku(1));
    let config = config(&url, "order", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let written = target
        .write_batch(vec![
            order("WO-77", &[(&a, "2"), (&b, "1")]),
            order("WO-78", &[("99999999", "1")]),
            order("WO-79", &[("W 712/75", "1")]),
            order("WO-80", &[(&a, "1.5")]),
        ])
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(
        matches!(&written.outcomes[0], WriteOutcome::Written { target_id } if target_id.starts_with("ZM-")),
        "{written:?}"
    );
    let failure = |at: usize| match &written.outcomes[at] {
        WriteOutcome::Failed(error) => error.clone(),
        other => panic!("{other:?}"),
    };
    let refused = failure(1);
    assert_eq!(refused.kind, ErrorKind::Invalid);
    assert!(
        refused.message.contains("order WO-78") && refused.message.contains("Product 99999999 not found"),
        "Omega's Success:false words: {}",
        refused.message
    );
    assert!(
        failure(2).message.contains("not an Omega product id"),
        "{}",
        failure(2).message
    );
    assert!(failure(3).message.contains("whole pieces"), "{}", failure(3).message);
    let stored = orders(&sim);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["Comment"], "WO-77");
    assert_eq!(stored[0]["Products"].as_array().map(Vec::len), Some(2));

    let again = target
        .write_batch(vec![order("WO-77", &[(&a, "2")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.outcomes[0], written.outcomes[0]);
    assert_eq!(orders(&sim).len(), 1, "found by its comment, not ordered again");

    sim.lose_order_answers(1);
    let lost = target.write_batch(vec![order("WO-81", &[(&b, "3")])]).await;
    assert!(lost.as_ref().is_err_and(|e| e.kind == ErrorKind::Transient), "{lost:?}");
    let retried = target
        .write_batch(vec![order("WO-81", &[(&b, "3")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(retried.outcomes[0], WriteOutcome::Written { .. }),
        "{retried:?}"
    );
    let wo81: Vec<Value> = orders(&sim).into_iter().filter(|o| o["Comment"] == "WO-81").collect();
    assert_eq!(wo81.len(), 1, "ordered once");
    assert_eq!(
        wo81[0]["Products"][0]["Count"], 3,
        "the basket was emptied before, not doubled"
    );
    assert_eq!(sim.duplicates(), 0);
    let found = target
        .lookup(Some("number"), &["WO-81".into(), "WO-99".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.found.len(), 1);
}

async fn set_faults(url: &str, faults: Value) {
    reqwest::Client::new()
        .post(format!("{url}/__sim/faults"))
        .json(&faults)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn gateway_errors_and_html_pages_are_transient_and_name_the_connection() {
    let (url, _) = start(sim(20, 0, None)).await;
    let config = config(&url, "product", true, "");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 10,
    };
    source.read_page(&request).await.unwrap_or_else(|e| panic!("{e}"));
    for (faults, words) in [
        (json!({ "error_rate": 1.0, "error_status": 502 }), "502"),
        (json!({ "malformed_rate": 1.0 }), "HTML"),
        (json!({ "rate_limit_per_s": 1, "retry_after_s": 2 }), "429"),
    ] {
        set_faults(&url, faults).await;
        let mut error = source.read_page(&request).await.err();
        if error.is_none() {
            // The rate limit lets the first request of a second through.
            error = source.read_page(&request).await.err();
        }
        let error = error.unwrap_or_else(|| panic!("no failure for {words}"));
        assert!(
            matches!(error.kind, ErrorKind::Transient | ErrorKind::RateLimited),
            "{}",
            error.message
        );
        assert!(error.message.contains("connection \"om\""), "{}", error.message);
    }
}
