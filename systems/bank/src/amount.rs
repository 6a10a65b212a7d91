//! Amounts as the file states them. They stay decimal strings (no float, no re-scaling:
//! `8.850` stays `8.850`); `rust_decimal` is used only to add them up when a statement is
//! reconciled.
use rust_decimal::Decimal;
use std::str::FromStr;

/// The unsigned amount `text` with `.` as its decimal mark, or `None` when it is not an amount.
/// `decimal_mark` is the file's own (`,` in MT940); spaces inside are dropped (some MT940
/// exports group thousands with them), leading zeros too (`000000000001,62` is `1.62`), and an
/// amount with a mark but no decimals (`800,`) keeps no mark (`800`).
pub(crate) fn normalize(text: &str, decimal_mark: char) -> Option<String> {
    let compact: String = text.chars().filter(|character| *character != ' ').collect();
    let (whole, fraction) = match compact.split_once(decimal_mark) {
        Some((whole, fraction)) => (whole, fraction),
        None => (compact.as_str(), ""),
    };
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let normalized = if fraction.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{fraction}")
    };
    // Decimal holds 28 digits: more is not an amount a bank states.
    Decimal::from_str(&normalized).ok()?;
    Some(normalized)
}

/// `amount` (unsigned, normalized) with a minus sign when `negative` and not zero.
pub(crate) fn signed(amount: &str, negative: bool) -> String {
    let zero = amount.bytes().all(|byte| byte == b'0' || byte == b'.');
    if negative && !zero {
        format!("-{amount}")
    } else {
        amount.to_owned()
    }
}

/// The value of a signed amount this crate produced.
pub(crate) fn value(amount: &str) -> Decimal {
    Decimal::from_str(amount).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_their_scale_and_lose_only_padding() {
        assert_eq!(normalize("8.850", '.').as_deref(), Some("8.850"));
        assert_eq!(normalize("000000000001,62", ',').as_deref(), Some("1.62"));
        assert_eq!(normalize("800,", ',').as_deref(), Some("800"));
        assert_eq!(normalize("0,", ',').as_deref(), Some("0"));
        assert_eq!(normalize("11 27421,94", ',').as_deref(), Some("1127421.94"));
        assert_eq!(normalize(",5", ',').as_deref(), Some("0.5"));
        assert_eq!(normalize("", ','), None);
        assert_eq!(normalize(",", ','), None);
        assert_eq!(normalize("1,2,3", ','), None);
        assert_eq!(normalize("12a", ','), None);
        assert_eq!(normalize("-5.00", '.'), None);
        assert_eq!(normalize(&"9".repeat(40), '.'), None);
    }

    #[test]
    fn zero_is_never_negative() {
        assert_eq!(signed("0.00", true), "0.00");
        assert_eq!(signed("11.00", true), "-11.00");
        assert_eq!(signed("11.00", false), "11.00");
    }
}
