//! The simulator's protocol: the token endpoint (Basic and form, expiry, `invalid_client`),
//! limits of stock (100 SKUs) and quotes (20 lines), `skpSkuList`, paging, date ranges,
//! requisition states, 429 beyond the requests in flight, and the shared parts catalogue.
use crate::{router, Credentials, IntercarsSim, Seeding};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 5;

async fn start(lifetime: u64, in_flight: usize) -> (String, Arc<IntercarsSim>) {
    let credentials = Credentials {
        client_id: "id".into(),
        client_secret: "secret".into(),
        token_lifetime: Duration::from_secs(lifetime),
    };
    let seeding = Seeding {
        seed: SEED,
        catalogue: 200,
        invoices: 12,
    };
    let sim = Arc::new(IntercarsSim::new(credentials, seeding).with_max_in_flight(in_flight));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (url, sim)
}

async fn token(http: &reqwest::Client, url: &str) -> String {
    let answer: Value = http
        .post(format!("{url}/oauth2/token"))
        .basic_auth("id", Some("secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    answer["access_token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_token_endpoint_takes_basic_or_form_refuses_a_wrong_secret_and_tokens_expire() {
    let (url, sim) = start(3600, 8).await;
    let http = reqwest::Client::new();
    let form = http
        .post(format!("{url}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "secret"),
            ("scope", "allinone"),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(form.status(), 200);
    let body: Value = form.json().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(3600))
    );
    let wrong = http
        .post(format!("{url}/oauth2/token"))
        .basic_auth("id", Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["error"], "invalid_client");

    let bearer = token(&http, &url).await;
    let get = |token: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.get(format!("{url}/ic/catalog/products?limit=1"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .status()
        }
    };
    assert_eq!(get(bearer.clone()).await, 200);
    assert_eq!(get("forged".into()).await, 401);
    sim.expire_tokens();
    assert_eq!(get(bearer).await, 401, "an expired token is refused");
}

#[tokio::test]
async fn stock_and_quotes_keep_their_limits_and_list_unknown_skus_in_a_header() {
    let (url, sim) = start(3600, 8).await;
    let http = reqwest::Client::new();
    let bearer = token(&http, &url).await;
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let skus: Vec<String> = parts
        .iter()
        .filter_map(|p| p["sku"].as_str().map(str::to_owned))
        .collect();
    let stock = http
        .get(format!("{url}/ic/inventory/stock"))
        .bearer_auth(&bearer)
        .query(&[
            ("sku", format!("{},{},BOGUS1", skus[0], skus[1])),
            ("location", "POZ".into()),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stock.headers().get("skpSkuList").and_then(|v| v.to_str().ok()),
        Some("BOGUS1")
    );
    let rows: Vec<Value> = stock.json().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r["location"] == "POZ" && r["availability"].as_u64().is_some_and(|a| a <= 10)));
    let too_many = skus.iter().take(101).cloned().collect::<Vec<_>>().join(",");
    let status = http
        .get(format!("{url}/ic/inventory/stock"))
        .bearer_auth(&bearer)
        .query(&[("sku", too_many)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .status();
    assert_eq!(status, 400, "{} SKUs", skus.len().min(101));
    let lines: Vec<Value> = skus
        .iter()
        .take(21)
        .map(|s| json!({ "sku": s, "quantity": 1 }))
        .collect();
    let quote = |lines: Vec<Value>| {
        let http = http.clone();
        let (url, bearer) = (url.clone(), bearer.clone());
        async move {
            http.post(format!("{url}/ic/pricing/quote"))
                .bearer_auth(bearer)
                .json(&json!({ "lines": lines }))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    assert_eq!(quote(lines.clone()).await.status(), 400);
    let answer: Value = quote(lines[..20].to_vec())
        .await
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let price = &answer["lines"][0]["price"];
    assert_eq!(
        (price["currencyCode"].as_str(), price["vatPercentage"].as_str()),
        (Some("PLN"), Some("23"))
    );
}

#[tokio::test]
async fn lists_page_by_limit_and_offset_and_filter_by_date() {
    let (url, sim) = start(3600, 8).await;
    let http = reqwest::Client::new();
    let bearer = token(&http, &url).await;
    let get = |path: String| {
        let http = http.clone();
        let (url, bearer) = (url.clone(), bearer.clone());
        async move {
            let answer = http
                .get(format!("{url}/ic{path}"))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            (
                answer.status().as_u16(),
                answer.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let total = sim
        .records("part")
        .and_then(|p| p.as_array().map(Vec::len))
        .unwrap_or_default();
    let (_, first) = get("/catalog/products?limit=100&offset=0".into()).await;
    assert_eq!(
        (first["totalResults"].as_u64(), first["hasNextPage"].as_bool()),
        (Some(total as u64), Some(true))
    );
    let (_, last) = get(format!("/catalog/products?limit=100&offset={}", total - 5)).await;
    assert_eq!(
        (last["products"].as_array().map(Vec::len), last["hasNextPage"].as_bool()),
        (Some(5), Some(false))
    );
    assert_eq!(get("/catalog/products?limit=101".into()).await.0, 400);
    let week_ago = (chrono::Utc::now() - chrono::Duration::days(7)).date_naive();
    let (_, recent) = get(format!("/invoice?issueDateFrom={week_ago}")).await;
    assert_eq!(
        recent["totalResults"].as_u64(),
        Some(7),
        "one a day back from yesterday"
    );
    let id = recent["invoices"][0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, invoice) = get(format!("/invoice/{id}")).await;
    assert_eq!(status, 200);
    assert!(invoice["lines"].as_array().is_some_and(|l| !l.is_empty()));
    assert_eq!(get("/invoice?issueDateFrom=yesterday".into()).await.0, 400);
}

#[tokio::test]
async fn a_requisition_is_confirmed_once_and_cancelling_a_confirmed_one_conflicts() {
    let (url, sim) = start(3600, 8).await;
    let http = reqwest::Client::new();
    let bearer = token(&http, &url).await;
    let sku = sim
        .records("part")
        .and_then(|p| p[0]["sku"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let created: Value = http
        .post(format!("{url}/ic/sales/requisition"))
        .bearer_auth(&bearer)
        .json(
            &json!({ "lines": [{ "sku": sku, "requiredQuantity": 2 }], "customNumber": "WO-1", "deliveryMethod": "5" }),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let id = created["id"].as_str().unwrap_or_default();
    let post = |action: &str| {
        http.post(format!("{url}/ic/sales/requisition/{id}/{action}"))
            .bearer_auth(&bearer)
            .send()
    };
    let confirmed: Value = post("confirm")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert_eq!(
        post("confirm").await.map(|r| r.status().as_u16()).unwrap_or_default(),
        409
    );
    assert_eq!(
        post("cancel").await.map(|r| r.status().as_u16()).unwrap_or_default(),
        409
    );
    let order = confirmed["orderId"].as_str().unwrap_or_default();
    let shown: Value = http
        .get(format!("{url}/ic/sales/order/{order}"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        (shown["customNumber"].as_str(), shown["requisitionId"].as_str()),
        (Some("WO-1"), Some(id))
    );
}

#[tokio::test]
async fn more_requests_in_flight_than_allowed_are_429_with_retry_after() {
    let (url, _) = start(3600, 2).await;
    let http = reqwest::Client::new();
    let bearer = token(&http, &url).await;
    http.post(format!("{url}/__sim/faults"))
        .json(&json!({ "latency_ms": 150 }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let request = http
                .get(format!("{url}/ic/catalog/products?limit=5"))
                .bearer_auth(&bearer)
                .send();
            tokio::spawn(request)
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        let answer = call
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        if answer.status() == 429 {
            assert_eq!(
                answer.headers().get("retry-after").and_then(|v| v.to_str().ok()),
                Some("1")
            );
        }
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 4, "{statuses:?}");
}

#[test]
fn parts_are_listed_with_canonical_article_and_brand_from_the_shared_catalogue() {
    let sim = IntercarsSim::new(
        Credentials {
            client_id: "a".into(),
            client_secret: "b".into(),
            token_lifetime: Duration::from_secs(1),
        },
        Seeding {
            seed: 9,
            catalogue: 100,
            invoices: 0,
        },
    );
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let catalogue = tiltas_sim::parts::catalogue(9, 100);
    assert!(parts.len() > 60 && parts.len() < 100, "{} of 100 carried", parts.len());
    for part in &parts {
        let shared = catalogue
            .iter()
            .find(|p| part["article"] == p.article.as_str() && part["brand"] == p.brand.as_str());
        assert!(shared.is_some_and(|p| part["ean"] == p.ean.as_str()), "{part}");
        let sku = part["sku"].as_str().unwrap_or_default();
        assert!(sku.len() == 6 && sku.chars().all(|c| c.is_ascii_uppercase()), "{sku}");
    }
    let codes: std::collections::BTreeSet<_> = parts.iter().map(|p| p["sku"].to_string()).collect();
    assert_eq!(codes.len(), parts.len(), "codes are unique");
}
