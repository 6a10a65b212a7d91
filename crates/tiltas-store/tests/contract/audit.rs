//! The audit log, API key expiry and last use, and forgetting a person — on both backends.
//! Each test takes a store and, for the erasure test, every text value the database holds
//! (so "nothing of the person is left" is checked against the whole store, not one API).
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_store::*;

fn entry(actor: &str, action: &str, target: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.into(),
        action: action.into(),
        target: target.into(),
        detail: json!({ "why": "test" }),
        origin: "127.0.0.1".into(),
    }
}

/// Actions come back newest first, filtered by action, actor and time, and paged by id; the
/// activity retention purge leaves them.
pub async fn audit_entries_are_filtered_paged_and_outlive_activity_retention(store: Arc<dyn Store>) {
    let first = store
        .audit_record(&entry("ops", actions::KEY_CREATED, "key 1"))
        .await
        .unwrap();
    let second = store
        .audit_record(&entry("cli:ona", actions::CONNECTION_DISABLED, "shop"))
        .await
        .unwrap();
    let third = store
        .audit_record(&entry("ops", actions::FLOW_RUN, "products"))
        .await
        .unwrap();
    assert!(first < second && second < third);

    let all = store.audit_entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|entry| entry.id).collect::<Vec<_>>(),
        vec![third, second, first]
    );
    assert_eq!(all[1].actor, "cli:ona");
    assert_eq!(all[1].target, "shop");
    assert_eq!(all[1].detail, json!({ "why": "test" }));
    assert_eq!(all[1].origin, "127.0.0.1");
    assert!((Utc::now() - all[1].at).num_seconds().abs() < 60);

    let by_actor = AuditFilter {
        actor: Some("ops".into()),
        ..AuditFilter::default()
    };
    let ids: Vec<i64> = store
        .audit_entries(&by_actor)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, vec![third, first]);
    let by_action = AuditFilter {
        action: Some(actions::CONNECTION_DISABLED.into()),
        ..AuditFilter::default()
    };
    assert_eq!(store.audit_entries(&by_action).await.unwrap().len(), 1);
    let page = AuditFilter {
        before: Some(third),
        limit: 1,
        ..AuditFilter::default()
    };
    let ids: Vec<i64> = store.audit_entries(&page).await.unwrap().iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![second]);
    let future = AuditFilter {
        since: Some(Utc::now() + Duration::hours(1)),
        ..AuditFilter::default()
    };
    assert!(store.audit_entries(&future).await.unwrap().is_empty());

    store
        .activity_purge(None, Utc::now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(store.audit_entries(&AuditFilter::default()).await.unwrap().len(), 3);
}

/// A key keeps its expiry, is still found once expired (so the server can say it expired),
/// and its last use is kept.
pub async fn api_keys_keep_their_expiry_and_last_use(store: Arc<dyn Store>) {
    let expires_at = Utc::now() - Duration::minutes(5);
    let hash = hash_api_key("tiltas_expiring");
    let id = store
        .api_key_create(&NewApiKey {
            name: "temporary".into(),
            scope: ApiScope::Read,
            key_hash: hash.clone(),
            expires_at: Some(expires_at),
        })
        .await
        .unwrap();
    let key = store.api_key_by_hash(&hash).await.unwrap().unwrap();
    assert_eq!(
        key.expires_at.map(|at| at.timestamp_millis()),
        Some(expires_at.timestamp_millis())
    );
    assert!(key.expired(Utc::now()));
    assert!(!key.expired(expires_at - Duration::seconds(1)));
    assert_eq!(key.last_used_at, None);
    let used_at = Utc::now();
    store.api_key_touch(id, used_at).await.unwrap();
    let listed = store.api_keys().await.unwrap();
    let key = listed.iter().find(|key| key.id == id).unwrap();
    assert_eq!(
        key.last_used_at.map(|at| at.timestamp_millis()),
        Some(used_at.timestamp_millis())
    );
}

/// A WooCommerce-shaped order of a person.
pub fn order_of(id: u64, first: &str, last: &str, email: &str, phone: &str, street: &str) -> Value {
    json!({
        "id": id, "number": id.to_string(), "status": "processing", "total": "12.10",
        "billing": {"first_name": first, "last_name": last, "email": email, "phone": phone,
                    "address_1": street, "city": "Kaunas", "postcode": "LT-44280", "country": "LT"},
        "shipping": {"first_name": first, "last_name": last, "address_1": street, "city": "Kaunas"},
        "line_items": [{"id": 1, "sku": "A00101", "name": "Kava", "quantity": 1, "total": "10.00"}]
    })
}

