//! A flow made ready to run once, when the engine is built: its compiled mapping, its money
//! rounding and its match path, so no run compiles or parses anything again.
use crate::money::MoneyRounding;
use crate::{payload_hash, EngineError};
use serde_json::Value;
use tiltas_config::{Flow, ValidatedConfig};
use tiltas_mapping::{FieldPath, FlowMapping};

/// A flow with everything a run needs that does not change between runs.
pub(crate) struct PreparedFlow {
    /// The flow as configured.
    pub flow: Flow,
    /// Its compiled `map`, `filter`, `values` and `defaults`.
    pub mapping: FlowMapping,
    /// Rounds money to the target's decimals; `None` when the target declares none.
    pub money: Option<MoneyRounding>,
    /// `match_on` as a path; `None` matches on the entity's natural key.
    match_path: Option<FieldPath>,
    /// What the payload of a source record depends on besides the record: the mapping, the
    /// rounding, the entity, this build. Part of each record's source hash, so an edited
    /// mapping maps every record again.
    pub fingerprint: String,
}

impl PreparedFlow {
    /// Compiles `flow`; a mapping problem is the run's error (load-time validation reports
    /// it first, so this is for configurations built in code).
    pub fn new(config: &ValidatedConfig, flow: &Flow) -> Result<PreparedFlow, EngineError> {
        let mapping = FlowMapping::compile(config, flow).map_err(|diagnostics| EngineError::Mapping {
            flow: flow.name.clone(),
            message: diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        })?;
        let money_places = config
            .connection(&flow.to.connection)
            .and_then(|connection| connection.system.money_places);
        let money = MoneyRounding::for_target(flow.entity, money_places);
        // The compiled mapping's Debug form holds every rule in order (value maps are
        // BTreeMaps, expressions their text), so it is the same in every process.
        let fingerprint = payload_hash(&Value::String(format!(
            "tiltas {}|{:?}|{:?}|{:?}|{:?}|{}",
            env!("CARGO_PKG_VERSION"),
            flow.entity,
            mapping,
            money,
            flow.match_on,
            flow.skip_without_code
        )));
        Ok(PreparedFlow {
            flow: flow.clone(),
            mapping,
            money,
            match_path: flow.match_on.as_deref().map(FieldPath::parse),
            fingerprint,
        })
    }

    /// The key a payload is found by in the target: its `match_on` field, else its natural key.
    pub fn match_key(&self, payload: &Value) -> Option<String> {
        match &self.match_path {
            Some(path) => match path.get(payload)? {
                Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            },
            None => tiltas_model::natural_key(self.flow.entity, payload),
        }
    }
}
