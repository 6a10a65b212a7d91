//! The store contract: every behaviour the engine relies on, as one async function each, run
//! against every store implementation by [`store_contract_tests!`](crate::store_contract_tests).
//!
//! Each behaviour names its flows, connections and keys with a fresh suffix, so the
//! behaviours may share one database.
use chrono::{Duration as ChronoDuration, Utc};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tiltas_model::EntityKind;
use tiltas_store::*;

mod idempotency;
mod identity;
mod serving;
mod upkeep;
pub use idempotency::*;
pub use identity::*;
pub use serving::*;
pub use upkeep::*;

/// A name unique to one behaviour run.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn link(hub: HubId, connection: &str, external_id: &str, hash: Option<&str>) -> XrefLink {
    XrefLink {
        hub_id: hub,
        entity: EntityKind::Product,
        connection: connection.to_owned(),
        external_id: external_id.to_owned(),
        last_hash: hash.map(str::to_owned),
    }
}

fn dead_letter(flow: &str, key: &str, message: &str) -> NewDeadLetter {
    NewDeadLetter {
        flow: flow.to_owned(),
        run: None,
        source_key: key.to_owned(),
        class: FailureClass::Invalid,
        message: message.to_owned(),
        location: None,
        field: None,
        fix: None,
        payload: json!({"sku": key, "price_net": "12,5a"}),
    }
}

fn activity(run: RunId, flow: &str, key: &str) -> NewActivity {
    NewActivity {
        run,
        flow: flow.to_owned(),
        source_key: key.to_owned(),
        outcome: ActivityOutcome::Created,
        source_payload: Some(json!({"sku": key, "raw": {"Kodas": key}})),
        sent_payload: Some(json!({"sku": key})),
        response: Some(json!({"target_id": format!("T-{key}")})),
    }
}

/// The schema is migrated on open.
pub async fn schema_is_migrated_on_open(store: Arc<dyn Store>) {
    assert!(store.schema_version().await.unwrap() >= 1);
}

/// Intents come back in order until settled.
pub async fn outbox_intents_stay_unsettled_until_settled(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let run = store.run_start(&flow, RunMode::Incremental).await.unwrap();
    let intents: Vec<NewIntent> = ["A", "B", "C"]
        .iter()
        .map(|key| NewIntent {
            flow: flow.clone(),
            run,
            source_key: (*key).to_owned(),
            connection: "shop".into(),
            operation: WriteOperation::Create,
            payload_hash: format!("h-{key}"),
            match_key: Some(format!("SKU-{key}")),
        })
        .collect();
    let ids = store.outbox_add(&intents).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "ids in input order: {ids:?}"
    );

    let unsettled = store.outbox_unsettled(&flow).await.unwrap();
    assert_eq!(unsettled.iter().map(|intent| intent.id).collect::<Vec<_>>(), ids);
    assert_eq!(unsettled[1].intent, intents[1]);
    assert_eq!(
        unsettled[1].legacy_payload, None,
        "new intents keep only their match key"
    );

    store
        .outbox_settle(&[IntentSettlement {
            id: ids[0],
            outcome: IntentOutcome::Delivered,
            external_id: Some("9".into()),
        }])
        .await
        .unwrap();
    let left: Vec<String> = store
        .outbox_unsettled(&flow)
        .await
        .unwrap()
        .into_iter()
        .map(|intent| intent.intent.source_key)
        .collect();
    assert_eq!(left, ["B", "C"]);
}

/// Cursors are saved, replaced and cleared.
pub async fn cursors_are_saved_replaced_and_cleared(store: Arc<dyn Store>) {
    let flow = unique("flow");
    assert_eq!(store.cursor(&flow).await.unwrap(), None);
    store.set_cursor(&flow, Some("2026-11-23T08:00:00Z|A-1")).await.unwrap();
    store.set_cursor(&flow, Some("2026-11-23T09:00:00Z|B-2")).await.unwrap();
    assert_eq!(
        store.cursor(&flow).await.unwrap().as_deref(),
        Some("2026-11-23T09:00:00Z|B-2")
    );
    store.set_cursor(&flow, None).await.unwrap();
    assert_eq!(store.cursor(&flow).await.unwrap(), None);
}

