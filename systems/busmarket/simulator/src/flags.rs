//! `tiltas sim busmarket`: the flags of this simulator.
use crate::{router, BusmarketSim, Seeding};
use std::sync::Arc;
use std::time::Duration;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim busmarket` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The API token the simulator accepts in `Authorization` (as it is, no "Bearer").
    #[arg(long, env = "TILTAS_SIM_TOKEN", default_value = "sim-token")]
    pub token: String,
    /// Parts of the shared catalogue to draw Bus Market's assortment from (it carries about 70 %).
    #[arg(long, default_value_t = 250)]
    pub catalogue: usize,
    /// Invoices to start with, one a day back from yesterday.
    #[arg(long, default_value_t = 20)]
    pub invoices: usize,
    /// Requests allowed per rate-limit window before 429 with `Retry-After`.
    #[arg(long, default_value_t = 300)]
    pub rate_limit: u32,
    /// The rate-limit window, in seconds.
    #[arg(long, default_value_t = 60)]
    pub rate_window: u64,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let seeding = Seeding {
            seed: self.common.seed,
            catalogue: self.catalogue,
            invoices: self.invoices,
        };
        let sim = BusmarketSim::new(&self.token, seeding)
            .with_rate_limit(self.rate_limit, Duration::from_secs(self.rate_window.max(1)));
        let sim = Arc::new(sim);
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
