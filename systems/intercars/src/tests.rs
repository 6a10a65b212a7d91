//! The connector against the Inter Cars simulator: the catalogue, stock and offers read to the
//! end in calls of ≤ 100 and ≤ 20, invoices read incrementally, requisitions placed exactly
//! once, OAuth2 failures and renewals, 429/5xx/HTML; and invoices into Smartup through the
//! engine ([`flows`]).
use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, OpenGate, ReadRequest, RecordFailure, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tiltas_config::ValidatedConfig;
use tiltas_intercars_sim::{router, Credentials, IntercarsSim, Seeding};
use tiltas_sim::{Harness, SimSystem};

mod flows;

const CLIENT: &str = "garage-1";
const SECRET: &str = "s3cret";
const SEED: u64 = 18;

fn sim(catalogue: usize, invoices: usize) -> IntercarsSim {
    let credentials = Credentials {
        client_id: CLIENT.into(),
        client_secret: SECRET.into(),
        token_lifetime: Duration::from_secs(3600),
    };
    IntercarsSim::new(
        credentials,
        Seeding {
            seed: SEED,
            catalogue,
            invoices,
        },
    )
}

async fn start(sim: IntercarsSim) -> (String, Arc<IntercarsSim>, Arc<Harness>) {
    let sim = Arc::new(sim);
    let harness = Harness::new(sim.clone(), SEED);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    (url, sim, harness)
}

/// The `[connections.ic]` table reaching `url` (extra lines appended).
fn connection(url: &str, extra: &str) -> String {
    format!(
        "[connections.ic]\nsystem = \"intercars\"\nbase_url = \"{url}/ic\"\ntoken_url = \"{url}/oauth2/token\"\n\
         client_id = \"{CLIENT}\"\nclient_secret = \"{SECRET}\"\n{extra}\n"
    )
}

