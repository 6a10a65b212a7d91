//! What a server keeps in the store: API keys, credentials obtained at run time, the webhook
//! inbox and what became of each delivery, and each record's outcome in a run.
use super::*;

/// API keys are found by hash until revoked; the list shows revoked ones too.
pub async fn api_keys_are_found_by_hash_until_revoked(store: Arc<dyn Store>) {
    let secret = unique("tiltas_key");
    let hash = hash_api_key(&secret);
    assert_ne!(hash, secret);
    let id = store
        .api_key_create(&NewApiKey {
            name: "dashboard".into(),
            scope: ApiScope::Admin,
            key_hash: hash.clone(),
            expires_at: None,
        })
        .await
        .unwrap();
    let key = store.api_key_by_hash(&hash).await.unwrap().unwrap();
    assert_eq!(
        (key.id, key.scope, key.name.as_str()),
        (id, ApiScope::Admin, "dashboard")
    );
    assert!(store.api_key_by_hash(&hash_api_key("wrong")).await.unwrap().is_none());
    assert!(store.api_key_revoke(id).await.unwrap());
    assert!(!store.api_key_revoke(id).await.unwrap());
    assert!(store.api_key_by_hash(&hash).await.unwrap().is_none());
    let listed = store.api_keys().await.unwrap();
    assert!(listed.iter().any(|key| key.id == id && key.revoked_at.is_some()));
    let ids: HashSet<i64> = listed.iter().map(|key| key.id).collect();
    assert_eq!(ids.len(), listed.len());
}

/// Credentials are kept per connection and name, replaced in place, and forgotten per connection.
pub async fn credentials_are_kept_per_connection_replaced_and_forgotten(store: Arc<dyn Store>) {
    let (books, shop) = (unique("books"), unique("shop"));
    assert_eq!(store.credential(&books, "refresh_token").await.unwrap(), None);
    store.credential_put(&books, "refresh_token", "sealed-1").await.unwrap();
    store.credential_put(&books, "refresh_token", "sealed-2").await.unwrap();
    store.credential_put(&books, "device", "sealed-d").await.unwrap();
    store.credential_put(&shop, "refresh_token", "sealed-s").await.unwrap();
    let kept = store.credential(&books, "refresh_token").await.unwrap();
    assert_eq!(kept.as_deref(), Some("sealed-2"));
    assert_eq!(store.credentials_forget(&books).await.unwrap(), 2);
    assert_eq!(store.credential(&books, "refresh_token").await.unwrap(), None);
    let other = store.credential(&shop, "refresh_token").await.unwrap();
    assert_eq!(other.as_deref(), Some("sealed-s"));
}

/// Webhook deliveries stay pending, in arrival order, until taken; failed attempts are counted.
pub async fn inbox_keeps_deliveries_until_they_are_taken(store: Arc<dyn Store>) {
    let connection = unique("shop");
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            store
                .inbox_add(&NewInboxEvent {
                    connection: connection.clone(),
                    topic: "order.created".into(),
                    body: format!("{{\"id\":{n},\"name\":\"Ona Onaitė\"}}"),
                })
                .await
                .unwrap(),
        );
    }
    let mine = |events: Vec<InboxEvent>| -> Vec<InboxEvent> {
        events
            .into_iter()
            .filter(|event| event.connection == connection)
            .collect()
    };
    let pending = mine(store.inbox_pending(100).await.unwrap());
    assert_eq!(
        pending.iter().map(|event| event.id).collect::<Vec<_>>(),
        ids,
        "arrival order"
    );
    assert_eq!(pending[1].body, "{\"id\":1,\"name\":\"Ona Onaitė\"}");
    assert!(store.inbox_backlog().await.unwrap() >= 5);

    store.inbox_attempt_failed(ids[0], "target down").await.unwrap();
    store.inbox_done(&ids[1..3], None).await.unwrap();
    store.inbox_done(&ids[3..4], Some("unknown topic")).await.unwrap();
    let pending = mine(store.inbox_pending(100).await.unwrap());
    assert_eq!(
        pending.iter().map(|event| event.id).collect::<Vec<_>>(),
        [ids[0], ids[4]]
    );
    assert_eq!(pending[0].attempts, 1);
}

