//! The field catalogue of every entity: which paths a canonical record has and their types.
//! Configuration validation (map targets, `match_on`, `create_only`, …), expressions and the
//! file connectors all read it, so a field is declared once here.
//!
//! Paths are dotted; an array's items share the array's path (`lines.sku` is the SKU of every
//! order line). A field of type [`FieldType::Map`] accepts any key below it (`attributes.color`).
use crate::EntityKind;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// The type of a canonical field, as it appears in canonical JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A string.
    Text,
    /// An exact decimal that is not money (a quantity, a rate, a weight), written as a JSON
    /// string (`"12.50"`), never a float.
    Decimal,
    /// An amount of money: an exact decimal like [`FieldType::Decimal`], which a target system
    /// may round to its precision for the kind of amount it is.
    Money(MoneyKind),
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Bool,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An RFC 3339 timestamp.
    DateTime,
    /// A list of strings.
    TextList,
    /// A table of string keys to string values (attributes).
    Map,
    /// A nested object (address, totals) whose fields are listed separately.
    Object,
    /// A list of nested objects (order lines, variants) whose fields are listed separately.
    ObjectList,
}

/// What an amount of money is, which decides how many decimals a system keeps of it
/// (an ERP may keep unit prices to 4 decimals, sums to 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyKind {
    /// The price of one unit (a product's price, an order line's unit price).
    UnitPrice,
    /// A sum: a line total, a tax amount, an order total, a payment.
    Sum,
}

use FieldType::*;
use MoneyKind::*;

const ADDRESS: [(&str, FieldType); 9] = [
    ("name", Text),
    ("company", Text),
    ("line1", Text),
    ("line2", Text),
    ("city", Text),
    ("postcode", Text),
    ("country", Text),
    ("phone", Text),
    ("email", Text),
];

const PRODUCT: &[(&str, FieldType)] = &[
    ("sku", Text),
    ("name", Text),
    ("description", Text),
    ("long_description", Text),
    ("ean", Text),
    ("unit", Text),
    ("price_net", Money(UnitPrice)),
    ("price_gross", Money(UnitPrice)),
    ("vat_rate", Decimal),
    ("currency", Text),
    ("categories", TextList),
    ("brand", Text),
    ("parent_sku", Text),
    ("attributes", Map),
    ("weight", Decimal),
    ("active", Bool),
    ("variants", ObjectList),
    ("variants.sku", Text),
    ("variants.name", Text),
    ("variants.ean", Text),
    ("variants.price_net", Money(UnitPrice)),
    ("variants.price_gross", Money(UnitPrice)),
    ("variants.attributes", Map),
    ("updated_at", DateTime),
];

const CATEGORY: &[(&str, FieldType)] = &[
    ("code", Text),
    ("name", Text),
    ("parent_code", Text),
    ("description", Text),
    ("updated_at", DateTime),
];

const STOCK: &[(&str, FieldType)] = &[
    ("sku", Text),
    ("warehouse", Text),
    ("on_hand", Decimal),
    ("reserved", Decimal),
    ("available", Decimal),
    ("updated_at", DateTime),
];

const CUSTOMER: &[(&str, FieldType)] = &[
    ("code", Text),
    ("kind", Text),
    ("name", Text),
    ("company_name", Text),
    ("first_name", Text),
    ("last_name", Text),
    ("company_code", Text),
    ("vat_code", Text),
    ("email", Text),
    ("phone", Text),
    ("group", Text),
    ("billing", Object),
    ("shipping", Object),
    ("updated_at", DateTime),
];

const PRICE_LIST: &[(&str, FieldType)] = &[
    ("code", Text),
    ("name", Text),
    ("group", Text),
    ("currency", Text),
    ("valid_from", Date),
    ("valid_to", Date),
    ("items", ObjectList),
    ("items.sku", Text),
    ("items.price", Money(UnitPrice)),
    ("items.discount_percent", Decimal),
    ("items.min_quantity", Decimal),
    ("updated_at", DateTime),
];

const ORDER: &[(&str, FieldType)] = &[
    ("number", Text),
    ("status", Text),
    ("created_at", DateTime),
    ("currency", Text),
    ("customer", Object),
    ("customer.code", Text),
    ("customer.email", Text),
    ("customer.name", Text),
    ("customer.company_name", Text),
    ("customer.company_code", Text),
    ("customer.vat_code", Text),
    ("customer.phone", Text),
    ("billing", Object),
    ("shipping", Object),
    ("lines", ObjectList),
    ("lines.sku", Text),
    ("lines.name", Text),
    ("lines.quantity", Decimal),
    ("lines.price", Money(UnitPrice)),
    ("lines.discount", Money(Sum)),
    ("lines.vat_rate", Decimal),
    ("lines.subtotal", Money(Sum)),
    ("lines.total", Money(Sum)),
    ("lines.total_tax", Money(Sum)),
    ("fees", ObjectList),
    ("fees.name", Text),
    ("fees.total", Money(Sum)),
    ("fees.total_tax", Money(Sum)),
    ("fees.vat_rate", Decimal),
    ("discounts", ObjectList),
    ("discounts.code", Text),
    ("discounts.total", Money(Sum)),
    ("discounts.total_tax", Money(Sum)),
    ("shipping_method", Text),
    ("payment_method", Text),
    ("totals", Object),
    ("totals.net", Money(Sum)),
    ("totals.vat", Money(Sum)),
    ("totals.shipping", Money(Sum)),
    ("totals.shipping_tax", Money(Sum)),
    ("totals.discount", Money(Sum)),
    ("totals.gross", Money(Sum)),
    ("employee", Text),
    ("warehouse", Text),
    ("note", Text),
    ("updated_at", DateTime),
];

