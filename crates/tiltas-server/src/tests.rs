//! The router driven without a socket: every endpoint, auth failures, runs and dead letters,
//! the API document; the shared test world (webhooks are in `hooks_tests`).
use crate::{router, AppState};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_sim::SimSystem;
use tiltas_store::{hash_api_key, ApiScope, NewApiKey};
use tiltas_systems::scenarios::erp_simulator;
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

pub(crate) async fn call(
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
