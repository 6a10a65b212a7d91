//! The dashboard driven through the whole router without a socket, signed in by cookie as a
//! browser would be: sign-in, every page's content, escaping, edit-and-retry, scopes.
use super::layout::query_value;
use crate::router;
use crate::tests::{world, World};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tiltas_engine::SyncOptions;
use tiltas_store::{DeadLetterFilter, DeadLetterStatus};
use tower::ServiceExt;

/// What a browser would get back.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

async fn send(world: &World, method: Method, path: &str, key: Option<&str>, form: Option<&[(&str, &str)]>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header(header::COOKIE, format!("theme=dark; tiltas_key={key}"));
    }
    let request = match form {
        Some(fields) => {
            let body = fields
                .iter()
                .map(|(name, value)| format!("{}={}", query_value(name), query_value(value)))
                .collect::<Vec<_>>()
                .join("&");
            request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap()
        }
        None => request.body(Body::empty()).unwrap(),
    };
    let response = router(world.state.clone()).oneshot(request).await.unwrap();
    let header_text = |name| {
        response
            .headers()
            .get(name)
            .map(|value: &axum::http::HeaderValue| value.to_str().unwrap().to_owned())
    };
    let status = response.status();
    let location = header_text(header::LOCATION);
    let set_cookie = header_text(header::SET_COOKIE);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        location,
        set_cookie,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn page(world: &World, path: &str, key: &str) -> String {
    let answer = send(world, Method::GET, path, Some(key), None).await;
    assert_eq!(answer.status, StatusCode::OK, "GET {path}: {}", answer.body);
    answer.body
}

async fn post(world: &World, path: &str, key: &str, form: &[(&str, &str)]) -> Answer {
    send(world, Method::POST, path, Some(key), Some(form)).await
}

