//! `tiltas sim vesna`: the flags of this simulator.
use crate::{profile, router, FeedSim, Seeding, SimCredentials};
use std::path::PathBuf;
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim vesna` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The API token accepted as `Authorization: Bearer`.
    #[arg(long, env = "TILTAS_SIM_TOKEN", default_value = "sim-token")]
    pub token: String,
    /// The customer id the token was issued for (`?customer_id=`).
    #[arg(long, env = "TILTAS_SIM_CUSTOMER_ID", default_value = "10001")]
    pub customer_id: String,
    /// Parts of the shared catalogue to draw the assortment from (it carries about 55 %).
    #[arg(long, default_value_t = 250)]
    pub catalogue: usize,
    /// Invoices to start with, one a day back from yesterday.
    #[arg(long, default_value_t = 5)]
    pub invoices: usize,
    /// Write the files (prices.xlsx, invoices/, orders/) into this folder and exit, unless
    /// `--serve` is given too.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With `--out`: write the files, then serve them over HTTP on `--port` as well.
    #[arg(long)]
    pub serve: bool,
}

impl Flags {
    fn sim(&self) -> FeedSim {
        let credentials = SimCredentials::TokenAndCustomer {
            token: self.token.clone(),
            customer_id: self.customer_id.clone(),
        };
        let seeding = Seeding {
            seed: self.common.seed,
            catalogue: self.catalogue,
            invoices: self.invoices,
        };
        FeedSim::new(profile(), credentials, seeding)
    }

    /// With `--out` (and no `--serve`): writes the files and says what it wrote.
    pub fn write_files(&self) -> Option<Result<String, String>> {
        let out = self.out.as_ref().filter(|_| !self.serve)?;
        Some(
            self.sim()
                .write_files(out)
                .map_err(|error| format!("{}: {error}", out.display())),
        )
    }

    /// The simulator these flags describe, ready to serve (the files written first with `--out`).
    pub fn router(&self) -> axum::Router {
        let sim = Arc::new(self.sim());
        if let Some(out) = &self.out {
            match sim.write_files(out) {
                Ok(written) => eprintln!("{written}"),
                Err(error) => eprintln!("cannot write the files into {}: {error}", out.display()),
            }
        }
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
