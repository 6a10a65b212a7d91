//! `tiltas sim smartup`: the flags of this simulator.
use crate::{router, Seeding, SmartupSim};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};
use tiltas_smartup::wire::QuotaClass;

/// What `tiltas sim smartup` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The login the simulator accepts, as `user@company`.
    #[arg(long, env = "TILTAS_SIM_SMARTUP_LOGIN", default_value = "admin@demo")]
    pub login: String,
    /// The password the simulator accepts.
    #[arg(long, env = "TILTAS_SIM_SMARTUP_PASSWORD", default_value = "smartup-sim")]
    pub password: String,
    /// Items (with codes) to start with.
    #[arg(long, alias = "products", default_value_t = 100)]
    pub items: usize,
    /// Items without a code (exported only with «Выгружать данные без кодов»).
    #[arg(long, default_value_t = 5)]
    pub items_without_code: usize,
    /// Customers (legal and natural persons) to start with.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    /// Orders to start with.
    #[arg(long, default_value_t = 10)]
    pub orders: usize,
    /// Documents of each other type to start with.
    #[arg(long, default_value_t = 3)]
    pub documents: usize,
    /// Branches of a head organisation (0: a single organisation, filial_id 1; else head 100
    /// with branches 101…).
    #[arg(long, default_value_t = 0)]
    pub filials: usize,
    /// Daily requests of references (Smartup: 100).
    #[arg(long, default_value_t = 100)]
    pub reference_quota: u64,
    /// Daily requests of rare documents (Smartup: 300).
    #[arg(long, default_value_t = 300)]
    pub rare_quota: u64,
    /// Daily requests of orders and balances (Smartup: 500).
    #[arg(long, default_value_t = 500)]
    pub frequent_quota: u64,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let seeding = Seeding {
            seed: self.common.seed,
            items: self.items,
            items_without_code: self.items_without_code,
            customers: self.customers,
            orders: self.orders,
            documents: self.documents,
            filials: self.filials,
        };
        let sim = Arc::new(
            SmartupSim::new(&self.login, &self.password, seeding)
                .with_quota(QuotaClass::Reference, self.reference_quota)
                .with_quota(QuotaClass::Rare, self.rare_quota)
                .with_quota(QuotaClass::Frequent, self.frequent_quota),
        );
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
