//! The audit log records every admin action (API and dashboard) with the key's name and the
//! client address; API keys expire and note their last use; failed sign-ins are slowed down;
//! webhooks are rate-limited per connection and refused over the body limit; a person is
//! forgotten through the API.
use crate::security::{Security, SIGN_IN_FAILURES_ALLOWED};
use crate::tests::{world, World};
use crate::{router, MAX_HOOK_BODY};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tiltas_store::{actions, hash_api_key, ApiScope, AuditFilter, NewApiKey};
use tower::ServiceExt;

const CLIENT: [u8; 4] = [10, 1, 2, 3];

/// What the server answered: the status, its `Retry-After`, and the body (JSON, else text).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Value,
}

/// Sends a request as if from `client` (the server is given the peer address).
pub(crate) async fn send(
    world: &World,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
    client: [u8; 4],
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let mut request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    };
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((client, 40_000))));
    let response = router(world.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|value| value.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer {
        status,
        retry_after,
        body,
    }
}

/// The newest audit entry of `action`.
async fn last_entry(world: &World, action: &str) -> tiltas_store::AuditEntry {
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        limit: 1,
        ..AuditFilter::default()
    };
    let entries = world.state.store.audit_entries(&filter).await.unwrap();
    entries
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no audit entry of {action}"))
}

