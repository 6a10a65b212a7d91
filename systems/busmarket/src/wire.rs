//! Bus Market's REST shapes and limits (`shared/protocols/erp-and-suppliers.md` §5; paths and
//! parameter names from the official bmapi-js client), shared with the simulator. The answers'
//! field names are not published: those below are inferred ([I] in the README).
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Largest `per_page` of a paged list (search, reserves, documents) [I].
pub const MAX_PER_PAGE: usize = 100;
/// The currencies prices can be asked in.
pub const CURRENCIES: &[&str] = &["EUR", "UAH", "PLN"];
/// Requests allowed in the current window.
pub const LIMIT_HEADER: &str = "x-ratelimit-limit";
/// Requests left in the current window.
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining";
/// Seconds until the window starts afresh.
pub const RESET_HEADER: &str = "x-ratelimit-reset";
/// The document type of a sales invoice in `GET /documents/list?type=` [I].
pub const INVOICE_TYPE: &str = "invoice";

/// One product as search and `GET /product/{uuid}` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Bus Market's id.
    pub uuid: String,
    /// Bus Market's own code (the number people type in its portal).
    pub code: String,
    /// The maker's part number.
    pub article: String,
    /// The maker.
    pub brand: String,
    /// Name.
    pub name: String,
    /// Barcode.
    #[serde(default)]
    pub ean: Option<String>,
    /// Net price of one piece in `currency`.
    #[serde(default)]
    pub price: Option<Decimal>,
    /// The currency asked for (`currency=`), or the contract's.
    #[serde(default)]
    pub currency: Option<String>,
}

/// `GET /search/products?q=&page=&per_page=&currency=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// This page.
    pub products: Vec<Product>,
    /// This page's number, from 1.
    pub page: usize,
    /// Products per page.
    pub per_page: usize,
    /// Products matching, in all pages.
    pub total: usize,
}

/// `GET /product/{uuid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductAnswer {
    /// The product.
    pub product: Product,
}

/// Stock of a product at one warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarehouseStock {
    /// The warehouse's id (what a reserve names).
    pub warehouse_uuid: String,
    /// Its name (`KYIV`).
    pub warehouse: String,
    /// Pieces there.
    pub quantity: u32,
    /// When goods ordered now reach the customer from there (`YYYY-MM-DD`).
    #[serde(default)]
    pub delivery_date: Option<String>,
}

/// `GET /product/{uuid}/in_stocks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InStocks {
    /// The product.
    pub product_uuid: String,
    /// Every warehouse, zero included.
    pub in_stocks: Vec<WarehouseStock>,
}

/// `GET /product/{uuid}/price?currency=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// The product.
    pub product_uuid: String,
    /// ISO 4217.
    pub currency: String,
    /// The customer's net price of one piece.
    pub price: Decimal,
    /// The same with VAT.
    pub price_with_vat: Decimal,
    /// VAT rate in percent.
    pub vat: Decimal,
}

/// A product in a cart or a reserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The product.
    pub product_uuid: String,
    /// Its Bus Market code.
    pub code: String,
    /// Pieces.
    pub quantity: u32,
}

/// A cart (`GET /shopping/cart/{uuid}`, and in `GET /shopping/carts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    /// Its id: the `order_uuid` of a reserve.
    pub uuid: String,
    /// The name it was created with (Tiltas: the order's number).
    pub name: String,
    /// What is in it.
    #[serde(default)]
    pub products: Vec<Line>,
}

/// `GET /shopping/carts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Carts {
    /// Every open cart.
    pub carts: Vec<Cart>,
}

/// `POST /shopping/carts`, a cart's product calls and `GET /shopping/cart/{uuid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartAnswer {
    /// The cart as it is now.
    pub cart: Cart,
}

/// The body of `POST /shopping/reserve/process`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReserveRequest {
    /// The cart to reserve.
    pub order_uuid: String,
    /// Free text shown in the portal (Tiltas: the order's number first).
    pub comment: String,
    /// The warehouse the goods are reserved at.
    pub warehouse_uuid: String,
}