/// A settled page lands whole: hashes, links, intents, dead letters, activity, counters, cursor.
pub async fn a_settled_page_lands_everything_it_carries(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let run = store.run_start(&flow, RunMode::Incremental).await.unwrap();
    let intent = NewIntent {
        flow: flow.clone(),
        run,
        source_key: "A".into(),
        connection: "shop".into(),
        operation: WriteOperation::Create,
        payload_hash: "hA".into(),
        match_key: Some("A".into()),
    };
    let ids = store.outbox_add(&[intent]).await.unwrap();
    store
        .dead_letters_add(&[dead_letter(&flow, "A", "failed before")])
        .await
        .unwrap();
    let hub = uuid::Uuid::new_v4();
    let connection = unique("shop");
    let page = PageSettlement {
        flow: flow.clone(),
        run: Some(run),
        delivered: vec![DeliveredHash {
            source_key: "A".into(),
            hash: "hA".into(),
            source_hash: Some("sA".into()),
        }],
        xrefs: vec![link(hub, &connection, "101", Some("hA"))],
        intents: vec![IntentSettlement {
            id: ids[0],
            outcome: IntentOutcome::Delivered,
            external_id: Some("101".into()),
        }],
        dead_letters: vec![dead_letter(&flow, "B", "price_net is not a number")],
        resolved_keys: vec!["A".into()],
        activity: vec![activity(run, &flow, "A")],
        counters: RunCounters {
            read: 2,
            created: 1,
            failed: 1,
            api_calls: 3,
            ..RunCounters::default()
        },
        cursor: Some("2026-11-23T08:00:00Z".into()),
    };
    store.settle_page(&page).await.unwrap();

    let delivered = &store.delivered_hashes(&flow, &["A".into()]).await.unwrap()["A"];
    assert_eq!(
        (delivered.hash.as_str(), delivered.source_hash.as_deref()),
        ("hA", Some("sA"))
    );
    assert_eq!(
        store
            .xref_find_by_external(EntityKind::Product, &connection, &["101".into()])
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.outbox_unsettled(&flow).await.unwrap().is_empty());
    let open = store
        .dead_letters(&DeadLetterFilter {
            flow: Some(flow.clone()),
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await
        .unwrap();
    assert_eq!(
        open.iter().map(|letter| letter.source_key.as_str()).collect::<Vec<_>>(),
        ["B"]
    );
    let run_record = store.run(run).await.unwrap().unwrap();
    assert_eq!(run_record.counters.read, 2);
    assert_eq!(run_record.counters.api_calls, 3);
    assert_eq!(
        store.cursor(&flow).await.unwrap().as_deref(),
        Some("2026-11-23T08:00:00Z")
    );
    assert_eq!(
        store
            .activity(&ActivityFilter {
                run: Some(run),
                ..ActivityFilter::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A page whose last step fails leaves nothing behind: every earlier write is rolled back.
pub async fn a_settle_page_that_fails_midway_leaves_nothing_behind(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let run = store.run_start(&flow, RunMode::Incremental).await.unwrap();
    let ids = store
        .outbox_add(&[NewIntent {
            flow: flow.clone(),
            run,
            source_key: "A".into(),
            connection: "shop".into(),
            operation: WriteOperation::Create,
            payload_hash: "hA".into(),
            match_key: Some("A".into()),
        }])
        .await
        .unwrap();
    store
        .dead_letters_add(&[dead_letter(&flow, "A", "failed before")])
        .await
        .unwrap();
    store.set_cursor(&flow, Some("before")).await.unwrap();
    let connection = unique("shop");
    // Counters go to a run that does not exist: the store refuses them after everything else
    // of the page was written in the transaction.
    let missing_run = i64::MAX - 7;
    let page = PageSettlement {
        flow: flow.clone(),
        run: Some(missing_run),
        delivered: vec![DeliveredHash {
            source_key: "A".into(),
            hash: "hA".into(),
            source_hash: Some("sA".into()),
        }],
        xrefs: vec![link(uuid::Uuid::new_v4(), &connection, "101", Some("hA"))],
        intents: vec![IntentSettlement {
            id: ids[0],
            outcome: IntentOutcome::Delivered,
            external_id: Some("101".into()),
        }],
        dead_letters: vec![dead_letter(&flow, "B", "price_net is not a number")],
        resolved_keys: vec!["A".into()],
        activity: vec![activity(run, &flow, "A")],
        counters: RunCounters {
            read: 1,
            ..RunCounters::default()
        },
        cursor: Some("after".into()),
    };
    let error = store.settle_page(&page).await.unwrap_err().to_string();
    assert!(error.contains(&missing_run.to_string()), "{error}");

    assert!(store.delivered_hashes(&flow, &["A".into()]).await.unwrap().is_empty());
    assert!(store
        .xref_find_by_external(EntityKind::Product, &connection, &["101".into()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.outbox_unsettled(&flow).await.unwrap().len(), 1);
    let letters = store
        .dead_letters(&DeadLetterFilter {
            flow: Some(flow.clone()),
            ..DeadLetterFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        letters
            .iter()
            .map(|letter| (letter.source_key.as_str(), letter.status))
            .collect::<Vec<_>>(),
        [("A", DeadLetterStatus::Open)]
    );
    let activity_of_flow = ActivityFilter {
        flow: Some(flow.clone()),
        ..ActivityFilter::default()
    };
    assert!(store.activity(&activity_of_flow).await.unwrap().is_empty());
    assert_eq!(store.cursor(&flow).await.unwrap().as_deref(), Some("before"));
}

/// A page is never seen in parts: a reader running beside `settle_page` sees all of it or none.
pub async fn a_settled_page_is_never_seen_in_parts(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let run = store.run_start(&flow, RunMode::Incremental).await.unwrap();
    let page = PageSettlement {
        flow: flow.clone(),
        run: Some(run),
        delivered: (0..200)
            .map(|n| DeliveredHash {
                source_key: format!("K{n}"),
                hash: "h".into(),
                source_hash: None,
            })
            .collect(),
        activity: (0..200).map(|n| activity(run, &flow, &format!("K{n}"))).collect(),
        counters: RunCounters {
            read: 200,
            created: 200,
            ..RunCounters::default()
        },
        ..PageSettlement::default()
    };
    let keys: Vec<String> = (0..200).map(|n| format!("K{n}")).collect();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { store.settle_page(&page).await })
    };
    // Every observation is all-or-nothing.
    loop {
        let seen = store.delivered_hashes(&flow, &keys).await.unwrap().len();
        assert!(
            seen == 0 || seen == 200,
            "saw {seen} of 200 hashes: a page landed in parts"
        );
        if writer.is_finished() {
            break;
        }
        tokio::task::yield_now().await;
    }
    writer.await.unwrap().unwrap();
    assert_eq!(store.delivered_hashes(&flow, &keys).await.unwrap().len(), 200);
    assert_eq!(store.run(run).await.unwrap().unwrap().counters.created, 200);
}

/// Runs are listed newest first, by flow, limited, with their counters and end.
pub async fn runs_are_listed_newest_first_with_counters(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let other = unique("flow");
    let first = store.run_start(&flow, RunMode::Full).await.unwrap();
    store
        .run_add_counters(
            first,
            &RunCounters {
                read: 5,
                created: 5,
                ..RunCounters::default()
            },
        )
        .await
        .unwrap();
    store
        .run_add_counters(
            first,
            &RunCounters {
                read: 1,
                failed: 1,
                ..RunCounters::default()
            },
        )
        .await
        .unwrap();
    store.run_finish(first, RunStatus::Succeeded, None).await.unwrap();
    let second = store.run_start(&flow, RunMode::Incremental).await.unwrap();
    store
        .run_finish(second, RunStatus::Failed, Some("connection refused"))
        .await
        .unwrap();
    store.run_start(&other, RunMode::Incremental).await.unwrap();

    let runs = store.runs(Some(&flow), 10).await.unwrap();
    assert_eq!(runs.iter().map(|run| run.id).collect::<Vec<_>>(), [second, first]);
    assert_eq!(
        runs[1].counters,
        RunCounters {
            read: 6,
            created: 5,
            failed: 1,
            ..RunCounters::default()
        }
    );
    assert_eq!(runs[1].mode, RunMode::Full);
    assert_eq!(runs[1].status, RunStatus::Succeeded);
    assert!(runs[1].finished_at.is_some());
    assert_eq!(runs[0].error.as_deref(), Some("connection refused"));
    assert_eq!(store.runs(Some(&flow), 1).await.unwrap().len(), 1);
    assert_eq!(store.runs(Some(&flow), 0).await.unwrap().len(), 2, "0 means no limit");
    assert!(
        store.run_add_counters(i64::MAX, &RunCounters::default()).await.is_err(),
        "counters of an unknown run are refused"
    );
    assert!(store.run_finish(i64::MAX, RunStatus::Succeeded, None).await.is_err());
    assert_eq!(store.run(first).await.unwrap().unwrap().flow, flow);
    assert!(store.run(i64::MAX).await.unwrap().is_none());
    assert!(store.runs(None, 3).await.unwrap().len() <= 3);
}

/// A letter keeps where, which field and the fix in their own columns; failing again replaces
/// them with the new failure's (absent parts included), as it replaces the message.
pub async fn dead_letters_keep_location_field_and_fix_apart_from_the_message(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let mut letter = dead_letter(&flow, "A", "product X not in ERP");
    letter.location = Some("orders.csv:7".to_owned());
    letter.field = Some("lines[0].sku".to_owned());
    letter.fix = Some("create the product in the ERP, then retry".to_owned());
    let mut plain = dead_letter(&flow, "B", "the ERP is down");
    plain.class = FailureClass::Transient;
    store.dead_letters_add(&[letter, plain]).await.unwrap();

    let filter = DeadLetterFilter {
        flow: Some(flow.clone()),
        status: None,
        limit: 0,
    };
    let letters = store.dead_letters(&filter).await.unwrap();
    let a = letters.iter().find(|letter| letter.source_key == "A").unwrap();
    assert_eq!(
        (
            a.message.as_str(),
            a.location.as_deref(),
            a.field.as_deref(),
            a.fix.as_deref()
        ),
        (
            "product X not in ERP",
            Some("orders.csv:7"),
            Some("lines[0].sku"),
            Some("create the product in the ERP, then retry")
        )
    );
    let b = letters.iter().find(|letter| letter.source_key == "B").unwrap();
    assert_eq!(
        (b.location.as_deref(), b.field.as_deref(), b.fix.as_deref()),
        (None, None, None)
    );
    assert_eq!(store.dead_letter(a.id).await.unwrap().as_ref(), Some(a));

    let mut again = dead_letter(&flow, "A", "price_net is not a number");
    again.field = Some("price_net".to_owned());
    store.dead_letters_add(&[again]).await.unwrap();
    let a = store.dead_letter(a.id).await.unwrap().unwrap();
    assert_eq!(
        (a.attempts, a.location.as_deref(), a.field.as_deref(), a.fix.as_deref()),
        (2, None, Some("price_net"), None)
    );
}

/// A record failing again updates its open dead letter; resolving closes it; edits stick.
pub async fn dead_letters_are_upserted_filtered_edited_and_resolved(store: Arc<dyn Store>) {
    let flow = unique("flow");
    store
        .dead_letters_add(&[dead_letter(&flow, "A", "first"), dead_letter(&flow, "B", "b")])
        .await
        .unwrap();
    let mut again = dead_letter(&flow, "A", "second");
    again.class = FailureClass::Transient;
    store.dead_letters_add(&[again]).await.unwrap();

    let filter = DeadLetterFilter {
        flow: Some(flow.clone()),
        status: None,
        limit: 0,
    };
    let letters = store.dead_letters(&filter).await.unwrap();
    assert_eq!(letters.len(), 2, "{letters:?}");
    let a = letters.iter().find(|letter| letter.source_key == "A").unwrap();
    assert_eq!(
        (a.attempts, a.message.as_str(), a.class),
        (2, "second", FailureClass::Transient)
    );
    assert_eq!(a.payload, json!({"sku": "A", "price_net": "12,5a"}));

    store
        .dead_letter_set_payload(a.id, &json!({"sku": "A", "price_net": "12.5"}))
        .await
        .unwrap();
    assert_eq!(
        store.dead_letter(a.id).await.unwrap().unwrap().payload["price_net"],
        "12.5"
    );

    assert_eq!(
        store
            .dead_letters_resolve(&flow, &["A".into(), "Z".into()])
            .await
            .unwrap(),
        1
    );
    let open = DeadLetterFilter {
        flow: Some(flow.clone()),
        status: Some(DeadLetterStatus::Open),
        limit: 0,
    };
    assert_eq!(store.dead_letters(&open).await.unwrap().len(), 1);
    assert!(
        store.dead_letter_set_payload(a.id, &json!({})).await.is_err(),
        "a resolved letter is not edited"
    );

    // Failing again after resolution opens a new letter rather than reviving the old one.
    store
        .dead_letters_add(&[dead_letter(&flow, "A", "third")])
        .await
        .unwrap();
    assert_eq!(store.dead_letters(&filter).await.unwrap().len(), 3);
    assert_eq!(
        store
            .dead_letters(&DeadLetterFilter { limit: 1, ..filter })
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Activity is listed without payloads, payloads are fetched apart, and purging removes both.
pub async fn activity_keeps_payloads_apart_and_purges_them_with_entries(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let run = store.run_start(&flow, RunMode::Incremental).await.unwrap();
    store
        .activity_add(&[activity(run, &flow, "A"), activity(run, &flow, "B")])
        .await
        .unwrap();
    let entries = store
        .activity(&ActivityFilter {
            flow: Some(flow.clone()),
            ..ActivityFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|entry| entry.source_key.as_str())
            .collect::<Vec<_>>(),
        ["B", "A"]
    );
    let by_key = ActivityFilter {
        flow: Some(flow.clone()),
        source_key: Some("A".into()),
        ..ActivityFilter::default()
    };
    let a = &store.activity(&by_key).await.unwrap()[0];
    let payloads = store.activity_payloads(a.id).await.unwrap().unwrap();
    assert_eq!(payloads.sent_payload, Some(json!({"sku": "A"})));
    assert_eq!(payloads.response, Some(json!({"target_id": "T-A"})));

    let other = unique("flow");
    store.activity_add(&[activity(run, &other, "C")]).await.unwrap();
    let yesterday = Utc::now() - ChronoDuration::days(1);
    let soon = Utc::now() + ChronoDuration::seconds(1);
    assert_eq!(store.activity_purge(Some(&flow), yesterday).await.unwrap(), 0);
    assert_eq!(store.activity_purge(Some(&flow), soon).await.unwrap(), 2);
    let others = ActivityFilter {
        flow: Some(other.clone()),
        ..ActivityFilter::default()
    };
    assert_eq!(
        store.activity(&others).await.unwrap().len(),
        1,
        "another flow's activity is kept"
    );
    assert!(store.activity_purge(None, soon).await.unwrap() >= 1);
    assert!(store.activity(&others).await.unwrap().is_empty());
    assert!(store.activity(&by_key).await.unwrap().is_empty());
    assert!(store.activity_payloads(a.id).await.unwrap().is_none());
}

/// A held lease refuses others, admits its holder, and frees on release or expiry.
pub async fn leases_are_exclusive_until_released_or_expired(store: Arc<dyn Store>) {
    let name = unique("flow:lease");
    let minute = Duration::from_secs(60);
    assert!(store.lease_acquire(&name, "worker-1", minute).await.unwrap());
    assert!(!store.lease_acquire(&name, "worker-2", minute).await.unwrap());
    assert!(
        store.lease_acquire(&name, "worker-1", minute).await.unwrap(),
        "the holder may claim again"
    );
    assert!(store.lease_renew(&name, "worker-1", minute).await.unwrap());
    assert!(!store.lease_renew(&name, "worker-2", minute).await.unwrap());
    assert_eq!(store.lease(&name).await.unwrap().unwrap().holder, "worker-1");

    store.lease_release(&name, "worker-2").await.unwrap();
    assert!(store.lease(&name).await.unwrap().is_some(), "only the holder releases");
    store.lease_release(&name, "worker-1").await.unwrap();
    assert!(store.lease(&name).await.unwrap().is_none());

    // A zero time-to-live is already expired: the next claimant takes it over.
    assert!(store.lease_acquire(&name, "worker-1", Duration::ZERO).await.unwrap());
    assert!(store.lease(&name).await.unwrap().is_none());
    assert!(store.lease_acquire(&name, "worker-2", minute).await.unwrap());
    assert!(
        !store.lease_renew(&name, "worker-1", minute).await.unwrap(),
        "a lost lease cannot be renewed"
    );
}

/// Of sixteen simultaneous claimants exactly one wins.
pub async fn exactly_one_of_sixteen_racing_claimants_wins_a_lease(store: Arc<dyn Store>) {
    for _round in 0..5 {
        let name = unique("flow:race");
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let claims: Vec<_> = (0..16)
            .map(|worker| {
                let (store, name, barrier) = (store.clone(), name.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .lease_acquire(&name, &format!("worker-{worker}"), Duration::from_secs(60))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for claim in claims {
            winners += usize::from(claim.await.unwrap());
        }
        assert_eq!(winners, 1);
    }
}

/// Of claimants spread over several stores on one database (several workers) exactly one wins.
pub async fn exactly_one_of_several_stores_on_one_database_wins_a_lease(stores: Vec<Arc<dyn Store>>) {
    assert!(stores.len() >= 2, "the race needs several stores on one database");
    for _round in 0..5 {
        let name = unique("flow:race");
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let claims: Vec<_> = (0..16)
            .map(|worker| {
                let store = stores[worker % stores.len()].clone();
                let (name, barrier) = (name.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .lease_acquire(&name, &format!("worker-{worker}"), Duration::from_secs(60))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for claim in claims {
            winners += usize::from(claim.await.unwrap());
        }
        assert_eq!(winners, 1);
        let holder = stores[0].lease(&name).await.unwrap().unwrap().holder;
        for store in &stores {
            assert_eq!(store.lease(&name).await.unwrap().unwrap().holder, holder);
        }
    }
}

/// Quota counters grant within the limit, refuse beyond it, and never overshoot under races.
pub async fn quota_counters_never_exceed_their_limit(store: Arc<dyn Store>) {
    let connection = unique("erp");
    let day = "2026-11-23";
    assert_eq!(store.quota_used(&connection, day).await.unwrap(), 0);
    assert_eq!(
        store.quota_consume(&connection, day, 7, Some(10)).await.unwrap(),
        QuotaGrant { granted: true, used: 7 }
    );
    assert_eq!(
        store.quota_consume(&connection, day, 4, Some(10)).await.unwrap(),
        QuotaGrant {
            granted: false,
            used: 7
        }
    );
    assert_eq!(
        store.quota_consume(&connection, day, 3, Some(10)).await.unwrap(),
        QuotaGrant {
            granted: true,
            used: 10
        }
    );
    assert!(
        !store
            .quota_consume(&connection, "2026-11-24", 11, Some(10))
            .await
            .unwrap()
            .granted
    );
    assert_eq!(
        store.quota_consume(&connection, "2026-11-24", 50, None).await.unwrap(),
        QuotaGrant {
            granted: true,
            used: 50
        }
    );

    let racing = unique("erp");
    let grants: Vec<_> = (0..20)
        .map(|_| {
            let (store, racing) = (store.clone(), racing.clone());
            tokio::spawn(async move { store.quota_consume(&racing, day, 1, Some(13)).await.unwrap().granted })
        })
        .collect();
    let mut granted = 0;
    for grant in grants {
        granted += usize::from(grant.await.unwrap());
    }
    assert_eq!(granted, 13);
    assert_eq!(store.quota_used(&racing, day).await.unwrap(), 13);
}

/// Expands to one `#[tokio::test]` per behaviour, each with a store from `$make` (an async
/// expression giving `Arc<dyn Store>`, or `None` to skip with a message).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@tests $make;
            schema_is_migrated_on_open,
            xref_links_round_trip_and_upsert_in_place,
            xref_pages_of_a_thousand_are_one_call_each,
            delivered_hashes_are_kept_per_flow_overwritten_and_cleared,
            looked_up_keys_come_back_exactly_whatever_they_hold,
            outbox_intents_stay_unsettled_until_settled,
            cursors_are_saved_replaced_and_cleared,
            a_settled_page_lands_everything_it_carries,
            a_settled_page_is_never_seen_in_parts,
            a_settle_page_that_fails_midway_leaves_nothing_behind,
            runs_are_listed_newest_first_with_counters,
            dead_letters_are_upserted_filtered_edited_and_resolved,
            dead_letters_keep_location_field_and_fix_apart_from_the_message,
            activity_keeps_payloads_apart_and_purges_them_with_entries,
            leases_are_exclusive_until_released_or_expired,
            exactly_one_of_sixteen_racing_claimants_wins_a_lease,
            quota_counters_never_exceed_their_limit,
            api_keys_are_found_by_hash_until_revoked,
            credentials_are_kept_per_connection_replaced_and_forgotten,
            inbox_keeps_deliveries_until_they_are_taken,
            deliveries_keep_what_became_of_them,
            activity_outcomes_name_each_record_of_a_run,
            idempotency_keys_are_claimed_once_and_keep_their_answer,
            exactly_one_of_sixteen_racing_requests_claims_an_idempotency_key,
            inbox_backlog_is_counted_per_connection,
            a_truncating_checkpoint_leaves_an_empty_log,
        );
    };
    (@tests $make:expr; $($behaviour:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $behaviour() {
                let store: Option<std::sync::Arc<dyn tiltas_store::Store>> = $make.await;
                if let Some(store) = store {
                    $crate::store_contract::$behaviour(store).await;
                }
            }
        )+
    };
}
