//! Idempotency keys: a request sent again under the same key gets the first answer, a key in
//! progress is refused to other workers, and the same key with another body is told apart.
use super::*;

fn taken(claim: IdempotencyClaim) -> IdempotencyRecord {
    match claim {
        IdempotencyClaim::Taken(record) => record,
        IdempotencyClaim::Claimed => panic!("expected the key to be taken, it was claimed"),
    }
}

/// A key is claimed once, refused to others while held, completed with its answer (kept for
/// every repeat), released for a retry, and taken over when its claim lapsed.
pub async fn idempotency_keys_are_claimed_once_and_keep_their_answer(store: Arc<dyn Store>) {
    let scope = "supplier-order";
    let key = unique("WO-77");
    let minute = Duration::from_secs(60);
    let claim = store
        .idempotency_claim(scope, &key, "h1", "worker-1", minute)
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed);
    let held = taken(
        store
            .idempotency_claim(scope, &key, "h1", "worker-2", minute)
            .await
            .unwrap(),
    );
    assert_eq!(
        (
            held.holder.as_deref(),
            held.response.as_ref(),
            held.request_hash.as_str()
        ),
        (Some("worker-1"), None, "h1")
    );
    assert!(held.expires_at > Utc::now());
    let other_body = taken(
        store
            .idempotency_claim(scope, &key, "h2", "worker-2", minute)
            .await
            .unwrap(),
    );
    assert_eq!(other_body.request_hash, "h1", "the stored body's hash, to compare with");
    assert_eq!(
        store
            .idempotency_claim("other-scope", &key, "h2", "worker-2", minute)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed,
        "scopes never meet"
    );

    let answer = json!({"status": "placed", "order_id": "R40000001"});
    assert!(!store
        .idempotency_complete(scope, &key, "worker-2", &answer)
        .await
        .unwrap());
    assert!(store
        .idempotency_complete(scope, &key, "worker-1", &answer)
        .await
        .unwrap());
    assert!(
        !store
            .idempotency_complete(scope, &key, "worker-1", &json!({}))
            .await
            .unwrap(),
        "done once"
    );
    let done = taken(
        store
            .idempotency_claim(scope, &key, "h1", "worker-1", minute)
            .await
            .unwrap(),
    );
    assert_eq!((done.holder, done.response), (None, Some(answer.clone())));
    store.idempotency_release(scope, &key, "worker-1").await.unwrap();
    let kept = taken(
        store
            .idempotency_claim(scope, &key, "h1", "worker-3", minute)
            .await
            .unwrap(),
    );
    assert_eq!(kept.response, Some(answer), "a done key is never released");

    // Released without an answer: the next request with the key runs.
    let retried = unique("WO-78");
    store
        .idempotency_claim(scope, &retried, "h1", "worker-1", minute)
        .await
        .unwrap();
    store.idempotency_release(scope, &retried, "worker-2").await.unwrap();
    assert!(
        matches!(
            store
                .idempotency_claim(scope, &retried, "h1", "worker-2", minute)
                .await
                .unwrap(),
            IdempotencyClaim::Taken(_)
        ),
        "only the holder releases"
    );
    store.idempotency_release(scope, &retried, "worker-1").await.unwrap();
    assert_eq!(
        store
            .idempotency_claim(scope, &retried, "h1", "worker-2", minute)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );

    // A lapsed claim (its worker crashed) is taken over by the same request only.
    let lapsed = unique("WO-79");
    store
        .idempotency_claim(scope, &lapsed, "h1", "worker-1", Duration::ZERO)
        .await
        .unwrap();
    assert!(matches!(
        store
            .idempotency_claim(scope, &lapsed, "h2", "worker-2", minute)
            .await
            .unwrap(),
        IdempotencyClaim::Taken(_)
    ));
    assert_eq!(
        store
            .idempotency_claim(scope, &lapsed, "h1", "worker-2", minute)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert!(!store
        .idempotency_complete(scope, &lapsed, "worker-1", &json!({}))
        .await
        .unwrap());
}

/// Of sixteen simultaneous requests with one key exactly one runs.
pub async fn exactly_one_of_sixteen_racing_requests_claims_an_idempotency_key(store: Arc<dyn Store>) {
    let key = unique("WO-race");
    let claims: Vec<_> = (0..16)
        .map(|n| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                store
                    .idempotency_claim(
                        "supplier-order",
                        &key,
                        "h",
                        &format!("worker-{n}"),
                        Duration::from_secs(60),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = 0;
    for claim in claims {
        claimed += usize::from(claim.await.unwrap() == IdempotencyClaim::Claimed);
    }
    assert_eq!(claimed, 1);
}