/// A reserve: the order as the portal shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reserve {
    /// Its id.
    pub uuid: String,
    /// Its number in the portal.
    pub number: String,
    /// The comment it was made with.
    pub comment: String,
    /// Where it is reserved.
    pub warehouse_uuid: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// What it holds.
    pub products: Vec<Line>,
}

/// `POST /shopping/reserve/process`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReserveAnswer {
    /// The reserve made.
    pub reserve: Reserve,
}

/// `GET /shopping/reserves?page=&per_page=` [I: paging], newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservesPage {
    /// This page, newest first.
    pub reserves: Vec<Reserve>,
    /// This page's number, from 1.
    pub page: usize,
    /// Reserves per page.
    pub per_page: usize,
    /// Reserves in all pages.
    pub total: usize,
}

/// A document in `GET /documents/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentHead {
    /// Its id.
    pub uuid: String,
    /// `invoice`, `return`, ….
    #[serde(rename = "type")]
    pub kind: String,
    /// The number printed on it.
    pub number: String,
    /// Issue date (`YYYY-MM-DD`).
    pub date: String,
    /// ISO 4217.
    pub currency: String,
    /// Total without VAT.
    pub total: Decimal,
    /// Total with VAT.
    pub total_with_vat: Decimal,
    /// The reserve's comment the goods were ordered under, when there was one.
    #[serde(default)]
    pub comment: Option<String>,
}

/// `GET /documents/list?type=&date_from=&direction=asc&page=&per_page=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentsPage {
    /// This page.
    pub documents: Vec<DocumentHead>,
    /// This page's number, from 1.
    pub page: usize,
    /// Documents per page.
    pub per_page: usize,
    /// Documents matching, in all pages.
    pub total: usize,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentLine {
    /// The product.
    pub product_uuid: String,
    /// Bus Market's code.
    pub code: String,
    /// The maker's part number.
    pub article: String,
    /// The maker.
    pub brand: String,
    /// Name.
    pub name: String,
    /// Pieces.
    pub quantity: Decimal,
    /// Net price of one piece.
    pub price: Decimal,
    /// VAT rate in percent.
    pub vat: Decimal,
}

/// A document with its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The head.
    #[serde(flatten)]
    pub head: DocumentHead,
    /// Lines.
    pub products: Vec<DocumentLine>,
}

/// `GET /documents/{type}/{uuid}` [I: bmapi-js builds `/documents/{type}{uuid}/`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentAnswer {
    /// The document.
    pub document: Document,
}

/// The text of an error body: `{"error": {"code", "message"}}`, or flat `error`/`message`.
pub fn error_text(body: &serde_json::Value) -> Option<String> {
    let text = |value: &serde_json::Value, key: &str| match value.get(key) {
        Some(serde_json::Value::String(text)) => Some(text.clone()),
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let (code, message) = match body.get("error") {
        Some(nested @ serde_json::Value::Object(_)) => (text(nested, "code"), text(nested, "message")),
        _ => (text(body, "error"), text(body, "message")),
    };
    match (code, message) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (code, message) => code.or(message),
    }
}

/// Whether `text` is a UUID (8-4-4-4-12 hex digits), as opposed to a Bus Market code.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The marker a reserve's comment starts with, naming the order it was made for.
pub fn order_marker(number: &str) -> String {
    format!("Tiltas order {number}")
}

/// Whether a reserve's `comment` was made for order `number` (its marker, then the end or a
/// space: `WO-7` does not match `WO-77`).
pub fn comment_names_order(comment: &str, number: &str) -> bool {
    comment
        .strip_prefix(&order_marker(number))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_markers_and_error_bodies_are_read() {
        assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_uuid("115906") && !is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
        assert!(comment_names_order("Tiltas order WO-77", "WO-77"));
        assert!(comment_names_order("Tiltas order WO-77 — rush", "WO-77"));
        assert!(!comment_names_order("Tiltas order WO-77", "WO-7"));
        let nested = serde_json::json!({ "error": { "code": 401, "message": "Invalid token" } });
        assert_eq!(error_text(&nested).as_deref(), Some("401: Invalid token"));
        let flat = serde_json::json!({ "message": "Not found" });
        assert_eq!(error_text(&flat).as_deref(), Some("Not found"));
    }
}
