//! A supplier's feed layouts — which header names its price list, invoice file and order file
//! use — and reading a price list's rows by them into [`FeedOffer`]s, a bad row being a
//! [`RowProblem`] that names its line and column.
use crate::table::{parse_decimal, Row, Table};
use rust_decimal::Decimal;
use tiltas_connector::filedrop::Unreadable;

/// Header names a column may have (compared trimmed, case-insensitively).
pub type Names = &'static [&'static str];

/// The columns of a supplier's price and stock list.
#[derive(Debug, Clone, Copy)]
pub struct PriceLayout {
    /// The supplier's own code; absent: the article number is the code.
    pub code: Names,
    /// The maker's article number (required).
    pub article: Names,
    /// The maker (required).
    pub brand: Names,
    /// The part's name.
    pub name: Names,
    /// The net price of one piece (required).
    pub price: Names,
    /// The price's currency; absent: the supplier's currency.
    pub currency: Names,
    /// The EAN.
    pub ean: Names,
    /// Stock columns start with one of these; the rest of the header is the branch
    /// (`Склад Київ` → `Київ`).
    pub stock_prefix: Names,
}

/// The columns of a supplier's invoice lines (one row a line, grouped by invoice number).
#[derive(Debug, Clone, Copy)]
pub struct InvoiceLayout {
    /// The invoice's number (required).
    pub number: Names,
    /// Its issue date (required).
    pub date: Names,
    /// The supplier's code of the part (required).
    pub code: Names,
    /// The maker's article number.
    pub article: Names,
    /// The maker.
    pub brand: Names,
    /// The part's name.
    pub name: Names,
    /// Pieces (required).
    pub quantity: Names,
    /// Net price of one piece (required).
    pub price: Names,
    /// VAT rate in percent.
    pub vat: Names,
    /// The invoice's currency; absent: the supplier's currency.
    pub currency: Names,
}

/// What an order file's column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    /// The order's number (the idempotency key).
    Number,
    /// The customer id of the connection (`customer_id`), empty without one.
    Customer,
    /// The line's supplier code.
    Code,
    /// The line's name.
    Name,
    /// Pieces.
    Quantity,
    /// The agreed net price of one piece, when the order has one.
    Price,
    /// The order's note.
    Note,
}

/// How a supplier takes order files: separator, decimal mark and columns.
#[derive(Debug, Clone, Copy)]
pub struct OrderLayout {
    /// The field separator.
    pub delimiter: u8,
    /// Whether numbers are written with a decimal comma.
    pub decimal_comma: bool,
    /// Header names and what each column holds, in order.
    pub columns: &'static [(&'static str, OrderField)],
}

/// One parts supplier that publishes files instead of an API.
#[derive(Debug)]
pub struct Supplier {
    /// Its system name (`uniquetrade`), written as each offer's `supplier`.
    pub system: &'static str,
    /// Its name for people (`Unique Trade`).
    pub label: &'static str,
    /// Its price and stock list.
    pub prices: PriceLayout,
    /// Its invoice lines.
    pub invoices: InvoiceLayout,
    /// Its order files.
    pub orders: OrderLayout,
    /// The currency of a file without a currency column.
    pub currency: &'static str,
    /// Whether a row in another currency is refused (Vesna prices in EUR only).
    pub only_currency: bool,
    /// The connection keys that hold its HTTP credentials, for messages (`` `login` and `password` ``).
    pub credential_keys: &'static str,
}

/// A price list row as the supplier wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedOffer {
    /// Where it is.
    pub line: u64,
    /// The supplier's code.
    pub code: String,
    /// The maker's article number.
    pub article: String,
    /// The maker.
    pub brand: String,
    /// The part's name.
    pub name: Option<String>,
    /// The EAN.
    pub ean: Option<String>,
    /// Net price of one piece.
    pub price: Decimal,
    /// Its currency.
    pub currency: String,
    /// Pieces per branch, in the file's column order.
    pub stock: Vec<(String, Decimal)>,
}

/// Why one row cannot be read: its line, the column at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The row's line.
    pub line: u64,
    /// The header of the column at fault.
    pub column: String,
    /// What is wrong, as a clause.
    pub problem: String,
    /// The supplier code or article of the row, when it has one (the failure's key).
    pub key: Option<String>,
}

/// Where each column of a header is.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    header: Vec<String>,
}

impl Columns {
    pub(crate) fn new(header: &[String]) -> Columns {
        Columns {
            header: header.to_vec(),
        }
    }

    /// The index of the first column named one of `names`.
    pub(crate) fn find(&self, names: Names) -> Option<usize> {
        self.header
            .iter()
            .position(|header| names.iter().any(|name| header.trim().eq_ignore_ascii_case(name)))
    }

