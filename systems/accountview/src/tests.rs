//! The connector against the AccountView simulator: OAuth2 (authorisation URL, code exchange,
//! rotation, a spent refresh token), reads to the last page, incremental reads, writes of
//! debtors and sales orders, refused rows and an HTML error page; and
//! `examples/accountview-mplus.toml` end to end against both simulators (`flows.rs`).
mod flows;
mod paused;

use crate::{ErrorKind, OpenGate, ReadRequest, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tiltas_accountview_sim::{router, AccountViewSim, Credentials, Seeding};
use tiltas_config::ValidatedConfig;
use tiltas_connector::vault::{CredentialVault, MemoryVault};
use tiltas_connector::Systems;
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 11;
const CLIENT: &str = "av-client";
const SECRET: &str = "av-secret";
const REDIRECT: &str = "http://127.0.0.1:8765/callback";

static SYSTEMS: Systems = Systems::new(&[&crate::AccountViewSystem, &tiltas_files::JsonlSystem]);

fn credentials() -> Credentials {
    Credentials {
        client_id: CLIENT.into(),
        client_secret: SECRET.into(),
        company: "7".into(),
        token_lifetime: Duration::from_secs(3600),
    }
}

async fn start(articles: usize, debtors: usize) -> (String, Arc<AccountViewSim>, Arc<Harness>) {
    let seeding = Seeding {
        seed: SEED,
        articles,
        debtors,
    };
    let sim = Arc::new(AccountViewSim::new(credentials(), seeding));
    let harness = Harness::new(sim.clone(), SEED);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone()))
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    (url, sim, harness)
}

/// The `[connections.books]` table reaching the simulator at `url`.
fn connection(url: &str) -> String {
    format!(
        "[connections.books]\nsystem = \"accountview\"\nbase_url = \"{url}/api/v3/\"\ncompany = \"7\"\n\
         client_id = \"{CLIENT}\"\nclient_secret = \"{SECRET}\"\nredirect_uri = \"{REDIRECT}\"\npage_size = 7\n"
    )
}

/// A flow file: AccountView on one side (its endpoint's extra keys), a JSON Lines file on the other.
fn config(url: &str, entity: &str, side: &str, reading: bool) -> ValidatedConfig {
    config_paged(url, entity, side, reading, 7)
}

/// [`config`] with `page_size` rows a page.
fn config_paged(url: &str, entity: &str, side: &str, reading: bool, page_size: usize) -> ValidatedConfig {
    let av = format!("connection = \"books\"{side}");
    let file = "connection = \"file\", file = \"x.jsonl\"".to_owned();
    let (from, to) = if reading { (av, file) } else { (file, av) };
    let text = format!(
        "{}\n[connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"{entity}\"\n\
         from = {{ {from} }}\nto = {{ {to} }}\n",
        connection(url).replace("page_size = 7", &format!("page_size = {page_size}"))
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), &SYSTEMS).unwrap_or_else(|e| panic!("{e}"))
}

/// A vault holding a refresh token the simulator issued, as `tiltas connect` leaves it.
async fn vault(sim: &AccountViewSim) -> Arc<dyn CredentialVault> {
    let vault: Arc<dyn CredentialVault> = Arc::new(MemoryVault::default());
    vault
        .save("books", crate::REFRESH_TOKEN, &sim.issue_refresh_token())
        .await
        .unwrap();
    vault
}

async fn read_all(
    config: &ValidatedConfig,
    vault: &Arc<dyn CredentialVault>,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(Vec<SourceRecord>, u64), crate::ConnectorError> {
    let mut source = SYSTEMS.open_source_with(config, &config.flows[0], Arc::new(OpenGate), vault.clone())?;
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size: 500,
    };
    let (mut records, mut calls) = (Vec::new(), 0);
    loop {
        let page = source.read_page(&request).await?;
        calls += page.api_calls;
        records.extend(
            page.records
                .into_iter()
                .map(|r| r.unwrap_or_else(|f| panic!("seed {SEED}: {f:?}"))),
        );
        match page.next {
            Some(next) => request.position = Some(next),
            None => return Ok((records, calls)),
        }
    }
}

fn item(key: &str, payload: Value) -> WriteItem {
    WriteItem {
        source_key: key.into(),
        target_id: None,
        payload,
    }
}

