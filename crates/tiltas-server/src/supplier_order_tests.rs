//! `POST /api/v1/supplier-orders` against the Inter Cars simulator: an order sent twice with
//! the same idempotency key makes one requisition; an order whose confirm call times out after
//! Inter Cars committed it is found by the retry, not repeated; a key in progress is 409, the
//! same key with another body 422, bad bodies and keys 400/422, a read key 403.
use crate::{router, AppState};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tiltas_sim::{Harness, SimSystem};
use tiltas_store::{hash_api_key, ApiScope, NewApiKey};
use tiltas_systems::intercars::simulator::{router as intercars_router, Credentials, IntercarsSim, Seeding};
use tower::ServiceExt;

const SEED: u64 = 18;

/// A server over a temporary store with one Inter Cars connection (`ic`, 1 s timeout) to a
/// simulator whose confirm answers can be held back past that timeout after committing.
struct World {
    _dir: tempfile::TempDir,
    state: AppState,
    sim: Arc<IntercarsSim>,
    /// Confirm calls still to hold back (answered only after the client gave up).
    slow_confirms: Arc<AtomicUsize>,
    write: String,
    read: String,
}

async fn world() -> World {
    let sim = Arc::new(IntercarsSim::new(
        Credentials {
            client_id: "garage-1".into(),
            client_secret: "s3cret".into(),
            token_lifetime: Duration::from_secs(3600),
        },
        Seeding {
            seed: SEED,
            catalogue: 20,
            invoices: 0,
        },
    ));
    let slow_confirms = Arc::new(AtomicUsize::new(0));
    let slow = slow_confirms.clone();
    // The confirm is applied first, then its answer is held back 3 s: the client (1 s timeout)
    // sees a timeout after Inter Cars committed the order.
    let inner = intercars_router(sim.clone(), Harness::new(sim.clone(), SEED)).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let slow = slow.clone();
            async move {
                let confirm = request.uri().path().ends_with("/confirm");
                let response = next.run(request).await;
                if confirm
                    && slow
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                response
            }
        },
    ));
    let url = tiltas_sim::spawn(inner)
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[connections.ic]\nsystem = \"intercars\"\nbase_url = \"{url}/ic\"\ntoken_url = \"{url}/oauth2/token\"\n\
         client_id = \"garage-1\"\nclient_secret = \"s3cret\"\ntimeout = \"1s\"\n\n\
         [connections.files]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"products\"\nentity = \"product\"\n\
         from = {{ connection = \"files\", file = \"in.jsonl\" }}\nto = {{ connection = \"files\", file = \"out.jsonl\" }}\n"
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
    for (name, scope) in [("r", ApiScope::Read), ("w", ApiScope::Write)] {
        let secret = format!("tiltas_test_{name}");
        let key = NewApiKey {
            name: name.into(),
            scope,
            key_hash: hash_api_key(&secret),
            expires_at: None,
        };
        store.api_key_create(&key).await.unwrap();
        keys.push(secret);
    }
    World {
        _dir: dir,
        state: AppState::new(Arc::new(config), store, tiltas_systems::registry::systems()),
        sim,
        slow_confirms,
        read: keys[0].clone(),
        write: keys[1].clone(),
    }
}

/// A part Inter Cars carries (its SKU).
fn part(world: &World, index: usize) -> String {
    let parts = world.sim.records("part").unwrap_or_default();
    parts[index]["sku"].as_str().unwrap_or_default().to_owned()
}

/// The requisitions stored under one number.
fn requisitions(world: &World, number: &str) -> Vec<Value> {
    let all = world.sim.records("requisition").unwrap_or_default();
    all.as_array()
        .into_iter()
        .flatten()
        .filter(|requisition| requisition["customNumber"] == number)
        .cloned()
        .collect()
}

