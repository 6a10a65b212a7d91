//! `GET /api/v1/quote` against the Inter Cars simulator (prices converted through a fixed
//! rate), its refusals in the API's error shape, and each supplier connection's capabilities.
use crate::{router, AppState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tiltas_sim::SimSystem;
use tiltas_store::{hash_api_key, ApiScope, NewApiKey};
use tiltas_systems::intercars::simulator::{router as intercars_router, Credentials, IntercarsSim, Seeding};
use tower::ServiceExt;

const KEY: &str = "tiltas_test_quote_read";
const SEED: u64 = 18;

async fn state() -> (tempfile::TempDir, AppState, Arc<IntercarsSim>) {
    let sim = Arc::new(IntercarsSim::new(
        Credentials {
            client_id: "garage".into(),
            client_secret: "s3cret".into(),
            token_lifetime: Duration::from_secs(3600),
        },
        Seeding {
            seed: SEED,
            catalogue: 40,
            invoices: 0,
        },
    ));
    let url = tiltas_sim::spawn(intercars_router(
        sim.clone(),
        tiltas_sim::Harness::new(sim.clone(), SEED),
    ))
    .await
    .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "[quote]\ncurrency = \"EUR\"\n[quote.rates]\nPLN = \"4.2675\"\n\n\
         [connections.ic]\nsystem = \"intercars\"\nbase_url = \"{url}/ic\"\ntoken_url = \"{url}/oauth2/token\"\n\
         client_id = \"garage\"\nclient_secret = \"s3cret\"\n\n[connections.files]\nsystem = \"jsonl\"\n"
    );
    let config = tiltas_config::parse_str(
        &text,
        &dir.path().join("quote.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .api_key_create(&NewApiKey {
            name: "r".into(),
            scope: ApiScope::Read,
            key_hash: hash_api_key(KEY),
            expires_at: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let state = AppState::new(Arc::new(config), store, tiltas_systems::registry::systems());
    (dir, state, sim)
}

async fn get(state: &AppState, path: &str, key: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::builder().uri(path);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let request = request.body(Body::empty()).unwrap_or_else(|e| panic!("{e}"));
    let response = router(state.clone())
        .oneshot(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_quote_is_served_in_eur_and_bad_requests_get_the_usual_error_shape() {
    let (_dir, state, sim) = state().await;
    let parts = sim.records("part").unwrap_or_default();
    let part = &parts[0];
    let article = part["article"].as_str().unwrap_or_default();
    let encoded: String =
        percent_encoding::utf8_percent_encode(article, percent_encoding::NON_ALPHANUMERIC).to_string();

    let (status, answer) = get(&state, &format!("/api/v1/quote?part={encoded}&qty=2"), Some(KEY)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["suppliers"][0]["status"], "answered", "{answer:#}");
    let offer = answer["offers"]
        .as_array()
        .and_then(|offers| offers.iter().find(|o| o["part_code"] == part["sku"]))
        .unwrap_or_else(|| panic!("seed {SEED}: no offer of {}: {answer:#}", part["sku"]));
    assert_eq!(
        (
            offer["price"]["currency"].as_str(),
            offer["price_company"]["currency"].as_str()
        ),
        (Some("PLN"), Some("EUR"))
    );
    assert!(offer["hub_id"].as_str().is_some_and(|id| id.len() == 36));
    let links = state
        .engine
        .store()
        .xref_find_by_external(
            tiltas_model::EntityKind::SupplierOffer,
            "ic",
            &[part["sku"].as_str().unwrap_or_default().to_owned()],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(links.len(), 1, "the supplier's code is kept in the identity map");

    for (path, key, status, code) in [
        ("/api/v1/quote", Some(KEY), StatusCode::BAD_REQUEST, "invalid"),
        (
            "/api/v1/quote?part=%2F%2F",
            Some(KEY),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "/api/v1/quote?part=W71275&qty=0",
            Some(KEY),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "/api/v1/quote?part=W71275&budget=1h",
            Some(KEY),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "/api/v1/quote?part=W71275&suppliers=files",
            Some(KEY),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/quote?part=W71275",
            None,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ] {
        let (got, body) = get(&state, path, key).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {body}"
        );
    }

    let (_, connections) = get(&state, "/api/v1/connections", Some(KEY)).await;
    let by_name = |name: &str| {
        connections
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == name).cloned())
            .unwrap_or_default()
    };
    assert_eq!(
        by_name("ic")["capabilities"],
        serde_json::json!({ "price": true, "availability": true, "order": true, "invoices": true })
    );
    assert!(by_name("files").get("capabilities").is_none(), "not a supplier");
    let (_, doc) = get(&state, "/api/v1/openapi.json", None).await;
    assert!(doc["paths"]["/api/v1/quote"]["get"].is_object(), "documented");
    assert!(doc["components"]["schemas"]["QuoteAnswer"].is_object());
}

#[test]
fn the_capability_matrix_in_the_connector_docs_is_generated_from_the_specs() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/connectors.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (start, end) = ("<!-- capabilities:start -->\n", "<!-- capabilities:end -->");
    let (Some(from), Some(to)) = (text.find(start), text.find(end)) else {
        panic!("{} has no {start} … {end} section", path.display())
    };
    let table = crate::capability_table(tiltas_systems::registry::systems());
    assert!(table.contains("| `intercars` | yes | yes | yes | yes |"), "{table}");
    let current = &text[from + start.len()..to];
    if current != table {
        if std::env::var_os("TILTAS_BLESS").is_some() {
            let updated = format!("{}{table}{}", &text[..from + start.len()], &text[to..]);
            std::fs::write(&path, updated).unwrap_or_else(|e| panic!("{e}"));
        } else {
            panic!(
                "{} is stale: run `TILTAS_BLESS=1 cargo test -p tiltas-server capability` and commit it\n{table}",
                path.display()
            );
        }
    }
}