#[tokio::test]
async fn switching_and_testing_a_connection_are_audited_with_the_key_and_address() {
    let world = world().await;
    for (path, action) in [
        ("/api/v1/connections/erp/disable", actions::CONNECTION_DISABLED),
        ("/api/v1/connections/erp/enable", actions::CONNECTION_ENABLED),
        ("/api/v1/connections/erp/test", actions::CONNECTION_TESTED),
    ] {
        let answer = send(&world, Method::POST, path, Some(&world.admin), None, CLIENT).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        let entry = last_entry(&world, action).await;
        assert_eq!(
            (entry.actor.as_str(), entry.target.as_str(), entry.origin.as_str()),
            ("a", "erp", "10.1.2.3"),
            "{action}"
        );
    }
    let tested = last_entry(&world, actions::CONNECTION_TESTED).await;
    assert_eq!(tested.detail["ok"], true, "{}", tested.detail);
    // A refused request (write key switching a connection) does nothing and records nothing.
    let refused = send(
        &world,
        Method::POST,
        "/api/v1/connections/erp/disable",
        Some(&world.write),
        None,
        CLIENT,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let all = world.state.store.audit_entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
}

#[tokio::test]
async fn running_a_flow_and_editing_retrying_and_replaying_dead_letters_are_audited() {
    let world = world().await;
    let run = send(
        &world,
        Method::POST,
        "/api/v1/flows/products/run",
        Some(&world.write),
        Some(json!({})),
        CLIENT,
    )
    .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let entry = last_entry(&world, actions::FLOW_RUN).await;
    assert_eq!((entry.actor.as_str(), entry.target.as_str()), ("w", "products"));
    assert_eq!(entry.detail["outcome"]["run"], run.body["run"]);

    let letters = send(
        &world,
        Method::GET,
        "/api/v1/dead-letters",
        Some(&world.read),
        None,
        CLIENT,
    )
    .await;
    let id = letters.body[0]["id"].as_i64().expect("the bad record is a dead letter");
    let fixed = json!({ "payload": {"sku": "A2", "name": "Arbata", "price_net": "3.00"}, "retry": false });
    let edit = send(
        &world,
        Method::PUT,
        &format!("/api/v1/dead-letters/{id}"),
        Some(&world.write),
        Some(fixed),
        CLIENT,
    )
    .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    let edited = last_entry(&world, actions::DEAD_LETTER_EDITED).await;
    assert_eq!(
        (edited.target, edited.detail["flow"].clone()),
        (id.to_string(), json!("products"))
    );
    assert!(
        !edited.detail.to_string().contains("Arbata"),
        "the payload is not copied into the log"
    );

    let retry = send(
        &world,
        Method::POST,
        &format!("/api/v1/dead-letters/{id}/retry"),
        Some(&world.write),
        None,
        CLIENT,
    )
    .await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    let retried = last_entry(&world, actions::DEAD_LETTER_RETRIED).await;
    assert_eq!(retried.target, id.to_string());
    assert!(retried.detail["outcome"]["runs"][0].is_i64(), "{}", retried.detail);

    let replay = send(
        &world,
        Method::POST,
        "/api/v1/dead-letters/replay",
        Some(&world.write),
        Some(json!({"flow": "products"})),
        CLIENT,
    )
    .await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    let replayed = last_entry(&world, actions::DEAD_LETTERS_REPLAYED).await;
    assert_eq!(
        (
            replayed.actor.as_str(),
            replayed.target.as_str(),
            replayed.origin.as_str()
        ),
        ("w", "products", "10.1.2.3")
    );
}

#[tokio::test]
async fn dashboard_actions_are_audited_like_api_calls() {
    let world = world().await;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/connections/erp/disable")
        .header(header::COOKIE, format!("tiltas_key={}", world.admin))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((CLIENT, 1))));
    let response = router(world.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let entry = last_entry(&world, actions::CONNECTION_DISABLED).await;
    assert_eq!((entry.actor.as_str(), entry.origin.as_str()), ("a", "10.1.2.3"));
    let page = {
        let request = Request::builder()
            .uri("/audit")
            .header(header::COOKIE, format!("tiltas_key={}", world.admin))
            .body(Body::empty())
            .unwrap();
        let response = router(world.state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    };
    assert!(
        page.contains("connection.disabled") && page.contains("10.1.2.3"),
        "{page}"
    );
}

#[tokio::test]
async fn the_audit_log_is_listed_filtered_and_paged_for_admins_only() {
    let world = world().await;
    for path in [
        "/api/v1/connections/erp/disable",
        "/api/v1/connections/erp/enable",
        "/api/v1/connections/shop/disable",
    ] {
        send(&world, Method::POST, path, Some(&world.admin), None, CLIENT).await;
    }
    let refused = send(&world, Method::GET, "/api/v1/audit", Some(&world.write), None, CLIENT).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let all = send(&world, Method::GET, "/api/v1/audit", Some(&world.admin), None, CLIENT).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let targets: Vec<&str> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, vec!["shop", "erp", "erp"]);
    assert_eq!(all.body[0]["from"], "10.1.2.3");
    let disabled = send(
        &world,
        Method::GET,
        "/api/v1/audit?action=connection.disabled",
        Some(&world.admin),
        None,
        CLIENT,
    )
    .await;
    assert_eq!(disabled.body.as_array().unwrap().len(), 2);
    let before = all.body[0]["id"].as_i64().unwrap();
    let page = send(
        &world,
        Method::GET,
        &format!("/api/v1/audit?before={before}&limit=1"),
        Some(&world.admin),
        None,
        CLIENT,
    )
    .await;
    assert_eq!(page.body.as_array().unwrap().len(), 1);
    assert_eq!(page.body[0]["id"], all.body[1]["id"]);
    let future = send(
        &world,
        Method::GET,
        "/api/v1/audit?since=2999-01-01T00:00:00Z&actor=a",
        Some(&world.admin),
        None,
        CLIENT,
    )
    .await;
    assert_eq!(future.body, json!([]));
    let bad = send(
        &world,
        Method::GET,
        "/api/v1/audit?since=yesterday",
        Some(&world.admin),
        None,
        CLIENT,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body["message"].as_str().unwrap().contains("RFC 3339"),
        "{}",
        bad.body
    );
    let document = send(&world, Method::GET, "/api/v1/openapi.json", None, None, CLIENT).await;
    for path in ["/api/v1/audit", "/api/v1/forget"] {
        assert!(document.body["paths"][path].is_object(), "{path} is not documented");
    }
}

