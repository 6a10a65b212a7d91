//! The canonical record types. Their JSON form is what flows carry between connectors: money
//! and quantities are decimal strings, absent values are left out, and each record may carry a
//! system's own fields under `raw`.
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A system's own fields that have no canonical home (`raw.N17_KILM`).
pub type RawFields = Map<String, Value>;

/// A product: simple, or configurable when it has variants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Product {
    /// Stock-keeping unit: the product's code, unique in a catalogue.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub sku: String,
    /// Name shown to buyers.
    pub name: Option<String>,
    /// Short description.
    pub description: Option<String>,
    /// Long description (shops often own it after the first export: a create-only field).
    pub long_description: Option<String>,
    /// EAN/GTIN barcode (8, 12, 13 or 14 digits with a valid check digit).
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub ean: Option<String>,
    /// Unit of measure (`vnt`, `pcs`, `kg`).
    pub unit: Option<String>,
    /// Price without VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price_net: Option<Decimal>,
    /// Price with VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price_gross: Option<Decimal>,
    /// VAT rate in percent (`21`).
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub vat_rate: Option<Decimal>,
    /// ISO 4217 currency of the prices.
    pub currency: Option<String>,
    /// Category paths or codes.
    pub categories: Vec<String>,
    /// Brand or manufacturer.
    pub brand: Option<String>,
    /// For a variant delivered on its own: the SKU of its configurable product.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub parent_sku: Option<String>,
    /// Attributes such as colour and size.
    pub attributes: BTreeMap<String, String>,
    /// Weight in kilograms.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub weight: Option<Decimal>,
    /// Whether it is on sale.
    pub active: Option<bool>,
    /// The variants of a configurable product.
    pub variants: Vec<Variant>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}

/// One variant of a configurable product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Variant {
    /// The variant's own SKU.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub sku: String,
    /// Name, when it differs from the product's.
    pub name: Option<String>,
    /// Barcode.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub ean: Option<String>,
    /// Price without VAT, when it differs from the product's.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price_net: Option<Decimal>,
    /// Price with VAT, when it differs from the product's.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price_gross: Option<Decimal>,
    /// The attributes that tell it apart (colour, size).
    pub attributes: BTreeMap<String, String>,
}

/// A product category.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Category {
    /// The category's code.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub code: String,
    /// Its name.
    pub name: Option<String>,
    /// The parent's code; none for a top category.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub parent_code: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}

/// Stock of one SKU in one warehouse.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StockLevel {
    /// The product.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub sku: String,
    /// The warehouse code.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub warehouse: String,
    /// Physically there (may be negative in ERPs that allow selling ahead of receipts).
    pub on_hand: Decimal,
    /// Promised to open orders.
    pub reserved: Decimal,
    /// What can be sold: on hand − reserved, unless the source says otherwise.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub available: Option<Decimal>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}

/// Whether a customer is a company or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    /// A company (debtor with a company code).
    Company,
    /// A private person.
    Person,
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// Recipient name.
    pub name: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// Street and number.
    pub line1: Option<String>,
    /// Second line.
    pub line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 country code (`LT`).
    pub country: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
}

/// A customer: a company or a person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    /// The customer's code in the source (debtor code, shop customer id).
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub code: Option<String>,
    /// Company or person.
    pub kind: Option<CustomerKind>,
    /// Display name.
    pub name: Option<String>,
    /// Company name, for a company.
    pub company_name: Option<String>,
    /// First name, for a person or a company's contact.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company registration code.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub company_code: Option<String>,
    /// VAT payer code.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub vat_code: Option<String>,
    /// E-mail (the usual matching key).
    pub email: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub phone: Option<String>,
    /// Customer group (decides the price list).
    pub group: Option<String>,
    /// Billing address.
    pub billing: Option<Address>,
    /// Shipping address.
    pub shipping: Option<Address>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}

/// A price list for a customer group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriceList {
    /// The list's code.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub code: String,
    /// Its name.
    pub name: Option<String>,
    /// The customer group it applies to.
    pub group: Option<String>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// First day it applies.
    pub valid_from: Option<NaiveDate>,
    /// Last day it applies.
    pub valid_to: Option<NaiveDate>,
    /// Item prices, discounts and quantity breaks.
    pub items: Vec<PriceListItem>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}

/// One price of a price list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriceListItem {
    /// The product.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub sku: String,
    /// Net price.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price: Option<Decimal>,
    /// Discount in percent.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub discount_percent: Option<Decimal>,
    /// The price applies from this quantity up (a quantity break).
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub min_quantity: Option<Decimal>,
}

/// The buyer of an order, as the order names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderCustomer {
    /// Customer code in the order's system.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub code: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Company name, when the buyer is a company.
    pub company_name: Option<String>,
    /// Company registration code.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub company_code: Option<String>,
    /// VAT payer code.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub vat_code: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub phone: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderLine {
    /// The product.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub sku: String,
    /// Name as sold.
    pub name: Option<String>,
    /// Quantity (more than zero).
    pub quantity: Decimal,
    /// Unit price without VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price: Option<Decimal>,
    /// Discount amount per line.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub discount: Option<Decimal>,
    /// VAT rate in percent.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub vat_rate: Option<Decimal>,
    /// Line total without VAT before discounts (price × quantity as sold).
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub subtotal: Option<Decimal>,
    /// Line total without VAT, after discounts: what the buyer pays for the line, as the
    /// source computed it (an accounting target books this, not a recomputed price × quantity).
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub total: Option<Decimal>,
    /// VAT of the line total.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub total_tax: Option<Decimal>,
}

