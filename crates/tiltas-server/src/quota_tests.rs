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
