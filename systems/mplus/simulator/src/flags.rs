//! `tiltas sim mplus`: the flags of this simulator.
use crate::{router, MplusSim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim mplus` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Articles to start with (one product each, stock in branches 1 and 2).
    #[arg(long, default_value_t = 100)]
    pub products: usize,
    /// Relations to start with.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    /// Orders to start with.
    #[arg(long, default_value_t = 20)]
    pub orders: usize,
    /// The `ident` the endpoint accepts in its query string.
    #[arg(long, env = "TILTAS_SIM_IDENT", default_value = "tiltas")]
    pub ident: String,
    /// The `secret` the endpoint accepts in its query string.
    #[arg(long, env = "TILTAS_SIM_SECRET", default_value = "sim-secret")]
    pub secret: String,
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
        let sim = Arc::new(MplusSim::new(self.ident.clone(), self.secret.clone(), seeding));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
