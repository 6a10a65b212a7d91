//! Request fields checked the way WordPress validates them against the resource schema:
//! strings must be strings, integers may be numeric strings, booleans accept `"true"`/`1`.
use super::WcError;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// A string field; `Ok(None)` when absent.
pub(super) fn string(input: &Map<String, Value>, name: &str) -> Result<Option<String>, WcError> {
    match input.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(WcError::invalid_param(name, format!("{name} is not of type string."))),
    }
}

/// A string field limited to `allowed` values.
pub(super) fn one_of(input: &Map<String, Value>, name: &str, allowed: &[&str]) -> Result<Option<String>, WcError> {
    match string(input, name)? {
        Some(value) if !allowed.contains(&value.as_str()) => Err(WcError::invalid_param(
            name,
            format!("{name} is not one of {}.", allowed.join(", ")),
        )),
        other => Ok(other),
    }
}

/// A money string (`"20.00"`, or `""` for none); numbers are refused as WordPress does.
pub(super) fn money(input: &Map<String, Value>, name: &str) -> Result<Option<String>, WcError> {
    let Some(text) = string(input, name)? else {
        return Ok(None);
    };
    let trimmed = text.trim();
    if !trimmed.is_empty() && Decimal::from_str(trimmed).is_err() {
        return Err(WcError::invalid_param(name, format!("{name} is not a decimal number.")));
    }
    Ok(Some(trimmed.to_owned()))
}

/// An integer field (JSON integer or numeric string); `Ok(Some(None))` for an explicit null.
pub(super) fn integer(input: &Map<String, Value>, name: &str) -> Result<Option<Option<i64>>, WcError> {
    let wrong = || WcError::invalid_param(name, format!("{name} is not of type integer."));
    match input.get(name) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Number(number)) => number
            .as_i64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|float| float.fract() == 0.0)
                    .map(|float| float as i64)
            })
            .map(|value| Some(Some(value)))
            .ok_or_else(wrong),
        Some(Value::String(text)) => text
            .trim()
            .parse::<i64>()
            .map(|value| Some(Some(value)))
            .map_err(|_| wrong()),
        Some(_) => Err(wrong()),
    }
}

/// A boolean field.
pub(super) fn boolean(input: &Map<String, Value>, name: &str) -> Result<Option<bool>, WcError> {
    let wrong = || WcError::invalid_param(name, format!("{name} is not of type boolean."));
    match input.get(name) {
        None => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(wrong()),
        },
        Some(Value::String(text)) => super::listing::boolean_text(text).map(Some).ok_or_else(wrong),
        Some(_) => Err(wrong()),
    }
}

/// An array field.
pub(super) fn array<'a>(input: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Vec<Value>>, WcError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(WcError::invalid_param(name, format!("{name} is not of type array."))),
    }
}

/// An object field.
pub(super) fn object<'a>(input: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Map<String, Value>>, WcError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(fields)) => Ok(Some(fields)),
        Some(_) => Err(WcError::invalid_param(name, format!("{name} is not of type object."))),
    }
}

/// A decimal parsed from a stored money string (`""` is zero).
pub(super) fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text.trim()).unwrap_or_default()
}

/// Money as WooCommerce prints it: two decimals.
pub(super) fn money_text(amount: Decimal) -> String {
    format!("{:.2}", amount.round_dp(2))
}

/// A URL-safe slug from a name: lower case, Lithuanian letters without marks, dashes.
pub(super) fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for character in name.to_lowercase().chars() {
        let plain = match character {
            'ą' => 'a',
            'č' => 'c',
            'ę' | 'ė' => 'e',
            'į' => 'i',
            'š' => 's',
            'ų' | 'ū' => 'u',
            'ž' => 'z',
            other => other,
        };
        if plain.is_ascii_alphanumeric() {
            slug.push(plain);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}
