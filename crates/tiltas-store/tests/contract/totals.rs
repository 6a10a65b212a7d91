//! [`Totals`]: the store-wide numbers `/metrics` reads at scrape time, on both backends.
use std::sync::Arc;
use tiltas_store::{FailureClass, FlowRunTotals, NewDeadLetter, RunCounters, RunMode, RunStatus, Store};

fn letter(flow: &str, key: &str) -> NewDeadLetter {
    NewDeadLetter {
        flow: flow.to_owned(),
        run: None,
        source_key: key.to_owned(),
        class: FailureClass::Invalid,
        message: format!("record {key} is bad"),
        location: None,
        field: None,
        fix: None,
        payload: serde_json::json!({ "key": key }),
    }
}

/// Two finished runs and one still going are counted per flow and status with their counters
/// summed; open dead letters are counted per flow and a resolved one drops out.
async fn totals_count_runs_per_status_records_and_open_letters(store: Arc<dyn Store>) {
    assert_eq!(store.run_totals().await.unwrap(), Vec::new());
    let counters = |created, failed| RunCounters {
        read: created + failed,
        created,
        failed,
        api_calls: 2,
        ..RunCounters::default()
    };
    for (created, failed, status) in [(3, 1, RunStatus::Succeeded), (2, 0, RunStatus::Succeeded)] {
        let run = store.run_start("orders", RunMode::Incremental).await.unwrap();
        store.run_add_counters(run, &counters(created, failed)).await.unwrap();
        store.run_finish(run, status, None).await.unwrap();
    }
    let failed = store.run_start("orders", RunMode::Incremental).await.unwrap();
    store
        .run_finish(failed, RunStatus::Failed, Some("target down"))
        .await
        .unwrap();
    let running = store.run_start("products", RunMode::Full).await.unwrap();
    store.run_add_counters(running, &counters(7, 0)).await.unwrap();

    let totals = store.run_totals().await.unwrap();
    let expected = vec![
        FlowRunTotals {
            flow: "orders".into(),
            status: "failed".into(),
            runs: 1,
            counters: RunCounters::default(),
        },
        FlowRunTotals {
            flow: "orders".into(),
            status: "succeeded".into(),
            runs: 2,
            counters: RunCounters {
                read: 6,
                created: 5,
                failed: 1,
                api_calls: 4,
                ..RunCounters::default()
            },
        },
        FlowRunTotals {
            flow: "products".into(),
            status: "running".into(),
            runs: 1,
            counters: counters(7, 0),
        },
    ];
    assert_eq!(totals, expected);

    store
        .dead_letters_add(&[letter("orders", "A"), letter("orders", "B"), letter("stock", "C")])
        .await
        .unwrap();
    store.dead_letters_resolve("orders", &["B".to_owned()]).await.unwrap();
    assert_eq!(
        store.open_dead_letters_by_flow().await.unwrap(),
        vec![("orders".to_owned(), 1), ("stock".to_owned(), 1)]
    );
}

#[tokio::test]
async fn sqlite_totals_count_runs_per_status_records_and_open_letters() {
    let store = super::sqlite_store().await.expect("SQLite store");
    totals_count_runs_per_status_records_and_open_letters(store).await;
}

#[tokio::test]
async fn postgres_totals_count_runs_per_status_records_and_open_letters() {
    let Some(store) = super::postgres_store().await else {
        return;
    };
    totals_count_runs_per_status_records_and_open_letters(store).await;
}
