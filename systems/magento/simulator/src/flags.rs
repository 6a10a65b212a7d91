//! `tiltas sim magento`: the flags of this simulator.
use crate::{router, MagentoSim, Seeding};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim magento` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Products to start with (about one in four configurable, with four children each).
    #[arg(long, default_value_t = 100)]
    pub products: usize,
    /// Customers to start with.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    /// Orders to start with.
    #[arg(long, default_value_t = 20)]
    pub orders: usize,
    /// The Bearer token the shop accepts (an integration's access token), also what
    /// `POST /rest/V1/integration/admin/token` answers for the admin login.
    #[arg(long, env = "TILTAS_SIM_TOKEN", default_value = "tiltas-sim-token")]
    pub token: String,
    /// The admin user name `POST /rest/V1/integration/admin/token` accepts.
    #[arg(long, default_value = "admin")]
    pub admin_user: String,
    /// The admin password `POST /rest/V1/integration/admin/token` accepts.
    #[arg(long, default_value = "admin123")]
    pub admin_password: String,
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
        let sim = Arc::new(
            MagentoSim::new(self.token.clone(), seeding)
                .with_admin(self.admin_user.clone(), self.admin_password.clone()),
        );
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
