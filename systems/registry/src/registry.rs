//! The systems of this build: the one list that feeds configuration validation, the engine,
//! the server's webhooks and the simulators. A new system is one line here, and with a
//! simulator one line in `simulators!` (its `tiltas sim` subcommand and contract fixture).
use crate::{
    accountview, b1, bank, busmarket, file, intercars, magento, mplus, opencart, prestashop, reference, rivile,
    smartup, woocommerce, CallGate, ConnectorError, Source, Systems, Target,
};
use std::sync::Arc;
use tiltas_config::{Catalog, Flow, ValidatedConfig};

/// Every system, in the order shown to people.
static SYSTEMS: Systems = Systems::new(&[
    &file::CsvSystem,
    &file::JsonlSystem,
    &bank::BankSystem,
    &reference::ReferenceSystem,
    &rivile::RivileSystem,
    &mplus::MplusSystem,
    &b1::B1System,
    &smartup::SmartupSystem,
    &woocommerce::WooCommerceSystem,
    &prestashop::PrestaShopSystem,
    &magento::MagentoSystem,
    &accountview::AccountViewSystem,
    &opencart::OpenCartSystem,
    &intercars::IntercarsSystem,
    &crate::omega::OmegaSystem,
    &busmarket::BusmarketSystem,
    &crate::elit::ElitSystem,
    &crate::uniquetrade::UniqueTradeSystem,
    &crate::vesna::VesnaSystem,
]);

/// Every system of this build.
pub fn systems() -> Systems {
    SYSTEMS
}

/// The catalogue of every system this build knows, for configuration validation.
pub fn catalog() -> &'static dyn Catalog {
    &SYSTEMS
}

/// Opens the source of a flow (its `from`); every request it sends passes `gate`.
pub fn open_source(
    config: &ValidatedConfig,
    flow: &Flow,
    gate: Arc<dyn CallGate>,
) -> Result<Box<dyn Source>, ConnectorError> {
    SYSTEMS.open_source(config, flow, gate)
}

/// Opens the target of a flow (its `to`); every request it sends passes `gate`.
pub fn open_target(
    config: &ValidatedConfig,
    flow: &Flow,
    gate: Arc<dyn CallGate>,
) -> Result<Box<dyn Target>, ConnectorError> {
    SYSTEMS.open_target(config, flow, gate)
}
