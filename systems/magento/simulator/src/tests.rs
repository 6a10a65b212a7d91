//! The simulator's own protocol fidelity: paging past the end, the admin token, the legacy
//! stock item's string id, store-view scopes, Magento's error bodies.
use crate::{router, MagentoSim, Seeding};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_sim::{Harness, SimSystem};

const TOKEN: &str = "sim-test-token";

async fn start(products: usize) -> (String, Arc<MagentoSim>) {
    let seeding = Seeding {
        seed: 9,
        products,
        customers: 2,
        orders: 2,
    };
    let sim = Arc::new(MagentoSim::new(TOKEN, seeding));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 9)))
        .await
        .expect("start the simulator");
    (url, sim)
}

async fn get(url: &str, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(TOKEN)
        .query(query)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_page_past_the_end_answers_the_last_page_again_with_the_total_count() {
    let (url, sim) = start(10).await;
    let ids = |body: &Value| -> Vec<Value> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].clone())
            .collect()
    };
    let page = |n: &'static str| [("searchCriteria[pageSize]", "8"), ("searchCriteria[currentPage]", n)];
    let (status, last) = get(&url, "/rest/V1/products", &page("3")).await;
    assert_eq!(status, 200);
    let (_, past) = get(&url, "/rest/all/V1/products", &page("9")).await;
    let all = sim.records("product").unwrap().as_array().unwrap().len() + 8; // 2 configurables × 4 children
    assert_eq!(last["total_count"], all);
    assert_eq!(ids(&last).len(), 2, "18 items: the third page of 8 holds 2");
    assert_eq!(ids(&past), ids(&last), "page 9 is page 3 again");
    assert_eq!(last["search_criteria"]["current_page"], 3);
}

#[tokio::test]
async fn filter_groups_or_within_and_across_in_both_spellings() {
    let (url, _) = start(8).await;
    let query = [
        ("searchCriteria[filter_groups][0][filters][0][field]", "sku"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "MT-00001"),
        ("searchCriteria[filter_groups][0][filters][1][field]", "sku"),
        ("searchCriteria[filter_groups][0][filters][1][value]", "mt-00002"),
        ("searchCriteria[filterGroups][1][filters][0][field]", "type_id"),
        ("searchCriteria[filterGroups][1][filters][0][value]", "simple"),
        ("searchCriteria[filterGroups][1][filters][0][conditionType]", "eq"),
    ];
    let (_, body) = get(&url, "/rest/V1/products", &query).await;
    assert_eq!(body["total_count"], 2, "{body}");
}

#[tokio::test]
async fn the_admin_token_is_a_bare_json_string_and_a_wrong_login_is_refused() {
    let (url, sim) = start(0).await;
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{url}/rest/V1/integration/admin/token"))
        .json(&json!({"username": "admin", "password": "admin123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token.as_str().expect("a JSON string").to_owned();
    assert_eq!(token.len(), 32, "{token}");
    let with_admin = |token: String| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let answer = client.get(format!("{url}/rest/V1/orders?searchCriteria[pageSize]=1"));
            answer.bearer_auth(token).send().await.unwrap().status()
        }
    };
    assert_eq!(with_admin(token.clone()).await, 200);
    assert_eq!(sim.expire_admin_tokens(), 1);
    assert_eq!(
        with_admin(token).await,
        401,
        "an admin token lasts its hours, then is refused"
    );
    let refused = client
        .post(format!("{url}/rest/V1/integration/admin/token"))
        .json(&json!({"username": "admin", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let unauthorized = client.get(format!("{url}/rest/V1/orders")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let body: Value = unauthorized.json().await.unwrap();
    assert_eq!(body["message"], "The consumer isn't authorized to access %resources.");
    assert_eq!(body["parameters"]["resources"], "Magento_Sales::actions_view");
}

#[tokio::test]
async fn the_legacy_stock_item_update_answers_its_id_as_a_json_string() {
    let (url, sim) = start(2).await;
    let (_, item) = get(&url, "/rest/V1/stockItems/MT-00001", &[]).await;
    let id = item["item_id"].as_u64().unwrap();
    let answer: Value = reqwest::Client::new()
        .put(format!("{url}/rest/V1/products/MT-00001/stockItems/{id}"))
        .bearer_auth(TOKEN)
        .json(&json!({"stockItem": {"qty": 42, "is_in_stock": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!(id.to_string()));
    let stock = sim.records("stock").unwrap();
    let default = stock
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["sku"] == "MT-00001")
        .unwrap();
    assert_eq!(default["quantity"], 42);
}

#[tokio::test]
async fn a_catalogue_write_through_one_store_view_is_an_override_and_through_all_is_not() {
    let (url, sim) = start(0).await;
    let client = reqwest::Client::new();
    for (scope, sku) in [("all/", "A"), ("", "B"), ("default/", "C")] {
        let response = client
            .put(format!("{url}/rest/{scope}V1/products/{sku}"))
            .bearer_auth(TOKEN)
            .json(&json!({"product": {"sku": sku, "name": sku, "price": 1}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(sim.records("store_override").unwrap(), json!(["B", "C"]));
    let (status, body) = get(&url, "/rest/V1/products/NOPE", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "The product that was requested doesn't exist. Verify the product and try again."
    );
}
