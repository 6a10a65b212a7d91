//! `GET /api/v1/quota` with a budget group: each member connection shows the shared budget,
//! what the group used today and what each member used.
use crate::AppState;
use std::sync::Arc;

#[tokio::test]
async fn a_budget_group_is_shown_on_each_member_with_every_members_requests() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[budget_groups.package]\ndaily_budget = 417\n\n\
                [connections.company-a]\nsystem = \"jsonl\"\nbudget_group = \"package\"\n\n\
                [connections.company-b]\nsystem = \"jsonl\"\nbudget_group = \"package\"\n\n\
                [connections.alone]\nsystem = \"jsonl\"\n\n\
                [[flows]]\nname = \"f\"\nentity = \"product\"\n\
                from = { connection = \"company-a\", file = \"in.jsonl\" }\nto = { connection = \"company-b\", file = \"out.jsonl\" }\n";
    let config = tiltas_config::parse_str(
        text,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let today = format!("day:{}", chrono::Utc::now().format("%Y-%m-%d"));
    for (counter, amount) in [
        ("company-a", 30),
        ("company-b", 12),
        ("group:package", 42),
        ("alone", 5),
    ] {
        store.quota_consume(counter, &today, amount, None).await.unwrap();
    }
    let state = AppState::new(Arc::new(config), store, tiltas_systems::registry::systems());
    let views = crate::api::quota_views(&state).await.unwrap();
    let a = views.iter().find(|view| view.connection == "company-a").unwrap();
    let group = a.budget_group.as_ref().expect("company-a is in the group");
    assert_eq!(
        (group.name.as_str(), group.daily_budget, group.used_today),
        ("package", 417, 42)
    );
    assert_eq!(group.connections["company-a"], 30);
    assert_eq!(group.connections["company-b"], 12);
    assert!(group.forecast >= 42, "{group:?}");
    let b = views.iter().find(|view| view.connection == "company-b").unwrap();
    assert_eq!(b.budget_group.as_ref().map(|group| group.used_today), Some(42));
    let alone = views.iter().find(|view| view.connection == "alone").unwrap();
    assert!(alone.budget_group.is_none());
    assert_eq!(alone.used_today, 5);
}

/// Two B1 companies sharing one payer's request package, as two connections in one budget
/// group of the package's size: Tiltas stops before B1 would refuse, naming the group, and the
/// quota view shows the package and each company's requests.
#[tokio::test]
async fn two_b1_companies_on_one_package_stop_at_the_shared_budget_before_b1_refuses() {
    use tiltas_sim::Harness;
    use tiltas_systems::b1::simulator::{router, B1Sim, Seeding};
    let seeding = || Seeding {
        seed: 4,
        items: 30,
        clients: 2,
        warehouses: 1,
        invoices: 0,
    };
    let payer = Arc::new(B1Sim::new("KEY-A", "SECRET-A", seeding()).with_package(1));
    let other = Arc::new(B1Sim::new("KEY-B", "SECRET-B", seeding()).sharing_package_of(&payer));
    let mut urls = Vec::new();
    for sim in [&payer, &other] {
        urls.push(
            tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 4)))
                .await
                .unwrap(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[budget_groups.package]\ndaily_budget = 1\n\n\
         [connections.company-a]\nsystem = \"b1\"\nbase_url = \"{}/api/\"\napi_key = \"KEY-A\"\nprivate_key = \"SECRET-A\"\nbudget_group = \"package\"\n\n\
         [connections.company-b]\nsystem = \"b1\"\nbase_url = \"{}/api/\"\napi_key = \"KEY-B\"\nprivate_key = \"SECRET-B\"\nbudget_group = \"package\"\n\n\
         [connections.files]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"a\"\nentity = \"product\"\nfrom = {{ connection = \"company-a\" }}\nto = {{ connection = \"files\", file = \"a.jsonl\" }}\n\n\
         [[flows]]\nname = \"b\"\nentity = \"product\"\nfrom = {{ connection = \"company-b\" }}\nto = {{ connection = \"files\", file = \"b.jsonl\" }}\n",
        urls[0], urls[1]
    );
    let config = tiltas_config::parse_str(
        &text,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(config), store, tiltas_systems::registry::systems());
    let options = tiltas_engine::SyncOptions::default();
    let first = state.engine.sync("a", &options).await.unwrap();
    assert_eq!(first.counters.created, 30);
    let refused = state.engine.sync("b", &options).await.unwrap_err().to_string();
    assert!(
        refused.contains("shared daily budget \"package\" of 1 requests is used up"),
        "{refused}"
    );
    assert_eq!(payer.package_used(), 1, "Tiltas sent nothing B1 would have refused");

    let views = crate::api::quota_views(&state).await.unwrap();
    let b = views.iter().find(|view| view.connection == "company-b").unwrap();
    let group = b.budget_group.as_ref().unwrap();
    assert_eq!((group.used_today, group.daily_budget), (1, 1));
    assert_eq!((group.connections["company-a"], group.connections["company-b"]), (1, 0));
}
