//! `tiltas sim elit`: the flags of this simulator.
use crate::{router, Access, ElitSim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim elit` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The eCat login (`Login` / `login` in every body) the simulator accepts.
    #[arg(long, env = "TILTAS_SIM_LOGIN", default_value = "sim-login")]
    pub login: String,
    /// The eCat password the simulator accepts.
    #[arg(long, env = "TILTAS_SIM_PASSWORD", default_value = "sim-password")]
    pub password: String,
    /// The company the account belongs to: ELIT_CZ, ELIT_SK, ELIT_PL, ELIT_RO, ELIT_LT,
    /// ELIT_LV, ELIT_EE or ELIT_UA (prices in its currency, its warehouses).
    #[arg(long, default_value = "ELIT_LT", value_parser = company)]
    pub company: String,
    /// Parts of the shared catalogue to draw Elit's assortment from (it carries about 65 %).
    #[arg(long, default_value_t = 250)]
    pub catalogue: usize,
}

fn company(name: &str) -> Result<String, String> {
    crate::data::company(name)
        .map(|company| company.name.to_owned())
        .ok_or_else(|| {
            let known: Vec<&str> = crate::data::COMPANIES.iter().map(|c| c.name).collect();
            format!("Elit has no company {name:?}: use one of {}", known.join(", "))
        })
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let access = Access {
            login: self.login.clone(),
            password: self.password.clone(),
            company: self.company.clone(),
        };
        let seeding = Seeding {
            seed: self.common.seed,
            catalogue: self.catalogue,
        };
        // `company` was checked when the flags were parsed; a value set otherwise is ELIT_LT.
        let company = crate::data::company(&self.company)
            .or_else(|| crate::data::company("ELIT_LT"))
            .unwrap_or(&crate::data::COMPANIES[0]);
        let sim = ElitSim::of_company(access, company, seeding);
        let sim = Arc::new(sim);
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