#[tokio::test]
async fn articles_are_read_to_the_last_page_with_variants_nested_or_separate() {
    let (url, sim, _) = start(100, 0).await;
    let vault = vault(&sim).await;
    let (nested, calls) = read_all(&config(&url, "product", "", true), &vault, None)
        .await
        .unwrap();
    assert_eq!(nested.len(), 80, "70 simple and 10 configurable products");
    let configurable: Vec<&SourceRecord> = nested.iter().filter(|r| r.data["variants"].is_array()).collect();
    assert_eq!(configurable.len(), 10);
    let first = &configurable[0].data;
    assert_eq!(first["variants"].as_array().unwrap().len(), 2, "{first}");
    assert_eq!(first["variants"][0]["attributes"]["size"], "M");
    assert!(first["variants"][0]["attributes"]["color"].is_string());
    // 100 rows at 7 a page is 15 pages, plus one variant read per configurable product.
    assert_eq!(calls, 15 + 10);
    let (separate, _) = read_all(
        &config(&url, "product", ", variants = \"separate\"", true),
        &vault,
        None,
    )
    .await
    .unwrap();
    assert_eq!(separate.len(), 100);
    let variants = separate.iter().filter(|r| r.data["parent_sku"].is_string()).count();
    assert_eq!(variants, 20);
    assert!(separate.iter().all(|r| r.key.chars().all(|c| c.is_ascii_digit())));
    let row = &separate[0].data;
    assert!(
        row["price_net"].is_string() && row["long_description"].is_string(),
        "{row}"
    );
    assert_eq!(
        row["raw"]["FEAT_ORIGIN"].as_str().map(str::len),
        Some(2),
        "features stay as raw fields"
    );
}

#[tokio::test]
async fn incremental_reads_filter_by_change_date_and_custom_filters_apply() {
    let (url, sim, _) = start(100, 12).await;
    let vault = vault(&sim).await;
    let since = Some(chrono::Utc::now() - chrono::Duration::hours(1));
    let (none, _) = read_all(&config(&url, "customer", "", true), &vault, since)
        .await
        .unwrap();
    assert!(none.is_empty(), "seeded debtors changed in 2024");
    sim.mutate("customer", 3).unwrap();
    let (changed, _) = read_all(&config(&url, "customer", "", true), &vault, since)
        .await
        .unwrap();
    assert_eq!(changed.len(), 3);
    let company = changed.iter().find(|r| r.data["kind"] == "company").unwrap();
    assert!(
        company.data["first_name"].is_string(),
        "the contact person's name: {}",
        company.data
    );
    let (coffee, _) = read_all(
        &config(&url, "product", ", where = { AG_CODE = \"KOF\" }", true),
        &vault,
        None,
    )
    .await
    .unwrap();
    assert!(!coffee.is_empty() && coffee.iter().all(|r| r.data["categories"][0] == "KOF"));
}

