//! The identity map and the delivered hashes: links and hashes kept, replaced and looked up
//! by page-sized key lists.
use super::{link, unique};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_store::*;

/// Identity links are found by external id and by hub id, and upserts replace.
pub async fn xref_links_round_trip_and_upsert_in_place(store: Arc<dyn Store>) {
    let shop = unique("shop");
    let erp = unique("erp");
    let hub = uuid::Uuid::new_v4();
    store
        .xref_upsert(&[link(hub, &erp, "A-1", Some("h1")), link(hub, &shop, "101", Some("h1"))])
        .await
        .unwrap();

    let found = store
        .xref_find_by_external(EntityKind::Product, &shop, &["101".into(), "999".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found["101"].hub_id, hub);
    assert_eq!(found["101"].last_hash.as_deref(), Some("h1"));
    assert!(store
        .xref_find_by_external(EntityKind::Customer, &shop, &["101".into()])
        .await
        .unwrap()
        .is_empty());

    store.xref_upsert(&[link(hub, &shop, "101", Some("h2"))]).await.unwrap();
    store.xref_upsert(&[link(hub, &shop, "101", None)]).await.unwrap();
    let by_hub = store.xref_find_by_hub(&[hub]).await.unwrap();
    assert_eq!(by_hub.len(), 2, "{by_hub:?}");
    let shop_link = by_hub.iter().find(|link| link.connection == shop).unwrap();
    assert_eq!(shop_link.last_hash.as_deref(), Some("h2"));

    // A link upserted under another hub id moves there (an adopted record relinked); the
    // unchanged ones of the same call stay where they were.
    let other_hub = uuid::Uuid::new_v4();
    store
        .xref_upsert(&[link(other_hub, &shop, "101", Some("h3")), link(hub, &erp, "A-1", None)])
        .await
        .unwrap();
    let moved = store
        .xref_find_by_external(EntityKind::Product, &shop, &["101".into()])
        .await
        .unwrap();
    assert_eq!(
        (moved["101"].hub_id, moved["101"].last_hash.as_deref()),
        (other_hub, Some("h3"))
    );
    let left = store.xref_find_by_hub(&[hub]).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(
        (left[0].connection.as_str(), left[0].last_hash.as_deref()),
        (erp.as_str(), Some("h1"))
    );
    assert_eq!(store.xref_find_by_hub(&[other_hub]).await.unwrap().len(), 1);
}

/// A page of 1,000 links is written and found with one call each.
pub async fn xref_pages_of_a_thousand_are_one_call_each(store: Arc<dyn Store>) {
    let connection = unique("erp");
    let links: Vec<XrefLink> = (0..1000)
        .map(|n| link(uuid::Uuid::new_v4(), &connection, &format!("SKU-{n}"), None))
        .collect();
    store.xref_upsert(&links).await.unwrap();
    let keys: Vec<String> = (0..1000).map(|n| format!("SKU-{n}")).collect();
    let found = store
        .xref_find_by_external(EntityKind::Product, &connection, &keys)
        .await
        .unwrap();
    assert_eq!(found.len(), 1000);
    let hubs: Vec<HubId> = links.iter().map(|link| link.hub_id).collect();
    assert_eq!(store.xref_find_by_hub(&hubs).await.unwrap().len(), 1000);
}

/// Delivered hashes are stored per flow, overwritten, and cleared.
pub async fn delivered_hashes_are_kept_per_flow_overwritten_and_cleared(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let other = unique("flow");
    let entries: Vec<DeliveredHash> = (0..1000)
        .map(|n| DeliveredHash {
            source_key: format!("K{n}"),
            hash: format!("h{n}"),
            source_hash: (n % 2 == 0).then(|| format!("s{n}")),
        })
        .collect();
    store.put_delivered_hashes(&flow, &entries).await.unwrap();
    store.put_delivered_hashes(&other, &entries[..1]).await.unwrap();
    let keys: Vec<String> = (0..1001).map(|n| format!("K{n}")).collect();
    let found = store.delivered_hashes(&flow, &keys).await.unwrap();
    assert_eq!(found.len(), 1000);
    assert_eq!(found["K7"].hash, "h7");
    assert_eq!(found["K7"].source_hash, None);
    assert_eq!(found["K8"].source_hash.as_deref(), Some("s8"));

    let twice = [
        DeliveredHash {
            source_key: "K7".into(),
            hash: "first".into(),
            source_hash: None,
        },
        DeliveredHash {
            source_key: "K7".into(),
            hash: "second".into(),
            source_hash: Some("s-second".into()),
        },
    ];
    store.put_delivered_hashes(&flow, &twice).await.unwrap();
    let replaced = &store.delivered_hashes(&flow, &["K7".into()]).await.unwrap()["K7"];
    assert_eq!(replaced.hash, "second");
    assert_eq!(replaced.source_hash.as_deref(), Some("s-second"));

    assert_eq!(store.clear_delivered_hashes(&flow).await.unwrap(), 1000);
    assert!(store.delivered_hashes(&flow, &keys).await.unwrap().is_empty());
    assert_eq!(
        store.delivered_hashes(&other, &keys).await.unwrap().len(),
        1,
        "another flow's hashes are kept"
    );
}

/// Keys come back from look-ups exactly as written, whatever characters they hold (the
/// SQLite store returns a look-up's rows as one JSON text).
pub async fn looked_up_keys_come_back_exactly_whatever_they_hold(store: Arc<dyn Store>) {
    let flow = unique("flow");
    let connection = unique("shop");
    let keys: Vec<String> = [
        "plain",
        "quote \" inside",
        "back\\slash",
        "tab\tand\nnewline",
        "Prekė ąčęėįšųūž",
        "[\"not\", \"an array\"]",
        "null",
        "emoji 🚲",
        "",
    ]
    .iter()
    .map(|key| (*key).to_owned())
    .collect();
    let hub = uuid::Uuid::new_v4();
    let entries: Vec<DeliveredHash> = keys
        .iter()
        .enumerate()
        .map(|(n, key)| DeliveredHash {
            source_key: key.clone(),
            hash: format!("h{n}"),
            source_hash: (n % 2 == 0).then(|| format!("s-{key}")),
        })
        .collect();
    store.put_delivered_hashes(&flow, &entries).await.unwrap();
    let links: Vec<XrefLink> = keys
        .iter()
        .enumerate()
        .map(|(n, key)| {
            link(
                hub,
                &connection,
                key,
                (n % 2 == 1).then(|| format!("l-{key}")).as_deref(),
            )
        })
        .collect();
    store.xref_upsert(&links).await.unwrap();

    let delivered = store.delivered_hashes(&flow, &keys).await.unwrap();
    let found = store
        .xref_find_by_external(EntityKind::Product, &connection, &keys)
        .await
        .unwrap();
    for (n, key) in keys.iter().enumerate() {
        let hashes = &delivered[key];
        assert_eq!(hashes.hash, format!("h{n}"), "{key:?}");
        assert_eq!(hashes.source_hash, (n % 2 == 0).then(|| format!("s-{key}")), "{key:?}");
        let link = &found[key];
        assert_eq!((link.hub_id, &link.external_id), (hub, key), "{key:?}");
        assert_eq!(link.last_hash, (n % 2 == 1).then(|| format!("l-{key}")), "{key:?}");
    }
    assert_eq!((delivered.len(), found.len()), (keys.len(), keys.len()));
    // By hub id: every link, exactly, in the order of their connection and external id.
    let by_hub = store.xref_find_by_hub(&[hub]).await.unwrap();
    let mut expected: Vec<(String, Option<String>)> = keys
        .iter()
        .enumerate()
        .map(|(n, key)| (key.clone(), (n % 2 == 1).then(|| format!("l-{key}"))))
        .collect();
    expected.sort();
    let came_back: Vec<(String, Option<String>)> = by_hub
        .into_iter()
        .map(|link| (link.external_id, link.last_hash))
        .collect();
    assert_eq!(came_back, expected);
}
