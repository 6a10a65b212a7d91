//! `${ … }` expressions in maps and filters: Rhai with exact decimal arithmetic (`decimal`,
//! `no_float`: `19.99 * 3 + 0.1 + 0.2` is exactly `60.27`), sandboxed by operation and size
//! limits, compiled once when the configuration loads.
//!
//! The record's top-level canonical fields are variables (`price_net`, `lines`, `raw`, …);
//! absent fields are `()`. Decimal fields arrive as Decimal values, so money never meets a
//! float. `record` holds the whole record as a map, for names that clash with Rhai keywords.
//!
//! `round(x, places)` and `round(x)` round half away from zero (`round(2.345, 2)` is `2.35`),
//! as prices are rounded on invoices; they replace Rhai's own `round`, which rounds half to even.
use rhai::{Dynamic, Engine, EvalAltResult, Position, Scope, AST, INT};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Number, Value};
use std::str::FromStr;
use std::sync::Arc;
use tiltas_model::fields::{field_paths, field_type, FieldType};
use tiltas_model::EntityKind;

/// Operations one evaluation may take before it is stopped (a runaway loop, not a slow record).
const MAX_OPERATIONS: u64 = 100_000;

/// A compiled expression, ready to evaluate against records of one entity.
#[derive(Clone)]
pub struct CompiledExpression {
    engine: Arc<Engine>,
    ast: Arc<AST>,
    entity: EntityKind,
    variables: Arc<Vec<String>>,
    text: String,
}

impl std::fmt::Debug for CompiledExpression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${{ {} }}", self.text)
    }
}

impl PartialEq for CompiledExpression {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.entity == other.entity
    }
}

/// Builds the sandboxed engine every expression runs in.
fn sandboxed_engine() -> Engine {
    let mut engine = Engine::new();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_expr_depths(64, 32);
    engine.set_max_string_size(100_000);
    engine.set_max_array_size(10_000);
    engine.set_max_map_size(10_000);
    engine.set_max_call_levels(16);
    engine.set_strict_variables(true);
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    register_rounding(&mut engine);
    engine
}