const DOCUMENT: &[(&str, FieldType)] = &[
    ("number", Text),
    ("kind", Text),
    ("date", Date),
    ("counterparty", Text),
    ("warehouse", Text),
    ("to_warehouse", Text),
    ("currency", Text),
    ("lines", ObjectList),
    ("lines.sku", Text),
    ("lines.quantity", Decimal),
    ("lines.price", Money(UnitPrice)),
    ("lines.vat_rate", Decimal),
    ("total", Money(Sum)),
    ("note", Text),
    ("updated_at", DateTime),
];

const BANK_TRANSACTION: &[(&str, FieldType)] = &[
    ("reference", Text),
    ("account", Text),
    ("booking_date", Date),
    ("value_date", Date),
    ("amount", Money(Sum)),
    ("currency", Text),
    ("counterparty_name", Text),
    ("counterparty_account", Text),
    ("remittance_info", Text),
    ("end_to_end_id", Text),
    ("updated_at", DateTime),
];

const SUPPLIER_OFFER: &[(&str, FieldType)] = &[
    ("supplier", Text),
    ("part_code", Text),
    ("brand", Text),
    ("article", Text),
    ("ean", Text),
    ("name", Text),
    ("price", Money(UnitPrice)),
    ("price_gross", Money(UnitPrice)),
    ("currency", Text),
    ("availability", ObjectList),
    ("availability.branch", Text),
    ("availability.quantity", Decimal),
    ("availability.delivery_date", Date),
    ("updated_at", DateTime),
];

/// The nested objects whose fields are addresses.
const ADDRESS_OBJECTS: [&str; 2] = ["billing", "shipping"];

fn own_fields(entity: EntityKind) -> &'static [(&'static str, FieldType)] {
    match entity {
        EntityKind::Product => PRODUCT,
        EntityKind::Category => CATEGORY,
        EntityKind::Stock => STOCK,
        EntityKind::Customer => CUSTOMER,
        EntityKind::PriceList => PRICE_LIST,
        EntityKind::Order => ORDER,
        EntityKind::Document => DOCUMENT,
        EntityKind::BankTransaction => BANK_TRANSACTION,
        EntityKind::SupplierOffer => SUPPLIER_OFFER,
    }
}

/// Every field path of an entity's canonical record with its type, addresses expanded.
pub fn fields(entity: EntityKind) -> Vec<(String, FieldType)> {
    let mut all = Vec::new();
    for &(path, kind) in own_fields(entity) {
        all.push((path.to_owned(), kind));
        if kind == Object && ADDRESS_OBJECTS.contains(&path) {
            all.extend(ADDRESS.iter().map(|&(field, kind)| (format!("{path}.{field}"), kind)));
        }
    }
    all
}

/// Every field path of an entity's canonical record.
pub fn field_paths(entity: EntityKind) -> Vec<String> {
    fields(entity).into_iter().map(|(path, _)| path).collect()
}

/// The type of a canonical field path, if the entity has it.
pub fn field_type(entity: EntityKind, path: &str) -> Option<FieldType> {
    if let Some(&(_, kind)) = own_fields(entity).iter().find(|(known, _)| *known == path) {
        return Some(kind);
    }
    let (object, field) = path.split_once('.')?;
    if ADDRESS_OBJECTS.contains(&object) && own_fields(entity).iter().any(|(known, _)| *known == object) {
        return ADDRESS.iter().find(|(known, _)| *known == field).map(|&(_, kind)| kind);
    }
    None
}

/// Whether `path` names something a record of `entity` can hold: a canonical field, a key
/// below a map field (`attributes.color`), or a system's own field (`raw.N17_KILM`).
pub fn is_known_path(entity: EntityKind, path: &str) -> bool {
    if path.strip_prefix("raw.").is_some_and(|rest| !rest.is_empty()) {
        return true;
    }
    if field_type(entity, path).is_some() {
        return true;
    }
    // A key below a map field, at any depth of the map's name.
    let mut prefix = path;
    while let Some((parent, _)) = prefix.rsplit_once('.') {
        if field_type(entity, parent) == Some(Map) {
            return true;
        }
        prefix = parent;
    }
    false
}

