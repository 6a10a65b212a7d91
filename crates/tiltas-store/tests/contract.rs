//! The store contract on both backends. The PostgreSQL half needs `TILTAS_TEST_POSTGRES_URL`
//! (scripts/with-postgres sets it); without it the half is skipped locally and fails in CI.
use std::sync::Arc;

#[path = "contract/sealed.rs"]
mod sealed;
use tiltas_store::{PostgresStore, SqliteStore, Store};

#[path = "contract/totals.rs"]
mod totals;

/// The URL of a fresh SQLite file; the directory lives as long as the process.
fn sqlite_url() -> String {
    let dir = tempfile::tempdir().expect("temporary directory").keep();
    format!("sqlite://{}", dir.join("tiltas.db").display())
}

/// A fresh SQLite file per test.
async fn sqlite_store() -> Option<Arc<dyn Store>> {
    Some(sqlite_store_at(&sqlite_url()).await)
}

/// The SQLite store in the file at `url`.
async fn sqlite_store_at(url: &str) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(url).await.expect("open SQLite store"))
}

/// The test server's URL and a fresh schema in it, or `None` (skip) without a server.
async fn postgres_schema() -> Option<(String, String)> {
    let Ok(url) = std::env::var("TILTAS_TEST_POSTGRES_URL") else {
        let required = std::env::var("CI").is_ok_and(|value| value == "true")
            || std::env::var("TILTAS_REQUIRE_POSTGRES").is_ok_and(|value| value == "1");
        assert!(
            !required,
            "TILTAS_TEST_POSTGRES_URL is not set: run the tests through scripts/with-postgres"
        );
        eprintln!("skipped: set TILTAS_TEST_POSTGRES_URL (scripts/with-postgres does) to run the PostgreSQL half");
        return None;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create a test schema");
    admin.close().await;
    Some((url, schema))
}

/// A store in a fresh schema of the test server.
async fn postgres_store_in(url: &str, schema: &str) -> Arc<dyn Store> {
    Arc::new(
        PostgresStore::open_in_schema(url, Some(schema))
            .await
            .expect("open PostgreSQL store"),
    )
}

/// A fresh schema per test in the throwaway PostgreSQL server.
async fn postgres_store() -> Option<Arc<dyn Store>> {
    let (url, schema) = postgres_schema().await?;
    Some(postgres_store_in(&url, &schema).await)
}

#[path = "contract/audit.rs"]
mod audit;

/// Every text value (each column cast to text) of every table of the SQLite store at `url`.
async fn sqlite_every_text(url: &str) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(url).await.expect("open the SQLite file");
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&pool)
        .await
        .unwrap();
    let mut texts = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&table)
            .fetch_all(&pool)
            .await
            .unwrap();
        for column in columns {
            // As bytes: the migrations table holds binary checksums.
            let select = format!("SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\"");
            let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(&select).fetch_all(&pool).await.unwrap();
            texts.extend(
                values
                    .into_iter()
                    .flatten()
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            );
        }
    }
    pool.close().await;
    texts
}

/// Every text value of every table in one PostgreSQL schema.
async fn postgres_every_text(url: &str, schema: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(url)
        .await
        .expect("connect to the test PostgreSQL");
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = $1",
    )
    .bind(schema)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut texts = Vec::new();
    for (table, column) in columns {
        let select = format!("SELECT CAST(\"{column}\" AS TEXT) FROM \"{schema}\".\"{table}\"");
        let values: Vec<Option<String>> = sqlx::query_scalar(&select).fetch_all(&pool).await.unwrap();
        texts.extend(values.into_iter().flatten());
    }
    pool.close().await;
    texts
}

/// Activity as a store before migration 0012 kept it: entries and, in a table of their own,
/// payloads linked by a text uid (the second entry has none).
const ACTIVITY_BEFORE_0012: [&str; 2] = [
    "INSERT INTO activity (uid, run, flow, source_key, outcome, at) VALUES \
     ('u1', 7, 'products', 'A', 'created', 1000), ('u2', 7, 'products', 'B', 'failed', 2000)",
    "INSERT INTO activity_payload (activity_uid, source_payload, sent_payload, response) VALUES \
     ('u1', '{\"sku\":\"A\",\"raw\":{\"id\":1}}', '{\"sku\":\"A\"}', '{\"target_id\":\"t-A\"}')",
];

