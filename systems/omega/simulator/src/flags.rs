//! `tiltas sim omega`: the flags of this simulator.
use crate::{router, Access, OmegaSim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim omega` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The key (`Key` in every request's body) the simulator accepts.
    #[arg(long, env = "TILTAS_SIM_KEY", default_value = "sim-key")]
    pub key: String,
    /// The IP address the key is issued for; a request from another address is refused with
    /// `Success: false`. Unset: any loopback address.
    #[arg(long)]
    pub allowed_ip: Option<std::net::IpAddr>,
    /// Parts of the shared catalogue to draw Omega's assortment from (it carries about 70 %).
    #[arg(long, default_value_t = 250)]
    pub catalogue: usize,
    /// Expense documents (sales invoices) to start with, one a day back from yesterday.
    #[arg(long, default_value_t = 20)]
    pub invoices: usize,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let access = Access {
            key: self.key.clone(),
            allowed_ip: self.allowed_ip,
        };
        let seeding = Seeding {
            seed: self.common.seed,
            catalogue: self.catalogue,
            invoices: self.invoices,
        };
        let sim = Arc::new(OmegaSim::new(access, seeding));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