#[tokio::test]
async fn stock_is_available_less_reserved_and_price_lists_carry_their_lines() {
    let (url, sim, _) = start(100, 0).await;
    let vault = vault(&sim).await;
    let (stock, _) = read_all(&config(&url, "stock", ", warehouse = \"HOOFD\"", true), &vault, None)
        .await
        .unwrap();
    assert_eq!(stock.len(), 90, "every article but the 10 configurable parents");
    let rows = sim.records("stock").unwrap();
    for record in &stock {
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["ART_CODE"] == record.data["sku"])
            .unwrap();
        let expected = row["QTY_STOCK"].as_i64().unwrap() - row["QTY_RES"].as_i64().unwrap();
        assert_eq!(record.data["available"], expected.to_string(), "{}", record.data);
    }
    let (lists, _) = read_all(&config(&url, "price_list", "", true), &vault, None)
        .await
        .unwrap();
    assert_eq!(lists.len(), 2);
    let horeca = lists.iter().find(|list| list.data["group"] == "HORECA").unwrap();
    assert_eq!(horeca.data["items"].as_array().unwrap().len(), 12);
    assert!(horeca.data["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|line| line["sku"].is_string()));
}

#[tokio::test]
async fn the_authorisation_code_is_exchanged_and_refresh_tokens_rotate() {
    let (url, sim, _) = start(10, 0).await;
    let config = config(&url, "product", "", true);
    let connection = config.connections.iter().find(|c| c.name == "books").unwrap();
    // What `tiltas connect` does, through the system's authorization.
    let authorization = crate::System::authorization(&crate::AccountViewSystem, connection)
        .unwrap()
        .unwrap();
    assert_eq!(authorization.redirect_uri.as_deref(), Some(REDIRECT));
    let address = authorization.url(REDIRECT, "xyz").to_string();
    assert!(address.starts_with(&format!("{url}/api/v3/authorize?")), "{address}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = http.get(&address).send().await.unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(REDIRECT) && location.ends_with("&state=xyz"),
        "{location}"
    );
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let vault: Arc<dyn CredentialVault> = Arc::new(MemoryVault::default());
    let store = Arc::new(tiltas_connector::vault::ConnectionVault::new(
        vault.clone(),
        "books",
        authorization.token_name,
    ));
    let complete = |store| authorization.complete(reqwest::Client::new(), Arc::new(OpenGate), store, code, REDIRECT);
    complete(store.clone()).await.unwrap();
    let first = vault.load("books", crate::REFRESH_TOKEN).await.unwrap().unwrap();
    let again = complete(store).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::Auth);
    assert!(again.message.contains("invalid_grant"), "{again:?}");
    assert_eq!(
        vault.load("books", crate::REFRESH_TOKEN).await.unwrap().as_deref(),
        Some(first.as_str())
    );

    read_all(&config, &vault, None).await.unwrap();
    let second = vault.load("books", crate::REFRESH_TOKEN).await.unwrap().unwrap();
    assert_ne!(first, second, "the refresh rotated the token and the new one was kept");
    // An expired access token is renewed once, with the newest refresh token.
    sim.expire_access_tokens();
    read_all(&config, &vault, None).await.unwrap();
    assert_eq!(sim.refreshes(), 2);
    // A vault holding a spent token: one auth error telling the user to connect again.
    vault.save("books", crate::REFRESH_TOKEN, &first).await.unwrap();
    sim.expire_access_tokens();
    let error = read_all(&config, &vault, None).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    assert!(
        error
            .message
            .contains("run `tiltas connect accountview --connection books` again"),
        "{error:?}"
    );
    assert_eq!(sim.refreshes(), 2, "the spent token was tried once, not in a loop");
}

#[tokio::test]
async fn a_connection_never_authorised_and_a_wrong_company_are_auth_errors_naming_the_fix() {
    let (url, sim, _) = start(5, 0).await;
    let config = config(&url, "product", "", true);
    let empty: Arc<dyn CredentialVault> = Arc::new(MemoryVault::default());
    let error = read_all(&config, &empty, None).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("tiltas connect accountview --connection books"),
        "{error:?}"
    );
    let vault = vault(&sim).await;
    let text = connection(&url).replace("company = \"7\"", "company = \"8\"");
    let other = tiltas_config::parse_str(
        &format!("{text}\n[connections.file]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"f\"\nentity = \"product\"\nfrom = {{ connection = \"books\" }}\nto = {{ connection = \"file\", file = \"x.jsonl\" }}\n"),
        std::path::Path::new("flows.toml"),
        &SYSTEMS,
    )
    .unwrap();
    let error = read_all(&other, &vault, None).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("`company`") && error.message.contains("administration 8"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_html_error_page_is_a_transient_failure_quoting_its_title() {
    use axum::routing::{get, post};
    let page = "<!DOCTYPE html><html><head><title>Onderhoud - AccountView.net</title></head><body>…</body></html>";
    // A token endpoint that issues tokens, and a data endpoint behind a maintenance page.
    let maintenance = axum::Router::new()
        .route(
            "/api/v3/token",
            post(|| async { axum::Json(json!({ "access_token": "at", "expires_in": 3600, "refresh_token": "rt-2" })) }),
        )
        .route(
            "/api/v3/accountviewdata",
            get(move || async move { (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::response::Html(page)) }),
        );
    let url = tiltas_sim::spawn(maintenance).await.unwrap();
    let vault: Arc<dyn CredentialVault> = Arc::new(MemoryVault::default());
    vault.save("books", crate::REFRESH_TOKEN, "rt-1").await.unwrap();
    let error = read_all(&config(&url, "product", "", true), &vault, None)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient, "{error:?}");
    assert!(
        error.message.contains("Onderhoud - AccountView.net") && error.message.contains("base_url"),
        "{error:?}"
    );
    assert_eq!(
        vault.load("books", crate::REFRESH_TOKEN).await.unwrap().as_deref(),
        Some("rt-2")
    );
}

