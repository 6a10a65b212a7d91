//! Backpressure at `/hooks/{connection}`: past the connection's inbox backlog limit a signed
//! delivery is answered 503 with `Retry-After` and not stored; taken deliveries make room.
//! And the upkeep's checkpoints: an idle store's write-ahead log is truncated to nothing.
use crate::hooks_tests::{hook, order_body};
use crate::tests::{world, World};
use crate::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

#[tokio::test]
async fn a_full_inbox_answers_503_with_retry_after_and_keeps_nothing_until_deliveries_are_taken() {
    let mut world = world().await;
    let mut config = (*world.state.config).clone();
    config.server.max_inbox_backlog = 2;
    world.state = AppState::new(
        Arc::new(config),
        world.state.store.clone(),
        tiltas_systems::registry::systems(),
    );
    for id in [601, 602] {
        let (status, body) = hook(&world, "shop", "order.created", &order_body(id), "hook-secret").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // The answer carries Retry-After: read the raw response.
    let body = order_body(603);
    let request = crate::hooks_tests::hook_request("shop", "order.created", &body, "hook-secret");
    let response = crate::router(world.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()),
        Some(crate::RETRY_AFTER_SECONDS.to_string().as_str())
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let refusal: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(refusal["code"], "inbox_full");
    let message = refusal["message"].as_str().unwrap();
    assert!(
        message.contains("\"shop\"") && message.contains("max_inbox_backlog = 2") && message.contains("flows.toml"),
        "names the connection, the limit and where it is set: {message}"
    );
    assert_eq!(world.state.store.inbox_backlog().await.unwrap(), 2, "nothing stored");

    let (status, _) = hook(&world, "shop", "order.created", &order_body(604), "wrong-secret").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the signature is checked first");
    let metrics = crate::router(world.state.clone())
        .oneshot(Request::builder().uri("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let metrics = String::from_utf8(metrics.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        metrics.contains("connection=\"shop\",outcome=\"backpressure\"} 1"),
        "{metrics}"
    );

    // The worker takes the two; the recount (every second in a server) makes room.
    assert_eq!(crate::worker::deliver_pending(&world.state).await.unwrap(), 2);
    let start = world.state.backlog.recount_begins();
    let counts = world.state.store.inbox_backlog_by_connection().await.unwrap();
    world.state.backlog.recount(&start, &counts);
    let (status, body) = hook(&world, "shop", "order.created", &order_body(603), "hook-secret").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The size of the world's store's write-ahead log file (0 when there is none).
fn log_bytes(world: &World) -> u64 {
    std::fs::metadata(world.dir.path().join("t.db-wal")).map_or(0, |meta| meta.len())
}

/// Waits until the write-ahead log is empty, failing after a deadline well past the upkeep's
/// idle wait (2 s) and tick (1 s).
async fn until_log_is_empty(world: &World, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while log_bytes(world) > 0 {
        assert!(
            Instant::now() < deadline,
            "the write-ahead log still holds {} bytes 20 s after {after}",
            log_bytes(world)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_idle_store_s_log_is_truncated_and_again_after_the_inbox_worker_writes_with_ingress_still_idle() {
    let world = world().await;
    let upkeep = tokio::spawn(crate::run_upkeep(world.state.clone()));
    let mut ids = Vec::new();
    for id in 701..=720 {
        let (status, body) = hook(&world, "shop", "order.created", &order_body(id), "hook-secret").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(body["accepted"].as_i64().unwrap());
    }
    assert!(log_bytes(&world) > 0, "the accepted deliveries are in the log");
    until_log_is_empty(&world, "the last delivery was accepted").await;

    // A drain goes on after the senders stopped: the worker settles deliveries while ingress
    // stays idle. The log it grows is truncated too, not only the first time ingress is idle.
    world.state.store.inbox_done(&ids, None).await.unwrap();
    assert!(log_bytes(&world) > 0, "the settled deliveries are in the log");
    until_log_is_empty(&world, "the deliveries were settled with ingress idle").await;
    upkeep.abort();
}
