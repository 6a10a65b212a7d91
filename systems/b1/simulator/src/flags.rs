//! `tiltas sim b1`: the flags of this simulator.
use crate::{router, B1Sim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim b1` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Items (products) to start with.
    #[arg(long, alias = "products", default_value_t = 100)]
    pub items: usize,
    /// Clients to start with.
    #[arg(long, alias = "customers", default_value_t = 20)]
    pub clients: usize,
    /// Warehouses to start with (each holds stock of every item).
    #[arg(long, default_value_t = 3)]
    pub warehouses: usize,
    /// Sales invoices to start with (about half of them paid).
    #[arg(long, default_value_t = 10)]
    pub invoices: usize,
    /// Requests the company's daily request package allows (B1's smallest plan has 417).
    #[arg(long, default_value_t = 10_000)]
    pub package: u64,
    /// The API key the simulator accepts (`B1-Api-Key`).
    #[arg(long, env = "TILTAS_SIM_B1_API_KEY", default_value = "b1-sim-key")]
    pub api_key: String,
    /// The private key requests are signed with (`B1-Signature`).
    #[arg(long, env = "TILTAS_SIM_B1_PRIVATE_KEY", default_value = "b1-sim-private-key")]
    pub private_key: String,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let seeding = Seeding {
            seed: self.common.seed,
            items: self.items,
            clients: self.clients,
            warehouses: self.warehouses,
            invoices: self.invoices,
        };
        let sim = Arc::new(B1Sim::new(&self.api_key, &self.private_key, seeding).with_package(self.package));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