async fn order(
    world: &World,
    key: Option<&str>,
    idempotency: Option<&str>,
    body: &str,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/supplier-orders")
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    if let Some(idempotency) = idempotency {
        request = request.header("idempotency-key", idempotency);
    }
    let response = router(world.state.clone())
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

#[tokio::test]
async fn an_order_placed_through_the_api_twice_with_the_same_idempotency_key_makes_one_requisition() {
    let world = world().await;
    let sku = part(&world, 0);
    let body =
        json!({ "supplier": "ic", "part": sku, "quantity": 2, "brand": "MANN", "reference": "WO-77" }).to_string();
    let (status, headers, first) = order(&world, Some(&world.write), Some("K-77"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "seed {SEED}: {first}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(
        (
            first["status"].as_str(),
            first["supplier"].as_str(),
            first["reference"].as_str()
        ),
        (Some("placed"), Some("ic"), Some("WO-77"))
    );
    assert_eq!(
        first["lines"],
        json!([{ "part": sku, "brand": "MANN", "quantity": "2" }])
    );
    let order_id = first["order_id"].as_str().unwrap_or_default().to_owned();
    assert!(order_id.starts_with('R'), "{first}");
    let stored = requisitions(&world, "WO-77");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0]["id"].as_str(), stored[0]["status"].as_str()),
        (Some(order_id.as_str()), Some("CONFIRMED"))
    );

    let calls = world.sim.record_counts();
    let (status, headers, again) = order(&world, Some(&world.write), Some("K-77"), &body).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(again, first, "the first answer, word for word");
    assert_eq!(requisitions(&world, "WO-77").len(), 1, "one requisition");
    assert_eq!(world.sim.record_counts(), calls);
    assert_eq!(world.sim.duplicates(), 0);

    // The same key with another body is not a repeat: 422, nothing ordered.
    let other = json!({ "supplier": "ic", "part": sku, "quantity": 3, "reference": "WO-77" }).to_string();
    let (status, _, refused) = order(&world, Some(&world.write), Some("K-77"), &other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "idempotency_key_reused");
    assert!(
        refused["message"].as_str().unwrap_or_default().contains("K-77"),
        "{refused}"
    );
    assert_eq!(requisitions(&world, "WO-77").len(), 1);
}

#[tokio::test]
async fn an_order_whose_confirm_call_times_out_after_commit_is_found_not_repeated() {
    let world = world().await;
    let sku = part(&world, 1);
    world.slow_confirms.store(1, Ordering::SeqCst);
    let body = json!({ "supplier": "ic", "part": sku, "quantity": 1, "reference": "WO-80" }).to_string();
    let (status, _, failed) = order(&world, Some(&world.write), Some("K-80"), &body).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "seed {SEED}: {failed}");
    assert_eq!(
        (failed["status"].as_str(), failed["retryable"].as_bool()),
        (Some("failed"), Some(true))
    );
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("\"ic\"") && message.contains("WO-80"),
        "names supplier and order: {message}"
    );
    assert!(
        failed["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("same idempotency key"),
        "{failed}"
    );
    let stored = requisitions(&world, "WO-80");
    assert_eq!(
        (stored.len(), stored[0]["status"].as_str()),
        (1, Some("CONFIRMED")),
        "Inter Cars committed it"
    );

    // The retry with the same key finds the requisition by its number instead of ordering again.
    let (status, _, found) = order(&world, Some(&world.write), Some("K-80"), &body).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["status"], "found");
    assert_eq!(found["order_id"], stored[0]["id"]);
    assert_eq!(requisitions(&world, "WO-80").len(), 1, "not repeated");
    assert_eq!(world.sim.duplicates(), 0);
}

