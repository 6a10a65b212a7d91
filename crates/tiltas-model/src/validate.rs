//! Validation of canonical records: typed errors that name the field and say what is wrong.
use crate::records::*;
use crate::EntityKind;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;

/// One problem of a record, at one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path (`lines[2].quantity`).
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

/// Every problem found in a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl ValidationErrors {
    /// Whether a field has a problem.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|error| error.field == field)
    }
}

/// A record that can check itself.
pub trait Validate {
    /// Every problem of the record; empty when it is valid.
    fn problems(&self) -> Vec<FieldError>;

    /// `Ok` when valid, else every problem.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(problems))
        }
    }
}

/// Collects problems while walking a record.
#[derive(Default)]
struct Checker {
    problems: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn required(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.fail(field, "is missing or empty; every record needs it");
        } else if value.trim().is_empty() {
            self.fail(field, format!("is blank ({value:?}); every record needs it"));
        }
    }

    fn not_negative(&mut self, field: &str, value: Option<Decimal>) {
        if let Some(value) = value {
            if value.is_sign_negative() && !value.is_zero() {
                self.fail(field, format!("is {value}; it cannot be negative"));
            }
        }
    }

    fn positive(&mut self, field: &str, value: Decimal) {
        if value <= Decimal::ZERO {
            self.fail(field, format!("is {value}; it must be more than 0"));
        }
    }

    fn percent(&mut self, field: &str, value: Option<Decimal>) {
        if let Some(value) = value {
            if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
                self.fail(
                    field,
                    format!("is {value}; a rate in percent is between 0 and 100 (e.g. 21)"),
                );
            }
        }
    }

    fn currency(&mut self, field: &str, value: Option<&str>) {
        if let Some(code) = value {
            if iso_currency::Currency::from_code(code).is_none() {
                self.fail(
                    field,
                    format!("{code:?} is not an ISO 4217 currency code (e.g. EUR, USD, PLN)"),
                );
            }
        }
    }

    fn email(&mut self, field: &str, value: Option<&str>) {
        if let Some(email) = value {
            if !email.is_empty() && !email_address::EmailAddress::is_valid(email) {
                self.fail(field, format!("{email:?} is not a valid e-mail address"));
            }
        }
    }

    fn ean(&mut self, field: &str, value: Option<&str>) {
        if let Some(code) = value {
            if !code.is_empty() && !is_valid_gtin(code) {
                self.fail(
                    field,
                    format!("{code:?} is not a valid EAN/GTIN (8, 12, 13 or 14 digits with a correct check digit)"),
                );
            }
        }
    }

    fn address(&mut self, field: &str, address: Option<&Address>) {
        let Some(address) = address else { return };
        if let Some(country) = &address.country {
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                self.fail(
                    format!("{field}.country"),
                    format!("{country:?} is not an ISO 3166 country code (two capital letters, e.g. LT)"),
                );
            }
        }
        self.email(&format!("{field}.email"), address.email.as_deref());
    }
}

/// Whether `code` is a GTIN-8, -12, -13 or -14 with a correct check digit.
pub fn is_valid_gtin(code: &str) -> bool {
    if !matches!(code.len(), 8 | 12 | 13 | 14) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    let (check, body) = digits.split_last().unwrap_or((&0, &[]));
    // Weights 3,1,3,… from the digit next to the check digit leftwards.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == *check
}

impl Validate for Product {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("sku", &self.sku);
        check.ean("ean", self.ean.as_deref());
        check.not_negative("price_net", self.price_net);
        check.not_negative("price_gross", self.price_gross);
        check.not_negative("weight", self.weight);
        check.percent("vat_rate", self.vat_rate);
        check.currency("currency", self.currency.as_deref());
        let mut seen = std::collections::HashSet::new();
        for (index, variant) in self.variants.iter().enumerate() {
            let field = |name: &str| format!("variants[{index}].{name}");
            check.required(&field("sku"), &variant.sku);
            if !variant.sku.is_empty() && !seen.insert(variant.sku.as_str()) {
                check.fail(
                    field("sku"),
                    format!("{:?} appears twice among the variants", variant.sku),
                );
            }
            check.ean(&field("ean"), variant.ean.as_deref());
            check.not_negative(&field("price_net"), variant.price_net);
            check.not_negative(&field("price_gross"), variant.price_gross);
        }
        check.problems
    }
}

impl Validate for Category {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("code", &self.code);
        check.problems
    }
}

impl Validate for StockLevel {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("sku", &self.sku);
        check.required("warehouse", &self.warehouse);
        check.not_negative("reserved", Some(self.reserved));
        check.problems
    }
}

impl Validate for Customer {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        let blank = |value: &Option<String>| value.as_deref().is_none_or(|text| text.trim().is_empty());
        if blank(&self.code) && blank(&self.email) {
            check.fail(
                "code",
                "is empty and so is `email`; a customer needs a code or an e-mail to be matched",
            );
        }
        check.email("email", self.email.as_deref());
        check.address("billing", self.billing.as_ref());
        check.address("shipping", self.shipping.as_ref());
        check.problems
    }
}

