//! The simulators of this build, for `tiltas sim SYSTEM`: each brings its own flags (its
//! crate's `Flags`), and every one takes `--port` (0 = a free port) and `--seed`.

/// One simulator with its flags: `tiltas sim <system> [flags]`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Simulator {
    /// The reference REST system (`docs/reference-api.md`).
    Reference(tiltas_reference_sim::Flags),
    /// Rivile GAMA's Manorivile API v2 gateway.
    Rivile(tiltas_rivile_sim::Flags),
    /// A WooCommerce shop's REST API v3, with signed webhooks.
    Woocommerce(tiltas_woocommerce_sim::Flags),
}

impl Simulator {
    /// The simulator's router, seeded as its flags say.
    pub fn router(&self) -> axum::Router {
        match self {
            Simulator::Reference(flags) => flags.router(),
            Simulator::Rivile(flags) => flags.router(),
            Simulator::Woocommerce(flags) => flags.router(),
        }
    }

    /// The port it asks for (0: any free one).
    pub fn port(&self) -> u16 {
        match self {
            Simulator::Reference(flags) => flags.common.port,
            Simulator::Rivile(flags) => flags.common.port,
            Simulator::Woocommerce(flags) => flags.common.port,
        }
    }
}
