//! `tiltas sim SYSTEM --port PORT [--seed N] [--products N] …`.
use crate::args::SimArgs;
use std::process::ExitCode;
use std::sync::Arc;
use tiltas_sim::Harness;
use tiltas_systems::reference::simulator::{router, ReferenceSim, Seeding};

/// The systems `tiltas sim` can simulate.
const SYSTEMS: [&str; 3] = ["reference", "rivile", "woocommerce"];

/// Serves the simulator until the process is killed.
pub async fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    let seeding = Seeding {
        seed: args.seed,
        products: args.products.unwrap_or(100),
        customers: args.customers.unwrap_or(20),
        orders: args.orders.unwrap_or(20),
    };
    let router = match args.system.as_str() {
        "reference" => {
            let sim = Arc::new(ReferenceSim::new(args.token.clone(), seeding));
            let harness = Harness::new(sim.clone(), args.seed);
            router(sim, harness)
        }
        "rivile" => {
            use tiltas_systems::rivile::simulator::{router, RivileSim, Seeding};
            let seeding = Seeding {
                seed: args.seed,
                products: args.products.unwrap_or(100),
                customers: args.customers.unwrap_or(20),
            };
            let sim = Arc::new(RivileSim::new(args.token.clone(), seeding));
            let harness = Harness::new(sim.clone(), args.seed);
            router(sim, harness)
        }
        "woocommerce" => {
            use tiltas_systems::woocommerce::simulator::{router, Credentials, Seeding, WebhookTarget, WooSim};
            let seeding = Seeding {
                seed: args.seed,
                products: args.products.unwrap_or(20),
                customers: args.customers.unwrap_or(10),
                orders: args.orders.unwrap_or(0),
                some_without_sku: true,
            };
            let credentials = Credentials {
                consumer_key: args.consumer_key.clone(),
                consumer_secret: args.consumer_secret.clone(),
            };
            let webhook = match (&args.webhook_url, &args.webhook_secret) {
                (Some(delivery_url), Some(secret)) => Some(WebhookTarget {
                    delivery_url: delivery_url.clone(),
                    secret: secret.clone(),
                    resources: Vec::new(),
                }),
                _ => None,
            };
            let sim = Arc::new(WooSim::new(credentials, seeding, webhook, args.assume_https));
            let harness = Harness::new(sim.clone(), args.seed);
            router(sim, harness)
        }
        other => anyhow::bail!(
            "no simulator for system \"{other}\": simulators are {}",
            SYSTEMS.join(", ")
        ),
    };
    tiltas_sim::serve(router, args.port)
        .await
        .map_err(|error| anyhow::anyhow!("cannot serve on 127.0.0.1:{}: {error}", args.port))?;
    Ok(ExitCode::SUCCESS)
}
