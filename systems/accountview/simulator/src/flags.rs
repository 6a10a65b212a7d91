//! `tiltas sim accountview`: the flags of this simulator.
use crate::{router, AccountViewSim, Credentials, Seeding};
use std::sync::Arc;
use std::time::Duration;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim accountview` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Article rows to start with (every eighth product configurable, with two variants).
    #[arg(long, default_value_t = 100)]
    pub articles: usize,
    /// Debtors to start with (every other one a company with a contact person).
    #[arg(long, default_value_t = 20)]
    pub debtors: usize,
    /// The OAuth2 client id the token endpoint accepts.
    #[arg(long, env = "TILTAS_SIM_CLIENT_ID", default_value = "tiltas")]
    pub client_id: String,
    /// The OAuth2 client secret the token endpoint accepts.
    #[arg(long, env = "TILTAS_SIM_CLIENT_SECRET", default_value = "sim-secret")]
    pub client_secret: String,
    /// The administration (`x-company`) the data endpoint serves.
    #[arg(long, default_value = "1")]
    pub company: String,
    /// How long an access token lives, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime: u64,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let credentials = Credentials {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            company: self.company.clone(),
            token_lifetime: Duration::from_secs(self.token_lifetime),
        };
        let seeding = Seeding {
            seed: self.common.seed,
            articles: self.articles,
            debtors: self.debtors,
        };
        let sim = Arc::new(AccountViewSim::new(credentials, seeding));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
