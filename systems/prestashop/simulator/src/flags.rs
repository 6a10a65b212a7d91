//! `tiltas sim prestashop`: the flags of this simulator.
use crate::{router, PrestaSim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim prestashop` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Products to start with (one in four with combinations).
    #[arg(long, default_value_t = 20)]
    pub products: usize,
    /// Customers to start with, each with an address.
    #[arg(long, default_value_t = 10)]
    pub customers: usize,
    /// Orders to start with.
    #[arg(long, default_value_t = 0)]
    pub orders: usize,
    /// The Webservice key the shop accepts (PrestaShop's keys are 32 characters).
    #[arg(
        long,
        env = "TILTAS_SIM_PRESTASHOP_KEY",
        default_value = "TILTASSIMULATEDPRESTASHOPKEY0001"
    )]
    pub key: String,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let seeding = Seeding {
            seed: self.common.seed,
            products: self.products,
            customers: self.customers,
            orders: self.orders,
            combinations: true,
        };
        let sim = Arc::new(PrestaSim::new(self.key.clone(), seeding));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