async fn key_with(world: &World, name: &str, expires_at: Option<chrono::DateTime<chrono::Utc>>) -> (i64, String) {
    let secret = format!("tiltas_test_{name}");
    let id = world
        .state
        .store
        .api_key_create(&NewApiKey {
            name: name.into(),
            scope: ApiScope::Read,
            key_hash: hash_api_key(&secret),
            expires_at,
        })
        .await
        .unwrap();
    (id, secret)
}

#[tokio::test]
async fn an_expired_key_is_refused_naming_its_expiry_and_a_live_one_notes_its_last_use() {
    let world = world().await;
    let (_, expired) = key_with(&world, "old", Some(chrono::Utc::now() - chrono::Duration::hours(1))).await;
    let answer = send(&world, Method::GET, "/api/v1/flows", Some(&expired), None, CLIENT).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.body["code"], "key_expired");
    let message = answer.body["message"].as_str().unwrap();
    assert!(
        message.contains("\"old\"") && message.contains("expired at") && message.contains("--expires"),
        "{message}"
    );

    let (id, live) = key_with(&world, "new", Some(chrono::Utc::now() + chrono::Duration::days(1))).await;
    for _ in 0..3 {
        let answer = send(&world, Method::GET, "/api/v1/flows", Some(&live), None, CLIENT).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    // The last use is written off the request's path: wait for it (bounded), never sleep blind.
    let mut used = None;
    for _ in 0..500 {
        let keys = world.state.store.api_keys().await.unwrap();
        used = keys.iter().find(|key| key.id == id).and_then(|key| key.last_used_at);
        if used.is_some() {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let used = used.expect("the key's last use was noted");
    assert!((chrono::Utc::now() - used).num_seconds() < 60);
    // Three uses within the minute: one write, so the next use is not written again.
    assert!(!world.state.security.key_used(id), "a second write within the minute");
}

#[tokio::test]
async fn repeated_failed_sign_ins_from_one_address_get_429_with_retry_after() {
    let world = world().await;
    for attempt in 0..SIGN_IN_FAILURES_ALLOWED {
        let answer = send(&world, Method::GET, "/api/v1/flows", Some("tiltas_guess"), None, CLIENT).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let blocked = send(&world, Method::GET, "/api/v1/flows", Some("tiltas_guess"), None, CLIENT).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "{}", blocked.body);
    let seconds: u64 = blocked.retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    assert!(blocked.body["message"].as_str().unwrap().contains("10.1.2.3"));
    // Even the right key waits: a blocked address learns nothing by guessing on.
    let right = send(&world, Method::GET, "/api/v1/flows", Some(&world.read), None, CLIENT).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    // The dashboard's sign-in form is guarded the same way.
    let login = send(&world, Method::POST, "/login", None, None, CLIENT).await;
    assert_eq!(login.status, StatusCode::TOO_MANY_REQUESTS);
    let other = send(
        &world,
        Method::GET,
        "/api/v1/flows",
        Some(&world.read),
        None,
        [10, 9, 9, 9],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "another address is not affected");
}

const HOOK_RATE_CONFIG: &str = r#"
[connections.shop]
system = "woocommerce"
base_url = "http://127.0.0.1:9"
consumer_key = "ck_x"
consumer_secret = "cs_very_secret"
webhook_secret = "hook-secret"
hooks_rate_limit = "1/m, burst 2"

[connections.files]
system = "jsonl"

[[flows]]
name = "products"
entity = "product"
from = { connection = "files", file = "products.jsonl" }
to = { connection = "files", file = "out.jsonl" }
"#;

#[tokio::test]
async fn webhooks_past_the_connections_rate_get_429_with_retry_after_and_others_pass() {
    let mut world = world().await;
    let config = tiltas_config::parse_str(
        HOOK_RATE_CONFIG,
        &world.dir.path().join("rate.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    world.state.security = Arc::new(Security::new(&config));
    let body = crate::hooks_tests::order_body(501);
    for _ in 0..2 {
        let (status, answer) = crate::hooks_tests::hook(&world, "shop", "order.created", &body, "hook-secret").await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let request = crate::hooks_tests::hook_request("shop", "order.created", &body, "hook-secret");
    let response = router(world.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let seconds: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        text.contains("hooks_rate_limit") && text.contains("1/m, burst 2"),
        "{text}"
    );
    assert_eq!(
        world.state.store.inbox_backlog().await.unwrap(),
        2,
        "the refused delivery was not kept"
    );
}

#[tokio::test]
async fn a_webhook_body_over_the_limit_is_answered_413() {
    let world = world().await;
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_HOOK_BODY));
    let (status, _) = crate::hooks_tests::hook(&world, "shop", "order.created", &body, "hook-secret").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(world.state.store.inbox_backlog().await.unwrap(), 0);
}

fn person_order(id: u64, first: &str, email: &str, phone: &str) -> String {
    json!({
        "id": id, "number": id.to_string(), "status": "processing", "currency": "EUR", "total": "12.10",
        "billing": {"first_name": first, "last_name": "Testaitė", "email": email, "phone": phone, "address_1": "Ąžuolų g. 3", "city": "Alytus"},
        "shipping": {"first_name": first, "last_name": "Testaitė", "address_1": "Ąžuolų g. 3", "city": "Alytus"},
        "line_items": [{"id": 1, "sku": "A00101", "name": "Kava", "quantity": 1, "price": 10, "total": "10.00", "total_tax": "2.10"}]
    })
    .to_string()
}

#[tokio::test]
async fn forgetting_a_person_through_the_api_erases_their_deliveries_and_is_audited() {
    let world = world().await;
    let ona = person_order(601, "Ona", "ona.t@example.lt", "+37061111111");
    let jonas = person_order(602, "Jonas", "jonas.t@example.lt", "+37062222222");
    for body in [&ona, &jonas] {
        let (status, answer) = crate::hooks_tests::hook(&world, "shop", "order.created", body, "hook-secret").await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let refused = send(
        &world,
        Method::POST,
        "/api/v1/forget",
        Some(&world.write),
        Some(json!({"email": "ona.t@example.lt"})),
        CLIENT,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let invalid = send(
        &world,
        Method::POST,
        "/api/v1/forget",
        Some(&world.admin),
        Some(json!({"email": "ona"})),
        CLIENT,
    )
    .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);

    let dry = send(
        &world,
        Method::POST,
        "/api/v1/forget",
        Some(&world.admin),
        Some(json!({"email": "ONA.T@example.lt", "dry_run": true})),
        CLIENT,
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(
        (dry.body["inbox"]["rows"].as_u64(), dry.body["dry_run"].as_bool()),
        (Some(1), Some(true))
    );
    let answer = send(
        &world,
        Method::POST,
        "/api/v1/forget",
        Some(&world.admin),
        Some(json!({"email": "ONA.T@example.lt"})),
        CLIENT,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["inbox"]["rows"], 1);
    assert!(answer.body["inbox"]["values"].as_u64().unwrap() >= 8, "{}", answer.body);

    let bodies: Vec<String> = world
        .state
        .store
        .inbox_pending(10)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.body)
        .collect();
    assert_eq!(bodies.len(), 2, "the rows stay");
    let all = bodies.join("\n");
    for gone in ["ona.t@example.lt", "\"Ona\"", "+37061111111"] {
        assert!(!all.contains(gone), "{gone} is still in the inbox");
    }
    for kept in ["jonas.t@example.lt", "\"Jonas\"", "+37062222222", "Kava"] {
        assert!(all.contains(kept), "{kept} was erased");
    }
    let entry = last_entry(&world, actions::PERSON_FORGOTTEN).await;
    assert_eq!(entry.target, crate::email_fingerprint("ona.t@example.lt"));
    assert!(
        !entry.target.contains("ona.t"),
        "the log does not keep the address it erased"
    );
    assert_eq!(entry.detail["inbox"]["rows"], 1);
    let dry_runs = world.state.store.audit_entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(dry_runs.len(), 1, "a dry run changes nothing and is not recorded");
}