#[tokio::test]
async fn debtors_and_sales_orders_are_written_and_refused_rows_fail_alone() {
    let (url, sim, harness) = start(20, 4).await;
    let vault = vault(&sim).await;
    let customers = config(
        &url,
        "customer",
        ", revenue_accounts = { NL = \"8000\", \"*\" = \"8090\" }",
        false,
    );
    let mut target = SYSTEMS
        .open_target_with(&customers, &customers.flows[0], Arc::new(OpenGate), vault.clone())
        .unwrap();
    let company = json!({ "kind": "company", "company_name": "Bakkerij Noord B.V.", "first_name": "Els", "last_name": "Noord",
        "email": "els@noord.nl", "billing": { "country": "DE", "city": "Köln" } });
    let person = json!({ "kind": "person", "first_name": "Tom", "last_name": "Wit", "email": "tom@wit.nl", "billing": { "country": "NL" } });
    let result = target
        .write_batch(vec![item("a", company), item("b", person)])
        .await
        .unwrap();
    let ids: Vec<String> = result
        .outcomes
        .iter()
        .map(|o| match o {
            WriteOutcome::Written { target_id } => target_id.clone(),
            WriteOutcome::Failed(error) => panic!("{error:?}"),
        })
        .collect();
    let rows = sim.records("customer").unwrap();
    let row = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["SUB_NR"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(row(&ids[0])["CONTACT_TYPE"], "B");
    assert_eq!(row(&ids[0])["CONTACT_PERSON"][0]["CP_FIRST"], "Els");
    assert_eq!(row(&ids[0])["REV_ACCT"], "8090");
    assert_eq!(
        (row(&ids[1])["CONTACT_TYPE"].clone(), row(&ids[1])["REV_ACCT"].clone()),
        (json!("P"), json!("8000"))
    );
    let found = target.lookup(Some("email"), &["ELS@noord.nl".into()]).await.unwrap();
    assert_eq!(found.found["ELS@noord.nl"].target_id, ids[0]);

    let orders = config(&url, "order", "", false);
    let mut target = SYSTEMS
        .open_target_with(&orders, &orders.flows[0], Arc::new(OpenGate), vault.clone())
        .unwrap();
    let order = |number: &str, sku: &str| {
        json!({ "number": number, "customer": { "code": ids[1] }, "created_at": "2026-01-05T10:00:00Z",
            "lines": [{ "sku": sku, "quantity": "2", "price": "1.50", "vat_rate": "9" }] })
    };
    let result = target
        .write_batch(vec![
            item("o1", order("POS-1", "100001")),
            item("o2", order("POS-2", "999999")),
        ])
        .await
        .unwrap();
    assert_eq!(
        result.outcomes[0],
        WriteOutcome::Written {
            target_id: "POS-1".into()
        }
    );
    let WriteOutcome::Failed(error) = &result.outcomes[1] else {
        panic!("{:?}", result.outcomes)
    };
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(
        error.message.contains("SO_HDR o2") && error.message.contains("article \"999999\" does not exist"),
        "{error:?}"
    );
    let stored = sim.records("order").unwrap();
    assert_eq!(stored[0]["EMPL_NR"], "999999", "the default employee number");
    assert_eq!(stored[0]["SO_LINE"][0]["AMOUNT"], "3");
    let again = target
        .write_batch(vec![item("o1", order("POS-1", "100001"))])
        .await
        .unwrap();
    assert!(matches!(&again.outcomes[0], WriteOutcome::Failed(e) if e.message.contains("already exists")));
    let found = target
        .lookup(Some("number"), &["POS-1".into(), "POS-9".into()])
        .await
        .unwrap();
    assert_eq!(found.found.len(), 1);

    harness.set_faults(tiltas_sim::Faults {
        invalid_item_rate: 1.0,
        ..Default::default()
    });
    let refused = target
        .write_batch(vec![item("o3", order("POS-3", "100001"))])
        .await
        .unwrap();
    assert!(matches!(&refused.outcomes[0], WriteOutcome::Failed(e) if e.message.contains("invalid_item_rate")));
}

#[tokio::test]
async fn rate_limits_server_errors_and_cut_answers_keep_their_kinds() {
    let (url, sim, harness) = start(5, 0).await;
    let vault = vault(&sim).await;
    let config = config(&url, "product", "", true);
    let cases = [
        (
            tiltas_sim::Faults {
                rate_limit_per_s: 1,
                retry_after_s: 7,
                ..Default::default()
            },
            ErrorKind::RateLimited,
        ),
        (
            tiltas_sim::Faults {
                error_rate: 1.0,
                error_status: 503,
                ..Default::default()
            },
            ErrorKind::Transient,
        ),
        (
            tiltas_sim::Faults {
                malformed_rate: 1.0,
                ..Default::default()
            },
            ErrorKind::Transient,
        ),
    ];
    for (faults, kind) in cases {
        // Under a rate limit of one a second the second read in the same second is refused.
        read_all(&config, &vault, None).await.unwrap();
        harness.set_faults(faults.clone());
        let mut error = None;
        for _ in 0..3 {
            if let Err(failed) = read_all(&config, &vault, None).await {
                error = Some(failed);
                break;
            }
        }
        let error = error.unwrap_or_else(|| panic!("seed {SEED}: {faults:?} never failed a read"));
        harness.set_faults(tiltas_sim::Faults::default());
        assert_eq!(error.kind, kind, "seed {SEED}: {faults:?}: {error:?}");
        if kind == ErrorKind::RateLimited {
            assert_eq!(error.retry_after, Some(Duration::from_secs(7)), "{error:?}");
        }
        assert!(error.message.contains("connection \"books\""), "{error:?}");
    }
}

#[tokio::test]
async fn orders_are_booked_as_sales_invoices_when_the_flow_says_so() {
    let (url, sim, _) = start(10, 2).await;
    let vault = vault(&sim).await;
    let invoices = config(&url, "order", ", book_as = \"invoice\", employee = \"42\"", false);
    let mut target = SYSTEMS
        .open_target_with(&invoices, &invoices.flows[0], Arc::new(OpenGate), vault)
        .unwrap();
    let order = json!({ "number": "POS-7", "customer": { "code": "10001" },
        "lines": [{ "sku": "100002", "quantity": "1", "total": "10.00", "total_tax": "0.90", "vat_rate": "9" }] });
    let result = target.write_batch(vec![item("POS-7", order)]).await.unwrap();
    assert_eq!(
        result.outcomes[0],
        WriteOutcome::Written {
            target_id: "POS-7".into()
        }
    );
    let stored = sim.records("invoice").unwrap();
    assert_eq!(stored[0]["INV_NR"], "POS-7");
    assert_eq!(stored[0]["EMPL_NR"], "42");
    assert_eq!(stored[0]["SI_LINE"][0]["AMOUNT"], "10");
    assert_eq!(sim.records("order").unwrap().as_array().unwrap().len(), 0);
    let found = target.lookup(None, &["POS-7".into()]).await.unwrap();
    assert_eq!(found.found["POS-7"].target_id, "POS-7");
}

#[tokio::test]
async fn pages_come_in_change_order_so_a_cursor_resumes_where_a_run_died() {
    let (url, sim, _) = start(0, 30).await;
    let vault = vault(&sim).await;
    let debtors = config(&url, "customer", "", true);
    let mut source = SYSTEMS
        .open_source_with(&debtors, &debtors.flows[0], Arc::new(OpenGate), vault.clone())
        .unwrap();
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 500,
    };
    let first = source.read_page(&request).await.unwrap();
    let first: Vec<SourceRecord> = first.records.into_iter().map(Result::unwrap).collect();
    assert_eq!(first.len(), 7, "the connection's page_size");
    let dates: Vec<_> = first.iter().map(|r| r.updated_at.unwrap()).collect();
    assert!(
        dates.windows(2).all(|pair| pair[0] <= pair[1]),
        "seed {SEED}: {dates:?}"
    );
    // The engine's cursor after the page is its newest change; a run resuming from it reads
    // every debtor the page did not deliver (and the page's last day again).
    let cursor = dates.iter().max().copied();
    let (rest, _) = read_all(&debtors, &vault, cursor).await.unwrap();
    let mut keys: Vec<String> = first.iter().chain(&rest).map(|r| r.key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        30,
        "seed {SEED}: nothing is lost between the page and the cursor"
    );
    assert!(rest.len() < 30, "the resumed read is incremental: {}", rest.len());
}

