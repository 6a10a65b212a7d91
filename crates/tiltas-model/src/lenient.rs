//! Text fields as real systems send them: a SKU, code or id may come as a JSON number
//! (`"sku": 123`) from shops and plugins that store them numerically, and an absent value as
//! `null`. The canonical form is text, so these read numbers as their decimal text and `null`
//! as absent; anything else (an object, a list) is still refused with its type named.
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("text or a number")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Some(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // A code sent as a float (`123.0`) is still the code `123`; a fraction is refused,
        // since no SKU or id has one and rounding would invent a different code.
        if value.fract() == 0.0 && value.is_finite() && value.abs() < 1e15 {
            Ok(Some(format!("{value:.0}")))
        } else {
            Err(E::invalid_value(
                de::Unexpected::Float(value),
                &"text or a whole number",
            ))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A required text field: text, a number (as its text), or `null` (as empty).
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(deserializer.deserialize_any(TextVisitor)?.unwrap_or_default())
}

/// An optional text field: text, a number (as its text), or `null`/`""`-free absence.
pub(crate) fn optional_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_option(TextVisitor)
}

/// An optional amount: a decimal number or numeric text (`"12.50"`, `12.5`), with `null` and
/// `""` (how shops send "no value") as absent; other text is refused, quoted.
pub(crate) fn optional_decimal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<rust_decimal::Decimal>, D::Error> {
    use std::str::FromStr;
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(text)) => rust_decimal::Decimal::from_str(text.trim())
            .or_else(|_| rust_decimal::Decimal::from_scientific(text.trim()))
            .map(Some)
            .map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&text), &"a decimal number such as 12.50")),
        Some(serde_json::Value::Number(number)) => rust_decimal::Decimal::from_str(&number.to_string())
            .or_else(|_| rust_decimal::Decimal::from_scientific(&number.to_string()))
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{number} is not a decimal number Tiltas can hold"))),
        Some(other) => Err(de::Error::custom(format!(
            "invalid type: {other}, expected a decimal number such as 12.50"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use crate::{validate_json, EntityKind, Order};
    use serde_json::json;

    #[test]
    fn numbers_are_read_as_codes_and_null_as_absent() {
        let order: Order = serde_json::from_value(json!({
            "number": 727,
            "customer": {"code": null, "phone": 37060000000u64},
            "lines": [{"sku": 123, "quantity": "2"}, {"sku": 124.0, "quantity": 1}]
        }))
        .unwrap();
        assert_eq!(order.number, "727");
        assert_eq!(order.lines[0].sku, "123");
        assert_eq!(order.lines[1].sku, "124");
        let customer = order.customer.unwrap();
        assert_eq!(customer.code, None);
        assert_eq!(customer.phone.as_deref(), Some("37060000000"));
    }

    #[test]
    fn empty_amounts_are_absent_and_numeric_text_is_a_number() {
        let order: Order = serde_json::from_value(json!({
            "number": "1",
            "lines": [{"sku": "A", "quantity": "2", "price": "", "vat_rate": null, "total": "19.90", "total_tax": 4.18}]
        }))
        .unwrap();
        let line = &order.lines[0];
        assert_eq!((line.price, line.vat_rate), (None, None));
        assert_eq!(line.total.unwrap().to_string(), "19.90");
        assert_eq!(line.total_tax.unwrap().to_string(), "4.18");
        let errors = validate_json(
            EntityKind::Order,
            &json!({"number": "1", "lines": [{"sku": "A", "quantity": 1, "price": "12,5a"}]}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            errors.contains("lines[0].price") && errors.contains("\"12,5a\""),
            "{errors}"
        );
    }

    #[test]
    fn a_fractional_or_structured_code_is_refused_quoting_what_was_there() {
        let errors = validate_json(
            EntityKind::Order,
            &json!({"number": "1", "lines": [{"sku": 1.5, "quantity": 1}]}),
        )
        .unwrap_err()
        .to_string();
        assert!(errors.contains("lines[0].sku") && errors.contains("1.5"), "{errors}");
        let errors = validate_json(EntityKind::Product, &json!({"sku": {"code": "A"}}))
            .unwrap_err()
            .to_string();
        assert!(errors.contains("`sku`") && errors.contains("map"), "{errors}");
    }
}