/// Runs the `products` flow (A1 and A3 created, A2's price refused); returns the run's id.
async fn run_products(world: &World) -> i64 {
    let report = world
        .state
        .engine
        .sync("products", &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!((report.counters.created, report.counters.failed), (2, 1));
    report.run.unwrap()
}

async fn open_letters(world: &World) -> Vec<tiltas_store::DeadLetter> {
    world
        .state
        .store
        .dead_letters(&DeadLetterFilter {
            flow: None,
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_wrong_key_shows_the_form_again_and_a_right_one_sets_the_cookie() {
    let world = world().await;
    for path in ["/", "/dead-letters", "/connections", "/runs/1"] {
        let answer = send(&world, Method::GET, path, None, None).await;
        assert_eq!(
            (answer.status, answer.location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login")),
            "{path} without a cookie"
        );
    }
    let answer = send(&world, Method::GET, "/", Some("tiltas_revoked_or_never_made"), None).await;
    assert_eq!(
        answer.location.as_deref(),
        Some("/login"),
        "an unknown key in the cookie"
    );

    let form = send(&world, Method::GET, "/login", None, None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(r#"<label for="key">API key</label>"#),
        "{}",
        form.body
    );

    let refused = send(&world, Method::POST, "/login", None, Some(&[("key", "tiltas_wrong")])).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("unknown or revoked"), "{}", refused.body);
    assert!(refused.body.contains(r#"<label for="key">API key</label>"#));
    assert_eq!(refused.set_cookie, None);

    let accepted = send(&world, Method::POST, "/login", None, Some(&[("key", &world.read)])).await;
    assert_eq!(
        (accepted.status, accepted.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/"))
    );
    let cookie = accepted.set_cookie.unwrap();
    assert_eq!(
        cookie,
        format!("tiltas_key={}; HttpOnly; SameSite=Strict; Path=/", world.read)
    );
    let overview = page(&world, "/", &world.read).await;
    assert!(overview.contains("Key <strong>r</strong> (read)"), "{overview}");

    let out = send(&world, Method::POST, "/logout", Some(&world.read), Some(&[])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.location.unwrap().starts_with("/login?done="));
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn every_page_shows_flows_runs_records_letters_and_connections() {
    let world = world().await;
    let run = run_products(&world).await;
    let key = world.read.as_str();

    let overview = page(&world, "/", key).await;
    for expected in [
        r#"<a href="/flows/products">products</a>"#,
        r#"<a href="/flows/orders">orders</a>"#,
        "never run",
        "read <strong>3</strong> · created <strong>2</strong>",
        "failed <strong>1</strong>",
        "partial",
        "<svg",
        "Records delivered and failed per hour, last 24 hours",
        "Delivered (created + updated): <strong>2</strong>",
        "Failed: <strong>1</strong>",
        "0 / 1\u{a0}000 requests today",
        r#"<meter id="quota-erp""#,
        "1 dead letter(s) waiting",
    ] {
        assert!(overview.contains(expected), "overview lacks {expected}: {overview}");
    }

    let flow = page(&world, "/flows/products", key).await;
    assert!(flow.contains(&format!(">Run {run}</a>")), "{flow}");

    let run_page = page(&world, &format!("/runs/{run}"), key).await;
    for expected in [
        "Run ",
        "<code>A1</code>",
        "<code>A2</code>",
        "<code>A3</code>",
        "Compare payloads",
    ] {
        assert!(run_page.contains(expected), "run page lacks {expected}: {run_page}");
    }
    assert!(
        run_page.contains(r#"<td class="num">3</td><td class="num">2</td>"#),
        "{run_page}"
    );

    let activity = world
        .state
        .store
        .activity(&tiltas_store::ActivityFilter {
            run: Some(run),
            source_key: Some("A1".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let record = page(&world, &format!("/records/{}?run={run}", activity[0].id), key).await;
    for expected in [
        "Record A1",
        "Source (as read)",
        "Sent (to the target)",
        "<code>sku</code>",
        "Kava",
    ] {
        assert!(record.contains(expected), "record page lacks {expected}: {record}");
    }

    let inbox = page(&world, "/dead-letters", key).await;
    let letter = &open_letters(&world).await[0];
    assert!(letter.message.contains("price_net"));
    // The key is the letter's own column: the message does not repeat it, and the group
    // heading names the field from its column.
    assert!(!letter.message.contains("A2"), "{}", letter.message);
    assert_eq!(letter.field.as_deref(), Some("price_net"));
    for expected in [
        &*maud::html! { code { "price_net" } ": " (letter.message) }.into_string(),
        "(1 letter(s))",
        r#"name="ids""#,
        "Replay selected",
        "Replay all open",
        "<code>A2</code>",
    ] {
        assert!(inbox.contains(expected), "inbox lacks {expected}: {inbox}");
    }
    let letter_page = page(&world, &format!("/dead-letters/{}", letter.id), key).await;
    assert!(
        letter_page.contains(r#"<textarea id="payload" name="payload""#),
        "{letter_page}"
    );
    assert!(letter_page.contains("Arbata") && letter_page.contains("not a price"));
    assert!(
        letter_page.contains(r#"<dd id="letter-field"><code>price_net</code></dd>"#),
        "{letter_page}"
    );

    let connections = page(&world, "/connections", key).await;
    for expected in [
        "erp",
        "rivile",
        "Test connection",
        "Switch off",
        "***",
        "1\u{a0}000 requests today",
    ] {
        assert!(
            connections.contains(expected),
            "connections lack {expected}: {connections}"
        );
    }
    for secret in ["cs_very_secret", "hook-secret", "SRV.key"] {
        assert!(!connections.contains(secret), "{secret} leaked");
    }

    for (path, expected) in [
        ("/runs/999999", "no run 999999"),
        ("/runs/abc", "ids are numbers"),
        ("/flows/nope", "no flow"),
        ("/dead-letters/424242", "no dead letter 424242"),
        ("/records/424242", "no activity 424242"),
    ] {
        let answer = send(&world, Method::GET, path, Some(key), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(answer.body.contains(expected), "{path}: {}", answer.body);
    }
}

#[tokio::test]
async fn a_script_in_a_payload_or_a_flash_message_is_shown_as_text() {
    let world = world().await;
    std::fs::write(
        world.dir.path().join("products.jsonl"),
        r#"{"sku":"A1","name":"<script>alert(1)</script>","price_net":"4.10"}
{"sku":"A2","name":"<script>alert(2)</script>","price_net":"not a price"}
{"sku":"A3","name":"Sultys","price_net":"2"}
"#,
    )
    .unwrap();
    let run = run_products(&world).await;
    let key = world.read.as_str();
    let activity = world
        .state
        .store
        .activity(&tiltas_store::ActivityFilter {
            run: Some(run),
            source_key: Some("A1".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let record = page(&world, &format!("/records/{}?run={run}", activity[0].id), key).await;
    let letter = &open_letters(&world).await[0];
    let letter_page = page(&world, &format!("/dead-letters/{}", letter.id), key).await;
    let flashed = page(
        &world,
        &format!("/connections?done={}", query_value("<script>alert(3)</script>")),
        key,
    )
    .await;
    for (body, number) in [(&record, 1), (&letter_page, 2), (&flashed, 3)] {
        assert!(!body.contains("<script"), "a raw script tag: {body}");
        assert!(
            body.contains(&format!("&lt;script&gt;alert({number})&lt;/script&gt;")),
            "{body}"
        );
    }
    let answer = send(&world, Method::GET, "/", Some(key), None).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn a_dead_letter_is_not_saved_from_bad_json_and_is_resolved_once_fixed() {
    let world = world().await;
    run_products(&world).await;
    let letter = open_letters(&world).await.remove(0);
    let path = format!("/dead-letters/{}", letter.id);

    let broken = post(
        &world,
        &path,
        &world.write,
        &[("payload", "{\"sku\": \"A2\",, }"), ("action", "retry")],
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(broken.body.contains("not valid JSON"), "{}", broken.body);
    assert!(broken.body.contains("Nothing was saved"));
    assert!(
        broken.body.contains("{&quot;sku&quot;: &quot;A2&quot;,, }"),
        "the typed text comes back to fix: {}",
        broken.body
    );
    let not_object = post(
        &world,
        &path,
        &world.write,
        &[("payload", "[1, 2]"), ("action", "retry")],
    )
    .await;
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);
    assert!(not_object.body.contains("must be a JSON object"), "{}", not_object.body);
    let stored = world.state.store.dead_letter(letter.id).await.unwrap().unwrap();
    assert_eq!(stored.payload, letter.payload, "nothing saved");

    let mut fixed = letter.payload.clone();
    fixed["price_net"] = serde_json::json!("3.20");
    let fixed_text = serde_json::to_string_pretty(&fixed).unwrap();
    let saved = post(
        &world,
        &path,
        &world.write,
        &[("payload", &fixed_text), ("action", "retry")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let back = saved.location.unwrap();
    assert!(back.starts_with(&format!("{path}?done=")), "{back}");
    let shown = page(&world, &back, &world.read).await;
    assert!(shown.contains("was delivered and is resolved"), "{shown}");
    assert!(shown.contains("resolved</span>"), "{shown}");
    let stored = world.state.store.dead_letter(letter.id).await.unwrap().unwrap();
    assert_eq!(stored.status, DeadLetterStatus::Resolved);
    assert_eq!(stored.payload["price_net"], "3.20");
    assert!(open_letters(&world).await.is_empty());
}

#[tokio::test]
async fn forms_need_write_and_switching_connections_needs_admin() {
    let world = world().await;
    run_products(&world).await;
    let letter = open_letters(&world).await.remove(0);

    for (path, form) in [
        ("/dead-letters/replay".to_owned(), vec![("scope", "all")]),
        (format!("/dead-letters/{}", letter.id), vec![("payload", "{}")]),
        ("/connections/files/test".to_owned(), vec![]),
    ] {
        let answer = post(&world, &path, &world.read, &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert!(answer.body.contains("this needs write"), "{path}: {}", answer.body);
    }
    let answer = post(&world, "/connections/erp/disable", &world.write, &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("this needs admin"), "{}", answer.body);
    assert!(world.state.connection_enabled("erp"));

    let answer = post(&world, "/connections/erp/disable", &world.admin, &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(!world.state.connection_enabled("erp"));
    let shown = page(&world, answer.location.as_deref().unwrap(), &world.read).await;
    assert!(shown.contains("Connection erp is switched off."), "{shown}");
    assert!(shown.contains("Switch connection erp on"), "{shown}");
    post(&world, "/connections/erp/enable", &world.admin, &[]).await;
    assert!(world.state.connection_enabled("erp"));

    let tested = post(&world, "/connections/files/test", &world.write, &[]).await;
    let shown = page(&world, tested.location.as_deref().unwrap(), &world.read).await;
    assert!(
        shown.contains("Test of files passed: read 1 product record(s)"),
        "{shown}"
    );
    let tested = post(&world, "/connections/shop/test", &world.write, &[]).await;
    let shown = page(&world, tested.location.as_deref().unwrap(), &world.read).await;
    assert!(
        shown.contains("Test of shop failed"),
        "nothing listens on port 9: {shown}"
    );
}

#[tokio::test]
async fn bulk_replay_sends_the_selected_letters_and_reports_what_happened() {
    let world = world().await;
    run_products(&world).await;
    let letter = open_letters(&world).await.remove(0);

    let nothing = post(&world, "/dead-letters/replay", &world.write, &[("scope", "selected")]).await;
    let shown = page(&world, nothing.location.as_deref().unwrap(), &world.read).await;
    assert!(shown.contains("Select at least one dead letter"), "{shown}");

    let id = letter.id.to_string();
    let replayed = post(
        &world,
        "/dead-letters/replay",
        &world.write,
        &[("scope", "selected"), ("ids", &id)],
    )
    .await;
    let shown = page(&world, replayed.location.as_deref().unwrap(), &world.read).await;
    assert!(
        shown.contains("Replayed in 1 run(s): 0 delivered, 0 unchanged, 1 failed again."),
        "the price is still wrong: {shown}"
    );
    let stored = world.state.store.dead_letter(letter.id).await.unwrap().unwrap();
    assert_eq!(stored.attempts, letter.attempts + 1);

    let all = post(&world, "/dead-letters/replay", &world.write, &[("scope", "all")]).await;
    let shown = page(&world, all.location.as_deref().unwrap(), &world.read).await;
    assert!(shown.contains("1 failed again"), "{shown}");
}

#[tokio::test]
async fn the_deliveries_page_shows_what_became_of_each_webhook_at_a_glance() {
    use crate::hooks_tests::{hook, order_body, product_body};
    let world = world().await;
    hook(&world, "shop", "product.updated", &product_body(77), "hook-secret").await;
    hook(&world, "shop", "order.created", &order_body(701), "hook-secret").await;
    crate::worker::deliver_pending(&world.state).await.unwrap();
    hook(&world, "shop", "order.created", &order_body(701), "hook-secret").await;
    crate::worker::deliver_pending(&world.state).await.unwrap();
    let key = world.read.as_str();

    let overview = page(&world, "/", key).await;
    assert!(
        overview.contains(r#"<a href="/deliveries">Deliveries</a>"#),
        "{overview}"
    );
    let deliveries = page(&world, "/deliveries", key).await;
    let booked = world
        .state
        .store
        .activity(&tiltas_store::ActivityFilter {
            flow: Some("orders".into()),
            source_key: Some("701".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(booked.len(), 1, "booked once, unchanged the second time");
    for expected in [
        r#"<a href="/deliveries" aria-current="page">Deliveries</a>"#,
        r#"<option value="shop">shop</option>"#,
        "<code>order.created</code>",
        "<code>product.updated</code>",
        "order <code>701</code>",
        "product <code>77</code>",
        "status-unusable",
        "no enabled flow reads product from connection &quot;shop&quot;",
        "status-booked",
        "created as ",
        "status-unchanged",
        "unchanged: delivered before, nothing sent",
        &format!(r#"<a href="/records/{}?run={}""#, booked[0].id, booked[0].run),
        &format!(r#"<a href="/runs/{}">Run {}</a>"#, booked[0].run, booked[0].run),
    ] {
        assert!(
            deliveries.contains(expected),
            "deliveries page lacks {expected}: {deliveries}"
        );
    }
    let unusable = page(&world, "/deliveries?connection=shop&outcome=unusable", key).await;
    assert!(unusable.contains("product <code>77</code>"), "{unusable}");
    assert!(!unusable.contains("order <code>701</code>"), "{unusable}");
    assert!(unusable.contains(r#"<option value="unusable" selected>"#), "{unusable}");
    let answer = send(&world, Method::GET, "/deliveries?outcome=lost", Some(key), None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.body.contains("outcome &quot;lost&quot; is not one of"),
        "{}",
        answer.body
    );
    let answer = send(&world, Method::GET, "/deliveries", None, None).await;
    assert_eq!(answer.location.as_deref(), Some("/login"));
}

#[tokio::test]
async fn the_keys_page_makes_a_key_shown_once_revokes_one_and_is_for_admins_only() {
    let world = world().await;
    let listed = page(&world, "/keys", &world.admin).await;
    assert!(
        listed.contains("href=\"/keys\"") && listed.contains("(this session)") && listed.contains("Make key"),
        "{listed}"
    );
    assert!(
        !listed.contains("/keys/3/revoke"),
        "the session's own key has no Revoke button"
    );
    for key in [&world.read, &world.write] {
        let refused = send(&world, Method::GET, "/keys", Some(key), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let post_refused = post(
            &world,
            "/keys",
            key,
            &[("name", "x"), ("scope", "admin"), ("expires_days", "")],
        )
        .await;
        assert_eq!(post_refused.status, StatusCode::FORBIDDEN);
    }

    let made = post(
        &world,
        "/keys",
        &world.admin,
        &[("name", "till-2"), ("scope", "read"), ("expires_days", "30")],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let secret = made
        .body
        .split("id=\"new-key-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new key is on the page")
        .to_owned();
    assert!(secret.starts_with("tiltas_"), "{secret}");
    assert!(made.body.contains("shown only once"));
    // It signs in, and from then on the list shows it without the secret.
    assert!(page(&world, "/", &secret).await.contains("till-2"));
    let again = page(&world, "/keys", &world.admin).await;
    assert!(again.contains("till-2") && !again.contains(&secret), "{again}");

    let keys = world.state.store.api_keys().await.unwrap();
    let id = keys.iter().find(|key| key.name == "till-2").unwrap().id;
    assert!(keys.iter().find(|key| key.id == id).unwrap().expires_at.is_some());
    let revoked = post(&world, &format!("/keys/{id}/revoke"), &world.admin, &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let back = revoked.location.unwrap();
    assert!(back.starts_with("/keys?done=") && back.contains("revoked"), "{back}");
    let signed_out = send(&world, Method::GET, "/", Some(&secret), None).await;
    assert_eq!(
        signed_out.location.as_deref(),
        Some("/login"),
        "a revoked key signs in no more"
    );

    // A refused form goes back with the reason and makes nothing.
    let duplicate = post(
        &world,
        "/keys",
        &world.admin,
        &[("name", "a"), ("scope", "read"), ("expires_days", "")],
    )
    .await;
    let back = duplicate.location.unwrap();
    assert!(back.starts_with("/keys?problem=") && back.contains("taken"), "{back}");
    let bad_days = post(
        &world,
        "/keys",
        &world.admin,
        &[("name", "z"), ("scope", "read"), ("expires_days", "0")],
    )
    .await;
    assert!(bad_days.location.unwrap().contains("problem="));
    let audited = world
        .state
        .store
        .audit_entries(&tiltas_store::AuditFilter::default())
        .await
        .unwrap();
    let actions: Vec<&str> = audited.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(
        actions,
        [tiltas_store::actions::KEY_REVOKED, tiltas_store::actions::KEY_CREATED]
    );
}