#[tokio::test]
async fn variant_reads_and_lookups_after_the_first_request_ride_out_a_rate_limit() {
    // 16 products: the 8th and the 16th are configurable, each with two variants.
    let (url, sim, harness) = start(Seeding::products(SEED, 16).articles, 3).await;
    let vault = vault(&sim).await;
    let products = config_paged(&url, "product", "", true, 30);
    let mut source = SYSTEMS
        .open_source_with(&products, &products.flows[0], Arc::new(OpenGate), vault.clone())
        .unwrap();
    // One request a second: of the page and its two variant reads, sent at once, at least one
    // variant read is refused (429, Retry-After 1) and must be waited out inside the page.
    harness.set_faults(tiltas_sim::Faults {
        rate_limit_per_s: 1,
        retry_after_s: 1,
        ..Default::default()
    });
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 500,
    };
    let page = source.read_page(&request).await.unwrap();
    assert_eq!(page.records.len(), 16);
    let nested = page
        .records
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_ok_and(|r| r.data["variants"].as_array().map(Vec::len) == Some(2))
        })
        .count();
    assert_eq!(nested, 2, "seed {SEED}");
    assert!(
        page.api_calls >= 4,
        "a refused variant read was tried again: {} calls",
        page.api_calls
    );

    let customers = config(&url, "customer", "", false);
    let mut target = SYSTEMS
        .open_target_with(&customers, &customers.flows[0], Arc::new(OpenGate), vault.clone())
        .unwrap();
    let rows = sim.records("customer").unwrap();
    let numbers: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["SUB_NR"].as_str().unwrap().to_owned())
        .collect();
    // The first request of the look-up is the engine's to retry: do as it does.
    let mut found = None;
    for _ in 0..3 {
        match target.lookup(Some("code"), &numbers).await {
            Ok(lookup) => {
                found = Some(lookup);
                break;
            }
            Err(error) if error.kind == ErrorKind::RateLimited => {
                tokio::time::sleep(error.retry_after.unwrap_or_default()).await;
            }
            Err(error) => panic!("seed {SEED}: {error:?}"),
        }
    }
    let found = found.unwrap_or_else(|| panic!("seed {SEED}: the look-up never got through"));
    harness.set_faults(tiltas_sim::Faults::default());
    assert_eq!(found.found.len(), 3, "seed {SEED}: {:?}", found.found);
    assert!(
        found.api_calls >= 4,
        "a refused look-up was tried again: {} calls",
        found.api_calls
    );
}