impl Validate for PriceList {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("code", &self.code);
        check.currency("currency", self.currency.as_deref());
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to) {
            if from > to {
                check.fail("valid_to", format!("{to} is before valid_from {from}"));
            }
        }
        for (index, item) in self.items.iter().enumerate() {
            check.required(&format!("items[{index}].sku"), &item.sku);
            check.not_negative(&format!("items[{index}].price"), item.price);
            check.percent(&format!("items[{index}].discount_percent"), item.discount_percent);
            check.not_negative(&format!("items[{index}].min_quantity"), item.min_quantity);
        }
        check.problems
    }
}

impl Validate for Order {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("number", &self.number);
        check.currency("currency", self.currency.as_deref());
        if let Some(customer) = &self.customer {
            check.email("customer.email", customer.email.as_deref());
        }
        check.address("billing", self.billing.as_ref());
        check.address("shipping", self.shipping.as_ref());
        for (index, line) in self.lines.iter().enumerate() {
            check.required(&format!("lines[{index}].sku"), &line.sku);
            check.positive(&format!("lines[{index}].quantity"), line.quantity);
            check.not_negative(&format!("lines[{index}].price"), line.price);
            check.percent(&format!("lines[{index}].vat_rate"), line.vat_rate);
        }
        check.problems
    }
}

impl Validate for Document {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("number", &self.number);
        check.currency("currency", self.currency.as_deref());
        // Inventory counts and write-offs may correct downwards; other documents move positive quantities.
        let signed = matches!(self.kind, DocumentKind::Inventory | DocumentKind::WriteOff);
        for (index, line) in self.lines.iter().enumerate() {
            check.required(&format!("lines[{index}].sku"), &line.sku);
            if !signed {
                check.positive(&format!("lines[{index}].quantity"), line.quantity);
            }
            check.not_negative(&format!("lines[{index}].price"), line.price);
            check.percent(&format!("lines[{index}].vat_rate"), line.vat_rate);
        }
        check.problems
    }
}

impl Validate for BankTransaction {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("reference", &self.reference);
        check.currency("currency", self.currency.as_deref());
        check.problems
    }
}

impl Validate for SupplierOffer {
    fn problems(&self) -> Vec<FieldError> {
        let mut check = Checker::default();
        check.required("supplier", &self.supplier);
        check.required("part_code", &self.part_code);
        check.not_negative("price", self.price);
        check.not_negative("price_gross", self.price_gross);
        check.currency("currency", self.currency.as_deref());
        for (index, branch) in self.availability.iter().enumerate() {
            check.required(&format!("availability[{index}].branch"), &branch.branch);
            check.not_negative(&format!("availability[{index}].quantity"), Some(branch.quantity));
        }
        check.problems
    }
}

/// Reads canonical JSON as `T` and validates it; a value of the wrong type is reported at its path.
fn typed<T: DeserializeOwned + Validate>(value: &Value) -> Result<(), ValidationErrors> {
    let record: T = serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        let message = error.inner().to_string();
        ValidationErrors(vec![FieldError { field, message }])
    })?;
    record.validate()
}

/// Validates a record of `entity` in canonical JSON form.
pub fn validate_json(entity: EntityKind, value: &Value) -> Result<(), ValidationErrors> {
    match entity {
        EntityKind::Product => typed::<Product>(value),
        EntityKind::Category => typed::<Category>(value),
        EntityKind::Stock => typed::<StockLevel>(value),
        EntityKind::Customer => typed::<Customer>(value),
        EntityKind::PriceList => typed::<PriceList>(value),
        EntityKind::Order => typed::<Order>(value),
        EntityKind::Document => typed::<Document>(value),
        EntityKind::BankTransaction => typed::<BankTransaction>(value),
        EntityKind::SupplierOffer => typed::<SupplierOffer>(value),
    }
}

/// The fields that identify a record of `entity` across systems, in order.
pub fn natural_key_fields(entity: EntityKind) -> &'static [&'static str] {
    match entity {
        EntityKind::Product => &["sku"],
        EntityKind::Category => &["code"],
        EntityKind::Stock => &["sku", "warehouse"],
        EntityKind::Customer => &["code"],
        EntityKind::PriceList => &["code"],
        EntityKind::Order => &["number"],
        EntityKind::Document => &["kind", "number"],
        EntityKind::BankTransaction => &["reference"],
        EntityKind::SupplierOffer => &["supplier", "part_code"],
    }
}

