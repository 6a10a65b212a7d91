//! `tiltas sim woocommerce`: the flags of this simulator.
use crate::{router, Credentials, Seeding, WebhookTarget, WooSim};
use std::sync::Arc;
use tiltas_sim::{CommonFlags, Harness};

/// What `tiltas sim woocommerce` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Products to start with (some variable, a few without SKU).
    #[arg(long, default_value_t = 20)]
    pub products: usize,
    /// Customers to start with.
    #[arg(long, default_value_t = 10)]
    pub customers: usize,
    /// Orders to start with.
    #[arg(long, default_value_t = 0)]
    pub orders: usize,
    /// The consumer key the shop accepts.
    #[arg(long, env = "TILTAS_SIM_CONSUMER_KEY", default_value = "ck_tiltas_sim")]
    pub consumer_key: String,
    /// The consumer secret of that key.
    #[arg(long, env = "TILTAS_SIM_CONSUMER_SECRET", default_value = "cs_tiltas_sim")]
    pub consumer_secret: String,
    /// Subscribe this URL to every product, order and customer webhook topic.
    #[arg(long, requires = "webhook_secret")]
    pub webhook_url: Option<String>,
    /// The secret that signs webhook deliveries.
    #[arg(long, env = "TILTAS_SIM_WEBHOOK_SECRET", requires = "webhook_url")]
    pub webhook_secret: Option<String>,
    /// Behave as if served over HTTPS (Basic auth and query keys accepted).
    #[arg(long)]
    pub assume_https: bool,
}

impl Flags {
    /// The simulator these flags describe, ready to serve.
    pub fn router(&self) -> axum::Router {
        let seeding = Seeding {
            seed: self.common.seed,
            products: self.products,
            customers: self.customers,
            orders: self.orders,
            some_without_sku: true,
        };
        let credentials = Credentials {
            consumer_key: self.consumer_key.clone(),
            consumer_secret: self.consumer_secret.clone(),
        };
        let webhook = match (&self.webhook_url, &self.webhook_secret) {
            (Some(delivery_url), Some(secret)) => Some(WebhookTarget {
                delivery_url: delivery_url.clone(),
                secret: secret.clone(),
                resources: Vec::new(),
            }),
            _ => None,
        };
        let sim = Arc::new(WooSim::new(credentials, seeding, webhook, self.assume_https));
        router(sim.clone(), Harness::new(sim, self.common.seed))
    }
}
