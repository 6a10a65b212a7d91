//! The connector against the Bus Market simulator: search, stock and offers read to the end,
//! invoices read incrementally, quotes for one part, orders placed exactly once through cart →
//! reserve, the raw token's failures, rate-limit headers reported and 429 waited out, 5xx and
//! HTML; and invoices into Smartup through the engine ([`flows`]).
use crate::registry::{catalog, open_source};
use crate::{CallGate, ConnectorError, ErrorKind, OpenGate, ReadRequest, RecordFailure, RemoteQuota, SourceRecord};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tiltas_busmarket_sim::{router, BusmarketSim, Seeding};
use tiltas_config::ValidatedConfig;
use tiltas_sim::{Harness, SimSystem};

mod flows;
mod orders;

const TOKEN: &str = "bm-7f3a9c";
const SEED: u64 = 18;

fn sim(catalogue: usize, invoices: usize) -> BusmarketSim {
    BusmarketSim::new(
        TOKEN,
        Seeding {
            seed: SEED,
            catalogue,
            invoices,
        },
    )
}

async fn start(sim: BusmarketSim) -> (String, Arc<BusmarketSim>, Arc<Harness>) {
    let sim = Arc::new(sim);
    let harness = Harness::new(sim.clone(), SEED);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    (url, sim, harness)
}

/// The `[connections.bm]` table reaching `url` (extra lines appended).
fn connection(url: &str, extra: &str) -> String {
    format!("[connections.bm]\nsystem = \"busmarket\"\nbase_url = \"{url}\"\ntoken = \"{TOKEN}\"\n{extra}\n")
}

/// One flow of `entity` between Bus Market and a JSON Lines file.
fn config_of(connection: &str, entity: &str, reading: bool, side: &str) -> ValidatedConfig {
    let bm = format!("connection = \"bm\"{side}");
    let other = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (bm, other) } else { (other, bm) };
    let text = format!(
        "{connection}[connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {{ {from} }}\nto = {{ {to} }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn config(url: &str, extra: &str, entity: &str, reading: bool, side: &str) -> ValidatedConfig {
    config_of(&connection(url, extra), entity, reading, side)
}

type Read = (Vec<SourceRecord>, Vec<RecordFailure>, u64, usize);

