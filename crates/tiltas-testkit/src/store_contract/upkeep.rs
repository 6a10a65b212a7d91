//! What keeps a store bounded under load: the inbox backlog per connection (webhook ingress
//! answers 503 past a limit) and write-ahead-log checkpoints.
use super::*;

fn delivery(connection: &str, id: usize) -> NewInboxEvent {
    NewInboxEvent {
        connection: connection.to_owned(),
        topic: "order.created".into(),
        body: format!("{{\"id\":{id}}}"),
    }
}

/// Pending deliveries are counted per connection; taken ones no longer count.
pub async fn inbox_backlog_is_counted_per_connection(store: Arc<dyn Store>) {
    let (shop, other) = (unique("shop"), unique("other"));
    let mut shop_ids = Vec::new();
    for id in 0..5 {
        shop_ids.push(store.inbox_add(&delivery(&shop, id)).await.unwrap());
    }
    store.inbox_add(&delivery(&other, 9)).await.unwrap();
    let backlog = store.inbox_backlog_by_connection().await.unwrap();
    assert_eq!((backlog.get(&shop), backlog.get(&other)), (Some(&5), Some(&1)));

    store.inbox_done(&shop_ids[..3], None).await.unwrap();
    store
        .inbox_settle(&[InboxSettlement {
            id: shop_ids[3],
            note: Some("carries no record".into()),
            ..InboxSettlement::default()
        }])
        .await
        .unwrap();
    let backlog = store.inbox_backlog_by_connection().await.unwrap();
    assert_eq!((backlog.get(&shop), backlog.get(&other)), (Some(&1), Some(&1)));
    store.inbox_done(&shop_ids[4..], None).await.unwrap();
    let backlog = store.inbox_backlog_by_connection().await.unwrap();
    assert_eq!(backlog.get(&shop), None, "a connection with nothing pending is absent");
}

/// SQLite: a truncating checkpoint with no reader copies the whole log and leaves it empty;
/// a passive one reports the log. PostgreSQL has no log of ours to manage: `None`.
pub async fn a_truncating_checkpoint_leaves_an_empty_log(store: Arc<dyn Store>) {
    let connection = unique("shop");
    for id in 0..50 {
        store.inbox_add(&delivery(&connection, id)).await.unwrap();
    }
    let passive = store.checkpoint(CheckpointMode::Passive).await.unwrap();
    let truncated = store.checkpoint(CheckpointMode::Truncate).await.unwrap();
    match store.backend() {
        Backend::Postgres => assert_eq!((passive, truncated), (None, None)),
        Backend::Sqlite => {
            let passive = passive.expect("SQLite in WAL mode reports its log");
            assert!(passive.log_pages > 0, "{passive:?}");
            let truncated = truncated.expect("SQLite in WAL mode reports its log");
            assert!(!truncated.busy, "{truncated:?}");
            assert_eq!(truncated.log_pages, 0, "the log is truncated: {truncated:?}");
        }
    }
}