/// The strings of Ona (forgotten) and Jonas (kept).
pub const ONA: [&str; 5] = [
    "Ona",
    "Onaitė",
    "ona.onaite@example.lt",
    "+37060011111",
    "Laisvės al. 10",
];
/// The other person's strings.
pub const JONAS: [&str; 5] = [
    "Jonas",
    "Jonaitis",
    "jonas@example.lt",
    "+37060022222",
    "Savanorių pr. 5",
];

/// Stores each person's order in activity payloads, a dead letter and the inbox.
async fn store_orders(store: &Arc<dyn Store>) {
    let run = store.run_start("orders", RunMode::Webhook).await.unwrap();
    for (id, person) in [(101_u64, ONA), (102, JONAS)] {
        let order = order_of(id, person[0], person[1], person[2], person[3], person[4]);
        store
            .activity_add(&[NewActivity {
                run,
                flow: "orders".into(),
                source_key: id.to_string(),
                outcome: ActivityOutcome::Created,
                source_payload: Some(order.clone()),
                sent_payload: Some(
                    json!({ "buyer": { "name": format!("{} {}", person[0], person[1]), "email": person[2] } }),
                ),
                response: Some(json!({ "id": format!("ERP-{id}") })),
            }])
            .await
            .unwrap();
        store
            .dead_letters_add(&[NewDeadLetter {
                flow: "orders".into(),
                run: Some(run),
                source_key: id.to_string(),
                class: FailureClass::Invalid,
                message: format!("buyer {} has no VAT code", person[2].to_uppercase()),
                location: None,
                field: None,
                fix: None,
                payload: order.clone(),
            }])
            .await
            .unwrap();
        store
            .inbox_add(&NewInboxEvent {
                connection: "shop".into(),
                topic: "order.created".into(),
                body: order.to_string(),
            })
            .await
            .unwrap();
    }
}

/// Forgetting Ona erases her e-mail, names, phone and address from every table — the whole
/// database's text is scanned — keeps Jonas intact, keeps the rows, and a dry run first
/// reports the same counts without changing anything.
pub async fn forgetting_a_person_erases_them_from_every_table_and_keeps_the_others<F, Fut>(
    store: Arc<dyn Store>,
    every_text: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    store_orders(&store).await;
    let dry = store.forget_person("Ona.Onaite@Example.LT", true).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(
        (dry.activity_payloads.rows, dry.dead_letters.rows, dry.inbox.rows),
        (1, 1, 1),
        "{dry:?}"
    );
    let text = every_text().await.join("\n");
    assert!(text.contains(ONA[2]), "a dry run changes nothing");

    let report = store.forget_person("Ona.Onaite@Example.LT", false).await.unwrap();
    assert!(!report.dry_run);
    assert_eq!(report.activity_payloads, dry.activity_payloads);
    assert_eq!(report.dead_letters, dry.dead_letters);
    assert_eq!(report.inbox, dry.inbox);
    assert!(report.values() >= 3 * 10, "{report:?}");

    let text = every_text().await.join("\n");
    for value in ONA {
        // "Ona" is also inside "Onaitė" and "Jonas" is not Ona: check whole JSON strings.
        assert!(!text.contains(&format!("\"{value}\"")), "{value} is still stored");
    }
    assert!(!text.to_lowercase().contains(ONA[2]), "Ona's e-mail is still stored");
    for value in JONAS {
        assert!(text.contains(value), "{value} of another person was erased");
    }
    assert!(text.contains("[erased]"));
    // Rows and counters stay: two letters, two deliveries, two activity entries.
    let letters = store.dead_letters(&DeadLetterFilter::default()).await.unwrap();
    assert_eq!(letters.len(), 2);
    let ona = letters.iter().find(|letter| letter.source_key == "101").unwrap();
    assert_eq!(ona.payload["total"], "12.10");
    assert_eq!(ona.payload["line_items"][0]["name"], "Kava");
    assert_eq!(ona.message, "buyer [erased] has no VAT code");
    assert_eq!(store.inbox_backlog().await.unwrap(), 2);
    let again = store.forget_person(ONA[2], false).await.unwrap();
    assert_eq!(again.values(), 0, "nothing is left to erase: {again:?}");
    // Retention still purges the (erased) activity.
    assert_eq!(
        store
            .activity_purge(None, Utc::now() + Duration::days(1))
            .await
            .unwrap(),
        2
    );
}
