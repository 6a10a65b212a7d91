//! The simulator's protocol: auth and filials, the 7-day window, the import limit and answer,
//! quotas and the settings document.
use super::*;

const LOGIN: &str = "admin@demo";
const PASSWORD: &str = "pw";

fn seeding() -> Seeding {
    Seeding {
        seed: 3,
        items: 12,
        items_without_code: 2,
        customers: 4,
        orders: 5,
        documents: 2,
        filials: 2,
    }
}

async fn start(sim: SmartupSim) -> (String, Arc<SmartupSim>) {
    let sim = Arc::new(sim);
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 3)))
        .await
        .expect("serve on 127.0.0.1");
    (url, sim)
}

async fn call(url: &str, path: &str, filial: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/b/{path}"))
        .basic_auth(LOGIN, Some(PASSWORD))
        .header("project_code", "trade")
        .header("filial_id", filial)
        .json(&body)
        .send()
        .await
        .expect("reach the simulator");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_filial_the_user_cannot_reach_is_a_401_with_a02_24_048() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding())).await;
    let (status, body) = call(&url, "anor/mxsx/mr/inventory$export", "999", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["error_code"], wire::WRONG_FILIAL);
    let (status, body) = call(&url, "anor/mxsx/mr/inventory$export", "100", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["inventory"].as_array().map(Vec::len),
        Some(12),
        "items without codes hidden"
    );
    assert_eq!(body["limits"]["left_limit_quant"], 99);
}

#[tokio::test]
async fn the_head_organisation_picks_a_branch_by_filial_code_and_empty_means_all() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding())).await;
    let (_, all) = call(
        &url,
        "anor/mxsx/mkw/balance$export",
        "100",
        json!({ "filial_code": "" }),
    )
    .await;
    let (_, one) = call(
        &url,
        "anor/mxsx/mkw/balance$export",
        "100",
        json!({ "filial_code": "F1" }),
    )
    .await;
    let (_, branch) = call(
        &url,
        "anor/mxsx/mkw/balance$export",
        "102",
        json!({ "filial_code": "F1" }),
    )
    .await;
    assert_eq!(all["balance"].as_array().map(Vec::len), Some(24));
    assert_eq!(one["balance"].as_array().map(Vec::len), Some(12));
    assert!(branch["balance"]
        .as_array()
        .is_some_and(|rows| rows.iter().all(|row| row["filial_code"] == "F2")));
}

#[tokio::test]
async fn a_window_longer_than_seven_days_is_refused() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding())).await;
    let filter = json!({ "begin_modified_on": "01.06.2024", "end_modified_on": "08.06.2024" });
    let (status, body) = call(&url, "anor/mxsx/mr/inventory$export", "100", filter).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some(wire::RANGE_TOO_LONG)));
    let filter = json!({ "begin_modified_on": "01.06.2024", "end_modified_on": "07.06.2024" });
    let (status, _) = call(&url, "anor/mxsx/mr/inventory$export", "100", filter).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_import_answers_each_object_and_refuses_more_than_5000() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding())).await;
    let body = json!({ "inventory": [
        { "code": "NEW1", "name": "Новый", "measure_code": "pcs" },
        { "code": "NEW2", "name": "Плохой", "measure_code": "parsec" },
    ]});
    let (status, answer) = call(&url, "anor/mxsx/mr/inventory$import", "100", body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["successes"][0]["code"], "NEW1");
    assert_eq!(answer["errors"][0]["code"], "NEW2");
    assert!(answer["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("parsec")));
    let many: Vec<Value> = (0..5001)
        .map(|n| json!({ "code": format!("X{n}"), "name": "x" }))
        .collect();
    let (status, _) = call(
        &url,
        "anor/mxsx/mr/inventory$import",
        "100",
        json!({ "inventory": many }),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_used_up_quota_is_refused_with_the_limits_block() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding()).with_quota(QuotaClass::Reference, 2)).await;
    for _ in 0..2 {
        assert_eq!(
            call(&url, "anor/mxsx/mr/inventory$export", "100", json!({})).await.0,
            200
        );
    }
    let (status, body) = call(&url, "anor/mxsx/mr/inventory$export", "100", json!({})).await;
    assert_eq!(status, 403);
    assert_eq!(body["error_code"], wire::QUOTA_EXHAUSTED);
    assert_eq!(body["limits"]["left_limit_quant"], 0);
    assert_eq!(sim.used(QuotaClass::Reference), 2);
    assert_eq!(
        call(&url, "trade/txs/tdeal/order$export", "100", json!({})).await.0,
        200,
        "another class"
    );
}

#[tokio::test]
async fn settings_decide_the_code_and_the_exported_statuses() {
    let (url, _) = start(SmartupSim::new(LOGIN, PASSWORD, seeding())).await;
    let client = reqwest::Client::new();
    let settings = json!({ "code_use": "local", "order_statuses": ["B"], "export_without_code": true });
    let answer = client
        .post(format!("{url}/__sim/settings"))
        .json(&settings)
        .send()
        .await
        .expect("settings");
    assert_eq!(answer.status(), 200);
    let (_, items) = call(&url, "anor/mxsx/mr/inventory$export", "100", json!({})).await;
    assert_eq!(items["inventory"][0]["code"], "L00001");
    assert_eq!(items["inventory"].as_array().map(Vec::len), Some(14));
    let (_, orders) = call(&url, "trade/txs/tdeal/order$export", "100", json!({})).await;
    assert!(orders["order"]
        .as_array()
        .is_some_and(|orders| !orders.is_empty() && orders.iter().all(|order| order["status"] == "B")));
}

#[tokio::test]
async fn documents_follow_the_duplicate_check_and_orders_change_status() {
    let (url, sim) = start(SmartupSim::new(LOGIN, PASSWORD, seeding())).await;
    let order = json!({ "order": [{ "external_id": "SO-00001", "deal_date": "02.03.2026", "person_code": "C0001",
                                   "products": [{ "product_code": "G00001", "quantity": "3" }] }] });
    let (_, answer) = call(&url, "trade/txs/tdeal/order$import", "100", order.clone()).await;
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("дубликат")),
        "default: error {answer}"
    );
    let mut settings = sim.settings();
    settings
        .duplicate_check
        .insert("order".into(), wire::DuplicateCheck::Skip);
    sim.set_settings(settings.clone());
    let (_, answer) = call(&url, "trade/txs/tdeal/order$import", "100", order.clone()).await;
    assert_eq!(answer["successes"][0]["skipped"], "Y");
    settings
        .duplicate_check
        .insert("order".into(), wire::DuplicateCheck::Update);
    sim.set_settings(settings);
    let (_, answer) = call(&url, "trade/txs/tdeal/order$import", "100", order).await;
    assert!(answer["successes"][0].get("skipped").is_none(), "{answer}");
    let change =
        json!({ "order": [{ "external_id": "SO-00001", "status": "C" }, { "external_id": "NONE", "status": "C" }] });
    let (_, answer) = call(&url, "trade/txs/tdeal/order$change_status", "100", change).await;
    assert_eq!(
        (
            answer["successes"].as_array().map(Vec::len),
            answer["errors"].as_array().map(Vec::len)
        ),
        (Some(1), Some(1))
    );
    let orders = sim.records("order").unwrap_or_default();
    let changed = orders
        .as_array()
        .and_then(|all| all.iter().find(|o| o["external_id"] == "SO-00001"))
        .cloned();
    assert_eq!(changed.map(|o| o["status"].clone()), Some(json!("C")));
}