    /// The index of a required column, or why the file cannot be read without it.
    pub(crate) fn require(&self, what: &str, names: Names) -> Result<usize, Unreadable> {
        self.find(names).ok_or_else(|| {
            Unreadable::new(
                Some(1),
                format!(
                    "the header has no {what} column (one of {}; found {})",
                    names.join(", "),
                    self.header.join(", ")
                ),
            )
            .with_fix("export the feed with its standard columns, or ask the supplier which layout it sends")
        })
    }

    pub(crate) fn name(&self, index: usize) -> String {
        self.header.get(index).cloned().unwrap_or_default()
    }

    /// Stock columns: (index, branch).
    fn stock(&self, prefixes: Names) -> Vec<(usize, String)> {
        self.header
            .iter()
            .enumerate()
            .filter_map(|(index, header)| {
                prefixes.iter().find_map(|prefix| {
                    let lower = header.to_lowercase();
                    lower
                        .starts_with(&prefix.to_lowercase())
                        .then(|| (index, header.get(prefix.len()..).unwrap_or("").trim().to_owned()))
                        .filter(|(_, branch)| !branch.is_empty())
                })
            })
            .collect()
    }
}

/// A row's cell, empty when the row is short.
pub(crate) fn cell(row: &Row, index: usize) -> &str {
    row.cells.get(index).map_or("", String::as_str)
}

fn optional(row: &Row, index: Option<usize>) -> Option<String> {
    index
        .map(|index| cell(row, index))
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// A price list read by a supplier's layout.
pub struct PriceList {
    /// Its rows: offers, or the problem of each bad row.
    pub rows: Vec<Result<FeedOffer, RowProblem>>,
}

impl Supplier {
    /// Reads a price list's rows. A file without the required columns is [`Unreadable`]; a
    /// bad row is a [`RowProblem`] in place.
    pub fn price_list(&self, table: &Table) -> Result<PriceList, Unreadable> {
        let layout = &self.prices;
        let columns = Columns::new(&table.header);
        let article = columns.require("article number", layout.article)?;
        let brand = columns.require("brand", layout.brand)?;
        let price = columns.require("price", layout.price)?;
        let code = columns.find(layout.code);
        let stock = columns.stock(layout.stock_prefix);
        let at = Located {
            columns: &columns,
            code,
            article,
            brand,
            price,
            name: columns.find(layout.name),
            currency: columns.find(layout.currency),
            ean: columns.find(layout.ean),
            stock: &stock,
        };
        let rows = table.rows.iter().map(|row| self.offer(row, &at)).collect();
        Ok(PriceList { rows })
    }

    fn offer(&self, row: &Row, at: &Located<'_>) -> Result<FeedOffer, RowProblem> {
        let article = cell(row, at.article).to_owned();
        let code = at
            .code
            .map(|index| cell(row, index).to_owned())
            .filter(|code| !code.is_empty())
            .unwrap_or_else(|| article.clone());
        let problem = |index: usize, problem: String| RowProblem {
            line: row.line,
            column: at.columns.name(index),
            problem,
            key: (!code.is_empty()).then(|| code.clone()),
        };
        if article.is_empty() {
            return Err(problem(at.article, "the article number is missing".into()));
        }
        let brand = cell(row, at.brand).to_owned();
        if brand.is_empty() {
            return Err(problem(at.brand, "the brand is missing".into()));
        }
        let price_text = cell(row, at.price);
        let price = parse_decimal(price_text)
            .ok_or_else(|| problem(at.price, format!("the price {price_text:?} is not a number")))?;
        if price < Decimal::ZERO {
            return Err(problem(at.price, format!("the price {price_text} is negative")));
        }
        let currency = optional(row, at.currency).map_or_else(|| self.currency.to_owned(), |c| c.to_uppercase());
        if self.only_currency && currency != self.currency {
            let index = at.currency.unwrap_or(at.price);
            return Err(problem(
                index,
                format!(
                    "the price is in {currency}; {} prices in {} only, so the row is refused",
                    self.label, self.currency
                ),
            ));
        }
        let mut stock = Vec::new();
        for (index, branch) in at.stock {
            let text = cell(row, *index);
            let quantity = if text.is_empty() {
                Decimal::ZERO
            } else {
                // Feeds write "more than 10" as `>10`: the lower bound is what can be counted on.
                let counted = text.trim_start_matches(['>', '+', '≥']);
                parse_decimal(counted).ok_or_else(|| problem(*index, format!("the stock {text:?} is not a number")))?
            };
            if quantity < Decimal::ZERO {
                return Err(problem(*index, format!("the stock {text} is negative")));
            }
            stock.push((branch.clone(), quantity));
        }
        Ok(FeedOffer {
            line: row.line,
            code,
            article,
            brand,
            name: optional(row, at.name),
            ean: optional(row, at.ean),
            price,
            currency,
            stock,
        })
    }
}

/// The columns of one price list.
struct Located<'a> {
    columns: &'a Columns,
    code: Option<usize>,
    article: usize,
    brand: usize,
    price: usize,
    name: Option<usize>,
    currency: Option<usize>,
    ean: Option<usize>,
    stock: &'a [(usize, String)],
}
