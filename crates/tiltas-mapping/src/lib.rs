//! Field maps, value maps and defaults of a flow (DESIGN §2 "Map"), compiled once from the
//! validated configuration into a [`FlowMapping`] and applied to every canonical record.
//!
//! A record first passes the flow's `filter`; its payload starts as the canonical record
//! without the source system's `raw` fields; then `map` entries set target paths from source
//! paths (canonical or `raw.X`) or `${ … }` expressions ([`CompiledExpression`]), `values`
//! translate codes, and `defaults` fill what is still empty.
#![forbid(unsafe_code)]

mod expression;
mod path;

pub use expression::CompiledExpression;
pub use path::FieldPath;

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tiltas_config::{Diagnostic, Flow, MapSource, ValidatedConfig};

/// Why a mapping could not be compiled; located in the flow file.
pub type MappingDiagnostics = Vec<Diagnostic>;

/// A value map: source code → target code, with an optional `"*"` fallback.
#[derive(Debug, Clone, PartialEq)]
struct ValueMap {
    field: FieldPath,
    table: BTreeMap<String, String>,
    fallback: Option<String>,
}

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq)]
enum ValueSource {
    Path(FieldPath),
    Expression(CompiledExpression),
}

/// The compiled mapping of one flow.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowMapping {
    filter: Option<CompiledExpression>,
    copies: Vec<(FieldPath, ValueSource)>,
    value_maps: Vec<ValueMap>,
    defaults: Vec<(FieldPath, Value)>,
    create_only: Vec<FieldPath>,
}

/// Why one record could not be mapped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct MappingError {
    /// For people: the field and what is wrong.
    pub message: String,
}

impl FlowMapping {
    /// Compiles the mapping of `flow`; problems are located in the flow file.
    pub fn compile(config: &ValidatedConfig, flow: &Flow) -> Result<FlowMapping, MappingDiagnostics> {
        let mut diagnostics = Vec::new();
        let mut compile = |text: &str, location| match CompiledExpression::compile(text, flow.entity) {
            Ok(expression) => Some(expression),
            Err(message) => {
                diagnostics.push(Diagnostic::new(
                    config.file.clone(),
                    location,
                    format!("flow \"{}\": {message}", flow.name),
                ));
                None
            }
        };
        let mut copies = Vec::new();
        for entry in &flow.map {
            let target = FieldPath::parse(&entry.target);
            match &entry.source {
                MapSource::Path(source) => copies.push((target, ValueSource::Path(FieldPath::parse(source)))),
                MapSource::Expression(expression) => {
                    if let Some(compiled) = compile(&expression.text, expression.location) {
                        copies.push((target, ValueSource::Expression(compiled)));
                    }
                }
            }
        }
        let filter = flow
            .filter
            .as_ref()
            .and_then(|filter| compile(&filter.text, filter.location));
        let value_maps = flow
            .values
            .iter()
            .map(|(field, table)| {
                let mut table = table.clone();
                let fallback = table.remove("*");
                ValueMap {
                    field: FieldPath::parse(field),
                    table,
                    fallback,
                }
            })
            .collect();
        let defaults = flow
            .defaults
            .iter()
            .map(|(field, value)| (FieldPath::parse(field), value.clone()))
            .collect();
        let create_only = flow.create_only.iter().map(|field| FieldPath::parse(field)).collect();
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        Ok(FlowMapping {
            filter,
            copies,
            value_maps,
            defaults,
            create_only,
        })
    }

    /// Whether the flow's filter keeps this source record (true without a filter).
    pub fn keeps(&self, record: &Value) -> Result<bool, MappingError> {
        match &self.filter {
            None => Ok(true),
            Some(filter) => filter
                .evaluate_filter(record)
                .map_err(|message| MappingError { message }),
        }
    }

    /// Maps one canonical record (with its source `raw` fields) to the payload for the target.
    pub fn apply(&self, record: &Value) -> Result<Value, MappingError> {
        let Value::Object(source) = record else {
            return Err(MappingError {
                message: "the source record is not a JSON object".into(),
            });
        };
        let mut payload: Map<String, Value> = source
            .iter()
            .filter(|(key, _)| key.as_str() != "raw")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut payload = Value::Object(std::mem::take(&mut payload));
        for (target, from) in &self.copies {
            match from {
                // A source field the record lacks leaves the target field as the connector made it.
                ValueSource::Path(path) => {
                    if let Some(value) = path.get(record).filter(|value| !value.is_null()) {
                        target.set(&mut payload, value.clone())?;
                    }
                }
                // An expression answering `()` asks for no value: the field is left out.
                ValueSource::Expression(expression) => {
                    let value = expression.evaluate(record).map_err(|message| MappingError {
                        message: format!("field `{target}`: {message}"),
                    })?;
                    if value.is_null() {
                        target.remove(&mut payload);
                    } else {
                        target.set(&mut payload, value)?;
                    }
                }
            }
        }
        for value_map in &self.value_maps {
            value_map
                .field
                .update_each(&mut payload, &mut |value| translate(value_map, value))?;
        }
        for (field, default) in &self.defaults {
            field.fill_each(&mut payload, default)?;
        }
        Ok(payload)
    }

    /// Removes the create-only fields from a payload about to update an existing record.
    pub fn strip_create_only(&self, payload: &mut Value) {
        for field in &self.create_only {
            field.remove(payload);
        }
    }
}

fn translate(value_map: &ValueMap, value: &mut Value) -> Result<(), MappingError> {
    let key = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null => return Ok(()),
        _ => {
            return Err(MappingError {
                message: format!(
                    "field `{}`: a value map applies to text, not to a list or object",
                    value_map.field
                ),
            })
        }
    };
    if let Some(mapped) = value_map.table.get(&key) {
        *value = Value::String(mapped.clone());
    } else if let Some(fallback) = &value_map.fallback {
        *value = Value::String(fallback.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
