//! `tiltas demo`: the README's first command. Starts the demo world's simulators (an ERP and a
//! shop, chosen in `tiltas_systems::scenarios`) on free loopback ports, runs its flows
//! (`examples/erp-shop.toml`) against them on a fresh SQLite
//! store, serves the dashboard and API, prints the address and an admin key, and keeps the
//! world moving — new shop orders (arriving by webhook), ERP stock changes — until Ctrl-C.
//! `--once` runs one round and prints what every flow delivered.
use crate::args::{DemoArgs, GlobalArgs};
use anyhow::Context;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tiltas_engine::SyncOptions;
use tiltas_server::AppState;
use tiltas_store::ApiScope;
use tiltas_systems::scenarios::DemoWorld;

/// The `due` flows in the order they run in one tick: each after the flows it runs `after`
/// (stock after products), otherwise in file order.
fn tick_order(state: &AppState, due: &[&str]) -> Vec<String> {
    state
        .config
        .in_dependency_order()
        .into_iter()
        .filter(|flow| due.contains(&flow.name.as_str()))
        .map(|flow| flow.name.clone())
        .collect()
}

/// Runs one flow, logging instead of failing: the demo goes on when one flow has a bad turn.
async fn run_flow(state: &AppState, name: &str) -> Value {
    let result = state.engine.sync(name, &SyncOptions::default()).await;
    state.count_run(name, &result);
    match result {
        Ok(report) => {
            let counters = report.counters;
            json!({
                "read": counters.read, "created": counters.created, "updated": counters.updated,
                "unchanged": counters.unchanged, "failed": counters.failed, "api_calls": counters.api_calls,
                "delivered": counters.created + counters.updated,
            })
        }
        Err(error) => {
            tracing::warn!(flow = name, %error, "demo run failed");
            json!({ "error": error.to_string() })
        }
    }
}

/// Runs the demo.
pub async fn run(global: &GlobalArgs, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    // A fresh store each time: the simulators start fresh, so old identity links would point
    // at records that no longer exist. `--db` keeps it where the user wants it.
    let dir = tempfile::Builder::new().prefix("tiltas-demo-").tempdir()?;
    let db = global
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("demo.db").display()));
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}: choose another address with --listen", args.listen))?;
    let address = listener.local_addr()?;

    let webhooks_to = format!("http://{address}");
    let world = DemoWorld::start((!args.once).then_some(webhooks_to.as_str())).await?;
    let flows_path = dir.path().join("erp-shop.toml");
    std::fs::write(&flows_path, world.flows())?;
    let config = match super::load_or_report(&flows_path) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let store = crate::store_url::open(Some(&db), Some(&config)).await?;
    let state = AppState::new(Arc::new(config), store, tiltas_systems::registry::systems());

    // Round one. The shop's first order is for one of its own products (the ERP's are not
    // in the shop yet): the order pipeline dead-letters it as "not in ERP", for the dashboard's
    // inbox to show. Then the catalogue, stock and customers reach the shop, and it sells.
    world.before_first_round().map_err(anyhow::Error::msg)?;
    let mut counters = Map::new();
    let first_round: Vec<&str> = state
        .config
        .flows
        .iter()
        .map(|flow| flow.name.as_str())
        .filter(|name| *name != DemoWorld::ORDERS_FLOW)
        .collect();
    for flow in tick_order(&state, &first_round) {
        let report = run_flow(&state, &flow).await;
        counters.insert(flow, report);
    }
    world.before_orders().map_err(anyhow::Error::msg)?;
    let orders = DemoWorld::ORDERS_FLOW;
    counters.insert(orders.to_owned(), run_flow(&state, orders).await);

    if args.once {
        if args.json {
            println!("{}", json!({ "flows": counters }));
        } else {
            for (flow, report) in &counters {
                println!("{flow:24} {report}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let (_, key) = super::keys::create(state.store.as_ref(), "demo", ApiScope::Admin).await?;
    println!("listening on http://{address}");
    println!("admin key: {key}");
    std::io::stdout().flush()?;
    eprintln!(
        "Tiltas demo: open http://{address}/ and sign in with the admin key above.\n\
         {}, flows in {}.\n\
         New shop orders and ERP stock changes every {} s; Ctrl-C stops.",
        world.describe(),
        flows_path.display(),
        args.every
    );
    tokio::spawn(tiltas_server::run_worker(state.clone()));
    let world = {
        let state = state.clone();
        let every = Duration::from_secs(args.every.max(1));
        async move {
            let mut turn = 0u64;
            loop {
                tokio::time::sleep(every).await;
                turn += 1;
                // Orders arrive by webhook (the inbox worker delivers them); stock moves in the ERP.
                let due = world.turn(turn);
                for flow in tick_order(&state, &due) {
                    run_flow(&state, &flow).await;
                }
            }
        }
    };
    tokio::spawn(world);
    axum::serve(
        listener,
        tiltas_server::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the demo server stopped")?;
    Ok(ExitCode::SUCCESS)
}