/// The natural key of a canonical record (`sku`, `sku@warehouse`, a customer's code or else
/// e-mail, …), or `None` when a part of it is missing or blank.
pub fn natural_key(entity: EntityKind, value: &Value) -> Option<String> {
    // A key sent as a number (`"sku": 123`) is the same key as its text.
    let text = |field: &str| match value.get(field)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    if entity == EntityKind::Customer {
        return text("code").or_else(|| text("email").map(|email| email.to_lowercase()));
    }
    let parts: Option<Vec<String>> = natural_key_fields(entity).iter().map(|field| text(field)).collect();
    let separator = if entity == EntityKind::Stock { "@" } else { ":" };
    parts.map(|parts| parts.join(separator))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_product_with_an_empty_sku_names_the_field() {
        let errors = validate_json(EntityKind::Product, &json!({"sku": " ", "name": "Grąžtas"})).unwrap_err();
        assert!(errors.has("sku"), "{errors}");
        assert!(errors.to_string().contains("field `sku`: is blank (\" \")"), "{errors}");
    }

    #[test]
    fn a_price_that_is_not_a_number_is_reported_at_its_path() {
        let errors = validate_json(EntityKind::Product, &json!({"sku": "A", "price_net": "12,5a"})).unwrap_err();
        assert_eq!(errors.0[0].field, "price_net", "{errors}");
    }

    #[test]
    fn decimals_arrive_as_strings_or_numbers_and_stay_exact() {
        let product: Product =
            serde_json::from_value(json!({"sku": "A", "price_net": "19.99", "weight": 0.1})).unwrap();
        assert_eq!(product.price_net, Some(Decimal::new(1999, 2)));
        assert_eq!(product.weight, Some(Decimal::new(1, 1)));
        assert_eq!(serde_json::to_value(&product).unwrap()["price_net"], json!("19.99"));
    }

    #[test]
    fn an_unknown_currency_is_refused_but_iso_codes_pass() {
        assert!(validate_json(EntityKind::Product, &json!({"sku": "A", "currency": "EUR"})).is_ok());
        let errors = validate_json(EntityKind::Product, &json!({"sku": "A", "currency": "EURO"})).unwrap_err();
        assert!(errors.to_string().contains("ISO 4217"), "{errors}");
    }

    #[test]
    fn a_malformed_email_is_refused_wherever_it_appears() {
        let errors = validate_json(
            EntityKind::Customer,
            &json!({"code": "K1", "email": "jonas@", "billing": {"email": "ok@example.lt", "country": "Lithuania"}}),
        )
        .unwrap_err();
        assert!(errors.has("email"), "{errors}");
        assert!(errors.has("billing.country"), "{errors}");
        assert!(!errors.has("billing.email"), "{errors}");
    }

    #[test]
    fn order_lines_need_a_positive_quantity() {
        let order = json!({"number": "1001", "lines": [{"sku": "A", "quantity": "2"}, {"sku": "B", "quantity": "-1"}]});
        let errors = validate_json(EntityKind::Order, &order).unwrap_err();
        assert_eq!(errors.0.len(), 1, "{errors}");
        assert!(errors.has("lines[1].quantity"), "{errors}");
    }

    #[test]
    fn negative_reservations_are_refused_but_negative_stock_on_hand_is_allowed() {
        assert!(validate_json(
            EntityKind::Stock,
            &json!({"sku": "A", "warehouse": "C", "on_hand": "-2"})
        )
        .is_ok());
        let errors = validate_json(
            EntityKind::Stock,
            &json!({"sku": "A", "warehouse": "C", "reserved": "-1"}),
        )
        .unwrap_err();
        assert!(errors.has("reserved"), "{errors}");
    }

    #[test]
    fn ean_check_digits_are_verified() {
        assert!(is_valid_gtin("4774477127824"));
        assert!(is_valid_gtin("96385074"));
        assert!(!is_valid_gtin("4774477127825"));
        assert!(!is_valid_gtin("47744771278"));
        let errors = validate_json(EntityKind::Product, &json!({"sku": "A", "ean": "4774477127825"})).unwrap_err();
        assert!(errors.has("ean"));
    }

    #[test]
    fn natural_keys_join_their_parts_and_fall_back_to_email_for_customers() {
        assert_eq!(
            natural_key(EntityKind::Stock, &json!({"sku": "A", "warehouse": "CENTR"})),
            Some("A@CENTR".into())
        );
        assert_eq!(natural_key(EntityKind::Stock, &json!({"sku": "A"})), None);
        assert_eq!(
            natural_key(EntityKind::Customer, &json!({"email": "Jonas@Example.lt"})),
            Some("jonas@example.lt".into())
        );
        assert_eq!(natural_key(EntityKind::Product, &json!({"sku": "  "})), None);
    }

    #[test]
    fn a_document_needs_a_known_kind() {
        let errors = validate_json(EntityKind::Document, &json!({"number": "S-1", "kind": "invoice"})).unwrap_err();
        assert_eq!(errors.0[0].field, "kind", "{errors}");
        assert!(validate_json(EntityKind::Document, &json!({"number": "S-1", "kind": "sales_invoice"})).is_ok());
    }
}
