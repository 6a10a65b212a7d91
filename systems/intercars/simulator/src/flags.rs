//! `tiltas sim intercars`: the flags of this simulator.
use crate::{router, Credentials, IntercarsSim, Seeding};
use std::sync::Arc;
use std::time::Duration;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim intercars` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The OAuth2 client id the token endpoint accepts.
    #[arg(long, env = "TILTAS_SIM_CLIENT_ID", default_value = "tiltas")]
    pub client_id: String,
    /// The OAuth2 client secret the token endpoint accepts.
    #[arg(long, env = "TILTAS_SIM_CLIENT_SECRET", default_value = "sim-secret")]
    pub client_secret: String,
    /// Parts of the shared catalogue to draw Inter Cars' assortment from (it carries about 80 %).
    #[arg(long, default_value_t = 250)]
    pub catalogue: usize,
    /// Invoices to start with, one a day back from yesterday.
    #[arg(long, default_value_t = 20)]
    pub invoices: usize,
    /// How long an access token lives, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime: u64,
    /// Requests served at once before 429 with `Retry-After`.
    #[arg(long, default_value_t = 8)]
    pub max_in_flight: usize,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let credentials = Credentials {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            token_lifetime: Duration::from_secs(self.token_lifetime),
        };
        let seeding = Seeding {
            seed: self.common.seed,
            catalogue: self.catalogue,
            invoices: self.invoices,
        };
        let sim = Arc::new(IntercarsSim::new(credentials, seeding).with_max_in_flight(self.max_in_flight));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
