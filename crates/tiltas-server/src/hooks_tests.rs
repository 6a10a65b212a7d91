//! Webhooks through the router: signed deliveries kept in the inbox and delivered once into
//! the ERP simulator, bad ones refused, orders waiting for payment, and what became of each
//! delivery.
use crate::router;
use crate::tests::{call, world, World};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tiltas_systems::scenarios::shop_webhook_headers;
use tower::ServiceExt;

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