/// Every page of the flow's source through `gate`: records, failures, calls, pages (a page
/// refused 429 asked again, up to 5 times, as the engine would).
async fn read_through(
    config: &ValidatedConfig,
    page_size: usize,
    changed_since: Option<chrono::DateTime<chrono::Utc>>,
    gate: Arc<dyn CallGate>,
) -> Result<Read, ConnectorError> {
    let mut source = open_source(config, &config.flows[0], gate)?;
    let mut request = ReadRequest {
        position: None,
        changed_since,
        page_size,
    };
    let (mut records, mut failures, mut calls, mut pages) = (Vec::new(), Vec::new(), 0, 0);
    let mut limited = 0;
    loop {
        // As the engine does: a page refused 429 is asked again after its Retry-After.
        let page = match source.read_page(&request).await {
            Err(error) if error.kind == ErrorKind::RateLimited && limited < 5 => {
                limited += 1;
                tokio::time::sleep(error.retry_after.unwrap_or(Duration::from_secs(1))).await;
                continue;
            }
            other => other?,
        };
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

async fn read(
    config: &ValidatedConfig,
    page_size: usize,
    changed_since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Read, ConnectorError> {
    read_through(config, page_size, changed_since, Arc::new(OpenGate)).await
}

fn parts(sim: &BusmarketSim) -> Vec<Value> {
    sim.records("part")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A gate that admits everything and keeps what the connector reported.
#[derive(Default)]
struct RecordingGate {
    reported: Mutex<Vec<RemoteQuota>>,
}

#[async_trait::async_trait]
impl CallGate for RecordingGate {
    async fn admit(&self) -> Result<(), ConnectorError> {
        Ok(())
    }

    fn report(&self, quota: RemoteQuota) {
        self.reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(quota);
    }
}

#[tokio::test]
async fn the_assortment_is_read_to_the_end_in_pages_of_at_most_100() {
    let (url, sim, _) = start(sim(300, 0)).await;
    let expected = parts(&sim);
    assert!(expected.len() > 150, "seed {SEED}: {} parts", expected.len());
    let (records, failures, calls, pages) = read(&config(&url, "", "product", true, ""), 500, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(records.len(), expected.len());
    let pages_wanted = expected.len().div_ceil(100);
    assert_eq!((pages, calls as usize), (pages_wanted, pages_wanted));
    let first = &records[0].data;
    assert_eq!(first["sku"], expected[0]["code"]);
    assert_eq!(first["brand"], expected[0]["brand"]);
    assert_eq!(
        first["raw"]["article"], expected[0]["article"],
        "the maker's number kept"
    );
    assert_eq!(first["raw"]["uuid"], expected[0]["uuid"]);
    assert_eq!(first["currency"], "EUR", "the connection's default currency");
    assert_eq!(first["price_net"], expected[0]["price_eur"]);
}

#[tokio::test]
async fn stock_is_read_per_warehouse_one_call_a_product_and_for_one_warehouse_when_set() {
    let (url, sim, _) = start(sim(40, 0)).await;
    let all = parts(&sim);
    let (records, failures, calls, pages) = read(&config(&url, "warehouse = \"lviv\"", "stock", true, ""), 10, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(records.len(), all.len(), "one row per product at LVIV");
    assert!(records.iter().all(|r| r.data["warehouse"] == "LVIV"));
    assert_eq!(records[0].data["on_hand"], all[0]["stock"]["LVIV"].to_string());
    assert_eq!(
        (pages, calls as usize),
        (all.len().div_ceil(10), all.len().div_ceil(10) + all.len())
    );
    let (every, _, _, _) = read(&config(&url, "", "stock", true, ""), 100, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(every.len(), all.len() * 4, "every warehouse without `warehouse`");
}

#[tokio::test]
async fn offers_carry_the_price_in_the_asked_currency_and_stock_per_warehouse() {
    let (url, sim, _) = start(sim(30, 0)).await;
    let all = parts(&sim);
    let (records, failures, calls, _) = read(
        &config(&url, "currency = \"PLN\"", "supplier_offer", true, ""),
        100,
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!((records.len(), calls as usize), (all.len(), 1 + all.len()));
    let offer: tiltas_model::SupplierOffer =
        serde_json::from_value(records[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    let eur: Decimal = text(&all[0]["price_eur"]).parse().unwrap_or_default();
    assert_eq!(
        (offer.supplier.as_str(), offer.currency.as_deref(), offer.price),
        ("busmarket", Some("PLN"), Some((eur * Decimal::new(430, 2)).round_dp(2)))
    );
    assert_eq!(offer.article.as_deref(), all[0]["article"].as_str());
    let branches: Vec<&str> = offer.availability.iter().map(|a| a.branch.as_str()).collect();
    assert_eq!(branches, ["KYIV", "LVIV", "ODESA", "DNIPRO"]);
    assert!(offer.availability.iter().all(|a| a.delivery_date.is_some()));

    // A product withdrawn between the search and its stock call fails alone, named.
    let withdrawn = text(&all[4]["code"]);
    sim.withdraw(&withdrawn);
    let (records, failures, _, _) = read(&config(&url, "", "supplier_offer", true, ""), 100, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!((records.len(), failures.len()), (all.len() - 1, 1));
    assert_eq!(failures[0].key, withdrawn);
    assert!(
        failures[0].message.contains("withdrawn") && failures[0].message.contains("404"),
        "{}",
        failures[0].message
    );
}

#[tokio::test]
async fn invoices_are_incoming_documents_with_lines_and_are_read_incrementally_by_date() {
    let (url, sim, _) = start(sim(50, 20)).await;
    let config = config(&url, "", "document", true, ", warehouse = \"WH-MAIN\"");
    let (records, failures, calls, pages) = read(&config, 8, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!((records.len(), pages, calls), (20, 3, 3 + 20));
    let document: tiltas_model::Document =
        serde_json::from_value(records[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(document.kind, tiltas_model::DocumentKind::IncomingReceipt);
    assert_eq!(
        (
            document.counterparty.as_deref(),
            document.warehouse.as_deref(),
            document.currency.as_deref()
        ),
        (Some("BUSMARKET"), Some("WH-MAIN"), Some("UAH"))
    );
    assert!(
        records.windows(2).all(|w| w[0].updated_at <= w[1].updated_at),
        "oldest first"
    );
    let net: Decimal = document
        .lines
        .iter()
        .map(|l| (l.quantity * l.price.unwrap_or_default()).round_dp(2))
        .sum();
    assert_eq!(
        document.total,
        Some((net * Decimal::new(12, 1)).round_dp(2)),
        "20 % VAT"
    );
    assert!(
        records[0].data["raw"]["lines"][0]["article"].is_string(),
        "kept for matching"
    );

    let before = chrono::Utc::now();
    sim.mutate("invoice", 3).unwrap_or_else(|e| panic!("{e}"));
    let (new, _, _, _) = read(&config, 100, Some(before)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.len(), 3, "only today's invoices");
}

#[tokio::test]
async fn a_wrong_token_is_an_auth_error_naming_the_connection_and_the_setting() {
    let (url, _sim, harness) = start(sim(10, 0)).await;
    let bad = config_of(&connection(&url, "").replace(TOKEN, "not-it"), "product", true, "");
    let error = read(&bad, 100, None)
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong token reads nothing"));
    assert_eq!(error.kind, ErrorKind::Auth);
    for words in ["connection \"bm\"", "`token`", "Invalid token"] {
        assert!(error.message.contains(words), "{words}: {}", error.message);
    }
    let unset = config_of(
        &connection(&url, "").replace(&format!("\"{TOKEN}\""), "{ env = \"TILTAS_TEST_BM_UNSET\" }"),
        "product",
        true,
        "",
    );
    let error = read(&unset, 100, None)
        .await
        .err()
        .unwrap_or_else(|| panic!("no token, no read"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("TILTAS_TEST_BM_UNSET"), "{}", error.message);
    let stats = stats(&url).await;
    assert_eq!(stats["requests"]["rejected"], 1, "the unset token sent nothing");
    drop(harness);
}

#[tokio::test]
async fn rate_limit_headers_are_reported_a_used_up_window_is_waited_for_and_a_429_mid_page_is_waited_out() {
    let (url, sim, _) = start(sim(30, 0).with_rate_limit(8, Duration::from_secs(1))).await;
    let all = parts(&sim);
    let gate = Arc::new(RecordingGate::default());
    let config = config(&url, "", "stock", true, "");
    let (records, failures, calls, _) = read_through(&config, 100, None, gate.clone())
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        records.len(),
        all.len() * 4,
        "every product's stock despite 8 requests a second"
    );
    assert_eq!(calls as usize, 1 + all.len());
    let reported = gate
        .reported
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert!(reported.len() > all.len(), "one report per answer: {}", reported.len());
    assert!(reported
        .iter()
        .all(|q| q.name == "requests" && q.limit == 8 && q.used <= 8));
    assert!(reported.iter().any(|q| q.used == 8), "the limit was reached");
    assert!(reported.iter().all(|q| q.resets_at.is_some()));
    let counters = stats(&url).await;
    assert_eq!(
        counters["requests"]["rejected"], 0,
        "a used-up window is waited out, not run into: {counters}"
    );

    // Two readers share the window without knowing of each other: the per-product calls that
    // meet a 429 wait out its Retry-After inside the page, and both read everything.
    let both = futures_all((0..2).map(|_| read(&config, 100, None))).await;
    for result in &both {
        let (records, _, _, _) = result.as_ref().unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
        assert_eq!(records.len(), all.len() * 4);
    }
    let rejected = stats(&url).await["requests"]["rejected"].as_u64().unwrap_or_default();
    assert!(rejected > 0, "the two readers met 429s");

    // The search call itself (one per page) is left to the engine: a 429 with its Retry-After.
    let results = futures_all((0..12).map(|_| source_page(&url))).await;
    let limited: Vec<&ConnectorError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!limited.is_empty(), "twelve at once over a limit of eight");
    assert!(
        limited
            .iter()
            .all(|e| e.kind == ErrorKind::RateLimited && e.retry_after.is_some_and(|w| w <= Duration::from_secs(1))),
        "{limited:?}"
    );
    // Asked again after the Retry-After, as the engine does, every page is read.
    let product = self::config(&url, "", "product", true, "");
    let (records, _, _, _) = read(&product, 5, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!(records.len(), all.len());
}

/// The simulator's counters (`/__sim/stats`).
async fn stats(url: &str) -> Value {
    reqwest::get(format!("{url}/__sim/stats"))
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One search page on a fresh source (for calls at once).
async fn source_page(url: &str) -> Result<usize, ConnectorError> {
    let config = config(url, "", "product", true, "");
    let mut source = open_source(&config, &config.flows[0], Arc::new(OpenGate))?;
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 5,
    };
    Ok(source.read_page(&request).await?.records.len())
}

/// Runs the futures at once (on this task) and returns their results in order.
async fn futures_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut done = true;
        for (at, future) in pending.iter_mut().enumerate() {
            if outputs[at].is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(output) => outputs[at] = Some(output),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
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
async fn a_5xx_and_an_html_page_are_transient_and_name_the_connection() {
    let (url, _sim, _) = start(sim(20, 0)).await;
    let config = config(&url, "", "product", true, "");
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
    ] {
        set_faults(&url, faults).await;
        let error = source
            .read_page(&request)
            .await
            .err()
            .unwrap_or_else(|| panic!("no failure"));
        assert_eq!(error.kind, ErrorKind::Transient, "{}", error.message);
        assert!(
            error.message.contains(words) && error.message.contains("connection \"bm\""),
            "{}",
            error.message
        );
    }
}

#[tokio::test]
async fn a_part_is_quoted_by_the_makers_number_as_typed_with_branches_and_the_current_price() {
    let (url, sim, _) = start(sim(60, 0)).await;
    let all = parts(&sim);
    let config = config_of(&connection(&url, ""), "product", true, "");
    let quoter = quoter(&config);
    let article = text(&all[2]["article"]);
    let typed: String = article
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.'))
        .collect::<String>()
        .to_lowercase();
    let offers = quoter
        .quote(&query(&typed))
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {article}: {e}"));
    assert_eq!(offers.len(), 1, "{offers:?}");
    let offer = &offers[0];
    assert_eq!(offer.part_code, text(&all[2]["code"]));
    assert_eq!(
        (offer.article.as_deref(), offer.brand.as_deref()),
        (Some(article.as_str()), all[2]["brand"].as_str())
    );
    let eur: Decimal = text(&all[2]["price_eur"]).parse().unwrap_or_default();
    assert_eq!((offer.price, offer.currency.as_deref()), (Some(eur), Some("EUR")));
    assert_eq!(offer.price_gross, Some((eur * Decimal::new(12, 1)).round_dp(2)));
    assert_eq!(offer.availability.len(), 4);
    assert_eq!(
        offer.availability[0].quantity.to_string(),
        all[2]["stock"]["KYIV"].to_string()
    );

    let none = quoter
        .quote(&query("NOT-CARRIED-999"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty(), "a part not carried is no offer, not an error");
    sim.withdraw(&text(&all[2]["code"]));
    let withdrawn = quoter.quote(&query(&article)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(withdrawn.is_empty(), "listed by the search but withdrawn: no offer");

    let bad = config_of(&connection(&url, "").replace(TOKEN, "stale"), "product", true, "");
    let error = quoter_of(&bad)
        .quote(&query(&article))
        .await
        .err()
        .unwrap_or_else(|| panic!("stale token"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("`token`") && error.message.contains("\"bm\""),
        "{}",
        error.message
    );
}

fn query(article: &str) -> crate::PartQuery {
    crate::PartQuery {
        article: article.to_owned(),
        brand: None,
        quantity: Decimal::ONE,
    }
}

fn quoter_of(config: &ValidatedConfig) -> Box<dyn crate::PartQuoter> {
    let connection = config
        .connections
        .iter()
        .find(|c| c.name == "bm")
        .unwrap_or_else(|| panic!("no bm connection"));
    let context = crate::OpenContext::quote_of(config, connection, Arc::new(OpenGate), Arc::new(crate::vault::NoVault));
    crate::System::open_quoter(&crate::BusmarketSystem, &context).unwrap_or_else(|e| panic!("{e}"))
}

fn quoter(config: &ValidatedConfig) -> Box<dyn crate::PartQuoter> {
    quoter_of(config)
}