/// One flow of `entity` between Inter Cars and a JSON Lines file.
fn config(url: &str, extra: &str, entity: &str, reading: bool, side: &str) -> ValidatedConfig {
    let ic = format!("connection = \"ic\"{side}");
    let other = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (ic, other) } else { (other, ic) };
    let text = format!(
        "{}[connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {{ {from} }}\nto = {{ {to} }}\n",
        connection(url, extra)
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
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

fn parts(sim: &IntercarsSim) -> Vec<Value> {
    sim.records("part")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_catalogue_is_read_to_the_end_in_pages_of_at_most_100() {
    let (url, sim, _) = start(sim(300, 0)).await;
    let expected = parts(&sim);
    assert!(expected.len() > 200, "seed {SEED}: {} parts", expected.len());
    let (records, failures, calls, pages) = read(&config(&url, "", "product", true, ""), 500, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(records.len(), expected.len());
    assert_eq!(
        (pages, calls as usize),
        (expected.len().div_ceil(100), expected.len().div_ceil(100))
    );
    let first = &records[0].data;
    assert_eq!(first["sku"], expected[0]["sku"]);
    assert_eq!(first["brand"], expected[0]["brand"]);
    assert_eq!(
        first["raw"]["index"], expected[0]["article"],
        "the maker's number kept for matching"
    );
    assert_eq!(first["ean"].as_str().map(str::len), Some(13));
}

#[tokio::test]
async fn stock_is_read_per_branch_capped_at_10_and_a_withdrawn_sku_is_reported_not_failing_the_page() {
    let (url, sim, _) = start(sim(120, 0)).await;
    let all = parts(&sim);
    let withdrawn = all[3]["sku"].as_str().unwrap_or_default().to_owned();
    sim.withdraw(&withdrawn);
    let (records, failures, calls, pages) = read(&config(&url, "location = \"WAW\"", "stock", true, ""), 100, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert_eq!(records.len(), all.len() - 1, "one row per SKU at WAW");
    assert!(records.iter().all(|r| r.data["warehouse"] == "WAW"));
    assert!(records.iter().all(|r| r.data["on_hand"]
        .as_str()
        .and_then(|q| q.parse::<u32>().ok())
        .is_some_and(|q| q <= 10)));
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].key, withdrawn);
    assert!(failures[0].message.contains("skpSkuList"), "{}", failures[0].message);
    assert_eq!(
        (pages, calls),
        (all.len().div_ceil(100), 2 * all.len().div_ceil(100) as u64)
    );
    let (every, _, _, _) = read(&config(&url, "", "stock", true, ""), 100, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(every.len(), (all.len() - 1) * 4, "every branch without `location`");
}

#[tokio::test]
async fn offers_carry_the_customer_price_and_availability_per_branch_in_quote_calls_of_20() {
    let (url, sim, _) = start(sim(60, 0)).await;
    let all = parts(&sim);
    let (records, failures, calls, _) = read(&config(&url, "", "supplier_offer", true, ""), 100, None)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(records.len(), all.len());
    assert_eq!(calls, 1 + 1 + all.len().div_ceil(20) as u64, "catalogue, stock, quotes");
    let offer: tiltas_model::SupplierOffer =
        serde_json::from_value(records[0].data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(offer.supplier, "intercars");
    assert_eq!(offer.currency.as_deref(), Some("PLN"));
    assert_eq!(
        offer.price.map(|p| p.to_string()),
        all[0]["customerPriceNet"].as_str().map(str::to_owned)
    );
    assert_eq!(offer.availability.len(), 4);
    assert_eq!(records[0].data["raw"]["price"]["vatPercentage"], "23");
}

#[tokio::test]
async fn invoices_are_incoming_documents_with_lines_and_are_read_incrementally_by_issue_date() {
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
        (Some("INTERCARS"), Some("WH-MAIN"), Some("PLN"))
    );
    assert!(!document.lines.is_empty() && document.lines.iter().all(|l| l.price.is_some()));
    let gross: rust_decimal::Decimal = document
        .lines
        .iter()
        .map(|l| (l.quantity * l.price.unwrap_or_default()).round_dp(2))
        .sum::<rust_decimal::Decimal>()
        * rust_decimal::Decimal::new(123, 2);
    assert_eq!(Some(gross.round_dp(2)), document.total);

    let before = chrono::Utc::now();
    tiltas_sim::SimSystem::mutate(sim.as_ref(), "invoice", 3).unwrap_or_else(|e| panic!("{e}"));
    let (new, _, _, _) = read(&config, 100, Some(before)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.len(), 3, "only today's invoices");
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_naming_the_settings_and_an_expired_token_is_renewed_once() {
    let (url, sim, _) = start(sim(10, 0)).await;
    let text = format!(
        "{}[connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"product\"\nfrom = {{ connection = \"ic\" }}\nto = {{ connection = \"file\", file = \"x.jsonl\" }}\n",
        connection(&url, "").replace(SECRET, "not-it")
    );
    let bad =
        tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"));
    let error = read(&bad, 100, None)
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong secret reads nothing"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("invalid_client") && error.message.contains("client_secret"),
        "{}",
        error.message
    );

    for auth in ["form", "basic"] {
        let good = config(&url, &format!("client_auth = \"{auth}\""), "product", true, "");
        let mut source = open_source(&good, &good.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
        let request = ReadRequest {
            position: None,
            changed_since: None,
            page_size: 5,
        };
        source
            .read_page(&request)
            .await
            .unwrap_or_else(|e| panic!("{auth}: {e}"));
        sim.expire_tokens();
        let before = requests(&url).await;
        let page = source
            .read_page(&request)
            .await
            .unwrap_or_else(|e| panic!("{auth}: renewed: {e}"));
        assert_eq!(page.records.len(), 5);
        assert_eq!(requests(&url).await - before, 3, "401, one new token, the retried call");
    }
}

/// Requests the simulator counted so far (`/__sim/stats`).
async fn requests(url: &str) -> u64 {
    let stats: Value = reqwest::get(format!("{url}/__sim/stats"))
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    stats["requests"]["total"].as_u64().unwrap_or_default()
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

fn requisitions(sim: &IntercarsSim) -> Vec<Value> {
    sim.records("requisition")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
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
async fn an_order_becomes_one_confirmed_requisition_even_when_sent_again_or_after_commit_then_fail() {
    let (url, sim, _) = start(sim(30, 0)).await;
    let all = parts(&sim);
    let sku = |n: usize| all[n]["sku"].as_str().unwrap_or_default().to_owned();
    let (a, b) = (sku(0), sku(1));
    let config = config(&url, "", "order", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let written = target
        .write_batch(vec![
            order("WO-77", &[(&a, "2"), (&b, "1")]),
            order("WO-78", &[("NOSUCH", "1")]),
            order("WO-79", &[(&a, "1.5")]),
        ])
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(
        matches!(&written.outcomes[0], WriteOutcome::Written { target_id } if target_id.starts_with('R')),
        "{written:?}"
    );
    let WriteOutcome::Failed(unknown) = &written.outcomes[1] else {
        panic!("{written:?}")
    };
    assert_eq!(unknown.kind, ErrorKind::Invalid);
    assert!(
        unknown.message.contains("order WO-78") && unknown.message.contains("NOSUCH"),
        "{}",
        unknown.message
    );
    let WriteOutcome::Failed(fraction) = &written.outcomes[2] else {
        panic!("{written:?}")
    };
    assert!(fraction.message.contains("whole pieces"), "{}", fraction.message);
    let stored = requisitions(&sim);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0]["customNumber"].as_str(), stored[0]["status"].as_str()),
        (Some("WO-77"), Some("CONFIRMED"))
    );

    // The same order again (a retried batch): found by customNumber, nothing new.
    let again = target
        .write_batch(vec![order("WO-77", &[(&a, "2")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.outcomes[0], written.outcomes[0]);
    assert_eq!(requisitions(&sim).len(), 1);

    // Created, then the answer is lost: the retry confirms the existing requisition.
    set_faults(&url, json!({ "commit_then_fail_rate": 1.0 })).await;
    let lost = target.write_batch(vec![order("WO-80", &[(&b, "3")])]).await;
    assert!(lost.as_ref().is_err_and(|e| e.kind == ErrorKind::Transient), "{lost:?}");
    set_faults(&url, json!({})).await;
    let retried = target
        .write_batch(vec![order("WO-80", &[(&b, "3")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(retried.outcomes[0], WriteOutcome::Written { .. }),
        "{retried:?}"
    );
    let stored = requisitions(&sim);
    let wo80: Vec<&Value> = stored.iter().filter(|r| r["customNumber"] == "WO-80").collect();
    assert_eq!(wo80.len(), 1, "ordered once: {stored:?}");
    assert_eq!(wo80[0]["status"], "CONFIRMED");
    assert_eq!(sim.duplicates(), 0);

    // Confirmed, then the confirmation's answer is lost: the retry finds it confirmed and
    // neither orders nor confirms again.
    sim.lose_confirmations(1);
    let lost = target.write_batch(vec![order("WO-81", &[(&a, "1")])]).await;
    assert!(lost.as_ref().is_err_and(|e| e.kind == ErrorKind::Transient), "{lost:?}");
    let before = requests(&url).await;
    let retried = target
        .write_batch(vec![order("WO-81", &[(&a, "1")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(retried.outcomes[0], WriteOutcome::Written { .. }),
        "{retried:?}"
    );
    assert_eq!(
        requests(&url).await - before,
        1,
        "one list of requisitions, no create, no confirm"
    );
    let wo81: Vec<Value> = requisitions(&sim)
        .into_iter()
        .filter(|r| r["customNumber"] == "WO-81")
        .collect();
    assert_eq!((wo81.len(), wo81[0]["status"].as_str()), (1, Some("CONFIRMED")));
    let found = target
        .lookup(Some("number"), &["WO-80".into(), "WO-99".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.found.len(), 1);
}

#[tokio::test]
async fn parallel_load_meets_429_with_retry_after_and_5xx_and_html_are_transient() {
    let (url, _sim, _) = start(sim(40, 0).with_max_in_flight(1)).await;
    set_faults(&url, json!({ "latency_ms": 100 })).await;
    let config = config(&url, "", "product", true, "");
    let reads = (0..6).map(|_| read(&config, 100, None));
    let results = futures_join(reads).await;
    let limited: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!limited.is_empty(), "six at once over a limit of one");
    assert!(
        limited
            .iter()
            .all(|e| e.kind == ErrorKind::RateLimited && e.retry_after == Some(Duration::from_secs(1))),
        "{limited:?}"
    );
    set_faults(&url, json!({})).await;
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
        assert!(error.message.contains(words), "{}", error.message);
    }
}

/// Runs the futures at once (on this task) and returns their results in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    let mut pending = handles;
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

fn quoter_of(config: &ValidatedConfig) -> Box<dyn crate::PartQuoter> {
    let connection = config.connection("ic").unwrap_or_else(|| panic!("no ic connection"));
    let context = crate::OpenContext::quote_of(config, connection, Arc::new(OpenGate), Arc::new(crate::vault::NoVault));
    crate::System::open_quoter(&crate::IntercarsSystem, &context).unwrap_or_else(|e| panic!("{e}"))
}

fn part_query(article: &str) -> crate::PartQuery {
    crate::PartQuery {
        article: article.to_owned(),
        brand: None,
        quantity: rust_decimal::Decimal::from(2),
    }
}

#[tokio::test]
async fn a_part_is_quoted_by_the_makers_number_as_typed_with_stock_per_branch_and_the_customer_price() {
    let (url, sim, _) = start(sim(60, 0)).await;
    let all = parts(&sim);
    let part = &all[4];
    let article = part["article"].as_str().unwrap_or_default().to_owned();
    let typed: String = article
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '/'))
        .collect::<String>()
        .to_lowercase();
    let config = config(&url, "", "product", true, "");
    assert!(crate::System::quotes(&crate::IntercarsSystem));
    let quoter = quoter_of(&config);
    let offers = quoter
        .quote(&part_query(&typed))
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {article}: {e}"));
    let offer = offers
        .iter()
        .find(|offer| offer.part_code == part["sku"])
        .unwrap_or_else(|| panic!("seed {SEED}: no offer for {}: {offers:?}", part["sku"]));
    assert_eq!(
        (offer.article.as_deref(), offer.brand.as_deref()),
        (Some(article.as_str()), part["brand"].as_str())
    );
    assert_eq!(
        (offer.price.map(|p| p.to_string()), offer.currency.as_deref()),
        (part["customerPriceNet"].as_str().map(str::to_owned), Some("PLN"))
    );
    assert!(offer.price_gross > offer.price, "gross with VAT: {offer:?}");
    let stock = part["stock"].as_object().cloned().unwrap_or_default();
    assert_eq!(offer.availability.len(), stock.len(), "one row per branch");
    for row in &offer.availability {
        let pieces = stock[&row.branch].as_u64().unwrap_or_default().min(10);
        assert_eq!(row.quantity, rust_decimal::Decimal::from(pieces), "{}", row.branch);
    }

    let none = quoter
        .quote(&part_query("NOT-CARRIED 999"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty(), "a part not carried is no offer, not an error");
    sim.withdraw(part["sku"].as_str().unwrap_or_default());
    let withdrawn = quoter
        .quote(&part_query(&article))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        withdrawn.iter().all(|offer| offer.part_code != part["sku"]),
        "listed by the catalogue but withdrawn: no offer"
    );

    let bad = config_with(&connection(&url, "").replace(SECRET, "not-it"));
    let error = quoter_of(&bad)
        .quote(&part_query(&article))
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong secret quotes nothing"));
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("client_secret") && error.message.contains("\"ic\"") && error.message.contains(&article),
        "{}",
        error.message
    );
}

/// A file of the given connection table and one product flow to a JSON Lines file.
fn config_with(connection: &str) -> ValidatedConfig {
    let text = format!(
        "{connection}[connections.file]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"product\"\nfrom = {{ connection = \"ic\" }}\nto = {{ connection = \"file\", file = \"x.jsonl\" }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("f.toml"), catalog()).unwrap_or_else(|e| panic!("{e}"))
}
