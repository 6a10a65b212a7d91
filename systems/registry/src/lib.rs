//! The systems of this build: the one place that lists them. Each system lives in its own
//! folder under `systems/` (its connector crate, its simulator crate beside it, its README);
//! this crate feeds the [`registry`] handed to the engine, the server and configuration
//! validation, the simulators `tiltas sim` and `tiltas demo` start, and each system's part in
//! the connector contract suite ([`contract_coverage`]).
#![forbid(unsafe_code)]

pub mod registry;
pub mod scenarios;
mod simulators;

pub use simulators::{contract_coverage, ContractCoverage, Simulator};

pub use tiltas_connector::*;

/// CSV and JSON Lines files.
pub use tiltas_files as file;

/// AccountView.net and its simulator.
pub mod accountview {
    pub use tiltas_accountview::*;
    pub use tiltas_accountview_sim as simulator;
}

/// Inter Cars (parts supplier) and its simulator.
pub mod intercars {
    pub use tiltas_intercars::*;
    pub use tiltas_intercars_sim as simulator;
}

/// Omega (parts supplier) and its simulator.
pub mod omega {
    pub use tiltas_omega::*;
    pub use tiltas_omega_sim as simulator;
}

/// Bus Market (parts supplier) and its simulator.
pub mod busmarket {
    pub use tiltas_busmarket::*;
    pub use tiltas_busmarket_sim as simulator;
}

/// Elit (parts supplier) and its simulator.
pub mod elit {
    pub use tiltas_elit::*;
    pub use tiltas_elit_sim as simulator;
}

/// Unique Trade (parts supplier, file feeds) and its simulator.
pub mod uniquetrade {
    pub use tiltas_uniquetrade::*;
    pub use tiltas_uniquetrade_sim as simulator;
}

/// Vesna (parts supplier, file feeds, EUR only) and its simulator.
pub mod vesna {
    pub use tiltas_vesna::*;
    pub use tiltas_vesna_sim as simulator;
}

/// B1.lt and its simulator.
pub mod b1 {
    pub use tiltas_b1::*;
    pub use tiltas_b1_sim as simulator;
}
/// Bank statements (camt.052/053/054, MT940/MT942) from a drop folder, and their parser.
pub use tiltas_bank as bank;

/// The reference REST system (the worked example of a system) and its simulator.
pub mod reference {
    pub use tiltas_reference::*;
    pub use tiltas_reference_sim as simulator;
}

/// Magento 2 and its simulator.
pub mod magento {
    pub use tiltas_magento::*;
    pub use tiltas_magento_sim as simulator;
}

/// OpenCart (through its database) and its simulator.
pub mod opencart {
    pub use tiltas_opencart::*;
    pub use tiltas_opencart_sim as simulator;
}

/// MplusKASSA (the Q-API) and its simulator.
pub mod mplus {
    pub use tiltas_mplus::*;
    pub use tiltas_mplus_sim as simulator;
}

/// Rivile GAMA and its simulator.
pub mod rivile {
    pub use tiltas_rivile::*;
    pub use tiltas_rivile_sim as simulator;
}

/// WooCommerce and its simulator.
pub mod woocommerce {
    pub use tiltas_woocommerce::*;
    pub use tiltas_woocommerce_sim as simulator;
}

/// PrestaShop and its simulator.
pub mod prestashop {
    pub use tiltas_prestashop::*;
    pub use tiltas_prestashop_sim as simulator;
}

/// Smartup ERP and its simulator.
pub mod smartup {
    pub use tiltas_smartup::*;
    pub use tiltas_smartup_sim as simulator;
}
