//! Loading a flow file: configuration validation plus mapping compilation, so that every
//! problem of the file is reported at once, before anything runs.
use std::path::Path;
use tiltas_config::{Catalog, Diagnostics, ValidatedConfig};
use tiltas_mapping::FlowMapping;

/// Loads and validates a flow file against the systems of `catalog` and compiles the mapping
/// of every flow.
pub fn load_config(path: &Path, catalog: &dyn Catalog) -> Result<ValidatedConfig, Diagnostics> {
    let config = tiltas_config::load(path, catalog)?;
    let mut diagnostics = Vec::new();
    for flow in &config.flows {
        if let Err(mut found) = FlowMapping::compile(&config, flow) {
            diagnostics.append(&mut found);
        }
    }
    if diagnostics.is_empty() {
        Ok(config)
    } else {
        Err(Diagnostics(diagnostics))
    }
}
