use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, ReadRequest, Source, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tiltas_config::ValidatedConfig;
use tiltas_reference_sim::{router, ReferenceSim, Seeding};
use tiltas_sim::{Faults, Harness};

struct Sim {
    url: String,
    harness: Arc<Harness>,
    sim: Arc<ReferenceSim>,
}

async fn start(products: usize) -> Sim {
    let sim = Arc::new(ReferenceSim::new(
        "secret-token",
        Seeding {
            seed: 7,
            products,
            customers: 3,
            orders: 2,
        },
    ));
    let harness = Harness::new(sim.clone(), 7);
    let url = tiltas_sim::spawn(router(sim.clone(), harness.clone())).await.unwrap();
    Sim { url, harness, sim }
}

fn config(url: &str, token: &str, page_size: usize) -> ValidatedConfig {
    let text = format!(
        "[connections.ref]\nsystem = \"reference\"\nbase_url = \"{url}\"\ntoken = \"{token}\"\ntimeout = \"5s\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"product\"\nfrom = {{ connection = \"ref\" }}\nto = {{ connection = \"ref\" }}\npage_size = {page_size}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("flows.toml"), catalog())
        .unwrap_or_else(|errors| panic!("{errors}"))
}

async fn read_all(source: &mut dyn Source, since: Option<chrono::DateTime<chrono::Utc>>) -> (Vec<SourceRecord>, u64) {
    let mut request = ReadRequest {
        position: None,
        changed_since: since,
        page_size: 4,
    };
    let mut records = Vec::new();
    let mut calls = 0;
    loop {
        let page = source.read_page(&request).await.unwrap();
        calls += page.api_calls;
        records.extend(page.records.into_iter().map(Result::unwrap));
        match page.next {
            Some(next) => request.position = Some(next),
            None => return (records, calls),
        }
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    let one = ReferenceSim::new("t", Seeding::products(42, 5));
    let two = ReferenceSim::new("t", Seeding::products(42, 5));
    let other = ReferenceSim::new("t", Seeding::products(43, 5));
    use tiltas_sim::SimSystem;
    assert_eq!(one.records("product"), two.records("product"));
    assert_ne!(one.records("product"), other.records("product"));
}

#[tokio::test]
async fn every_record_is_read_once_in_pages_with_canonical_fields_and_raw_id() {
    let sim = start(10).await;
    let config = config(&sim.url, "secret-token", 4);
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (records, calls) = read_all(source.as_mut(), None).await;
    assert_eq!(records.len(), 10);
    assert_eq!(calls, 3, "10 records in pages of 4");
    let first = &records[0];
    assert_eq!(first.key, "p-000001");
    assert_eq!(first.data["sku"], "LT-000001");
    assert_eq!(first.data["raw"]["id"], "p-000001");
    assert!(
        first.data.get("id").is_none() && first.data.get("updated_at").is_none(),
        "{}",
        first.data
    );
    assert!(first.updated_at.is_some());
    assert!(tiltas_model::validate_json(tiltas_model::EntityKind::Product, &first.data).is_ok());
}

#[tokio::test]
async fn an_incremental_read_starts_at_the_change_time() {
    let sim = start(10).await;
    let config = config(&sim.url, "secret-token", 4);
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (all, _) = read_all(source.as_mut(), None).await;
    let since = all[6].updated_at;
    let (recent, _) = read_all(source.as_mut(), since).await;
    assert_eq!(
        recent.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["p-000007", "p-000008", "p-000009", "p-000010"]
    );
}

#[tokio::test]
async fn writes_report_each_item_and_a_bad_record_fails_alone() {
    let sim = start(0).await;
    let config = config(&sim.url, "secret-token", 4);
    let mut target = open_target(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let items = vec![
        WriteItem {
            source_key: "a".into(),
            target_id: None,
            payload: json!({"sku": "A", "price_net": "1.00"}),
        },
        WriteItem {
            source_key: "b".into(),
            target_id: None,
            payload: json!({"sku": "B", "currency": "EURO"}),
        },
        WriteItem {
            source_key: "c".into(),
            target_id: Some("p-999".into()),
            payload: json!({"sku": "C"}),
        },
    ];
    let result = target.write_batch(items).await.unwrap();
    assert!(matches!(&result.outcomes[0], WriteOutcome::Written { target_id } if target_id == "p-000001"));
    match &result.outcomes[1] {
        WriteOutcome::Failed(error) => {
            assert_eq!(error.kind, ErrorKind::Invalid);
            assert!(error.message.contains("ISO 4217"), "{}", error.message);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&result.outcomes[2], WriteOutcome::Failed(error) if error.message.contains("404")));

    let found = target.lookup(None, &["A".into(), "Z".into()]).await.unwrap();
    assert_eq!(found.found.len(), 1);
    assert_eq!(found.found["A"].target_id, "p-000001");
}

#[tokio::test]
async fn a_wrong_token_is_an_auth_failure_naming_the_fix() {
    let sim = start(1).await;
    let config = config(&sim.url, "wrong", 4);
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let error = source
        .read_page(&ReadRequest {
            page_size: 4,
            ..ReadRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("401"), "{}", error.message);
    assert!(
        error.message.contains("check the connection's `token`"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_429_carries_the_servers_retry_after() {
    let sim = start(1).await;
    sim.harness.set_faults(Faults {
        rate_limit_per_s: 1,
        retry_after_s: 2,
        ..Faults::default()
    });
    let config = config(&sim.url, "secret-token", 4);
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let request = ReadRequest {
        page_size: 4,
        ..ReadRequest::default()
    };
    let mut limited = None;
    for _ in 0..3 {
        if let Err(error) = source.read_page(&request).await {
            limited = Some(error);
            break;
        }
    }
    let error = limited.expect("the rate limit never applied");
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.retry_after, Some(Duration::from_secs(2)));
}

#[tokio::test]
async fn the_control_api_reports_stats_and_counts_duplicates() {
    let sim = start(3).await;
    let client = reqwest::Client::new();
    let config = config(&sim.url, "secret-token", 4);
    let mut target = open_target(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let twice = |sku: &str| WriteItem {
        source_key: sku.into(),
        target_id: None,
        payload: json!({"sku": sku}),
    };
    target.write_batch(vec![twice("LT-000001")]).await.unwrap();

    let stats: Value = client
        .get(format!("{}/__sim/stats", sim.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["records"]["product"], 4);
    assert_eq!(stats["records"]["stock"], 3);
    assert_eq!(stats["duplicates"], 1);
    assert_eq!(stats["requests"]["write"], 1);

    let mutated: Value = client
        .post(format!("{}/__sim/mutate", sim.url))
        .json(&json!({"entity": "order", "count": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mutated["changed"], 2);
    let bad = client
        .post(format!("{}/__sim/faults", sim.url))
        .json(&json!({"error_rat": 0.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    client.post(format!("{}/__sim/reset", sim.url)).send().await.unwrap();
    use tiltas_sim::SimSystem;
    assert_eq!(sim.sim.duplicates(), 0);
    assert_eq!(sim.sim.record_counts()["order"], 2);
}
