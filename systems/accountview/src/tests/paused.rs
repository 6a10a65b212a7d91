//! A server paused on a connection never signed in: its scheduled runs wait, and signing in
//! (what `tiltas connect` stores) resumes them at the next turn.
use crate::AccountViewSystem;
use std::sync::Arc;
use tiltas_accountview_sim::{router, AccountViewSim, Credentials, Seeding};
use tiltas_server::{run_flow, AppState};
use tiltas_sim::Harness;

static SYSTEMS: tiltas_connector::Systems =
    tiltas_connector::Systems::new(&[&AccountViewSystem, &tiltas_files::JsonlSystem]);

async fn never_signed_in() -> (tempfile::TempDir, AppState, Arc<AccountViewSim>) {
    let sim = Arc::new(AccountViewSim::new(
        Credentials {
            client_id: "app".into(),
            client_secret: "s3cret".into(),
            company: "1".into(),
            token_lifetime: std::time::Duration::from_secs(3600),
        },
        Seeding {
            seed: 5,
            articles: 4,
            debtors: 0,
        },
    ));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 5)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[connections.books]\nsystem = \"accountview\"\nbase_url = \"{url}/api/v3/\"\ncompany = \"1\"\n\
         client_id = \"app\"\nclient_secret = \"s3cret\"\nredirect_uri = \"http://127.0.0.1:9/callback\"\n\n\
         [connections.files]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"products\"\nentity = \"product\"\nfrom = {{ connection = \"books\" }}\n\
         to = {{ connection = \"files\", file = \"out.jsonl\" }}\n"
    );
    let config = tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    (dir, AppState::new(Arc::new(config), store, SYSTEMS), sim)
}

async fn runs(state: &AppState) -> usize {
    state.store.runs(Some("products"), 10).await.unwrap().len()
}

#[tokio::test]
async fn a_paused_connection_signed_in_again_runs_at_the_next_turn() {
    let (_dir, state, sim) = never_signed_in().await;
    run_flow(&state, "products").await;
    let paused = state.paused("books").expect("paused: never signed in");
    assert!(paused.reason.contains("tiltas connect"), "{}", paused.reason);
    run_flow(&state, "products").await;
    assert_eq!(runs(&state).await, 1, "no run while paused");

    // What `tiltas connect` does: a refresh token sealed in the store.
    let vault = state.engine.vault();
    vault
        .save("books", "refresh_token", &sim.issue_refresh_token())
        .await
        .unwrap();
    run_flow(&state, "products").await;
    assert!(state.paused("books").is_none());
    let last = &state.store.runs(Some("products"), 1).await.unwrap()[0];
    assert_eq!((runs(&state).await, last.error.as_deref()), (2, None));
}
