//! `tiltas sim reference`: the flags of this simulator.
use crate::{router, ReferenceSim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim reference` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Products to start with.
    #[arg(long, default_value_t = 100)]
    pub products: usize,
    /// Customers to start with.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    /// Orders to start with.
    #[arg(long, default_value_t = 20)]
    pub orders: usize,
    /// The bearer token the simulator accepts.
    #[arg(
        long,
        alias = "api-key",
        env = "TILTAS_SIM_TOKEN",
        default_value = "tiltas-sim-token"
    )]
    pub token: String,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let seeding = Seeding {
            seed: self.common.seed,
            products: self.products,
            customers: self.customers,
            orders: self.orders,
        };
        let sim = Arc::new(ReferenceSim::new(self.token.clone(), seeding));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
