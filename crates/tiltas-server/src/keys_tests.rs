//! `/api/v1/keys`: a key made over the API is shown once and works, a revoked one stops at
//! once, the list shows expiry and last use and never a secret, bad requests are 400/409 naming
//! the field, only admin keys may manage keys, and each key made or revoked is audited with the
//! calling key's name and the client address.
use crate::tests::{world, World};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tiltas_store::{actions, hash_api_key, ApiScope, AuditFilter, NewApiKey};

const CLIENT: [u8; 4] = [10, 9, 8, 7];

/// Sends a request from `CLIENT` with `key`; the status and the body (JSON, else text).
async fn send(
    world: &World,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let answer = crate::audit_tests::send(world, method, path, key, body, CLIENT).await;
    (answer.status, answer.body)
}

async fn audit(world: &World, action: &str) -> Vec<tiltas_store::AuditEntry> {
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    world.state.store.audit_entries(&filter).await.unwrap()
}

/// A key put straight into the store (as `tiltas keys create` would): its id.
async fn stored_key(world: &World, name: &str, secret: &str, expires_at: Option<chrono::DateTime<chrono::Utc>>) -> i64 {
    world
        .state
        .store
        .api_key_create(&NewApiKey {
            name: name.into(),
            scope: ApiScope::Read,
            key_hash: hash_api_key(secret),
            expires_at,
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_key_made_over_the_api_is_shown_once_works_and_is_audited_with_the_caller_and_address() {
    let world = world().await;
    let request = json!({ "name": "shop-sync", "scope": "write", "expires_at": "2099-01-01T00:00:00Z" });
    let (status, made) = send(&world, Method::POST, "/api/v1/keys", Some(&world.admin), Some(request)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let secret = made["key"].as_str().expect("the answer carries the secret").to_owned();
    assert!(secret.starts_with("tiltas_") && secret.len() == 47, "{secret}");
    assert_eq!(
        (&made["name"], &made["scope"], &made["state"]),
        (&json!("shop-sync"), &json!("write"), &json!("active"))
    );
    assert!(made["expires_at"].as_str().unwrap().starts_with("2099-01-01T00:00:00"));
    let id = made["id"].as_i64().unwrap();

    // The new key signs requests with its scope: it runs a flow (write) but cannot list keys.
    let (status, _) = send(
        &world,
        Method::POST,
        "/api/v1/flows/products/run",
        Some(&secret),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&world, Method::GET, "/api/v1/keys", Some(&secret), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Listed from now on without the secret or its hash.
    let (status, listed) = send(&world, Method::GET, "/api/v1/keys", Some(&world.admin), None).await;
    assert_eq!(status, StatusCode::OK);
    let text = listed.to_string();
    assert!(
        !text.contains(&secret) && !text.contains(&hash_api_key(&secret)),
        "{text}"
    );
    assert_eq!(listed[0]["id"], id, "newest first: {listed}");
    assert!(listed[0].get("key").is_none(), "{listed}");

    let entries = audit(&world, actions::KEY_CREATED).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(
        (entry.actor.as_str(), entry.origin.as_str(), entry.target.clone()),
        ("a", "10.9.8.7", id.to_string())
    );
    assert_eq!(
        (&entry.detail["name"], &entry.detail["scope"]),
        (&json!("shop-sync"), &json!("write"))
    );
    assert!(!entry.detail.to_string().contains(&secret));
}

#[tokio::test]
async fn a_revoked_key_stops_at_once_is_audited_and_unknown_or_own_keys_are_refused() {
    let world = world().await;
    let id = stored_key(&world, "old-shop", "tiltas_old_shop", None).await;
    let (status, _) = send(&world, Method::GET, "/api/v1/flows", Some("tiltas_old_shop"), None).await;
    assert_eq!(status, StatusCode::OK);

    let path = format!("/api/v1/keys/{id}");
    let (status, body) = send(&world, Method::DELETE, &path, Some(&world.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = send(&world, Method::GET, "/api/v1/flows", Some("tiltas_old_shop"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let entries = audit(&world, actions::KEY_REVOKED).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (
            entries[0].actor.as_str(),
            entries[0].origin.as_str(),
            entries[0].target.clone()
        ),
        ("a", "10.9.8.7", id.to_string())
    );
    assert_eq!(entries[0].detail["name"], "old-shop");

    // Revoked already, or never made: 404 naming the id and where the ids are.
    for missing in [id, 9_999] {
        let (status, body) = send(
            &world,
            Method::DELETE,
            &format!("/api/v1/keys/{missing}"),
            Some(&world.admin),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("no API key {missing}")) && message.contains("GET /api/v1/keys"),
            "{message}"
        );
    }
    // The request's own key cannot revoke itself.
    let (_, listed) = send(&world, Method::GET, "/api/v1/keys", Some(&world.admin), None).await;
    let own = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == "a")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = send(
        &world,
        Method::DELETE,
        &format!("/api/v1/keys/{own}"),
        Some(&world.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("cannot revoke itself"),
        "{body}"
    );
    let (status, _) = send(&world, Method::GET, "/api/v1/keys", Some(&world.admin), None).await;
    assert_eq!(status, StatusCode::OK, "the admin key still works");
    assert_eq!(
        audit(&world, actions::KEY_REVOKED).await.len(),
        1,
        "refusals are not audited"
    );
}

#[tokio::test]
async fn the_list_shows_each_keys_expiry_last_use_and_state() {
    let world = world().await;
    let expires_at = chrono::Utc::now() + chrono::Duration::days(30);
    let live = stored_key(&world, "live", "tiltas_live", Some(expires_at)).await;
    let expired = stored_key(
        &world,
        "gone",
        "tiltas_gone",
        Some(chrono::Utc::now() - chrono::Duration::hours(1)),
    )
    .await;
    let revoked = stored_key(&world, "ended", "tiltas_ended", None).await;
    assert!(world.state.store.api_key_revoke(revoked).await.unwrap());

    let (status, _) = send(&world, Method::GET, "/api/v1/flows", Some("tiltas_live"), None).await;
    assert_eq!(status, StatusCode::OK);
    // The last use is written off the request's path: wait for it, up to 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let listed = loop {
        let (status, listed) = send(&world, Method::GET, "/api/v1/keys", Some(&world.admin), None).await;
        assert_eq!(status, StatusCode::OK);
        let shown = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["id"] == live)
            .cloned()
            .unwrap();
        if shown["last_used_at"].is_string() || std::time::Instant::now() > deadline {
            break listed;
        }
        tokio::task::yield_now().await;
    };
    let by_id = |id: i64| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["id"] == id)
            .cloned()
            .unwrap()
    };
    let shown = by_id(live);
    let used = chrono::DateTime::parse_from_rfc3339(shown["last_used_at"].as_str().expect("last use noted")).unwrap();
    assert!(
        (chrono::Utc::now() - used.with_timezone(&chrono::Utc)).num_seconds() < 60,
        "{shown}"
    );
    let shown_expiry = chrono::DateTime::parse_from_rfc3339(shown["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(shown_expiry.timestamp(), expires_at.timestamp(), "{shown}");
    assert_eq!((&shown["state"], &shown["scope"]), (&json!("active"), &json!("read")));
    assert_eq!(by_id(expired)["state"], "expired");
    assert!(by_id(expired)["last_used_at"].is_null());
    let ended = by_id(revoked);
    assert_eq!(ended["state"], "revoked");
    assert!(ended["revoked_at"].is_string(), "{ended}");
}

#[tokio::test]
async fn bad_key_requests_are_400_or_409_naming_the_field_and_the_fix_and_change_nothing() {
    let world = world().await;
    let taken = stored_key(&world, "taken", "tiltas_taken", None).await;
    let in_the_past = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let cases = [
        (
            json!({ "name": "x", "scope": "owner" }),
            StatusCode::BAD_REQUEST,
            "scope \"owner\" is not a key scope",
        ),
        (json!({ "name": "x" }), StatusCode::BAD_REQUEST, "missing field `scope`"),
        (
            json!({ "name": "x", "scope": "read", "expires_at": in_the_past }),
            StatusCode::CONFLICT,
            "is not in the future",
        ),
        (
            json!({ "name": "x", "scope": "read", "expires_at": "soon" }),
            StatusCode::BAD_REQUEST,
            "expires_at \"soon\" is not an RFC 3339 time",
        ),
        (
            json!({ "name": "", "scope": "read" }),
            StatusCode::BAD_REQUEST,
            "name \"\" is empty",
        ),
        (
            json!({ "name": " x", "scope": "read" }),
            StatusCode::BAD_REQUEST,
            "starts with a space",
        ),
        (
            json!({ "name": "a\nb", "scope": "read" }),
            StatusCode::BAD_REQUEST,
            "holds a control character",
        ),
        (
            json!({ "name": "x".repeat(101), "scope": "read" }),
            StatusCode::BAD_REQUEST,
            "longer than 100",
        ),
        (
            json!({ "name": "x", "scope": "read", "owner": 1 }),
            StatusCode::BAD_REQUEST,
            "unknown field `owner`",
        ),
        (
            json!({ "name": "taken", "scope": "read" }),
            StatusCode::CONFLICT,
            "is taken by live key",
        ),
    ];
    for (body, expected, says) in cases {
        let (status, answer) = send(
            &world,
            Method::POST,
            "/api/v1/keys",
            Some(&world.admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, expected, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(says) && answer["code"].is_string(), "{body}: {answer}");
    }
    let (_, conflict) = send(
        &world,
        Method::POST,
        "/api/v1/keys",
        Some(&world.admin),
        Some(json!({ "name": "taken", "scope": "read" })),
    )
    .await;
    assert!(
        conflict["message"]
            .as_str()
            .unwrap()
            .contains(&format!("DELETE /api/v1/keys/{taken}")),
        "{conflict}"
    );

    // A revoked key's name is free again.
    assert!(world.state.store.api_key_revoke(taken).await.unwrap());
    let (status, body) = send(
        &world,
        Method::POST,
        "/api/v1/keys",
        Some(&world.admin),
        Some(json!({ "name": "taken", "scope": "read", "expires_at": null })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["expires_at"].is_null(), "{body}");
    assert_eq!(
        audit(&world, actions::KEY_CREATED).await.len(),
        1,
        "only the one made is audited"
    );
}

#[tokio::test]
async fn only_admin_keys_manage_keys() {
    let world = world().await;
    let id = stored_key(&world, "target", "tiltas_target", None).await;
    let delete = format!("/api/v1/keys/{id}");
    let calls = [
        (Method::GET, "/api/v1/keys", None),
        (
            Method::POST,
            "/api/v1/keys",
            Some(json!({ "name": "sneaky", "scope": "admin" })),
        ),
        (Method::DELETE, delete.as_str(), None),
    ];
    for (method, path, body) in calls {
        for key in [&world.read, &world.write] {
            let (status, answer) = send(&world, method.clone(), path, Some(key), body.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
            assert!(
                answer["message"].as_str().unwrap().contains("this needs admin"),
                "{answer}"
            );
        }
        let (status, _) = send(&world, method.clone(), path, None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let keys = world.state.store.api_keys().await.unwrap();
    assert!(
        keys.iter().all(|key| key.name != "sneaky" && key.revoked_at.is_none()),
        "{keys:?}"
    );
    assert!(world
        .state
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_openapi_document_describes_the_key_routes_and_their_error_answers() {
    let world = world().await;
    let (status, document) = send(&world, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let answers = |path: &str, method: &str| -> Vec<String> {
        let responses = document["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is not documented"));
        responses.keys().cloned().collect()
    };
    assert_eq!(answers("/api/v1/keys", "get"), ["200", "401", "403"]);
    assert_eq!(answers("/api/v1/keys", "post"), ["201", "400", "401", "403", "409"]);
    assert_eq!(
        answers("/api/v1/keys/{id}", "delete"),
        ["204", "400", "401", "403", "404", "409"]
    );
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["KeyScope"]["enum"],
        json!(["read", "write", "admin"]),
        "{}",
        schemas["KeyScope"]
    );
    let request = &schemas["KeyRequest"];
    assert_eq!(request["required"], json!(["name", "scope"]), "{request}");
    assert_eq!(request["properties"]["name"]["maxLength"], 100, "{request}");
    let listed = schemas["KeyView"]["properties"].as_object().unwrap();
    assert!(
        listed.contains_key("last_used_at") && listed.contains_key("expires_at") && !listed.contains_key("key"),
        "{listed:?}"
    );
}

#[tokio::test]
async fn two_requests_for_one_name_at_once_make_one_key() {
    let world = world().await;
    let body = || Some(json!({ "name": "twin", "scope": "read" }));
    let (first, second) = tokio::join!(
        send(&world, Method::POST, "/api/v1/keys", Some(&world.admin), body()),
        send(&world, Method::POST, "/api/v1/keys", Some(&world.admin), body()),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{} / {}",
        first.1,
        second.1
    );
    let keys = world.state.store.api_keys().await.unwrap();
    assert_eq!(keys.iter().filter(|key| key.name == "twin").count(), 1, "{keys:?}");
}
