//! The simulator's protocol: `Key` checked on every call in form or JSON bodies, the key bound
//! to the caller's address, refusals as `Success: false` inside HTTP 200, search by code and
//! brand with rests, the paged phrase search and its limit, expense documents with Omega's
//! field names, the basket → order path, and the shared parts catalogue.
use crate::{router, Access, OmegaSim, Seeding, REFUSED_ITEM};
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 5;
const KEY: &str = "k-1";
const API: &str = "/public/api/v1.0";

async fn start(allowed_ip: Option<IpAddr>, invoices: usize) -> (String, Arc<OmegaSim>) {
    let access = Access {
        key: KEY.into(),
        allowed_ip,
    };
    let seeding = Seeding {
        seed: SEED,
        catalogue: 200,
        invoices,
    };
    let sim = Arc::new(OmegaSim::new(access, seeding));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (url, sim)
}

/// `POST path` with form fields; the HTTP status and the body.
async fn form(http: &reqwest::Client, url: &str, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let response = http
        .post(format!("{url}{API}{path}"))
        .form(fields)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_else(|e| panic!("{path}: {e}")))
}

async fn json_call(http: &reqwest::Client, url: &str, path: &str, body: Value) -> Value {
    http.post(format!("{url}{API}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn from_address(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn the_key_is_checked_on_every_call_and_refusals_are_success_false_inside_http_200() {
    let (url, _) = start(None, 0).await;
    let http = reqwest::Client::new();
    for fields in [vec![("Code", "X")], vec![("Code", "X"), ("Key", "wrong")]] {
        let (status, body) = form(&http, &url, "/product/searchBrand", &fields).await;
        assert_eq!(status, 200);
        assert_eq!(body["Success"], false);
        assert_eq!(body["Errors"][0]["Error"], tiltas_omega::wire::KEY_UNKNOWN);
    }
    let (status, body) = form(&http, &url, "/product/searchBrand", &[("Code", "X"), ("Key", KEY)]).await;
    assert_eq!(
        (status, &body["Success"], &body["Data"]),
        (200, &json!(true), &json!([]))
    );
    let body = json_call(&http, &url, "/product/searchBrand", json!({ "Code": "X", "Key": KEY })).await;
    assert_eq!(body["Success"], true, "JSON bodies, as other clients send them");
    let (_, body) = form(&http, &url, "/product/searchBrand", &[("Key", KEY)]).await;
    assert_eq!(body["Errors"][0]["Description"], "Code is required");
}

#[tokio::test]
async fn a_key_works_only_from_the_address_it_was_issued_for() {
    let (open, _) = start(None, 0).await;
    let (bound, _) = start(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), 0).await;
    let fields = [("Code", "X"), ("Key", KEY)];
    let (_, body) = form(&from_address(2), &open, "/product/searchBrand", &fields).await;
    assert_eq!(body["Success"], true, "unbound: any loopback address");
    let (_, body) = form(&from_address(1), &bound, "/product/searchBrand", &fields).await;
    assert_eq!(body["Success"], true);
    let (status, body) = form(&from_address(2), &bound, "/product/searchBrand", &fields).await;
    assert_eq!((status, &body["Success"]), (200, &json!(false)));
    assert_eq!(body["Errors"][0]["Error"], tiltas_omega::wire::IP_NOT_ALLOWED);
    assert_eq!(
        body["Errors"][0]["Description"],
        "The key is not valid for IP address 127.0.0.2"
    );
}

#[tokio::test]
async fn search_by_code_and_brand_normalises_both_and_gives_rests_when_asked() {
    let (url, sim) = start(None, 0).await;
    let http = reqwest::Client::new();
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let part = parts
        .iter()
        .find(|p| p["brand"] == "MANN-FILTER")
        .unwrap_or_else(|| panic!("seed {SEED}: no MANN-FILTER part"));
    let article = part["article"].as_str().unwrap_or_default();
    let squeezed = article.replace([' ', '/', '.', '-'], "").to_lowercase();
    let (_, body) = form(
        &http,
        &url,
        "/product/searchBrand",
        &[("Code", &squeezed), ("Brand", "Mann"), ("Rest", "1"), ("Key", KEY)],
    )
    .await;
    let found = &body["Data"][0];
    assert_eq!(
        (found["Number"].as_str(), &found["ProductId"]),
        (Some(article), &part["ProductId"])
    );
    assert!(found["CustomerPrice"].is_number(), "{found}");
    assert_eq!(found["Rests"].as_array().map(Vec::len), Some(4));
    assert!(found["Rests"][0]["Key"].is_string() && found["Rests"][0]["Value"].is_number());
    let (_, body) = form(
        &http,
        &url,
        "/product/searchBrand",
        &[("Code", article), ("Rest", "0"), ("Key", KEY)],
    )
    .await;
    assert_eq!(body["Data"][0]["Rests"], json!([]));
    let (_, body) = form(
        &http,
        &url,
        "/product/searchBrand",
        &[("Code", article), ("Brand", "BOSCH"), ("Key", KEY)],
    )
    .await;
    assert_eq!(body["Data"], json!([]), "another brand's part is not this one");
}

#[tokio::test]
async fn the_phrase_search_pages_by_from_and_count_and_refuses_a_count_over_its_limit() {
    let (url, sim) = start(None, 0).await;
    let http = reqwest::Client::new();
    let total = sim.record_counts().get("part").copied().unwrap_or_default();
    let page = |from: usize| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let from = from.to_string();
            form(
                &http,
                &url,
                "/product/search",
                &[("SearchPhrase", ""), ("From", &from), ("Count", "100"), ("Key", KEY)],
            )
            .await
            .1["Data"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(usize::MAX)
        }
    };
    assert_eq!((page(0).await, page(100).await), (100, total - 100));
    let (status, body) = form(&http, &url, "/product/search", &[("Count", "101"), ("Key", KEY)]).await;
    assert_eq!((status, &body["Success"]), (200, &json!(false)));
    assert_eq!(body["Errors"][0]["Description"], "Count must be 1–100, found 101");
}

