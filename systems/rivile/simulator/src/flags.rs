//! `tiltas sim rivile`: the flags of this simulator.
use crate::{router, RivileSim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim rivile` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Products to start with.
    #[arg(long, default_value_t = 100)]
    pub products: usize,
    /// Car parts of the shared catalogue (`tiltas sim intercars|omega|busmarket` with the same
    /// seed) to keep as products, with the parts suppliers as clients: their invoices can then
    /// be booked as purchases.
    #[arg(long, default_value_t = 0)]
    pub parts: usize,
    /// Clients to start with.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    /// The `ApiKey` the gateway accepts (its prefix before the dot is the API user).
    #[arg(long, alias = "token", env = "TILTAS_SIM_TOKEN", default_value = "TILTAS.sim-key")]
    pub api_key: String,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let seeding = Seeding {
            seed: self.common.seed,
            products: self.products,
            customers: self.customers,
        };
        let sim = Arc::new(RivileSim::new(self.api_key.clone(), seeding).with_parts(self.parts));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
