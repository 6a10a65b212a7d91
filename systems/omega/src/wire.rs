//! Omega's public API as far as it is known (`shared/protocols/erp-and-suppliers.md` §5 and the
//! clients named in the README), shared with the simulator: paths under `…/public/api/v1.0`, the
//! `Success` envelope with its `Errors`, products with warehouse `Rests`, expense documents
//! (the supplier's sales invoices) and the basket/order shapes. Every call is a `POST` whose
//! body carries `Key`; errors come back as `Success: false` inside HTTP 200.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Search by the maker's number and brand (`Code`, `Brand`, `Rest`, `Key`) [T].
pub const SEARCH_BRAND: &str = "/product/searchBrand";
/// Search by phrase, paged by `From`/`Count` (`SearchPhrase`, `Rest`, `From`, `Count`, `Key`) [T].
pub const SEARCH: &str = "/product/search";
/// Expense documents (sales invoices to the customer) issued between `StartDate` and `EndDate` [T].
pub const EXPENSE_LIST: &str = "/expense/getExpenseDocumentList";
/// One expense document's head (`DocId`) [T].
pub const EXPENSE_DOCUMENT: &str = "/expense/getExpenseDocument";
/// One expense document's lines (`DocId`) [T].
pub const EXPENSE_DETAILS: &str = "/expense/getExpenseDocumentDetails";
/// Empties the account's basket [T].
pub const BASKET_CLEAR: &str = "/basket/clear";
/// Puts `ProductList: [{ProductId, Count}]` into the basket [T].
pub const BASKET_ADD_LIST: &str = "/basket/addProductList";
/// Makes an order of the basket [T endpoint; `Comment` and the answer inferred].
pub const ORDER_CREATE: &str = "/order/create";
/// The account's orders [T endpoint; `StartDate`/`EndDate` and the answer inferred].
pub const ORDER_LIST: &str = "/order/list";

/// The largest `Count` of one `product/search` page the simulator allows [I].
pub const MAX_SEARCH_COUNT: usize = 100;
/// How Omega writes dates in requests (`StartDate`, `EndDate`) [T] and in documents [I].
pub const DATE_FORMAT: &str = "%d.%m.%Y";
/// The `Error` code of a key Omega does not know [I].
pub const KEY_UNKNOWN: &str = "KeyNotFound";
/// The `Error` code of a key used from an address it was not issued for [I].
pub const IP_NOT_ALLOWED: &str = "IpNotAllowed";

/// Money and counts as JSON numbers (as Omega writes them), read from numbers or strings.
///
/// serde_json keeps a JSON number with a fraction as an `f64`; its shortest text is the text
/// Omega sent for any price of up to 15 digits, and that text is parsed as a decimal — no
/// arithmetic is ever done in floating point.
pub mod number {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    /// The decimal of a JSON number or string.
    pub fn parse(value: &serde_json::Value) -> Option<Decimal> {
        match value {
            serde_json::Value::Number(number) => {
                let text = number.to_string();
                Decimal::from_str(&text)
                    .or_else(|_| Decimal::from_scientific(&text))
                    .ok()
            }
            serde_json::Value::String(text) => Decimal::from_str(text.trim().replace(',', ".").as_str()).ok(),
            _ => None,
        }
    }

    /// Writes a decimal as a JSON number.
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<serde_json::Value>(&value.normalize().to_string()) {
            Ok(serde_json::Value::Number(number)) => serde::Serialize::serialize(&number, serializer),
            _ => serializer.serialize_str(&value.to_string()),
        }
    }

    /// Reads a decimal from a JSON number or string.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        parse(&value).ok_or_else(|| serde::de::Error::custom(format!("not a number: {value}")))
    }
}

/// Every answer: `Success`, the `Data` of a success, the `Errors` of a failure [T].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope<T> {
    /// Whether the call did what it was asked.
    pub success: bool,
    /// The answer of a success.
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
}

fn none<T>() -> Option<T> {
    None
}

/// One entry of `Errors` [T: `Error`, `Description`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorItem {
    /// A code.
    #[serde(default)]
    pub error: Option<String>,
    /// The text for people.
    #[serde(default)]
    pub description: Option<String>,
}

/// What a `Success: false` means for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The key is unknown or revoked.
    Key(String),
    /// The key is fine but was issued for another IP address.
    Address(String),
    /// Anything else, with Omega's words.
    Other(String),
}

