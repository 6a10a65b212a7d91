//! The IC API's shapes and limits (`shared/protocols/erp-and-suppliers.md` §5), shared with the
//! simulator: paths, the header listing unknown SKUs, page and batch limits, and the JSON
//! bodies of stock, price quotes, the catalogue, requisitions and invoices.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// SKUs per `GET /inventory/stock` call.
pub const MAX_STOCK_SKUS: usize = 100;
/// Lines per `POST /pricing/quote` call.
pub const MAX_QUOTE_LINES: usize = 20;
/// Largest `limit` of a paged list (catalogue, requisitions, invoices).
pub const MAX_PAGE: usize = 100;
/// The response header listing SKUs the stock or quote call did not know.
pub const UNKNOWN_SKUS_HEADER: &str = "skpSkuList";
/// The stock call shows at most this many pieces per location.
pub const AVAILABILITY_CAP: u32 = 10;

/// One row of `GET /inventory/stock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRow {
    /// The branch.
    pub location: String,
    /// Inter Cars' code.
    pub sku: String,
    /// Pieces there, capped at [`AVAILABILITY_CAP`].
    pub availability: u32,
    /// When the branch expects its latest delivery.
    #[serde(default)]
    pub latest_delivery_date: Option<String>,
    /// The maker's part number.
    #[serde(default)]
    pub index: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Barcodes.
    #[serde(default)]
    pub eans: Vec<String>,
}

/// One line of a price quote request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteLine {
    /// Inter Cars' code.
    pub sku: String,
    /// Pieces.
    pub quantity: u32,
}

/// The price block of a quoted or ordered line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// ISO 4217.
    pub currency_code: String,
    /// List price without VAT.
    pub list_price_net: Decimal,
    /// The customer's price without VAT.
    pub customer_price_net: Decimal,
    /// The customer's price with VAT.
    pub customer_price_gross: Decimal,
    /// VAT rate in percent.
    pub vat_percentage: Decimal,
}

/// One quoted line of `POST /pricing/quote`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotedLine {
    /// Inter Cars' code.
    pub sku: String,
    /// Pieces asked for.
    pub quantity: u32,
    /// Its price.
    pub price: Price,
}

/// The answer of `POST /pricing/quote`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// One per known SKU.
    pub lines: Vec<QuotedLine>,
}

/// One product of `GET /catalog/products`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Inter Cars' code.
    pub sku: String,
    /// The maker's part number.
    pub index: String,
    /// The maker.
    pub brand: String,
    /// Name.
    pub description: String,
    /// Whether it cannot be returned.
    #[serde(default)]
    pub blocked_return: bool,
    /// Polish JPK goods group.
    #[serde(default)]
    pub gtu_code: Option<String>,
    /// Barcodes.
    #[serde(default)]
    pub eans: Vec<String>,
}

/// A page of `GET /catalog/products`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    /// Products matching, in all pages.
    pub total_results: usize,
    /// Whether another page follows.
    pub has_next_page: bool,
    /// This page.
    pub products: Vec<Product>,
}

/// One line of a requisition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequisitionLine {
    /// Inter Cars' code.
    pub sku: String,
    /// Pieces.
    pub required_quantity: u32,
}

/// The body of `POST /sales/requisition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRequisition {
    /// Lines.
    pub lines: Vec<RequisitionLine>,
    /// The customer's own reference (Tiltas: the order's key).
    #[serde(default)]
    pub custom_number: Option<String>,
    /// `5` Xpress, `6` parcel lockers; unset: the customer card's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_method: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Master accounts: the receiving customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<String>,
}

/// A stored requisition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requisition {
    /// Inter Cars' id.
    pub id: String,
    /// The customer's reference.
    #[serde(default)]
    pub custom_number: Option<String>,
    /// `NEW`, `CONFIRMED` or `CANCELLED`.
    pub status: String,
    /// When it was created (RFC 3339).
    pub creation_date: String,
    /// The order made by confirming it.
    #[serde(default)]
    pub order_id: Option<String>,
    /// Lines.
    pub lines: Vec<RequisitionLine>,
}

/// A page of `GET /sales/requisition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequisitionPage {
    /// Requisitions matching, in all pages.
    pub total_results: usize,
    /// Whether another page follows.
    pub has_next_page: bool,
    /// This page.
    pub requisitions: Vec<Requisition>,
}

/// The head of an invoice in `GET /invoice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceHead {
    /// Inter Cars' id.
    pub id: String,
    /// The invoice number printed on it.
    pub number: String,
    /// Issue date (`YYYY-MM-DD`).
    pub issue_date: String,
    /// ISO 4217.
    pub currency_code: String,
    /// Total without VAT.
    pub total_net: Decimal,
    /// Total with VAT.
    pub total_gross: Decimal,
}

/// A page of `GET /invoice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoicePage {
    /// Invoices matching, in all pages.
    pub total_results: usize,
    /// Whether another page follows.
    pub has_next_page: bool,
    /// This page.
    pub invoices: Vec<InvoiceHead>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    /// Inter Cars' code.
    pub sku: String,
    /// The maker's part number.
    pub index: String,
    /// The maker.
    pub brand: String,
    /// Name.
    pub description: String,
    /// Pieces.
    pub quantity: Decimal,
    /// Unit price without VAT.
    pub price_net: Decimal,
    /// VAT rate in percent.
    pub vat_percentage: Decimal,
}

/// `GET /invoice/{id}`: the head with its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// The head.
    #[serde(flatten)]
    pub head: InvoiceHead,
    /// The requisition's custom number the goods were ordered under, when there was one.
    #[serde(default)]
    pub custom_number: Option<String>,
    /// Lines.
    pub lines: Vec<InvoiceLine>,
}

/// The text of an IC API error body (`{"error": …, "message": …}` or an OAuth2 error).
pub fn error_text(body: &serde_json::Value) -> Option<String> {
    let text = |key: &str| body.get(key).and_then(serde_json::Value::as_str).map(str::to_owned);
    match (text("error"), text("message").or_else(|| text("error_description"))) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (code, message) => code.or(message),
    }
}
