//! The workers' part of the contract, on both backends: the registry, claims on inbox
//! deliveries that two workers never share, lapsed and released claims, and wake-ups.
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tiltas_store::{InboxSettlement, NewInboxEvent, Store, WorkerKind};

async fn add_deliveries(store: &dyn Store, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for number in 0..count {
        let event = NewInboxEvent {
            connection: "shop".to_owned(),
            topic: "order.created".to_owned(),
            body: format!("{{\"id\":{number}}}"),
        };
        ids.push(store.inbox_add(&event).await.expect("inbox_add"));
    }
    ids
}

/// Register, heartbeat with what runs, list, prune the silent, remove.
pub async fn workers_register_beat_list_prune_and_leave(store: Arc<dyn Store>) {
    store.worker_register("host:1:100", WorkerKind::Serve).await.unwrap();
    store.worker_register("host:2:100", WorkerKind::Worker).await.unwrap();
    let running = vec!["inbox".to_owned(), "products".to_owned()];
    assert!(store.worker_heartbeat("host:2:100", &running).await.unwrap());
    assert!(
        !store.worker_heartbeat("host:9:100", &running).await.unwrap(),
        "unknown worker"
    );
    let workers = store.workers().await.unwrap();
    let ids: Vec<&str> = workers.iter().map(|worker| worker.id.as_str()).collect();
    assert_eq!(ids, ["host:1:100", "host:2:100"]);
    assert_eq!(workers[0].kind, WorkerKind::Serve);
    assert!(workers[0].running.is_empty());
    assert_eq!(workers[1].kind, WorkerKind::Worker);
    assert_eq!(workers[1].running, running);

    // Nobody beat since the future: both are pruned; a pruned worker registers again.
    let pruned = store
        .workers_prune(chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    assert!(store.workers().await.unwrap().is_empty());
    store.worker_register("host:1:100", WorkerKind::Serve).await.unwrap();
    store.worker_remove("host:1:100").await.unwrap();
    assert!(store.workers().await.unwrap().is_empty());
}

/// Two workers claiming at once from two handles on one database never share a delivery,
/// and between them take every one.
pub async fn two_workers_claiming_at_once_never_share_a_delivery(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let ids = add_deliveries(first.as_ref(), 300).await;
    let claim = |store: Arc<dyn Store>, worker: &'static str| {
        tokio::spawn(async move {
            let mut taken = Vec::new();
            loop {
                let batch = store.inbox_claim(worker, 7, Duration::from_secs(60)).await.unwrap();
                if batch.is_empty() {
                    return taken;
                }
                assert!(batch.windows(2).all(|pair| pair[0].id < pair[1].id), "oldest first");
                taken.extend(batch.iter().map(|event| event.id));
            }
        })
    };
    let (a, b) = (claim(first.clone(), "w:a:1"), claim(second.clone(), "w:b:1"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let a_set: BTreeSet<i64> = a.iter().copied().collect();
    let b_set: BTreeSet<i64> = b.iter().copied().collect();
    assert_eq!(a_set.len(), a.len());
    assert!(
        a_set.is_disjoint(&b_set),
        "shared: {:?}",
        a_set.intersection(&b_set).collect::<Vec<_>>()
    );
    let all: BTreeSet<i64> = a_set.union(&b_set).copied().collect();
    assert_eq!(all, ids.iter().copied().collect::<BTreeSet<i64>>());
    let counts = first.inbox_claim_counts(&ids).await.unwrap();
    assert_eq!(counts.len(), ids.len());
    assert!(counts.iter().all(|(_, claims)| *claims == 1), "{counts:?}");
}

/// A claim lapses after its TTL (a killed worker) and another takes the delivery; a released
/// claim is free at once; a settled delivery is never claimed again.
pub async fn lapsed_and_released_claims_are_taken_and_settled_ones_never(store: Arc<dyn Store>) {
    let ids = add_deliveries(store.as_ref(), 3).await;
    let short = store
        .inbox_claim("w:dead:1", 1, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(short.iter().map(|event| event.id).collect::<Vec<_>>(), [ids[0]]);
    let long = store.inbox_claim("w:a:1", 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(long.iter().map(|event| event.id).collect::<Vec<_>>(), &ids[1..]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken_over = store.inbox_claim("w:b:1", 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(taken_over.iter().map(|event| event.id).collect::<Vec<_>>(), [ids[0]]);

    // Settle the first; the others are released by w:a and free again.
    let settled = InboxSettlement {
        id: ids[0],
        note: Some("carries no record".to_owned()),
        ..InboxSettlement::default()
    };
    store.inbox_settle(&[settled]).await.unwrap();
    assert_eq!(store.inbox_release("w:a:1").await.unwrap(), 2);
    assert_eq!(
        store.inbox_release("w:b:1").await.unwrap(),
        0,
        "settled, nothing to give up"
    );
    let again = store.inbox_claim("w:c:1", 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(again.iter().map(|event| event.id).collect::<Vec<_>>(), &ids[1..]);
    let counts = store.inbox_claim_counts(&ids).await.unwrap();
    assert_eq!(counts, vec![(ids[0], 2), (ids[1], 2), (ids[2], 2)]);
    // A renewed claim outlives its first TTL (the heartbeat renews a live worker's claims).
    store.inbox_release("w:c:1").await.unwrap();
    assert_eq!(
        store
            .inbox_claim("w:c:1", 10, Duration::from_millis(1))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .inbox_claims_renew("w:c:1", Duration::from_secs(60))
            .await
            .unwrap(),
        2
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(store
        .inbox_claim("w:e:1", 10, Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());
    // A worker leaving gives its claims up.
    store.worker_remove("w:c:1").await.unwrap();
    assert_eq!(
        store
            .inbox_claim("w:d:1", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Work announced through one handle wakes a waiter on another (PostgreSQL: NOTIFY between
/// connections; SQLite: the same handle, in-process); with nothing announced the wait times out.
pub async fn announced_work_wakes_a_waiting_worker(announcer: Arc<dyn Store>, waiter: Arc<dyn Store>) {
    // The first wait starts the listener (PostgreSQL) and may be woken by its start.
    waiter.wait_for_work(Duration::from_millis(300)).await;
    assert!(
        !waiter.wait_for_work(Duration::from_millis(200)).await,
        "woken with nothing announced"
    );
    let waiting = {
        let waiter = waiter.clone();
        tokio::spawn(async move { waiter.wait_for_work(Duration::from_secs(10)).await })
    };
    announcer.notify_work().await.unwrap();
    let started = std::time::Instant::now();
    assert!(waiting.await.unwrap(), "not woken");
    assert!(started.elapsed() < Duration::from_secs(5), "woken only by the timeout");
}

mod sqlite {
    use super::*;

    async fn two_handles() -> (Arc<dyn Store>, Arc<dyn Store>) {
        let url = crate::sqlite_url();
        (
            tiltas_store::open(&url).await.unwrap(),
            tiltas_store::open(&url).await.unwrap(),
        )
    }

    #[tokio::test]
    async fn workers_register_beat_list_prune_and_leave() {
        super::workers_register_beat_list_prune_and_leave(two_handles().await.0).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_workers_claiming_at_once_never_share_a_delivery() {
        let (first, second) = two_handles().await;
        super::two_workers_claiming_at_once_never_share_a_delivery(first, second).await;
    }

    #[tokio::test]
    async fn lapsed_and_released_claims_are_taken_and_settled_ones_never() {
        super::lapsed_and_released_claims_are_taken_and_settled_ones_never(two_handles().await.0).await;
    }

    #[tokio::test]
    async fn announced_work_wakes_a_waiting_worker() {
        let store = two_handles().await.0;
        super::announced_work_wakes_a_waiting_worker(store.clone(), store).await;
    }
}

mod postgres {
    use super::*;

    async fn two_handles() -> Option<(Arc<dyn Store>, Arc<dyn Store>)> {
        let (url, schema) = crate::postgres_schema().await?;
        Some((
            crate::postgres_store_in(&url, &schema).await,
            crate::postgres_store_in(&url, &schema).await,
        ))
    }

    #[tokio::test]
    async fn workers_register_beat_list_prune_and_leave() {
        let Some((store, _)) = two_handles().await else { return };
        super::workers_register_beat_list_prune_and_leave(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_workers_claiming_at_once_never_share_a_delivery() {
        let Some((first, second)) = two_handles().await else {
            return;
        };
        super::two_workers_claiming_at_once_never_share_a_delivery(first, second).await;
    }

    #[tokio::test]
    async fn lapsed_and_released_claims_are_taken_and_settled_ones_never() {
        let Some((store, _)) = two_handles().await else { return };
        super::lapsed_and_released_claims_are_taken_and_settled_ones_never(store).await;
    }

    #[tokio::test]
    async fn announced_work_wakes_a_waiting_worker() {
        let Some((announcer, waiter)) = two_handles().await else {
            return;
        };
        super::announced_work_wakes_a_waiting_worker(announcer, waiter).await;
    }
}
