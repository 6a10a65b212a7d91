//! `tiltas sim SYSTEM --port PORT [--seed N] [--products N] …`.
use crate::args::SimArgs;
use std::process::ExitCode;
use std::sync::Arc;
use tiltas_connectors::reference::simulator::{router, ReferenceSim, Seeding};
use tiltas_sim::Harness;

/// The systems `tiltas sim` can simulate.
const SYSTEMS: [&str; 2] = ["reference", "rivile"];

/// Serves the simulator until the process is killed.
pub async fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    let seeding = Seeding {
        seed: args.seed,
        products: args.products,
        customers: args.customers,
        orders: args.orders,
    };
    let router = match args.system.as_str() {
        "reference" => {
            let sim = Arc::new(ReferenceSim::new(args.token.clone(), seeding));
            let harness = Harness::new(sim.clone(), args.seed);
            router(sim, harness)
        }
        "rivile" => {
            use tiltas_connectors::rivile::simulator::{router, RivileSim, Seeding};
            let seeding = Seeding {
                seed: args.seed,
                products: args.products,
                customers: args.customers,
            };
            let sim = Arc::new(RivileSim::new(args.token.clone(), seeding));
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