#[tokio::test]
async fn a_debtor_write_failing_after_commit_does_not_hold_back_the_rest_and_is_found_again() {
    let (url, sim, harness) = start(0, 0).await;
    let vault = vault(&sim).await;
    let customers = config(&url, "customer", "", false);
    let mut target = SYSTEMS
        .open_target_with(&customers, &customers.flows[0], Arc::new(OpenGate), vault.clone())
        .unwrap();
    harness.set_faults(tiltas_sim::Faults {
        commit_then_fail_rate: 1.0,
        ..Default::default()
    });
    let buyer = |name: &str| json!({ "kind": "person", "first_name": name, "last_name": "Wit", "email": format!("{name}@wit.nl") });
    let result = target
        .write_batch(vec![item("a", buyer("ada")), item("b", buyer("bo"))])
        .await
        .unwrap();
    harness.set_faults(tiltas_sim::Faults::default());
    for outcome in &result.outcomes {
        assert!(
            matches!(outcome, WriteOutcome::Failed(e) if e.kind == ErrorKind::Transient),
            "{outcome:?}"
        );
    }
    assert_eq!(result.api_calls, 2, "the second record was sent after the first failed");
    assert_eq!(
        sim.records("customer").unwrap().as_array().unwrap().len(),
        2,
        "both applied"
    );
    let keys = ["ada@wit.nl".to_owned(), "bo@wit.nl".to_owned()];
    let found = target.lookup(Some("email"), &keys).await.unwrap();
    assert_eq!(
        found.found.len(),
        2,
        "the engine adopts both instead of writing them again"
    );
}