#[tokio::test]
async fn expense_documents_are_listed_by_dates_and_their_lines_keep_omegas_field_names() {
    let (url, _) = start(None, 6).await;
    let http = reqwest::Client::new();
    let today = chrono::Utc::now().date_naive();
    let start_date = (today - chrono::Duration::days(3)).format("%d.%m.%Y").to_string();
    let end = today.format("%d.%m.%Y").to_string();
    let (_, body) = form(
        &http,
        &url,
        "/expense/getExpenseDocumentList",
        &[("StartDate", &start_date), ("EndDate", &end), ("Key", KEY)],
    )
    .await;
    let heads = body["Data"].as_array().cloned().unwrap_or_default();
    assert_eq!(heads.len(), 3, "the last three days: {body}");
    let doc_id = heads[0]["DocId"].as_str().unwrap_or_default();
    let (_, head) = form(
        &http,
        &url,
        "/expense/getExpenseDocument",
        &[("DocId", doc_id), ("Key", KEY)],
    )
    .await;
    assert!(
        head["Data"]["Number"].is_string() && head["Data"]["Summ"].is_number(),
        "{head}"
    );
    let (_, lines) = form(
        &http,
        &url,
        "/expense/getExpenseDocumentDetails",
        &[("DocId", doc_id), ("Key", KEY)],
    )
    .await;
    let line = &lines["Data"][0];
    for field in ["Code", "ProductDescrition", "Count", "PiceWithVAT"] {
        assert!(!line[field].is_null(), "{field} in {line}");
    }
    let (_, bad) = form(
        &http,
        &url,
        "/expense/getExpenseDocumentList",
        &[("StartDate", "2026-01-01"), ("EndDate", &end), ("Key", KEY)],
    )
    .await;
    assert_eq!(
        bad["Errors"][0]["Description"],
        "StartDate must be a date DD.MM.YYYY, found \"2026-01-01\""
    );
}

#[tokio::test]
async fn an_order_is_made_of_the_basket_which_it_empties_and_refused_lines_are_named() {
    let (url, sim) = start(None, 0).await;
    let http = reqwest::Client::new();
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let id = parts[0]["ProductId"].clone();
    let (_, empty) = form(&http, &url, "/order/create", &[("Comment", "WO-1"), ("Key", KEY)]).await;
    assert_eq!(empty["Errors"][0]["Description"], "The basket is empty");
    let added = json_call(
        &http,
        &url,
        "/basket/addProductList",
        json!({ "ProductList": [{ "ProductId": id, "Count": 2 }], "Key": KEY }),
    )
    .await;
    assert_eq!(added["Success"], true);
    let (_, created) = form(&http, &url, "/order/create", &[("Comment", "WO-1"), ("Key", KEY)]).await;
    assert_eq!(created["Data"]["OrderId"], "ZM-000001");
    assert_eq!(sim.records("basket"), Some(json!([])));
    let today = chrono::Utc::now().date_naive().format("%d.%m.%Y").to_string();
    let (_, listed) = form(
        &http,
        &url,
        "/order/list",
        &[("StartDate", &today), ("EndDate", &today), ("Key", KEY)],
    )
    .await;
    assert_eq!(listed["Data"][0]["Comment"], "WO-1");
    assert_eq!(
        sim.records("invoice").and_then(|i| i.as_array().map(Vec::len)),
        Some(1),
        "invoiced the same day"
    );

    let faults = reqwest::Client::new()
        .post(format!("{url}/__sim/faults"))
        .json(&json!({ "invalid_item_rate": 1.0 }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(faults.status().is_success());
    let refused = json_call(
        &http,
        &url,
        "/basket/addProductList",
        json!({ "ProductList": [{ "ProductId": id, "Count": 1 }], "Key": KEY }),
    )
    .await;
    assert_eq!(refused["Success"], false);
    assert_eq!(
        refused["Errors"][0]["Description"],
        format!("Product {id} {REFUSED_ITEM}")
    );
}

#[tokio::test]
async fn the_assortment_is_part_of_the_shared_catalogue_with_canonical_article_and_brand() {
    let (_, sim) = start(None, 0).await;
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let catalogue = tiltas_sim::parts::catalogue(SEED, 200);
    assert!(
        parts.len() > 100 && parts.len() < 180,
        "about 70 % of 200: {}",
        parts.len()
    );
    for part in &parts {
        assert!(
            catalogue
                .iter()
                .any(|c| part["article"] == c.article.as_str() && part["brand"] == c.brand.as_str()),
            "{part}"
        );
    }
}
