//! MplusKASSA's own value shapes, as the official WSDL (`urn:mplusqapi`) types them:
//! `SoapMplusDateTime` structs, amounts in cents (`xsd:long`), quantities as an integer with
//! `decimalPlaces`, and numeric article numbers. Shared with the simulator.
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;
use tiltas_connector::soap::Element;

/// The Q-API's namespace.
pub const NAMESPACE: &str = "urn:mplusqapi";

/// A `SoapMplusDateTime` read as a time: every part is required by the WSDL; `timezone` is
/// taken as minutes east of UTC (the WSDL does not say; [I]).
pub fn read_datetime(element: &Element) -> Option<DateTime<Utc>> {
    let part = |name: &str| element.child_text(name)?.trim().parse::<i64>().ok();
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(part("year")?).ok()?,
        u32::try_from(part("mon")?).ok()?,
        u32::try_from(part("day")?).ok()?,
    )?;
    let time = date.and_hms_opt(
        u32::try_from(part("hour")?).ok()?,
        u32::try_from(part("min")?).ok()?,
        u32::try_from(part("sec")?).ok()?,
    )?;
    let offset = part("timezone").unwrap_or(0);
    Some(Utc.from_utc_datetime(&time) - chrono::Duration::minutes(offset))
}

/// A time as a `SoapMplusDateTime` named `name`, in UTC, parts in the WSDL's order.
pub fn datetime(name: &str, time: DateTime<Utc>) -> Element {
    Element::new(name)
        .with_child(Element::leaf("sec", time.second().to_string()))
        .with_child(Element::leaf("min", time.minute().to_string()))
        .with_child(Element::leaf("hour", time.hour().to_string()))
        .with_child(Element::leaf("day", time.day().to_string()))
        .with_child(Element::leaf("mon", time.month().to_string()))
        .with_child(Element::leaf("year", time.year().to_string()))
        .with_child(Element::leaf("isdst", "false"))
        .with_child(Element::leaf("timezone", "0"))
}

/// An amount in cents (`priceIncl`, `totalInclAmount`) as money.
pub fn from_cents(text: &str) -> Option<Decimal> {
    text.trim().parse::<i64>().ok().map(|cents| Decimal::new(cents, 2))
}

/// Money as cents, rounded half away from zero; `None` when it does not fit an `xsd:long`.
pub fn to_cents(amount: Decimal) -> Option<i64> {
    let cents =
        (amount * Decimal::ONE_HUNDRED).round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(cents.mantissa()).ok().filter(|_| cents.scale() == 0)
}

/// A quantity sent as an integer and its decimal places (2.5 → 25, 1).
pub fn from_scaled(amount: &str, places: Option<&str>) -> Option<Decimal> {
    let amount = amount.trim().parse::<i64>().ok()?;
    let places = places.map_or(Some(0), |places| places.trim().parse::<u32>().ok())?;
    (places <= 28).then(|| Decimal::new(amount, places))
}

/// The article number a SKU is: digits only, as MplusKASSA numbers its articles (`xsd:long`,
/// above 0). `Err` says why a SKU is not one.
pub fn article_number(sku: &str) -> Result<i64, String> {
    let sku = sku.trim();
    if sku.is_empty() || !sku.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "SKU \"{sku}\" is not a MplusKASSA article number, which holds digits only"
        ));
    }
    match sku.parse::<i64>() {
        Ok(number) if number > 0 => Ok(number),
        _ => Err(format!(
            "SKU \"{sku}\" is not a MplusKASSA article number (1 to 9223372036854775807)"
        )),
    }
}

/// The digits of a SKU as an article number (`LT-000123` → 123), for `sku_digits = "keep_digits"`.
pub fn digits_of(sku: &str) -> Result<i64, String> {
    let digits: String = sku.chars().filter(char::is_ascii_digit).collect();
    article_number(&digits).map_err(|_| {
        format!(
            "SKU \"{}\" holds no digits to number a MplusKASSA article with",
            sku.trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datetime_round_trips_through_its_struct() {
        let time = Utc.with_ymd_and_hms(2026, 3, 7, 14, 5, 9).single().expect("a time");
        assert_eq!(read_datetime(&datetime("changeTimestamp", time)), Some(time));
        assert_eq!(read_datetime(&Element::new("changeTimestamp")), None, "parts missing");
    }

    #[test]
    fn cents_and_scaled_quantities_are_exact() {
        assert_eq!(from_cents("1999"), Some(Decimal::new(1999, 2)));
        assert_eq!(to_cents(Decimal::new(19_995, 3)), Some(2000));
        assert_eq!(from_scaled("25", Some("1")), Some(Decimal::new(25, 1)));
        assert_eq!(from_scaled("x", None), None);
    }

    #[test]
    fn only_digits_make_an_article_number() {
        assert_eq!(article_number("1042"), Ok(1042));
        assert!(article_number("LT-1042").unwrap_err().contains("LT-1042"));
        assert!(article_number("0").is_err());
        assert_eq!(digits_of("LT-000123"), Ok(123));
        assert!(digits_of("ABC").is_err());
    }
}