#[tokio::test]
async fn a_key_in_progress_is_409_and_bad_requests_are_400_or_422_never_500() {
    let world = world().await;
    let sku = part(&world, 2);
    let body = json!({ "supplier": "ic", "part": sku, "quantity": 1, "reference": "WO-90" }).to_string();
    // Another worker holds the key.
    let claimed = world
        .state
        .store
        .idempotency_claim(
            tiltas_engine::SUPPLIER_ORDER_SCOPE,
            "K-90",
            &tiltas_engine::SupplierOrderRequest {
                supplier: "ic".into(),
                part: sku.clone(),
                quantity: 1.into(),
                brand: None,
                reference: Some("WO-90".into()),
            }
            .hash(),
            "other-worker",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(claimed, tiltas_store::IdempotencyClaim::Claimed);
    let (status, _, busy) = order(&world, Some(&world.write), Some("K-90"), &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{busy}");
    assert!(
        busy["message"].as_str().unwrap_or_default().contains("in progress"),
        "{busy}"
    );
    assert!(requisitions(&world, "WO-90").is_empty(), "the supplier was not called");

    let cases = [
        (Some("K-1"), "{}", StatusCode::BAD_REQUEST),
        (Some("K-1"), "[\"ic\"]", StatusCode::BAD_REQUEST),
        (
            Some("K-1"),
            "{\"supplier\":\"ic\",\"part\":\"X\",\"quantity\":-1}",
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("K-1"),
            "{\"supplier\":\"ic\",\"part\":\"X\",\"quantity\":1,\"extra\":1}",
            StatusCode::BAD_REQUEST,
        ),
        (
            None,
            "{\"supplier\":\"ic\",\"part\":\"X\",\"quantity\":1}",
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("  "),
            "{\"supplier\":\"ic\",\"part\":\"X\",\"quantity\":1}",
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("K-2"),
            "{\"supplier\":\"ic\",\"part\":\"X\",\"quantity\":0}",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("K-3"),
            "{\"supplier\":\"ic\",\"part\":\" \",\"quantity\":1}",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("K-4"),
            "{\"supplier\":\"nosuch\",\"part\":\"X\",\"quantity\":1}",
            StatusCode::NOT_FOUND,
        ),
        (
            Some("K-5"),
            "{\"supplier\":\"files\",\"part\":\"X\",\"quantity\":1}",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (idempotency, body, expected) in cases {
        let (status, _, answer) = order(&world, Some(&world.write), idempotency, body).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(
            answer["code"].is_string() && answer["message"].is_string(),
            "{body}: {answer}"
        );
    }
    let (status, _, unknown) = order(
        &world,
        Some(&world.write),
        Some("K-4"),
        "{\"supplier\":\"nosuch\",\"part\":\"X\",\"quantity\":1}",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a refused request leaves its key free");
    assert!(
        unknown["message"].as_str().unwrap_or_default().contains("ic"),
        "{unknown}"
    );

    // A part Inter Cars does not carry: the supplier's refusal, kept with the key.
    let missing = json!({ "supplier": "ic", "part": "NOSUCH", "quantity": 1, "reference": "WO-91" }).to_string();
    let (status, _, refused) = order(&world, Some(&world.write), Some("K-91"), &missing).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{refused}");
    assert_eq!(
        (refused["status"].as_str(), refused["retryable"].as_bool()),
        (Some("failed"), Some(false))
    );
    assert!(
        refused["message"].as_str().unwrap_or_default().contains("NOSUCH"),
        "{refused}"
    );
    assert!(refused["fix"].is_string(), "{refused}");
    let (status, headers, again) = order(&world, Some(&world.write), Some("K-91"), &missing).await;
    assert_eq!((status, again), (StatusCode::BAD_GATEWAY, refused));
    assert!(headers.get("idempotent-replayed").is_some());

    let (status, _, forbidden) = order(&world, Some(&world.read), Some("K-92"), &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{forbidden}");
    let (status, _, _) = order(&world, None, Some("K-92"), &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn the_endpoint_is_in_the_openapi_document_with_its_key_header() {
    use utoipa::OpenApi;
    let document = serde_json::to_value(crate::ApiDoc::openapi()).unwrap();
    let post = &document["paths"]["/api/v1/supplier-orders"]["post"];
    assert!(post.is_object(), "{document}");
    let parameters = post["parameters"].as_array().cloned().unwrap_or_default();
    assert!(parameters
        .iter()
        .any(|parameter| parameter["name"] == "Idempotency-Key" && parameter["in"] == "header"));
    for status in ["200", "201", "400", "409", "422", "502"] {
        assert!(post["responses"][status].is_object(), "{status}");
    }
}
