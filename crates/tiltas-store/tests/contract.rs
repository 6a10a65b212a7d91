//! The store contract on both backends. The PostgreSQL half needs `TILTAS_TEST_POSTGRES_URL`
//! (scripts/with-postgres sets it); without it the half is skipped locally and fails in CI.
use std::sync::Arc;
use tiltas_store::{SqliteStore, Store};

/// A fresh SQLite file per test; the directory lives as long as the process.
async fn sqlite_store() -> Option<Arc<dyn Store>> {
    let dir = tempfile::tempdir().expect("temporary directory").keep();
    let url = format!("sqlite://{}", dir.join("tiltas.db").display());
    Some(Arc::new(SqliteStore::open(&url).await.expect("open SQLite store")))
}

/// A fresh schema per test in the throwaway PostgreSQL server.
async fn postgres_store() -> Option<Arc<dyn Store>> {
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
    let store = tiltas_store::PostgresStore::open_in_schema(&url, Some(&schema))
        .await
        .expect("open PostgreSQL store");
    Some(Arc::new(store))
}

mod sqlite {
    tiltas_testkit::store_contract_tests!(super::sqlite_store());
}

mod postgres {
    tiltas_testkit::store_contract_tests!(super::postgres_store());
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
