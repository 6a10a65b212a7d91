//! The router driven without a socket: every endpoint, auth failures, webhooks into the inbox
//! and on into the ERP simulator (Rivile GAMA's, chosen by `tiltas_systems::scenarios`).
use crate::{router, AppState};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_sim::SimSystem;
use tiltas_store::{hash_api_key, ApiScope, NewApiKey};
use tiltas_systems::scenarios::{erp_simulator, shop_webhook_headers};
use tower::ServiceExt;

/// A server state over a temporary SQLite store with a jsonl flow (`products`, one bad
/// record), a webhook flow into the ERP simulator, and a read, a write and an admin key
/// (shared with the dashboard's tests).
pub(crate) struct World {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) state: AppState,
    pub(crate) rivile: Arc<dyn SimSystem>,
    pub(crate) read: String,
    pub(crate) write: String,
    pub(crate) admin: String,
}

const PRODUCTS: &str = r#"{"sku":"A1","name":"Kava","price_net":"4.10"}
{"sku":"A2","name":"Arbata","price_net":"not a price"}
{"sku":"A3","name":"Sultys","price_net":"2"}
"#;

pub(crate) async fn world() -> World {
    let (rivile, rivile_url) = erp_simulator("SRV.key", 3, 3).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("products.jsonl"), PRODUCTS).unwrap();
    let text = format!(
        r#"
[connections.files]
system = "jsonl"

[connections.shop]
system = "woocommerce"
base_url = "http://127.0.0.1:9"
consumer_key = "ck_x"
consumer_secret = "cs_very_secret"
webhook_secret = "hook-secret"

[connections.erp]
system = "rivile"
base_url = "{rivile_url}/client/v2"
api_key = "SRV.key"
warehouse = "CENTR"
daily_budget = 1000

[[flows]]
name = "products"
entity = "product"
from = {{ connection = "files", file = "products.jsonl" }}
to = {{ connection = "files", file = "out.jsonl" }}

[[flows]]
name = "orders"
entity = "order"
from = {{ connection = "shop", statuses = ["processing", "completed"] }}
to = {{ connection = "erp" }}
trigger = "webhook"
match_on = "number"
on_duplicate = "skip"
"#
    );
    let config = tiltas_config::parse_str(
        &text,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let mut keys = Vec::new();
    for (name, scope) in [("r", ApiScope::Read), ("w", ApiScope::Write), ("a", ApiScope::Admin)] {
        let secret = format!("tiltas_test_{name}");
        store
            .api_key_create(&NewApiKey {
                name: name.into(),
                scope,
                key_hash: hash_api_key(&secret),
                expires_at: None,
            })
            .await
            .unwrap();
        keys.push(secret);
    }
    World {
        dir,
        state: AppState::new(Arc::new(config), store, tiltas_systems::registry::systems()),
        rivile,
        read: keys[0].clone(),
        write: keys[1].clone(),
        admin: keys[2].clone(),
    }
}