/// Classifies the `Errors` of a `Success: false`: by code where Omega gives one, else by its
/// words (English, Ukrainian or Russian), since the codes are not documented.
pub fn refusal(errors: &[ErrorItem]) -> Refusal {
    let text = errors
        .iter()
        .map(|e| match (&e.error, &e.description) {
            (Some(code), Some(text)) => format!("{code}: {text}"),
            (code, text) => code.clone().or(text.clone()).unwrap_or_default(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let text = if text.is_empty() {
        "Success is false and Errors is empty".to_owned()
    } else {
        text
    };
    let lower = text.to_lowercase();
    let code_is = |code: &str| errors.iter().any(|e| e.error.as_deref() == Some(code));
    let about_address = ["ip address", "ip-адрес", "ip адрес", "ip-address"]
        .iter()
        .any(|w| lower.contains(w));
    let about_key = ["key", "ключ", "token", "токен", "unauthori"]
        .iter()
        .any(|w| lower.contains(w));
    if code_is(IP_NOT_ALLOWED) || about_address {
        Refusal::Address(text)
    } else if code_is(KEY_UNKNOWN) || about_key {
        Refusal::Key(text)
    } else {
        Refusal::Other(text)
    }
}

/// Pieces of a product at one warehouse [T: `{Key: "<warehouse>", Value: n}`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rest {
    /// The warehouse's name (`Киев`, `Харьков`).
    pub key: String,
    /// Pieces there.
    #[serde(with = "number")]
    pub value: Decimal,
}

/// One product of a search [T: `Number`, `BrandDescription`, `Description`, `CustomerPrice`,
/// `Rests`, `ProductId`; I: `Currency`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Product {
    /// Omega's id of the product: its code, what the basket takes.
    pub product_id: u64,
    /// The maker's article number as Omega writes it.
    pub number: String,
    /// The maker.
    pub brand_description: String,
    /// Name.
    #[serde(default)]
    pub description: String,
    /// The customer's price for one piece.
    #[serde(with = "number")]
    pub customer_price: Decimal,
    /// ISO 4217; absent: the account's currency (hryvnia).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Pieces per warehouse, when asked with `Rest = 1`.
    #[serde(default)]
    pub rests: Vec<Rest>,
}

/// An expense document in the list [I] and its head [T: `Number`, `Date`, `Summ`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExpenseHead {
    /// Omega's id, what `DocId` takes.
    pub doc_id: String,
    /// The number printed on it.
    pub number: String,
    /// Issue date (`DD.MM.YYYY`, or ISO).
    pub date: String,
    /// Total with VAT.
    #[serde(with = "number")]
    pub summ: Decimal,
    /// ISO 4217; absent: hryvnia [I].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// One line of an expense document [T: `Code`, `ProductDescrition` (sic), `Count`,
/// `PiceWithVAT` (sic); I: `ProductId`, `Number`, `BrandDescription`, `Price`, `VatPercent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpenseLine {
    /// Omega's code of the product (its `ProductId` as text).
    #[serde(rename = "Code")]
    pub code: String,
    /// Name (Omega spells the field `ProductDescrition`).
    #[serde(rename = "ProductDescrition", default)]
    pub description: String,
    /// Pieces.
    #[serde(rename = "Count", with = "number")]
    pub count: Decimal,
    /// Unit price with VAT (Omega spells the field `PiceWithVAT`).
    #[serde(rename = "PiceWithVAT", with = "number")]
    pub price_with_vat: Decimal,
    /// The maker's article number [I].
    #[serde(rename = "Number", default)]
    pub number: Option<String>,
    /// The maker [I].
    #[serde(rename = "BrandDescription", default)]
    pub brand: Option<String>,
    /// VAT rate in percent [I].
    #[serde(rename = "VatPercent", default, skip_serializing_if = "Option::is_none")]
    pub vat_percent: Option<u32>,
}

/// One line put into the basket [T: `ProductId`, `Count`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BasketLine {
    /// Omega's id of the product.
    pub product_id: u64,
    /// Pieces.
    pub count: u32,
}

/// An order in `order/list` [I].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order {
    /// Omega's id.
    pub order_id: String,
    /// The customer's comment: Tiltas writes the order's number here to find it again.
    #[serde(default)]
    pub comment: Option<String>,
    /// When it was made (`DD.MM.YYYY`).
    pub date: String,
    /// `New`, `InWork`, …
    pub state: String,
    /// Its lines.
    #[serde(default)]
    pub products: Vec<BasketLine>,
}

/// The date of a document as Omega writes it: `DD.MM.YYYY`, ISO `YYYY-MM-DD` or an ISO
/// date-time (its date part).
pub fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, DATE_FORMAT)
        .or_else(|_| chrono::NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_read_from_numbers_and_strings_and_written_as_numbers() {
        let product: Product = serde_json::from_str(
            r#"{"ProductId":7,"Number":"W 712/75","BrandDescription":"MANN","CustomerPrice":1234.56,
                "Rests":[{"Key":"Киев","Value":"3"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(product.customer_price, Decimal::new(123_456, 2));
        assert_eq!(product.rests[0].value, Decimal::from(3));
        let written = serde_json::to_value(&product).unwrap_or_default();
        assert!(written["CustomerPrice"].is_number(), "{written}");
        assert_eq!(written["CustomerPrice"].to_string(), "1234.56");
    }

    #[test]
    fn a_refusal_is_read_by_code_or_by_words() {
        let item = |code: Option<&str>, text: &str| ErrorItem {
            error: code.map(str::to_owned),
            description: Some(text.to_owned()),
        };
        assert!(matches!(
            refusal(&[item(Some(IP_NOT_ALLOWED), "x")]),
            Refusal::Address(_)
        ));
        assert!(matches!(refusal(&[item(None, "Ключ не знайдено")]), Refusal::Key(_)));
        assert!(matches!(
            refusal(&[item(None, "Key is not valid for IP address 10.0.0.1")]),
            Refusal::Address(_)
        ));
        assert!(matches!(refusal(&[item(None, "Product not found")]), Refusal::Other(t) if t == "Product not found"));
        assert!(matches!(refusal(&[]), Refusal::Other(_)));
        assert_eq!(
            parse_date("05.03.2026").map(|d| d.to_string()).as_deref(),
            Some("2026-03-05")
        );
        assert_eq!(
            parse_date("2026-03-05T00:00:00").map(|d| d.to_string()).as_deref(),
            Some("2026-03-05")
        );
    }
}
