//! A supplier's invoice file: one row per invoice line, rows of one invoice sharing its number
//! (a file may hold one invoice or many, in any order), read as incoming receipts with the
//! maker's number and brand of each line under `raw.lines`. A bad row fails its whole invoice
//! (a receipt missing a line would be wrong in the books), naming the line and the column.
use crate::layout::{cell, Columns, Supplier};
use crate::table::{parse_date, parse_decimal, Row, Table};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tiltas_connector::filedrop::Unreadable;
use tiltas_connector::{RecordFailure, SourceRecord};
use tiltas_model::{Document, DocumentKind, DocumentLine};

/// Where the receipts go in the books.
#[derive(Debug, Clone, Default)]
pub struct Receiving {
    /// The supplier's code in the ERP, written as each receipt's counterparty.
    pub counterparty: String,
    /// The ERP warehouse goods are received into.
    pub warehouse: Option<String>,
}

/// The columns of one invoice file.
struct InvoiceColumns {
    columns: Columns,
    number: usize,
    date: usize,
    code: usize,
    quantity: usize,
    price: usize,
    article: Option<usize>,
    brand: Option<usize>,
    name: Option<usize>,
    vat: Option<usize>,
    currency: Option<usize>,
}

/// One invoice's rows being gathered.
struct Gathered {
    number: String,
    first_line: u64,
    rows: Vec<Row>,
}

impl Supplier {
    fn invoice_columns(&self, table: &Table) -> Result<InvoiceColumns, Unreadable> {
        let layout = &self.invoices;
        let columns = Columns::new(&table.header);
        Ok(InvoiceColumns {
            number: columns.require("invoice number", layout.number)?,
            date: columns.require("invoice date", layout.date)?,
            code: columns.require("supplier code", layout.code)?,
            quantity: columns.require("quantity", layout.quantity)?,
            price: columns.require("price", layout.price)?,
            article: columns.find(layout.article),
            brand: columns.find(layout.brand),
            name: columns.find(layout.name),
            vat: columns.find(layout.vat),
            currency: columns.find(layout.currency),
            columns,
        })
    }

    /// The invoices of an invoice file as incoming receipts, in order of first appearance; a
    /// row without a number is a failure of its own.
    pub fn invoices(
        &self,
        table: &Table,
        file: &str,
        connection: &str,
        receiving: &Receiving,
    ) -> Result<Vec<Result<SourceRecord, RecordFailure>>, Unreadable> {
        let at = self.invoice_columns(table)?;
        let mut gathered: Vec<Gathered> = Vec::new();
        let mut records = Vec::new();
        for row in &table.rows {
            let number = cell(row, at.number).to_owned();
            if number.is_empty() {
                let failure = self.failure(
                    connection,
                    file,
                    &format!("{file}:{}", row.line),
                    row.line,
                    &at.columns.name(at.number),
                    "the invoice number is missing",
                );
                records.push(Err(failure));
                continue;
            }
            match gathered.iter_mut().find(|invoice| invoice.number == number) {
                Some(invoice) => invoice.rows.push(row.clone()),
                None => gathered.push(Gathered {
                    first_line: row.line,
                    number,
                    rows: vec![row.clone()],
                }),
            }
        }
        gathered.sort_by_key(|invoice| invoice.first_line);
        records.extend(
            gathered
                .iter()
                .map(|invoice| self.invoice(invoice, &at, file, connection, receiving)),
        );
        Ok(records)
    }

    fn failure(
        &self,
        connection: &str,
        file: &str,
        key: &str,
        line: u64,
        column: &str,
        problem: &str,
    ) -> RecordFailure {
        RecordFailure::new(
            key,
            format!("{file}:{line}"),
            format!(
                "connection \"{connection}\": {} invoice file {file}, line {line}, column {column:?}: {problem}: \
                 correct the file (or ask {} to send it again)",
                self.label, self.label
            ),
            json!({ "file": file, "line": line, "column": column }),
        )
    }

    fn invoice(
        &self,
        invoice: &Gathered,
        at: &InvoiceColumns,
        file: &str,
        connection: &str,
        receiving: &Receiving,
    ) -> Result<SourceRecord, RecordFailure> {
        let fail = |row: &Row, index: usize, problem: String| {
            let problem = format!("invoice {}: {problem}", invoice.number);
            self.failure(
                connection,
                file,
                &invoice.number,
                row.line,
                &at.columns.name(index),
                &problem,
            )
        };
        let first = &invoice.rows[0];
        let date_text = cell(first, at.date);
        let date: NaiveDate = parse_date(date_text).ok_or_else(|| {
            fail(
                first,
                at.date,
                format!("the date {date_text:?} is not YYYY-MM-DD or DD.MM.YYYY"),
            )
        })?;
        let currency = at
            .currency
            .map(|index| cell(first, index).to_uppercase())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| self.currency.to_owned());
        if self.only_currency && currency != self.currency {
            let index = at.currency.unwrap_or(at.price);
            return Err(fail(
                first,
                index,
                format!("it is in {currency}; {} invoices in {} only", self.label, self.currency),
            ));
        }
        let mut lines = Vec::new();
        let mut raw_lines = Vec::new();
        let mut total = Decimal::ZERO;
        for row in &invoice.rows {
            let code = cell(row, at.code);
            if code.is_empty() {
                return Err(fail(row, at.code, "the supplier code is missing".into()));
            }
            let number = |index: usize, what: &str| {
                let text = cell(row, index);
                parse_decimal(text)
                    .filter(|value| *value >= Decimal::ZERO)
                    .ok_or_else(|| fail(row, index, format!("the {what} {text:?} is not a number of 0 or more")))
            };
            let quantity = number(at.quantity, "quantity")?;
            let price = number(at.price, "price")?;
            let vat = at.vat.map(|index| number(index, "VAT rate")).transpose()?;
            total += quantity * price * (Decimal::ONE + vat.unwrap_or_default() / Decimal::ONE_HUNDRED);
            lines.push(DocumentLine {
                sku: code.to_owned(),
                quantity,
                price: Some(price),
                vat_rate: vat,
            });
            let text = |index: Option<usize>| index.map(|index| cell(row, index).to_owned()).unwrap_or_default();
            raw_lines.push(json!({
                "sku": code,
                "article": text(at.article),
                "brand": text(at.brand),
                "name": text(at.name),
                "line": row.line,
            }));
        }
        let mut raw = serde_json::Map::new();
        raw.insert("file".into(), json!(file));
        raw.insert("lines".into(), Value::Array(raw_lines));
        let document = Document {
            number: invoice.number.clone(),
            kind: DocumentKind::IncomingReceipt,
            date: Some(date),
            counterparty: Some(receiving.counterparty.clone()),
            warehouse: receiving.warehouse.clone(),
            to_warehouse: None,
            currency: Some(currency),
            lines,
            total: Some(total.round_dp(2)),
            note: Some(format!("{} invoice {}", self.label, invoice.number)),
            updated_at: date.and_hms_opt(0, 0, 0).map(|d| d.and_utc()),
            raw,
        };
        Ok(SourceRecord {
            key: invoice.number.clone(),
            updated_at: document.updated_at,
            data: serde_json::to_value(&document).unwrap_or(Value::Null),
        })
    }
}