/// Rounds half away from zero to `places` decimals, exactly; the error is for people.
fn round_half_away_from_zero(value: Decimal, places: INT) -> Result<Decimal, Box<EvalAltResult>> {
    let Ok(places) = u32::try_from(places) else {
        return Err(Box::new(EvalAltResult::ErrorRuntime(
            format!("round: places must be 0 or more, got {places}").into(),
            Position::NONE,
        )));
    };
    Ok(value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
}

/// Registers `round(x, places)` and `round(x)`. Functions registered on the engine are found
/// before the standard package's, so these shadow Rhai's half-to-even `round`.
fn register_rounding(engine: &mut Engine) {
    engine.register_fn("round", round_half_away_from_zero);
    engine.register_fn("round", |value: Decimal| {
        value.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
    });
    // A whole number is already round; accepting it spares `round(quantity, 2)` a type error
    // when a source sends quantities as integers.
    engine.register_fn("round", |value: INT, places: INT| {
        round_half_away_from_zero(Decimal::from(value), places).map(|_| value)
    });
    engine.register_fn("round", |value: INT| value);
}

/// The variables an expression over `entity` can use: its top-level fields, `raw`, `record`.
fn variable_names(entity: EntityKind) -> Vec<String> {
    let mut names: Vec<String> = field_paths(entity)
        .into_iter()
        .map(|path| path.split('.').next().unwrap_or(&path).to_owned())
        .collect();
    names.push("raw".to_owned());
    names.push("record".to_owned());
    names.sort();
    names.dedup();
    names
}

impl CompiledExpression {
    /// Compiles `text` for records of `entity`; the error is a message for people.
    pub fn compile(text: &str, entity: EntityKind) -> Result<CompiledExpression, String> {
        let engine = sandboxed_engine();
        let variables = variable_names(entity);
        let mut scope = Scope::new();
        for name in &variables {
            scope.push_dynamic(name.as_str(), Dynamic::UNIT);
        }
        let ast = engine.compile_expression_with_scope(&scope, text).map_err(|error| {
            format!(
                "expression `{text}` does not compile: {error}; fields of {entity} you can use: {}",
                variables.join(", ")
            )
        })?;
        Ok(CompiledExpression {
            engine: Arc::new(engine),
            ast: Arc::new(ast),
            entity,
            variables: Arc::new(variables),
            text: text.to_owned(),
        })
    }

    /// The expression's source text (inside `${ }`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates the expression against one canonical record.
    pub fn evaluate(&self, record: &Value) -> Result<Value, String> {
        let mut scope = Scope::new();
        let empty = Map::new();
        let fields = record.as_object().unwrap_or(&empty);
        for name in self.variables.iter() {
            let value = match name.as_str() {
                "record" => json_to_dynamic(self.entity, "", record),
                "raw" => fields.get("raw").map_or(Dynamic::UNIT, untyped_to_dynamic),
                field => fields
                    .get(field)
                    .map_or(Dynamic::UNIT, |value| json_to_dynamic(self.entity, field, value)),
            };
            scope.push_dynamic(name.as_str(), value);
        }
        let result: Dynamic = self
            .engine
            .eval_ast_with_scope(&mut scope, &self.ast)
            .map_err(|error| format!("expression `{}` failed: {error}", self.text))?;
        dynamic_to_json(&result).map_err(|message| format!("expression `{}` {message}", self.text))
    }

    /// Evaluates a filter: true keeps the record.
    pub fn evaluate_filter(&self, record: &Value) -> Result<bool, String> {
        match self.evaluate(record)? {
            Value::Bool(keep) => Ok(keep),
            other => Err(format!("filter `{}` must give true or false, gave {other}", self.text)),
        }
    }
}

/// Converts a canonical JSON value, typed by the model's field catalogue.
fn json_to_dynamic(entity: EntityKind, path: &str, value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(flag) => Dynamic::from_bool(*flag),
        Value::Number(number) => number_to_dynamic(number),
        Value::String(text) => match field_type(entity, path) {
            Some(FieldType::Decimal | FieldType::Money(_)) => match Decimal::from_str(text) {
                Ok(decimal) => Dynamic::from_decimal(decimal),
                Err(_) => Dynamic::from(text.clone()),
            },
            Some(FieldType::Integer) => text
                .parse::<i64>()
                .map_or_else(|_| Dynamic::from(text.clone()), Dynamic::from_int),
            _ => Dynamic::from(text.clone()),
        },
        Value::Array(items) => {
            Dynamic::from_array(items.iter().map(|item| json_to_dynamic(entity, path, item)).collect())
        }
        Value::Object(object) => {
            let mut map = rhai::Map::new();
            for (key, child) in object {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let converted = if key == "raw" {
                    untyped_to_dynamic(child)
                } else {
                    json_to_dynamic(entity, &child_path, child)
                };
                map.insert(key.as_str().into(), converted);
            }
            Dynamic::from_map(map)
        }
    }
}

/// Converts a system's own fields, which have no canonical types: numbers stay numbers.
fn untyped_to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(flag) => Dynamic::from_bool(*flag),
        Value::Number(number) => number_to_dynamic(number),
        Value::String(text) => Dynamic::from(text.clone()),
        Value::Array(items) => Dynamic::from_array(items.iter().map(untyped_to_dynamic).collect()),
        Value::Object(object) => Dynamic::from_map(
            object
                .iter()
                .map(|(key, child)| (key.as_str().into(), untyped_to_dynamic(child)))
                .collect(),
        ),
    }
}

fn number_to_dynamic(number: &Number) -> Dynamic {
    if let Some(integer) = number.as_i64() {
        return Dynamic::from_int(integer);
    }
    // Parsed from the number's text, never through f64, so no binary rounding creeps in.
    Decimal::from_str(&number.to_string())
        .or_else(|_| Decimal::from_scientific(&number.to_string()))
        .map_or_else(|_| Dynamic::from(number.to_string()), Dynamic::from_decimal)
}

fn dynamic_to_json(value: &Dynamic) -> Result<Value, String> {
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Ok(integer) = value.as_int() {
        return Ok(Value::Number(integer.into()));
    }
    if let Ok(decimal) = value.as_decimal() {
        // Decimals travel as strings, as everywhere in the canonical model.
        return Ok(Value::String(decimal.normalize().to_string()));
    }
    if value.is_string() || value.is_char() {
        return Ok(Value::String(value.to_string()));
    }
    if value.is_array() {
        let array = value
            .clone()
            .into_array()
            .map_err(|kind| format!("gave an unreadable list ({kind})"))?;
        return array
            .iter()
            .map(dynamic_to_json)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if value.is_map() {
        let map = value.clone().cast::<rhai::Map>();
        let mut object = Map::new();
        for (key, child) in map {
            object.insert(key.to_string(), dynamic_to_json(&child)?);
        }
        return Ok(Value::Object(object));
    }
    Err(format!(
        "gave a value of type {} that a record cannot hold",
        value.type_name()
    ))
}
