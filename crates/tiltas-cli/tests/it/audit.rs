//! `tiltas keys create --expires`, `tiltas keys list` (expiry and last use), the audit entries
//! the CLI writes, and `tiltas forget` against a real SQLite store.
use crate::{stderr, stdout, Workspace};
use serde_json::{json, Value};
use tiltas_store::{actions, AuditFilter, FailureClass, NewDeadLetter, NewInboxEvent};

fn order(id: u64, first: &str, email: &str, phone: &str) -> Value {
    json!({
        "id": id, "number": id.to_string(), "total": "12.10",
        "billing": {"first_name": first, "last_name": "Pavardenė", "email": email, "phone": phone, "address_1": "Ežero g. 7", "city": "Utena"},
        "shipping": {"first_name": first, "last_name": "Pavardenė", "address_1": "Ežero g. 7", "city": "Utena"},
        "line_items": [{"sku": "A1", "name": "Kava", "quantity": 2}]
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn keys_expire_show_their_state_and_are_audited_as_the_cli_user() {
    let workspace = Workspace::with_examples();
    let created = workspace.tiltas(&[
        "keys",
        "create",
        "--scope",
        "read",
        "--name",
        "temp",
        "--expires",
        "90d",
        "--json",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let key: Value = serde_json::from_str(stdout(&created).trim()).unwrap();
    let expires_at = chrono::DateTime::parse_from_rfc3339(key["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires_at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((89..=90).contains(&days), "{days}");
    let bad = workspace.tiltas(&["keys", "create", "--scope", "read", "--expires", "soon"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("is not a duration"), "{}", stderr(&bad));

    let listed = workspace.tiltas(&["keys", "list"]);
    let text = stdout(&listed);
    assert!(
        text.contains("LAST USED") && text.contains("never") && text.contains("active until"),
        "{text}"
    );
    let id = key["id"].as_i64().unwrap().to_string();
    let revoked = workspace.tiltas(&["keys", "revoke", &id]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));

    let entries = runtime().block_on(async {
        let store = tiltas_store::open(&workspace.db_url()).await.unwrap();
        store.audit_entries(&AuditFilter::default()).await.unwrap()
    });
    let found: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str(), e.origin.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (actions::KEY_REVOKED, id.as_str(), "cli"),
            (actions::KEY_CREATED, id.as_str(), "cli")
        ]
    );
    assert!(
        entries.iter().all(|entry| entry.actor.starts_with("cli:")),
        "{entries:?}"
    );
    assert_eq!(entries[1].detail["name"], "temp");
}

#[test]
fn forget_erases_a_person_reports_per_table_and_dry_runs_change_nothing() {
    let workspace = Workspace::with_examples();
    let rt = runtime();
    rt.block_on(async {
        let store = tiltas_store::open(&workspace.db_url()).await.unwrap();
        for (id, first, email, phone) in [
            (1, "Rūta", "ruta@example.lt", "+37063333333"),
            (2, "Petras", "petras@example.lt", "+37064444444"),
        ] {
            let body = order(id, first, email, phone);
            store
                .inbox_add(&NewInboxEvent {
                    connection: "shop".into(),
                    topic: "order.created".into(),
                    body: body.to_string(),
                })
                .await
                .unwrap();
            store
                .dead_letters_add(&[NewDeadLetter {
                    flow: "orders".into(),
                    run: None,
                    source_key: id.to_string(),
                    class: FailureClass::Invalid,
                    message: format!("no buyer {email}"),
                    location: None,
                    field: None,
                    fix: None,
                    payload: body,
                }])
                .await
                .unwrap();
        }
    });
    let dry = workspace.tiltas(&["forget", "--email", "Ruta@Example.lt", "--dry-run", "--json"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let report: Value = serde_json::from_str(stdout(&dry).trim()).unwrap();
    assert_eq!(
        (
            report["inbox"]["rows"].as_u64(),
            report["dead_letters"]["rows"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(report["dry_run"], true);

    let done = workspace.tiltas(&["forget", "--email", "Ruta@Example.lt"]);
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(stdout(&done).contains("dead letters"), "{}", stdout(&done));
    assert!(stderr(&done).contains("replaced by \"[erased]\""), "{}", stderr(&done));

    let (bodies, letters, entries) = rt.block_on(async {
        let store = tiltas_store::open(&workspace.db_url()).await.unwrap();
        let bodies: Vec<String> = store
            .inbox_pending(10)
            .await
            .unwrap()
            .into_iter()
            .map(|event| event.body)
            .collect();
        let letters = store.dead_letters(&Default::default()).await.unwrap();
        (
            bodies,
            letters,
            store.audit_entries(&AuditFilter::default()).await.unwrap(),
        )
    });
    let stored = format!("{bodies:?} {letters:?}");
    for gone in ["ruta@example.lt", "Rūta", "+37063333333"] {
        assert!(!stored.contains(gone), "{gone} is still stored");
    }
    for kept in ["petras@example.lt", "Petras", "+37064444444", "Kava"] {
        assert!(stored.contains(kept), "{kept} was erased");
    }
    assert_eq!(entries.len(), 1, "the dry run is not recorded: {entries:?}");
    assert_eq!(entries[0].action, actions::PERSON_FORGOTTEN);
    assert_eq!(entries[0].detail["dead_letters"]["rows"], 1);

    let invalid = workspace.tiltas(&["forget", "--email", "ruta"]);
    assert!(!invalid.status.success());
    assert!(
        stderr(&invalid).contains("is not an e-mail address"),
        "{}",
        stderr(&invalid)
    );
}
