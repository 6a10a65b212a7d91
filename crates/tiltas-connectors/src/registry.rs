//! The list of systems Tiltas can connect to, and opening a flow's source and target.
use crate::{file, reference, rivile, woocommerce, CallGate, ConnectorError, ErrorKind, Source, Target};
use std::sync::Arc;
use tiltas_config::{Catalog, Connection, Flow, SystemSpec, ValidatedConfig};

/// Every system, in the order shown to people.
static SYSTEMS: [&SystemSpec; 5] = [
    &file::CSV,
    &file::JSONL,
    &reference::REFERENCE,
    &rivile::RIVILE,
    &woocommerce::WOOCOMMERCE,
];

/// The catalogue of systems, for configuration validation.
struct Registry;

impl Catalog for Registry {
    fn system(&self, name: &str) -> Option<&'static SystemSpec> {
        SYSTEMS.iter().copied().find(|spec| spec.name == name)
    }

    fn system_names(&self) -> Vec<&'static str> {
        SYSTEMS.iter().map(|spec| spec.name).collect()
    }
}

/// The catalogue of every system this build knows.
pub fn catalog() -> &'static dyn Catalog {
    &Registry
}

fn connection<'a>(config: &'a ValidatedConfig, name: &str) -> Result<&'a Connection, ConnectorError> {
    config.connection(name).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!("connection \"{name}\" is not defined in {}", config.file.display()),
        )
    })
}

fn unsupported(connection: &Connection, side: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Fatal,
        format!(
            "connection \"{}\": system {} cannot be a flow's {side} in this build",
            connection.name, connection.system.name
        ),
    )
}

/// Opens the source of a flow (its `from`); every request it sends passes `gate`.
pub fn open_source(
    config: &ValidatedConfig,
    flow: &Flow,
    gate: Arc<dyn CallGate>,
) -> Result<Box<dyn Source>, ConnectorError> {
    let connection = connection(config, &flow.from.connection)?;
    if connection.system.name == reference::REFERENCE.name {
        return reference::open_source(connection, flow, gate);
    }
    if connection.system.name == rivile::RIVILE.name {
        return rivile::open_source(connection, flow, gate);
    }
    if connection.system.name == woocommerce::WOOCOMMERCE.name {
        return woocommerce::open_source(connection, flow, gate);
    }
    file::open_source(connection, flow, &config.base_dir)?.ok_or_else(|| unsupported(connection, "source"))
}

/// Opens the target of a flow (its `to`); every request it sends passes `gate`.
pub fn open_target(
    config: &ValidatedConfig,
    flow: &Flow,
    gate: Arc<dyn CallGate>,
) -> Result<Box<dyn Target>, ConnectorError> {
    let connection = connection(config, &flow.to.connection)?;
    if connection.system.name == reference::REFERENCE.name {
        return reference::open_target(connection, flow, gate);
    }
    if connection.system.name == rivile::RIVILE.name {
        return rivile::open_target(connection, flow, gate);
    }
    if connection.system.name == woocommerce::WOOCOMMERCE.name {
        return woocommerce::open_target(connection, flow, gate);
    }
    file::open_target(connection, flow, &config.base_dir)?.ok_or_else(|| unsupported(connection, "target"))
}