/// A charge on an order that is not a product: a payment surcharge, packaging, a handling fee.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderFee {
    /// What the shop calls it ("Apmokėjimo mokestis").
    pub name: Option<String>,
    /// Amount without VAT (negative for a fee that lowers the total).
    pub total: Decimal,
    /// VAT of the amount.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub total_tax: Option<Decimal>,
    /// VAT rate in percent.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub vat_rate: Option<Decimal>,
}

/// A discount on an order (a coupon). Its amount is already taken off the lines' `total`;
/// it is listed so a target can show it as a line of its own (lines at `subtotal`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderDiscount {
    /// The coupon code or the discount's name.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub code: String,
    /// Amount taken off without VAT (positive).
    pub total: Decimal,
    /// VAT of the amount taken off (positive).
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub total_tax: Option<Decimal>,
}

/// Order totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderTotals {
    /// Without VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub net: Option<Decimal>,
    /// VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub vat: Option<Decimal>,
    /// Shipping without VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub shipping: Option<Decimal>,
    /// VAT of the shipping charge.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub shipping_tax: Option<Decimal>,
    /// Discounts without VAT (positive; already taken off the lines' totals).
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub discount: Option<Decimal>,
    /// With VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub gross: Option<Decimal>,
}

/// A sales order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Order {
    /// The order number.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub number: String,
    /// Status in the source (`processing`, `completed`, …).
    pub status: Option<String>,
    /// When it was placed.
    pub created_at: Option<DateTime<Utc>>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// The buyer.
    pub customer: Option<OrderCustomer>,
    /// Billing address.
    pub billing: Option<Address>,
    /// Shipping address.
    pub shipping: Option<Address>,
    /// Lines.
    pub lines: Vec<OrderLine>,
    /// Fees charged besides the lines and shipping.
    pub fees: Vec<OrderFee>,
    /// Discounts (coupons) taken off the lines.
    pub discounts: Vec<OrderDiscount>,
    /// Shipping method code.
    pub shipping_method: Option<String>,
    /// Payment method code.
    pub payment_method: Option<String>,
    /// Totals.
    pub totals: Option<OrderTotals>,
    /// Employee responsible (ERP code).
    pub employee: Option<String>,
    /// Warehouse it ships from.
    pub warehouse: Option<String>,
    /// Buyer's note.
    pub note: Option<String>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}

/// The kinds of accounting document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Sales invoice.
    SalesInvoice,
    /// Incoming goods receipt ("INC").
    IncomingReceipt,
    /// Customer return.
    Return,
    /// Transfer between warehouses.
    Transfer,
    /// Purchase.
    Purchase,
    /// Return to supplier.
    SupplierReturn,
    /// Inventory count.
    Inventory,
    /// Write-off.
    WriteOff,
    /// Customer payment.
    CustomerPayment,
    /// Cash document.
    Cash,
    /// Bank document.
    Bank,
}

/// One line of a document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentLine {
    /// The product.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub sku: String,
    /// Quantity (negative only where the document kind allows, e.g. inventory corrections).
    pub quantity: Decimal,
    /// Unit price without VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price: Option<Decimal>,
    /// VAT rate in percent.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub vat_rate: Option<Decimal>,
}

/// An accounting document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Document number.
    #[serde(default)]
    pub number: String,
    /// What kind of document.
    pub kind: DocumentKind,
    /// Document date.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Customer or supplier code.
    #[serde(default, deserialize_with = "crate::lenient::optional_text")]
    pub counterparty: Option<String>,
    /// Warehouse.
    #[serde(default)]
    pub warehouse: Option<String>,
    /// Destination warehouse of a transfer.
    #[serde(default)]
    pub to_warehouse: Option<String>,
    /// ISO 4217 currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Lines.
    #[serde(default)]
    pub lines: Vec<DocumentLine>,
    /// Total with VAT.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub total: Option<Decimal>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
    /// When the source last changed it.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    #[serde(default)]
    pub raw: RawFields,
}

/// One line of a bank statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BankTransaction {
    /// The bank's reference of the entry, unique per account.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub reference: String,
    /// The account (IBAN).
    pub account: Option<String>,
    /// Booking date.
    pub booking_date: Option<NaiveDate>,
    /// Value date.
    pub value_date: Option<NaiveDate>,
    /// Amount: positive credit, negative debit.
    pub amount: Decimal,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// The other party.
    pub counterparty_name: Option<String>,
    /// The other party's account.
    pub counterparty_account: Option<String>,
    /// Payment details (often the invoice number).
    pub remittance_info: Option<String>,
    /// End-to-end id.
    pub end_to_end_id: Option<String>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}

/// Availability of an offer at one supplier branch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BranchAvailability {
    /// Branch code.
    pub branch: String,
    /// Quantity available there.
    pub quantity: Decimal,
    /// When the supplier says a part ordered now from this branch arrives, when it says.
    pub delivery_date: Option<NaiveDate>,
}

/// A supplier's offer for a part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SupplierOffer {
    /// The supplier.
    pub supplier: String,
    /// Part code in the supplier's format.
    #[serde(deserialize_with = "crate::lenient::text")]
    pub part_code: String,
    /// Brand.
    pub brand: Option<String>,
    /// The maker's article number as the supplier writes it (`W 712/75`), to match the same
    /// part across suppliers (see [`crate::parts`]).
    pub article: Option<String>,
    /// EAN-13, when the supplier gives one.
    pub ean: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Net price for one piece.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price: Option<Decimal>,
    /// Gross price for one piece, when the supplier gives one.
    #[serde(default, deserialize_with = "crate::lenient::optional_decimal")]
    pub price_gross: Option<Decimal>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// Availability per branch.
    pub availability: Vec<BranchAvailability>,
    /// When the source last changed it.
    pub updated_at: Option<DateTime<Utc>>,
    /// The system's own fields.
    pub raw: RawFields,
}
