//! API keys made and revoked over a served API by another key (audited with that key's name
//! and the real client address), seen by `tiltas keys list`, and `tiltas secrets set` audited
//! as the command-line user without the value.
use crate::{simulator, tiltas, ExampleRun};
use serde_json::{json, Value};
use std::io::Write;
use std::process::Stdio;
use tiltas_store::{actions, AuditFilter};

const MASTER_KEY: &str = "3333333333333333333333333333333333333333333333333333333333333333";
const CONSUMER_SECRET: &str = "cs_audited-secret-5Tn8";

fn audit_entries(db: &str) -> Vec<tiltas_store::AuditEntry> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = tiltas_store::open(db).await.unwrap();
            store.audit_entries(&AuditFilter::default()).await.unwrap()
        })
}

#[test]
fn secrets_set_is_audited_as_the_cli_user_with_the_connection_and_key_never_the_value() {
    let example = ExampleRun::new(
        "erp-shop.toml",
        &[],
        &[
            ("WC_KEY", "ck_x"),
            ("WC_SECRET", "cs_from_env"),
            ("WC_WEBHOOK_SECRET", "hook"),
            ("RIVILE_API_KEY", "SHOP.key"),
            ("TILTAS_MASTER_KEY", MASTER_KEY),
        ],
    );
    let mut child = tiltas()
        .args([
            "--db",
            &example.db,
            "secrets",
            "set",
            "shop",
            "consumer_secret",
            "--config",
        ])
        .arg(&example.flows)
        .envs(example.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("USER", "ona")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{CONSUMER_SECRET}\n").as_bytes())
        .unwrap();
    let set = child.wait_with_output().unwrap();
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    let entries = audit_entries(&example.db);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(
        (
            entry.action.as_str(),
            entry.actor.as_str(),
            entry.origin.as_str(),
            entry.target.as_str()
        ),
        (actions::SECRET_SET, "cli:ona", "cli", "shop")
    );
    assert_eq!(entry.detail, json!({ "key": "consumer_secret" }));
    assert!(!format!("{entry:?}").contains(CONSUMER_SECRET), "{entry:?}");

    // A refused set (no such secret key) stored nothing and records nothing.
    let refused = example.tiltas(&["secrets", "set", "shop", "base_url"]);
    assert!(!refused.status.success());
    assert_eq!(audit_entries(&example.db).len(), 1);
}

#[test]
fn a_key_made_over_the_api_works_is_listed_and_revoked_and_both_are_audited_with_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows.toml");
    std::fs::write(
        &flows,
        "[connections.files]\nsystem = \"jsonl\"\n\n[[flows]]\nname = \"products\"\nentity = \"product\"\n\
         from = { connection = \"files\", file = \"in.jsonl\" }\nto = { connection = \"files\", file = \"out.jsonl\" }\n",
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("tiltas.db").display());
    let made = tiltas()
        .args([
            "--db", &db, "keys", "create", "--scope", "admin", "--name", "ops", "--json",
        ])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let admin: Value = serde_json::from_slice(&made.stdout).unwrap();
    let admin = admin["key"].as_str().unwrap().to_owned();

    let db_arg = db.clone();
    let flows_arg = flows.display().to_string();
    let (_server, url) = simulator(&[
        "--db",
        &db_arg,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--config",
        &flows_arg,
    ]);
    let client = reqwest::blocking::Client::new();
    let created = client
        .post(format!("{url}/api/v1/keys"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "shop-sync", "scope": "read", "expires_at": "2099-01-01T00:00:00Z" }))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    let secret = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();

    let flows_seen = client
        .get(format!("{url}/api/v1/flows"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(flows_seen.status(), 200, "the new key signs requests");
    let listed = tiltas().args(["--db", &db, "keys", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("shop-sync") && listed.contains("active until 2099-01-01") && !listed.contains(&secret),
        "{listed}"
    );

    let revoked = client
        .delete(format!("{url}/api/v1/keys/{id}"))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let refused = client
        .get(format!("{url}/api/v1/flows"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401, "a revoked key stops working at once");

    let entries = audit_entries(&db);
    let found: Vec<(&str, &str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor.as_str(),
                e.target.as_str(),
                e.origin.as_str(),
            )
        })
        .collect();
    let target = id.to_string();
    assert_eq!(
        &found[..2],
        &[
            (actions::KEY_REVOKED, "ops", target.as_str(), "127.0.0.1"),
            (actions::KEY_CREATED, "ops", target.as_str(), "127.0.0.1"),
        ]
    );
    assert_eq!(entries[1].detail["scope"], "read");
    assert!(!format!("{entries:?}").contains(&secret));
}