/// The migrations before `version` of one store, to build a store as an older Tiltas left it.
async fn migrations_before(store: &str, version: i64) -> sqlx::migrate::Migrator {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(store);
    let mut before = sqlx::migrate::Migrator::new(directory).await.unwrap();
    before.migrations = before
        .migrations
        .iter()
        .filter(|migration| migration.version < version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before
}

/// A new SQLite file at `url` as an older Tiltas left it: every migration before `version`.
async fn sqlite_before(url: &str, version: i64) -> sqlx::SqlitePool {
    let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
        .unwrap()
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    migrations_before("sqlite", version).await.run(&pool).await.unwrap();
    pool
}

/// After migration 0012 every entry of [`ACTIVITY_BEFORE_0012`] is listed as before, with its
/// payloads (or none), and purging by age still removes them.
async fn activity_from_before_0012_keeps_its_payloads(store: Arc<dyn Store>) {
    let filter = tiltas_store::ActivityFilter {
        run: Some(7),
        ..Default::default()
    };
    let mut entries = store.activity(&filter).await.unwrap();
    entries.sort_by_key(|entry| entry.id);
    let keys: Vec<&str> = entries.iter().map(|entry| entry.source_key.as_str()).collect();
    assert_eq!(keys, ["A", "B"]);
    let created = store.activity_payloads(entries[0].id).await.unwrap().unwrap();
    assert_eq!(
        created.source_payload,
        Some(serde_json::json!({"sku": "A", "raw": {"id": 1}}))
    );
    assert_eq!(created.sent_payload, Some(serde_json::json!({"sku": "A"})));
    assert_eq!(created.response, Some(serde_json::json!({"target_id": "t-A"})));
    let failed = store.activity_payloads(entries[1].id).await.unwrap().unwrap();
    assert_eq!(
        (failed.source_payload, failed.sent_payload, failed.response),
        (None, None, None)
    );
    let outcomes = store.activity_outcomes(7, "products", &["A".into()]).await.unwrap();
    assert_eq!(outcomes["A"].response, Some(serde_json::json!({"target_id": "t-A"})));
    let cutoff = chrono::DateTime::from_timestamp_millis(1500).unwrap();
    assert_eq!(store.activity_purge(None, cutoff).await.unwrap(), 1);
    assert_eq!(store.activity(&filter).await.unwrap().len(), 1);
}

mod sqlite {
    tiltas_testkit::store_contract_tests!(super::sqlite_store());
    crate::sealed::sealed_contract_tests!(super::sqlite_store());

    #[tokio::test]
    async fn audit_entries_are_filtered_paged_and_outlive_activity_retention() {
        let store = super::sqlite_store().await.unwrap();
        super::audit::audit_entries_are_filtered_paged_and_outlive_activity_retention(store).await;
    }

    #[tokio::test]
    async fn api_keys_keep_their_expiry_and_last_use() {
        super::audit::api_keys_keep_their_expiry_and_last_use(super::sqlite_store().await.unwrap()).await;
    }

    #[tokio::test]
    async fn forgetting_a_person_erases_them_from_every_table_and_keeps_the_others() {
        let url = super::sqlite_url();
        let store = tiltas_store::open(&url).await.unwrap();
        super::audit::forgetting_a_person_erases_them_from_every_table_and_keeps_the_others(store, || {
            super::sqlite_every_text(&url)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn exactly_one_of_several_stores_on_one_database_wins_a_lease() {
        let url = super::sqlite_url();
        let mut stores: Vec<std::sync::Arc<dyn tiltas_store::Store>> = Vec::new();
        for _ in 0..4 {
            stores.push(tiltas_store::open(&url).await.unwrap());
        }
        tiltas_testkit::store_contract::exactly_one_of_several_stores_on_one_database_wins_a_lease(stores).await;
    }

    /// An intent left unsettled by a version before migration 0007 kept its whole payload and
    /// no match key: it comes back with the payload, so recovery can still take its key.
    #[tokio::test]
    async fn intents_from_before_migration_0007_come_back_with_their_payload() {
        use tiltas_store::Store as _;
        let url = super::sqlite_url();
        let pool = super::sqlite_before(&url, 7).await;
        sqlx::query(
            "INSERT INTO outbox (flow, run, source_key, connection, operation, payload_hash, payload, created_at) \
             VALUES ('f', 1, 'A', 'shop', 'create', 'h', '{\"sku\":\"SKU-A\"}', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = tiltas_store::SqliteStore::open(&url).await.unwrap();
        let unsettled = store.outbox_unsettled("f").await.unwrap();
        assert_eq!(unsettled.len(), 1);
        assert_eq!(unsettled[0].intent.match_key, None);
        assert_eq!(unsettled[0].legacy_payload, Some(serde_json::json!({"sku": "SKU-A"})));
    }

    /// Migration 0012 folds the activity payloads into their entries' rows.
    #[tokio::test]
    async fn activity_from_before_migration_0012_keeps_its_payloads() {
        let url = super::sqlite_url();
        let pool = super::sqlite_before(&url, 12).await;
        for statement in super::ACTIVITY_BEFORE_0012 {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
        let store = super::sqlite_store_at(&url).await;
        super::activity_from_before_0012_keeps_its_payloads(store).await;
    }

    /// Letters written before migration 0004 named their record in the message; the migration
    /// drops that prefix (and only that), so old and new letters group together.
    #[tokio::test]
    async fn migration_0004_drops_the_record_prefix_of_older_letters() {
        use tiltas_store::Store as _;
        let url = super::sqlite_url();
        let pool = super::sqlite_before(&url, 4).await;
        for (key, message) in [
            ("A", "record A: price_net is not a number"),
            ("B", "record A: names another record"),
            ("C%", "record C%: a key LIKE would misread"),
        ] {
            sqlx::query(
                "INSERT INTO dead_letter (flow, run, source_key, class, message, payload, attempts, status, \
                 created_at, updated_at) VALUES ('f', NULL, ?, 'invalid', ?, '{}', 1, 'open', 0, 0)",
            )
            .bind(key)
            .bind(message)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        let store = tiltas_store::SqliteStore::open(&url).await.unwrap();
        let letters = store
            .dead_letters(&tiltas_store::DeadLetterFilter::default())
            .await
            .unwrap();
        let mut messages: Vec<(String, String, Option<String>)> = letters
            .into_iter()
            .map(|letter| (letter.source_key, letter.message, letter.field))
            .collect();
        messages.sort();
        assert_eq!(
            messages,
            [
                ("A".to_owned(), "price_net is not a number".to_owned(), None),
                ("B".to_owned(), "record A: names another record".to_owned(), None),
                ("C%".to_owned(), "a key LIKE would misread".to_owned(), None),
            ]
        );
    }
}

mod postgres {
    tiltas_testkit::store_contract_tests!(super::postgres_store());
    crate::sealed::sealed_contract_tests!(super::postgres_store());

    #[tokio::test]
    async fn audit_entries_are_filtered_paged_and_outlive_activity_retention() {
        let Some(store) = super::postgres_store().await else {
            return;
        };
        super::audit::audit_entries_are_filtered_paged_and_outlive_activity_retention(store).await;
    }

    #[tokio::test]
    async fn api_keys_keep_their_expiry_and_last_use() {
        let Some(store) = super::postgres_store().await else {
            return;
        };
        super::audit::api_keys_keep_their_expiry_and_last_use(store).await;
    }

    #[tokio::test]
    async fn forgetting_a_person_erases_them_from_every_table_and_keeps_the_others() {
        let Some((url, schema)) = super::postgres_schema().await else {
            return;
        };
        let store = super::postgres_store_in(&url, &schema).await;
        super::audit::forgetting_a_person_erases_them_from_every_table_and_keeps_the_others(store, || {
            super::postgres_every_text(&url, &schema)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn exactly_one_of_several_stores_on_one_database_wins_a_lease() {
        let Some((url, schema)) = super::postgres_schema().await else {
            return;
        };
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(super::postgres_store_in(&url, &schema).await);
        }
        tiltas_testkit::store_contract::exactly_one_of_several_stores_on_one_database_wins_a_lease(stores).await;
    }

    /// A first sync grows the keyed tables from nothing: the store analyses them as they grow,
    /// so the look-ups' plans are not the sequential scans made while they were empty.
    #[tokio::test]
    async fn the_keyed_tables_are_analysed_as_settled_pages_grow_them() {
        let Some((url, schema)) = super::postgres_schema().await else {
            return;
        };
        let store = super::postgres_store_in(&url, &schema).await;
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        // Autovacuum's own analysis would pass the test without the store's.
        for table in ["xref", "delivered_hash"] {
            sqlx::query(&format!(
                "ALTER TABLE {schema}.{table} SET (autovacuum_enabled = false)"
            ))
            .execute(&admin)
            .await
            .unwrap();
        }
        for page in 0..12 {
            let delivered = (0..500)
                .map(|n| tiltas_store::DeliveredHash {
                    source_key: format!("K{page:02}-{n:03}"),
                    hash: format!("h{n}"),
                    source_hash: None,
                })
                .collect();
            let settlement = tiltas_store::PageSettlement {
                flow: "products".into(),
                delivered,
                ..Default::default()
            };
            store.settle_page(&settlement).await.unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let analysed: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = $1 \
                 AND relname IN ('xref', 'delivered_hash') AND last_analyze IS NOT NULL",
            )
            .bind(&schema)
            .fetch_one(&admin)
            .await
            .unwrap();
            if analysed == 2 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "6 000 settled records and the identity map and delivered hashes are still not analysed after 60 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        admin.close().await;
    }

    /// Migration 0012 folds the activity payloads into their entries' rows.
    #[tokio::test]
    async fn activity_from_before_migration_0012_keeps_its_payloads() {
        let Some((url, schema)) = super::postgres_schema().await else {
            return;
        };
        let options = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let pool = sqlx::PgPool::connect_with(options).await.unwrap();
        super::migrations_before("postgres", 12).await.run(&pool).await.unwrap();
        for statement in super::ACTIVITY_BEFORE_0012 {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
        let store = super::postgres_store_in(&url, &schema).await;
        super::activity_from_before_0012_keeps_its_payloads(store).await;
    }

    #[tokio::test]
    async fn an_unreachable_server_is_named_without_its_password() {
        // Port 1 on loopback refuses at once.
        let error = tiltas_store::open("postgres://tiltas:hunter2@127.0.0.1:1/tiltas")
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("postgres://tiltas:***@127.0.0.1:1/tiltas"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}

#[tokio::test]
async fn an_in_memory_store_keeps_its_data_for_its_lifetime() {
    let store = tiltas_store::open("sqlite::memory:").await.unwrap();
    store.set_cursor("flow", Some("c1")).await.unwrap();
    for _ in 0..3 {
        assert_eq!(store.cursor("flow").await.unwrap().as_deref(), Some("c1"));
    }
}

#[tokio::test]
async fn a_file_store_keeps_its_data_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tiltas.db").display());
    tiltas_store::open(&url)
        .await
        .unwrap()
        .set_cursor("flow", Some("c1"))
        .await
        .unwrap();
    let reopened = tiltas_store::open(&url).await.unwrap();
    assert_eq!(reopened.cursor("flow").await.unwrap().as_deref(), Some("c1"));
}

#[tokio::test]
async fn a_store_in_a_missing_directory_names_the_directory_and_the_fix() {
    let error = tiltas_store::open("sqlite:///nonexistent-tiltas-dir/tiltas.db")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("/nonexistent-tiltas-dir does not exist"), "{error}");
    assert!(error.contains("--db"), "{error}");
}

#[tokio::test]
async fn an_unknown_url_scheme_is_refused_without_showing_the_password() {
    let error = tiltas_store::open("mysql://root:hunter2@localhost/t")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("sqlite://PATH or postgres://"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}

#[tokio::test]
async fn a_store_migrated_by_a_newer_tiltas_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tiltas.db").display());
    drop(tiltas_store::open(&url).await.unwrap());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, X'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let error = tiltas_store::open(&url).await.err().unwrap().to_string();
    assert!(error.contains("schema version 9999"), "{error}");
    assert!(error.contains("upgrade tiltas"), "{error}");
}

#[tokio::test]
async fn an_undecodable_row_is_reported_as_corrupt_with_what_and_why() {
    let url = sqlite_url();
    let store = tiltas_store::open(&url).await.unwrap();
    let run = store.run_start("flow", tiltas_store::RunMode::Full).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE run SET mode = 'sideways' WHERE id = $1")
        .bind(run)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let error = store.run(run).await.unwrap_err();
    assert!(matches!(error, tiltas_store::StoreError::Corrupt { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("run mode") && message.contains("sideways"),
        "{message}"
    );
}

#[path = "contract/workers.rs"]
mod workers;