/// A settled delivery keeps the record it carried and what each flow did with it; deliveries
/// are listed newest first, filtered by connection and outcome, and paged by id.
pub async fn deliveries_keep_what_became_of_them(store: Arc<dyn Store>) {
    let connection = unique("shop");
    let flow = unique("orders");
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            store
                .inbox_add(&NewInboxEvent {
                    connection: connection.clone(),
                    topic: "order.created".into(),
                    body: format!("{{\"id\":{n}}}"),
                })
                .await
                .unwrap(),
        );
    }
    let run = store.run_start(&flow, RunMode::Webhook).await.unwrap();
    let booked = DeliveryFlow {
        flow: flow.clone(),
        run: Some(run),
        outcome: DeliveryOutcome::Booked,
        activity: Some(17),
        target_id: Some("INV-1".into()),
        detail: None,
    };
    let skipped = DeliveryFlow {
        outcome: DeliveryOutcome::Skipped,
        activity: Some(18),
        target_id: None,
        detail: Some("status cancelled is not one of processing, completed".into()),
        ..booked.clone()
    };
    store.inbox_attempt_failed(ids[0], "target down").await.unwrap();
    store
        .inbox_settle(&[
            InboxSettlement {
                id: ids[1],
                note: Some("carries no record".into()),
                ..InboxSettlement::default()
            },
            InboxSettlement {
                id: ids[2],
                note: Some("no enabled flow reads product".into()),
                entity: Some(EntityKind::Product),
                record_key: Some("P-2".into()),
                flows: Vec::new(),
            },
            InboxSettlement {
                id: ids[3],
                entity: Some(EntityKind::Order),
                record_key: Some("3".into()),
                flows: vec![booked.clone()],
                ..InboxSettlement::default()
            },
            InboxSettlement {
                id: ids[4],
                entity: Some(EntityKind::Order),
                record_key: Some("4".into()),
                flows: vec![skipped.clone()],
                ..InboxSettlement::default()
            },
        ])
        .await
        .unwrap();
    let mine = DeliveryFilter {
        connection: Some(connection.clone()),
        ..DeliveryFilter::default()
    };
    let all = store.inbox_deliveries(&mine).await.unwrap();
    assert_eq!(
        all.iter().map(|delivery| delivery.id).collect::<Vec<_>>(),
        ids.iter().rev().copied().collect::<Vec<_>>(),
        "newest first"
    );
    let by_id = |id: i64| all.iter().find(|delivery| delivery.id == id).unwrap().clone();
    let pending = by_id(ids[0]);
    assert_eq!(
        (pending.done_at, pending.attempts, pending.error.as_deref()),
        (None, 1, Some("target down"))
    );
    assert_eq!(pending.settled_outcome(), Some(DeliveryOutcome::Pending));
    let no_record = by_id(ids[1]);
    assert!(no_record.done_at.is_some());
    assert_eq!(no_record.settled_outcome(), Some(DeliveryOutcome::Unusable));
    assert_eq!((no_record.record_key, no_record.entity), (None, None));
    let no_flow = by_id(ids[2]);
    assert_eq!(
        (no_flow.entity, no_flow.record_key.as_deref(), no_flow.error.as_deref()),
        (
            Some(EntityKind::Product),
            Some("P-2"),
            Some("no enabled flow reads product")
        )
    );
    let delivered = by_id(ids[3]);
    assert_eq!(delivered.settled_outcome(), None, "it went through its flows");
    assert_eq!(delivered.topic, "order.created");
    assert_eq!(delivered.record_key.as_deref(), Some("3"));
    assert_eq!(delivered.flows, vec![booked]);
    assert_eq!(by_id(ids[4]).flows, vec![skipped]);

    let only = |outcome| DeliveryFilter {
        outcome: Some(outcome),
        ..mine.clone()
    };
    let listed = |deliveries: Vec<Delivery>| deliveries.iter().map(|delivery| delivery.id).collect::<Vec<_>>();
    assert_eq!(
        listed(store.inbox_deliveries(&only(DeliveryOutcome::Pending)).await.unwrap()),
        [ids[0]]
    );
    assert_eq!(
        listed(store.inbox_deliveries(&only(DeliveryOutcome::Unusable)).await.unwrap()),
        [ids[2], ids[1]]
    );
    assert_eq!(
        listed(store.inbox_deliveries(&only(DeliveryOutcome::Booked)).await.unwrap()),
        [ids[3]]
    );
    assert_eq!(
        listed(store.inbox_deliveries(&only(DeliveryOutcome::Skipped)).await.unwrap()),
        [ids[4]]
    );
    assert!(store
        .inbox_deliveries(&only(DeliveryOutcome::DeadLettered))
        .await
        .unwrap()
        .is_empty());

    let first_page = store
        .inbox_deliveries(&DeliveryFilter {
            limit: 2,
            ..mine.clone()
        })
        .await
        .unwrap();
    assert_eq!(listed(first_page), [ids[4], ids[3]]);
    let second_page = store
        .inbox_deliveries(&DeliveryFilter {
            limit: 2,
            before: Some(ids[3]),
            ..mine.clone()
        })
        .await
        .unwrap();
    assert_eq!(listed(second_page), [ids[2], ids[1]]);
    let other = store
        .inbox_deliveries(&DeliveryFilter {
            connection: Some(unique("shop")),
            ..DeliveryFilter::default()
        })
        .await
        .unwrap();
    assert!(other.is_empty());
    let pending_left: Vec<i64> = store
        .inbox_pending(1000)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.connection == connection)
        .map(|event| event.id)
        .collect();
    assert_eq!(pending_left, [ids[0]], "settled deliveries leave the pending list");
}

/// A record's activity in one run is found by key with what the target answered; keys with no
/// activity (unchanged) are absent.
pub async fn activity_outcomes_name_each_record_of_a_run(store: Arc<dyn Store>) {
    let flow = unique("orders");
    let run = store.run_start(&flow, RunMode::Webhook).await.unwrap();
    let other_run = store.run_start(&flow, RunMode::Webhook).await.unwrap();
    let skipped = NewActivity {
        outcome: ActivityOutcome::Skipped,
        sent_payload: None,
        response: Some(json!({"reason": "status cancelled"})),
        ..activity(run, &flow, "B")
    };
    store
        .activity_add(&[activity(run, &flow, "A"), skipped, activity(other_run, &flow, "C")])
        .await
        .unwrap();
    let keys: Vec<String> = ["A", "B", "C", "D"].map(str::to_owned).to_vec();
    let outcomes = store.activity_outcomes(run, &flow, &keys).await.unwrap();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert_eq!(outcomes["A"].outcome, ActivityOutcome::Created);
    assert_eq!(outcomes["A"].response, Some(json!({"target_id": "T-A"})));
    assert_eq!(outcomes["B"].outcome, ActivityOutcome::Skipped);
    assert_eq!(outcomes["B"].response, Some(json!({"reason": "status cancelled"})));
    let entries = store
        .activity(&ActivityFilter {
            run: Some(run),
            source_key: Some("A".into()),
            ..ActivityFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(outcomes["A"].activity, entries[0].id);
    assert!(store
        .activity_outcomes(run, &unique("other"), &keys)
        .await
        .unwrap()
        .is_empty());
}
