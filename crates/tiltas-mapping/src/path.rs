//! Dotted field paths (`billing_address.city`, `lines.sku`, `raw.N17_KILM`) over JSON records.
//! A path that crosses a list (`lines.sku`) addresses that field in every item.
use crate::MappingError;
use serde_json::{Map, Value};

/// A dotted path into a JSON record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<String>,
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

impl FieldPath {
    /// Splits a dotted path; validation of the names is the configuration's job.
    pub fn parse(text: &str) -> FieldPath {
        FieldPath {
            segments: text.split('.').map(str::to_owned).collect(),
        }
    }

    /// The value at this path; `None` when absent or when the path crosses a list.
    pub fn get<'a>(&self, record: &'a Value) -> Option<&'a Value> {
        let mut current = record;
        for segment in &self.segments {
            current = current.as_object()?.get(segment)?;
        }
        Some(current)
    }

    /// Sets the value at this path, creating objects on the way.
    pub fn set(&self, record: &mut Value, value: Value) -> Result<(), MappingError> {
        let Some((last, parents)) = self.segments.split_last() else {
            return Ok(());
        };
        let mut current = record;
        for segment in parents {
            let object = self.object_mut(current)?;
            current = object
                .entry(segment.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if current.is_null() {
                *current = Value::Object(Map::new());
            }
        }
        self.object_mut(current)?.insert(last.clone(), value);
        Ok(())
    }

    /// Removes the field at this path (in every item of a crossed list).
    pub fn remove(&self, record: &mut Value) {
        fn walk(value: &mut Value, segments: &[String]) {
            match value {
                Value::Array(items) => items.iter_mut().for_each(|item| walk(item, segments)),
                Value::Object(object) => match segments {
                    [last] => {
                        object.remove(last);
                    }
                    [first, rest @ ..] => {
                        if let Some(child) = object.get_mut(first) {
                            walk(child, rest);
                        }
                    }
                    [] => {}
                },
                _ => {}
            }
        }
        walk(record, &self.segments);
    }

    /// Calls `update` on every present, non-null value at this path (through lists).
    pub fn update_each(
        &self,
        record: &mut Value,
        update: &mut dyn FnMut(&mut Value) -> Result<(), MappingError>,
    ) -> Result<(), MappingError> {
        fn walk(
            value: &mut Value,
            segments: &[String],
            update: &mut dyn FnMut(&mut Value) -> Result<(), MappingError>,
        ) -> Result<(), MappingError> {
            match (value, segments) {
                (Value::Array(items), _) if !segments.is_empty() => {
                    for item in items {
                        walk(item, segments, update)?;
                    }
                    Ok(())
                }
                (value, []) => update(value),
                (Value::Object(object), [first, rest @ ..]) => match object.get_mut(first) {
                    Some(child) => walk(child, rest, update),
                    None => Ok(()),
                },
                _ => Ok(()),
            }
        }
        walk(record, &self.segments, update)
    }

    /// Sets `default` where the field is absent or null (in every item of a crossed list).
    pub fn fill_each(&self, record: &mut Value, default: &Value) -> Result<(), MappingError> {
        fn walk(value: &mut Value, segments: &[String], default: &Value) {
            match value {
                Value::Array(items) => items.iter_mut().for_each(|item| walk(item, segments, default)),
                Value::Object(object) => match segments {
                    [last] => {
                        let slot = object.entry(last.clone()).or_insert(Value::Null);
                        if slot.is_null() {
                            *slot = default.clone();
                        }
                    }
                    [first, rest @ ..] => {
                        let child = object.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
                        if child.is_null() {
                            *child = Value::Object(Map::new());
                        }
                        walk(child, rest, default);
                    }
                    [] => {}
                },
                _ => {}
            }
        }
        walk(record, &self.segments, default);
        Ok(())
    }

    fn object_mut<'a>(&self, value: &'a mut Value) -> Result<&'a mut Map<String, Value>, MappingError> {
        match value {
            Value::Object(object) => Ok(object),
            other => Err(MappingError {
                message: format!(
                    "field `{self}`: cannot set a field inside a {} value; map list items with `values` or `defaults`",
                    json_kind(other)
                ),
            }),
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "text",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}