async fn call(
    world: &World,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    };
    let response = router(world.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

#[tokio::test]
async fn every_api_call_needs_a_key_with_enough_scope() {
    let world = world().await;
    let (status, body) = call(&world, Method::GET, "/api/v1/flows", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
    assert!(body["message"].as_str().unwrap().contains("tiltas keys create"));
    let (status, body) = call(&world, Method::GET, "/api/v1/flows", Some("tiltas_wrong"), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/flows/products/run",
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    assert!(body["message"].as_str().unwrap().contains("needs write"), "{body}");
    let (status, _) = call(
        &world,
        Method::POST,
        "/api/v1/connections/erp/disable",
        Some(&world.write),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "switching connections is admin work");
    for path in [
        "/api/v1/connections",
        "/api/v1/flows",
        "/api/v1/runs",
        "/api/v1/dead-letters",
        "/api/v1/quota",
    ] {
        let (status, _) = call(&world, Method::GET, path, Some(&world.read), None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn connections_never_show_secrets_and_can_be_switched_and_tested() {
    let world = world().await;
    let (status, body) = call(&world, Method::GET, "/api/v1/connections", Some(&world.read), None).await;
    assert_eq!(status, StatusCode::OK);
    let text = body.to_string();
    for secret in ["cs_very_secret", "hook-secret", "SRV.key"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let shop = body.as_array().unwrap().iter().find(|c| c["name"] == "shop").unwrap();
    assert_eq!(shop["settings"]["consumer_secret"], "***");
    assert_eq!(shop["settings"]["base_url"], "http://127.0.0.1:9");

    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/connections/erp/disable",
        Some(&world.admin),
        None,
    )
    .await;
    assert_eq!((status, body["enabled"].as_bool()), (StatusCode::OK, Some(false)));
    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/flows/orders/run",
        Some(&world.write),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{body}"
    );
    call(
        &world,
        Method::POST,
        "/api/v1/connections/erp/enable",
        Some(&world.admin),
        None,
    )
    .await;

    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/connections/files/test",
        Some(&world.write),
        None,
    )
    .await;
    assert_eq!((status, body["ok"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    let (_, body) = call(
        &world,
        Method::POST,
        "/api/v1/connections/shop/test",
        Some(&world.write),
        None,
    )
    .await;
    assert_eq!(body["ok"], false, "nothing listens on port 9: {body}");
    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/connections/nope/test",
        Some(&world.write),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn a_run_shows_its_records_and_a_dead_letter_is_edited_and_retried() {
    let world = world().await;
    let (status, run) = call(
        &world,
        Method::POST,
        "/api/v1/flows/products/run",
        Some(&world.write),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(
        (run["counters"]["created"].as_u64(), run["counters"]["failed"].as_u64()),
        (Some(2), Some(1)),
        "{run}"
    );
    let (_, flows) = call(&world, Method::GET, "/api/v1/flows", Some(&world.read), None).await;
    let products = flows
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "products")
        .unwrap();
    assert_eq!(
        products["last_run"]["status"], "partial",
        "2 created and 1 dead letter: succeeded with failures"
    );

    let id = run["run"].as_i64().unwrap();
    let (status, detail) = call(
        &world,
        Method::GET,
        &format!("/api/v1/runs/{id}"),
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let activity = detail["activity"].as_array().unwrap();
    assert_eq!(activity.len(), 3, "{detail}");
    let created = activity.iter().find(|a| a["outcome"] == "created").unwrap();
    let (status, payloads) = call(
        &world,
        Method::GET,
        &format!("/api/v1/activity/{}", created["id"]),
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        payloads["source_payload"]["sku"].is_string() && payloads["sent_payload"]["sku"].is_string(),
        "{payloads}"
    );
    let (status, history) = call(
        &world,
        Method::GET,
        "/api/v1/activity?flow=products&source_key=A1",
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(
        (history[0]["source_key"].as_str(), history[0]["run"].as_i64()),
        (Some("A1"), Some(id))
    );
    let (status, _) = call(&world, Method::GET, "/api/v1/runs/999999", Some(&world.read), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, letters) = call(
        &world,
        Method::GET,
        "/api/v1/dead-letters?flow=products",
        Some(&world.read),
        None,
    )
    .await;
    let letter = &letters[0];
    assert_eq!(letter["source_key"], "A2");
    assert!(letter["message"].as_str().unwrap().contains("price_net"), "{letter}");
    let mut fixed = letter["payload"].clone();
    fixed["price_net"] = json!("3.20");
    let path = format!("/api/v1/dead-letters/{}", letter["id"]);
    let (status, body) = call(
        &world,
        Method::PUT,
        &path,
        Some(&world.read),
        Some(json!({"payload": fixed})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = call(
        &world,
        Method::PUT,
        &path,
        Some(&world.write),
        Some(json!({"payload": [1]})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    let (status, body) = call(
        &world,
        Method::PUT,
        &path,
        Some(&world.write),
        Some(json!({"payload": fixed, "retry": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "resolved", "{body}");
    let (_, open) = call(&world, Method::GET, "/api/v1/dead-letters", Some(&world.read), None).await;
    assert_eq!(open, json!([]));
    let (status, _) = call(
        &world,
        Method::GET,
        "/api/v1/dead-letters?status=nonsense",
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, replayed) = call(
        &world,
        Method::POST,
        "/api/v1/dead-letters/replay",
        Some(&world.write),
        None,
    )
    .await;
    assert_eq!((status, replayed), (StatusCode::OK, json!([])));
}

pub(crate) fn order_body(id: u64) -> String {
    json!({
        "id": id, "number": id.to_string(), "status": "processing", "currency": "EUR",
        "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:00:00",
        "total": "12.10", "total_tax": "2.10",
        "billing": {"first_name": "Ona", "last_name": "Onaitė", "email": "ona@example.lt", "country": "LT"},
        "line_items": [{"id": 1, "sku": "A00101", "name": "Kava", "quantity": 1, "price": 10, "total": "10.00", "total_tax": "2.10"}]
    })
    .to_string()
}

/// The shop's webhook delivery of `body` under `topic` to `/hooks/{connection}`, signed with
/// `secret`.
pub(crate) fn hook_request(connection: &str, topic: &str, body: &str, secret: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("/hooks/{connection}"));
    for (name, value) in shop_webhook_headers(secret, topic, body) {
        request = request.header(name, value);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

/// Delivers a signed webhook ([`hook_request`]): the status and the JSON answer.
pub(crate) async fn hook(
    world: &World,
    connection: &str,
    topic: &str,
    body: &str,
    secret: &str,
) -> (StatusCode, Value) {
    let request = hook_request(connection, topic, body, secret);
    let response = router(world.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn signed_webhooks_are_kept_then_delivered_once_and_bad_ones_refused() {
    let world = world().await;
    let (status, body) = hook(&world, "shop", "order.created", &order_body(501), "wrong-secret").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_signature"))
    );
    let (status, _) = hook(&world, "nope", "order.created", &order_body(501), "hook-secret").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = hook(&world, "erp", "order.created", &order_body(501), "hook-secret").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "Rivile takes no webhooks");
    let (status, body) = hook(&world, "shop", "order.created", "{broken", "hook-secret").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    let (status, body) = hook(&world, "shop", "coupon.created", "{\"id\":1}", "hook-secret").await;
    assert_eq!(
        (status, body["accepted"].clone()),
        (StatusCode::OK, Value::Null),
        "ignored, not refused"
    );

    for _ in 0..2 {
        let (status, body) = hook(&world, "shop", "order.created", &order_body(501), "hook-secret").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["accepted"].is_i64(), "{body}");
    }
    assert_eq!(
        world.state.store.inbox_backlog().await.unwrap(),
        2,
        "durable before the 200"
    );
    assert!(world.rivile.records("I06").unwrap().as_array().unwrap().is_empty());

    let settled = crate::worker::deliver_pending(&world.state).await.unwrap();
    assert_eq!(settled, 2);
    assert_eq!(world.state.store.inbox_backlog().await.unwrap(), 0);
    let documents = world.rivile.records("I06").unwrap();
    assert_eq!(
        documents.as_array().unwrap().len(),
        1,
        "the same order twice is one invoice"
    );
    assert_eq!(documents[0]["I06_DOK_NR"], "501");

    let (_, page, samples) = crate::metrics_tests::scrape(&world.state).await;
    let value = |name: &str, labels: &[(&str, &str)]| crate::metrics_tests::value(&samples, name, labels);
    let shop = ("connection", "shop");
    assert_eq!(
        value("tiltas_webhooks_total", &[shop, ("outcome", "accepted")]),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        value("tiltas_webhooks_total", &[shop, ("outcome", "rejected")]),
        Some(2.0),
        "{page}"
    );
    let unknown = [("connection", "(unknown)"), ("outcome", "rejected")];
    assert_eq!(
        value("tiltas_webhooks_total", &unknown),
        Some(1.0),
        "a path is no label: {page}"
    );
    // Each delivery of the same order is judged in a run of its own: booked, then unchanged.
    assert_eq!(
        value("tiltas_runs_total", &[("flow", "orders"), ("status", "succeeded")]),
        Some(2.0),
        "{page}"
    );
    assert_eq!(value("tiltas_inbox_backlog", &[]), Some(0.0), "{page}");
    let hooks = [("method", "POST"), ("path", "/hooks/{connection}"), ("le", "+Inf")];
    assert!(
        value("tiltas_http_request_duration_seconds_bucket", &hooks).is_some_and(|count| count >= 6.0),
        "{page}"
    );
}

#[tokio::test]
async fn the_openapi_document_health_and_quota_are_served() {
    let world = world().await;
    let (status, doc) = call(&world, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        doc["paths"]["/api/v1/dead-letters/{id}"]["put"].is_object(),
        "{}",
        doc["paths"]
    );
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // The document states what the handlers enforce (scripts/check-api-schema holds them to it).
    let parameter = |path: &str, name: &str| -> Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
            .clone()
    };
    for (path, maximum) in [
        ("/api/v1/runs", 1000),
        ("/api/v1/activity", 1000),
        ("/api/v1/dead-letters", 5000),
        ("/api/v1/deliveries", 500),
    ] {
        let limit = parameter(path, "limit");
        assert_eq!(
            (limit["schema"]["maximum"].as_u64(), limit["schema"]["minimum"].as_u64()),
            (Some(maximum), Some(1)),
            "{path}: {limit}"
        );
    }
    let status = parameter("/api/v1/dead-letters", "status").to_string();
    assert!(status.contains("LetterStatusQuery"), "{status}");
    assert_eq!(
        doc["components"]["schemas"]["LetterStatusQuery"]["enum"],
        json!(["open", "resolved", "all"])
    );
    assert_eq!(
        doc["components"]["schemas"]["DeliveryOutcomeFilter"]["enum"],
        json!(["pending", "unusable", "booked", "unchanged", "skipped", "dead_lettered"])
    );
    for path in ["/api/v1/flows/{name}/run", "/api/v1/dead-letters/replay"] {
        let body = &doc["paths"][path]["post"]["requestBody"];
        assert_ne!(
            body["required"], true,
            "{path}: an empty body means the defaults: {body}"
        );
    }
    assert_eq!(
        doc["paths"]["/api/v1/dead-letters/{id}"]["put"]["requestBody"]["required"],
        true
    );
    assert_eq!(
        doc["components"]["schemas"]["DeadLetterEdit"]["properties"]["payload"]["type"],
        "object"
    );
    let (status, health) = call(&world, Method::GET, "/healthz", None, None).await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (_, quota) = call(&world, Method::GET, "/api/v1/quota", Some(&world.read), None).await;
    let erp = quota
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["connection"] == "erp")
        .unwrap();
    assert_eq!(erp["daily_budget"], 1000);
    assert_eq!(erp["used_today"], 0);
}

pub(crate) fn product_body(id: u64) -> String {
    json!({"id": id, "sku": "P1", "name": "Kava", "regular_price": "4.10"}).to_string()
}

#[tokio::test]
async fn a_pending_order_delivery_is_skipped_with_its_reason_then_booked_once_paid() {
    let world = world().await;
    let pending = order_body(610).replace("\"processing\"", "\"pending\"");
    hook(&world, "shop", "order.created", &pending, "hook-secret").await;
    crate::worker::deliver_pending(&world.state).await.unwrap();
    hook(&world, "shop", "order.updated", &order_body(610), "hook-secret").await;
    crate::worker::deliver_pending(&world.state).await.unwrap();

    let (status, deliveries) = call(&world, Method::GET, "/api/v1/deliveries", Some(&world.read), None).await;
    assert_eq!(status, StatusCode::OK, "{deliveries}");
    let [paid, created] = &deliveries.as_array().unwrap()[..] else {
        panic!("two deliveries: {deliveries:#}")
    };
    let skipped = &created["flows"][0];
    assert_eq!(skipped["outcome"], "skipped", "{created}");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("status \"pending\" is not in the flow's statuses [processing, completed]"),
        "{created}"
    );
    assert_eq!(paid["flows"][0]["outcome"], "booked", "{paid}");
    let documents = world.rivile.records("I06").unwrap();
    let booked = documents
        .as_array()
        .unwrap()
        .iter()
        .filter(|document| document["I06_DOK_NR"] == "610")
        .count();
    assert_eq!(booked, 1, "the paid order is one invoice; the pending one none");
}

#[tokio::test]
async fn an_order_paid_and_created_in_one_batch_is_booked_whichever_delivery_arrives_first() {
    let world = world().await;
    let pending = |id: u64| order_body(id).replace("\"processing\"", "\"pending\"");
    // WooCommerce sends each topic from its own queue: the paid update may overtake the
    // creation. Both arrive before the worker's round.
    hook(&world, "shop", "order.updated", &order_body(620), "hook-secret").await;
    hook(&world, "shop", "order.created", &pending(620), "hook-secret").await;
    hook(&world, "shop", "order.created", &pending(621), "hook-secret").await;
    hook(&world, "shop", "order.updated", &order_body(621), "hook-secret").await;
    crate::worker::deliver_pending(&world.state).await.unwrap();

    let (_, deliveries) = call(&world, Method::GET, "/api/v1/deliveries", Some(&world.read), None).await;
    let outcomes: Vec<(String, String, String)> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|delivery| {
            (
                delivery["record_key"].as_str().unwrap_or_default().to_owned(),
                delivery["topic"].as_str().unwrap_or_default().to_owned(),
                delivery["flows"][0]["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("620", "order.updated", "booked"),
        ("620", "order.created", "skipped"),
        ("621", "order.created", "skipped"),
        ("621", "order.updated", "booked"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(key, topic, outcome)| ((*key).to_owned(), (*topic).to_owned(), (*outcome).to_owned()))
        .collect();
    assert_eq!(outcomes, expected, "{deliveries:#}");
    let documents = world.rivile.records("I06").unwrap();
    for number in ["620", "621"] {
        let count = documents
            .as_array()
            .unwrap()
            .iter()
            .filter(|document| document["I06_DOK_NR"] == number)
            .count();
        assert_eq!(count, 1, "order {number} is one invoice");
    }
}

#[tokio::test]
async fn deliveries_show_what_became_of_each_webhook() {
    let world = world().await;
    let (status, _) = hook(&world, "shop", "product.updated", &product_body(77), "hook-secret").await;
    assert_eq!(status, StatusCode::OK);
    crate::worker::deliver_pending(&world.state).await.unwrap();
    for _ in 0..2 {
        let (status, _) = hook(&world, "shop", "order.created", &order_body(601), "hook-secret").await;
        assert_eq!(status, StatusCode::OK);
        crate::worker::deliver_pending(&world.state).await.unwrap();
    }
    // The ingress refuses a malformed body; one kept before that check (or by an older
    // build) is settled as unusable rather than retried for ever.
    world
        .state
        .store
        .inbox_add(&tiltas_store::NewInboxEvent {
            connection: "shop".into(),
            topic: "order.created".into(),
            body: "{broken".into(),
        })
        .await
        .unwrap();
    crate::worker::deliver_pending(&world.state).await.unwrap();
    call(
        &world,
        Method::POST,
        "/api/v1/connections/erp/disable",
        Some(&world.admin),
        None,
    )
    .await;
    hook(&world, "shop", "order.created", &order_body(602), "hook-secret").await;
    crate::worker::deliver_pending(&world.state).await.unwrap();

    let (status, _) = call(&world, Method::GET, "/api/v1/deliveries", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, deliveries) = call(&world, Method::GET, "/api/v1/deliveries", Some(&world.read), None).await;
    assert_eq!(status, StatusCode::OK, "{deliveries}");
    let deliveries = deliveries.as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 5, "{deliveries:#?}");
    let [pending, bad_body, repeated, first, product] = &deliveries[..] else {
        unreachable!()
    };

    assert_eq!(
        (
            pending["outcome"].as_str(),
            pending["settled_at"].clone(),
            pending["record_key"].clone()
        ),
        (Some("pending"), Value::Null, Value::Null),
        "{pending}"
    );

    assert_eq!(bad_body["outcome"], "unusable", "{bad_body}");
    assert!(
        bad_body["note"]
            .as_str()
            .unwrap()
            .contains("not a WooCommerce resource"),
        "{bad_body}"
    );
    assert_eq!(bad_body["flows"], json!([]));

    assert_eq!(product["outcome"], "unusable", "{product}");
    assert_eq!(
        product["note"], "no enabled flow reads product from connection \"shop\"",
        "{product}"
    );
    assert_eq!(
        (
            product["topic"].as_str(),
            product["entity"].as_str(),
            product["record_key"].as_str()
        ),
        (Some("product.updated"), Some("product"), Some("77"))
    );
    assert!(product["settled_at"].is_string(), "{product}");

    assert_eq!(first["outcome"], "delivered", "{first}");
    assert_eq!(first["record_key"], "601");
    let booked = &first["flows"][0];
    assert_eq!(
        (
            booked["flow"].as_str(),
            booked["outcome"].as_str(),
            booked["operation"].as_str()
        ),
        (Some("orders"), Some("booked"), Some("created")),
        "{first}"
    );
    assert!(booked["target_id"].is_string(), "{booked}");
    assert_eq!(booked["history_url"], "/api/v1/activity?flow=orders&source_key=601");
    let run = booked["run"].as_i64().unwrap();
    assert_eq!(booked["run_url"], format!("/api/v1/runs/{run}"));

    let again = &repeated["flows"][0];
    assert_eq!(
        (
            repeated["outcome"].as_str(),
            again["outcome"].as_str(),
            again["target_id"].clone()
        ),
        (Some("delivered"), Some("unchanged"), Value::Null),
        "{repeated}"
    );
    assert_ne!(again["run"], booked["run"], "a run of its own");

    let (status, history) = call(
        &world,
        Method::GET,
        booked["history_url"].as_str().unwrap(),
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (history[0]["source_key"].as_str(), history[0]["outcome"].as_str()),
        (Some("601"), Some("created")),
        "{history}"
    );

    let ids = |body: &Value| -> Vec<i64> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|delivery| delivery["id"].as_i64().unwrap())
            .collect()
    };
    let (_, unusable) = call(
        &world,
        Method::GET,
        "/api/v1/deliveries?outcome=unusable",
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(ids(&unusable), ids(&json!([bad_body, product])));
    let (_, booked_only) = call(
        &world,
        Method::GET,
        "/api/v1/deliveries?outcome=booked&connection=shop",
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(ids(&booked_only), ids(&json!([first])));
    let (_, elsewhere) = call(
        &world,
        Method::GET,
        "/api/v1/deliveries?connection=erp",
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(elsewhere, json!([]));
    let (_, page) = call(
        &world,
        Method::GET,
        "/api/v1/deliveries?limit=2",
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(ids(&page), ids(&json!([pending, bad_body])));
    let (_, next) = call(
        &world,
        Method::GET,
        &format!("/api/v1/deliveries?limit=2&before={}", bad_body["id"]),
        Some(&world.read),
        None,
    )
    .await;
    assert_eq!(ids(&next), ids(&json!([repeated, first])));
    for query in ["limit=501", "limit=0", "outcome=lost"] {
        let (status, body) = call(
            &world,
            Method::GET,
            &format!("/api/v1/deliveries?{query}"),
            Some(&world.read),
            None,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid")),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn the_api_enforces_what_its_document_states() {
    let world = world().await;
    for path in [
        "/api/v1/runs?limit=1001",
        "/api/v1/activity?limit=0",
        "/api/v1/dead-letters?limit=5001",
        "/api/v1/dead-letters?status=",
    ] {
        let (status, body) = call(&world, Method::GET, path, Some(&world.read), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid")),
            "{path}: {body}"
        );
    }
    let (status, body) = call(&world, Method::GET, "/api/v1/runs?limit=1000", Some(&world.read), None).await;
    assert_eq!(status, StatusCode::OK, "the maximum itself is allowed: {body}");
    let (status, body) = call(&world, Method::GET, "/api/v1/runs?limit=5000", Some(&world.read), None).await;
    assert!(
        status == StatusCode::BAD_REQUEST && body["message"].as_str().unwrap().contains("at most 1000"),
        "{body}"
    );

    // Bodies are JSON objects; an optional one may be empty or null.
    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/dead-letters/replay",
        Some(&world.write),
        Some(json!([])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("JSON object"), "{body}");
    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/flows/products/run",
        Some(&world.write),
        Some(Value::Null),
    )
    .await;
    assert_eq!(
        (status, body["flow"].as_str()),
        (StatusCode::OK, Some("products")),
        "{body}"
    );
    let (_, letters) = call(&world, Method::GET, "/api/v1/dead-letters", Some(&world.read), None).await;
    let id = letters[0]["id"].as_i64().unwrap();
    let (status, body) = call(
        &world,
        Method::POST,
        "/api/v1/dead-letters/replay",
        Some(&world.write),
        Some(json!({"ids": [id as f64]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{id}.0 is an integer to JSON Schema: {body}");
    assert_eq!(body[0]["counters"]["read"], 1, "{body}");
    let (status, _) = call(
        &world,
        Method::POST,
        "/api/v1/dead-letters/replay",
        Some(&world.write),
        Some(json!({"ids": [1.5]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(
        &world,
        Method::PUT,
        &format!("/api/v1/dead-letters/{id}"),
        Some(&world.write),
        Some(json!([{"sku": "A2"}, false])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
