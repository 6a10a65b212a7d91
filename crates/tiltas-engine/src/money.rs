//! Money as the target keeps it: [`MoneyRounding`] rounds the money fields of a mapped payload
//! to the decimals the target system declares (`SystemSpec::money_places`), half away from
//! zero, before the payload is hashed, sent and logged, so the activity log shows exactly what
//! went over the wire and a change the target cannot store is no change.
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use std::str::FromStr;
use tiltas_config::MoneyPlaces;
use tiltas_mapping::FieldPath;
use tiltas_model::fields::{fields, FieldType};
use tiltas_model::EntityKind;

/// The money fields of one entity with the decimals a target keeps of each; built once a run.
#[derive(Debug)]
pub(crate) struct MoneyRounding {
    fields: Vec<(FieldPath, u32)>,
}

impl MoneyRounding {
    /// The rounding a target with `places` needs for records of `entity`; `None` when the
    /// target declares no precision, so payloads go out as mapped.
    pub(crate) fn for_target(entity: EntityKind, places: Option<MoneyPlaces>) -> Option<MoneyRounding> {
        let places = places?;
        let fields = fields(entity)
            .into_iter()
            .filter_map(|(path, kind)| match kind {
                FieldType::Money(money) => Some((FieldPath::parse(&path), places.places(money))),
                _ => None,
            })
            .collect();
        Some(MoneyRounding { fields })
    }

    /// Rounds every money field of `payload` (through lists: every order line's price) that
    /// has more decimals than the target keeps. Quantities, rates and weights are not money
    /// and stay as they are; so do `raw.*` fields, whose meaning only the target knows.
    pub(crate) fn apply(&self, payload: &mut Value) {
        for (path, places) in &self.fields {
            // The closure never fails, so neither does the walk.
            let _ = path.update_each(payload, &mut |value| {
                round_amount(value, *places);
                Ok(())
            });
        }
    }
}

/// Rounds one amount to `places` decimals, half away from zero. An amount with no more
/// decimals than that is left exactly as it was (`"12.5"` is not padded to `"12.50"`), so
/// records that need no rounding keep the hash they were delivered with. A JSON number that
/// needs rounding becomes a decimal string, the canonical form of money; text that is no
/// number is left for validation to report.
fn round_amount(value: &mut Value, places: u32) {
    let amount = match value {
        Value::String(text) => Decimal::from_str(text.trim()).ok(),
        Value::Number(number) => {
            let text = number.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .ok()
        }
        _ => None,
    };
    let Some(amount) = amount else {
        return;
    };
    if amount.scale() <= places {
        return;
    }
    let rounded = amount.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    *value = Value::String(rounded.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round(entity: EntityKind, places: MoneyPlaces, mut payload: Value) -> Value {
        MoneyRounding::for_target(entity, Some(places))
            .unwrap()
            .apply(&mut payload);
        payload
    }

    #[test]
    fn amounts_are_rounded_half_away_from_zero() {
        let mut value = json!("2.345");
        round_amount(&mut value, 2);
        assert_eq!(value, json!("2.35"));
        let mut value = json!("-2.345");
        round_amount(&mut value, 2);
        assert_eq!(value, json!("-2.35"));
        let mut value = json!("355.3891");
        round_amount(&mut value, 2);
        assert_eq!(value, json!("355.39"));
        let mut value = json!("0.125");
        round_amount(&mut value, 2);
        assert_eq!(value, json!("0.13"), "half away from zero, not half to even");
    }

    #[test]
    fn amounts_with_few_enough_decimals_keep_their_exact_text() {
        for text in ["12.5", "12.50", "7", "-0.1"] {
            let mut value = json!(text);
            round_amount(&mut value, 2);
            assert_eq!(value, json!(text));
        }
        let mut whole = json!(12);
        round_amount(&mut whole, 2);
        assert_eq!(whole, json!(12));
    }

    #[test]
    fn a_number_that_needs_rounding_becomes_a_decimal_string_and_text_that_is_no_number_stays() {
        let mut number = json!(10.005);
        round_amount(&mut number, 2);
        assert_eq!(number, json!("10.01"));
        let mut text = json!("about 10");
        round_amount(&mut text, 2);
        assert_eq!(text, json!("about 10"));
        let mut null = Value::Null;
        round_amount(&mut null, 2);
        assert_eq!(null, Value::Null);
    }

    #[test]
    fn a_product_rounds_its_prices_but_not_its_vat_rate_or_weight() {
        let payload = round(
            EntityKind::Product,
            MoneyPlaces::all(2),
            json!({"sku": "A", "price_net": "293.7100", "price_gross": "355.3891", "vat_rate": "21.125",
                   "weight": "1.2345", "variants": [{"sku": "A-1", "price_gross": "9.995"}],
                   "raw": {"price": "1.23456"}}),
        );
        assert_eq!(
            payload,
            json!({"sku": "A", "price_net": "293.71", "price_gross": "355.39", "vat_rate": "21.125",
                   "weight": "1.2345", "variants": [{"sku": "A-1", "price_gross": "10.00"}],
                   "raw": {"price": "1.23456"}})
        );
    }

    #[test]
    fn unit_prices_and_sums_each_get_their_own_decimals_and_quantities_none() {
        let payload = round(
            EntityKind::Order,
            MoneyPlaces { unit_price: 4, sum: 2 },
            json!({"number": "1", "lines": [
                        {"sku": "A", "quantity": "3.33333", "price": "0.123456", "total": "0.41152", "vat_rate": "21"},
                        {"sku": "B", "quantity": "1", "price": "2.5", "total": "2.5"}],
                   "totals": {"net": "2.91152", "gross": "3.523"}}),
        );
        assert_eq!(
            payload,
            json!({"number": "1", "lines": [
                        {"sku": "A", "quantity": "3.33333", "price": "0.1235", "total": "0.41", "vat_rate": "21"},
                        {"sku": "B", "quantity": "1", "price": "2.5", "total": "2.5"}],
                   "totals": {"net": "2.91", "gross": "3.52"}})
        );
    }

    #[test]
    fn a_target_without_precision_needs_no_rounding() {
        assert!(MoneyRounding::for_target(EntityKind::Product, None).is_none());
    }
}