/// Converts a text cell (a CSV column, a form value) into the canonical JSON value of a field:
/// decimals accept a decimal comma and spaces between thousands (`"1 234,50"` → `"1234.50"`),
/// booleans accept `true/false/yes/no/taip/ne/1/0`, lists split on `list_separator`. Empty text
/// is `null`. The error names what was expected, for a person.
pub fn coerce_text(kind: FieldType, text: &str, list_separator: char) -> Result<Value, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Value::Null);
    }
    match kind {
        Text | Object | ObjectList | Map => Ok(Value::String(text.to_owned())),
        Decimal | Money(_) => parse_decimal(text).map(|number| Value::String(number.to_string())),
        Integer => text
            .parse::<i64>()
            .map(|number| Value::Number(number.into()))
            .map_err(|_| format!("{text:?} is not a whole number")),
        Bool => match text.to_lowercase().as_str() {
            "true" | "yes" | "taip" | "1" | "y" | "t" => Ok(Value::Bool(true)),
            "false" | "no" | "ne" | "0" | "n" | "f" => Ok(Value::Bool(false)),
            _ => Err(format!("{text:?} is not a yes/no value (use true or false)")),
        },
        Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|date| Value::String(date.to_string()))
            .map_err(|_| format!("{text:?} is not a date (expected YYYY-MM-DD, e.g. 2026-11-23)")),
        DateTime => chrono::DateTime::parse_from_rfc3339(text)
            .map(|at| Value::String(at.with_timezone(&chrono::Utc).to_rfc3339()))
            .map_err(|_| format!("{text:?} is not a timestamp (expected e.g. 2026-11-23T08:00:00Z)")),
        TextList => Ok(Value::Array(
            text.split(list_separator)
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        )),
    }
}

/// Parses a decimal written as people write it: `12.50`, `12,50`, `1 234,50`, `-3`.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let normalized = if compact.contains(',') && !compact.contains('.') {
        compact.replace(',', ".")
    } else {
        compact
    };
    Decimal::from_str(&normalized)
        .or_else(|_| Decimal::from_scientific(&normalized))
        .map_err(|_| format!("{text:?} is not a number (expected e.g. 12.50 or 12,50)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn address_fields_are_known_below_billing_and_shipping() {
        assert_eq!(field_type(EntityKind::Customer, "billing.country"), Some(Text));
        assert_eq!(field_type(EntityKind::Order, "shipping.city"), Some(Text));
        assert_eq!(field_type(EntityKind::Product, "billing.city"), None);
        assert!(field_paths(EntityKind::Order).contains(&"billing.postcode".to_owned()));
    }

    #[test]
    fn map_keys_and_raw_fields_are_known_paths_but_typos_are_not() {
        assert!(is_known_path(EntityKind::Product, "attributes.color"));
        assert!(is_known_path(EntityKind::Product, "variants.attributes.size"));
        assert!(is_known_path(EntityKind::Product, "raw.N17_KILM"));
        assert!(!is_known_path(EntityKind::Product, "raw."));
        assert!(!is_known_path(EntityKind::Product, "skuu"));
        assert!(!is_known_path(EntityKind::Product, "name.first"));
    }

    #[test]
    fn decimals_accept_commas_and_thousand_spaces_but_not_letters() {
        assert_eq!(coerce_text(Decimal, "12,5", ';').unwrap(), json!("12.5"));
        assert_eq!(coerce_text(Decimal, "1 234,50", ';').unwrap(), json!("1234.50"));
        assert_eq!(coerce_text(Decimal, " -3 ", ';').unwrap(), json!("-3"));
        assert_eq!(coerce_text(Decimal, "", ';').unwrap(), Value::Null);
        let error = coerce_text(Decimal, "12,5a", ';').unwrap_err();
        assert!(error.contains("\"12,5a\" is not a number"), "{error}");
    }

    #[test]
    fn prices_and_sums_are_money_but_quantities_rates_and_weights_are_not() {
        assert_eq!(field_type(EntityKind::Product, "price_gross"), Some(Money(UnitPrice)));
        assert_eq!(field_type(EntityKind::Order, "lines.price"), Some(Money(UnitPrice)));
        assert_eq!(field_type(EntityKind::Order, "totals.gross"), Some(Money(Sum)));
        assert_eq!(field_type(EntityKind::Product, "vat_rate"), Some(Decimal));
        assert_eq!(field_type(EntityKind::Product, "weight"), Some(Decimal));
        assert_eq!(field_type(EntityKind::Order, "lines.quantity"), Some(Decimal));
        assert_eq!(coerce_text(Money(Sum), "1 234,50", ';').unwrap(), json!("1234.50"));
    }

    #[test]
    fn lists_split_on_the_separator_and_drop_empty_items() {
        assert_eq!(
            coerce_text(TextList, "Įrankiai/Grąžtai| Bosch |", '|').unwrap(),
            json!(["Įrankiai/Grąžtai", "Bosch"])
        );
    }

    #[test]
    fn booleans_accept_lithuanian_yes_and_no() {
        assert_eq!(coerce_text(Bool, "Taip", ';').unwrap(), json!(true));
        assert_eq!(coerce_text(Bool, "ne", ';').unwrap(), json!(false));
        assert!(coerce_text(Bool, "maybe", ';').is_err());
    }
}
