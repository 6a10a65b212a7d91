//! The supplier's files as the simulator publishes them: rows in its layouts (each column
//! under the first header name the layout accepts), as CSV or XLSX.
use super::{Db, FeedProfile, SimInvoice};
use rust_decimal::Decimal;
use std::path::Path;

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// CSV text.
    Csv {
        /// The separator.
        delimiter: u8,
        /// Numbers with a decimal comma.
        decimal_comma: bool,
        /// A UTF-8 byte-order mark first (as spreadsheet exports have).
        bom: bool,
    },
    /// An XLSX workbook.
    Xlsx,
}

impl FileFormat {
    fn number(self, value: Decimal) -> String {
        let text = value.to_string();
        match self {
            FileFormat::Csv {
                decimal_comma: true, ..
            } => text.replace('.', ","),
            _ => text,
        }
    }

    /// The rows as a file of this format.
    pub fn render(self, rows: &[Vec<String>]) -> std::io::Result<Vec<u8>> {
        match self {
            FileFormat::Xlsx => crate::xlsx::write_xlsx(rows),
            FileFormat::Csv { delimiter, bom, .. } => {
                let start = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
                let mut writer = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(start);
                for row in rows {
                    writer.write_record(row).map_err(std::io::Error::other)?;
                }
                writer
                    .into_inner()
                    .map_err(|error| std::io::Error::other(error.to_string()))
            }
        }
    }

    /// The file name ending of this format.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Csv { .. } => "csv",
        }
    }
}

fn first(names: &[&str]) -> String {
    names.first().copied().unwrap_or_default().to_owned()
}

/// The supplier's files at one moment.
#[derive(Debug, Clone)]
pub struct SimFiles {
    /// The price list: its name and bytes.
    pub prices: (String, Vec<u8>),
    /// Invoices: number, issue date and the file of its lines.
    pub invoices: Vec<(String, chrono::NaiveDate, Vec<Vec<String>>)>,
    /// The header of invoice files.
    pub invoice_header: Vec<String>,
    /// How invoice files are written.
    pub invoice_format: FileFormat,
}

impl SimFiles {
    pub(crate) fn of(profile: &FeedProfile, db: &Db) -> SimFiles {
        let layout = &profile.supplier.prices;
        let (name, format) = profile.prices;
        let mut header = vec![
            first(layout.code),
            first(layout.article),
            first(layout.brand),
            first(layout.name),
            first(layout.price),
            first(layout.currency),
            first(layout.ean),
        ];
        header.extend(
            profile
                .parts
                .branches
                .iter()
                .map(|branch| format!("{}{branch}", first(layout.stock_prefix))),
        );
        let mut rows = vec![header];
        for part in &db.parts {
            let mut row = vec![
                part.code.clone(),
                part.part.article.clone(),
                part.part.brand.clone(),
                part.part.name.clone(),
                format.number((part.price_eur * profile.rate).round_dp(2)),
                profile.supplier.currency.to_owned(),
                part.part.ean.clone(),
            ];
            row.extend(part.stock.iter().map(|(_, quantity)| quantity.to_string()));
            rows.push(row);
        }
        let prices = format.render(&rows).unwrap_or_default();
        SimFiles {
            prices: (name.to_owned(), prices),
            invoices: db
                .invoices
                .iter()
                .map(|invoice| invoice_rows(profile, invoice))
                .collect(),
            invoice_header: invoice_header(profile),
            invoice_format: profile.invoices,
        }
    }

    /// One file of every invoice issued on or after `since`.
    pub fn invoices_since(&self, since: chrono::NaiveDate) -> std::io::Result<Vec<u8>> {
        let mut rows = vec![self.invoice_header.clone()];
        for (_, date, lines) in &self.invoices {
            if *date >= since {
                rows.extend(lines.iter().cloned());
            }
        }
        self.invoice_format.render(&rows)
    }

    /// Writes the price list into `out`, each invoice as `out/invoices/NUMBER.EXT`, and makes
    /// `out/orders/`.
    pub fn write(&self, out: &Path) -> std::io::Result<String> {
        std::fs::create_dir_all(out.join("invoices"))?;
        std::fs::create_dir_all(out.join("orders"))?;
        std::fs::write(out.join(&self.prices.0), &self.prices.1)?;
        for (number, _, lines) in &self.invoices {
            let mut rows = vec![self.invoice_header.clone()];
            rows.extend(lines.iter().cloned());
            // Invoice numbers may hold `/` (`VS/000001`): not in a file name.
            let name = format!(
                "{}.{}",
                number.replace(['/', '\\'], "_"),
                self.invoice_format.extension()
            );
            let path = out.join("invoices").join(name);
            std::fs::write(&path, self.invoice_format.render(&rows)?)?;
            // Dated a minute back, as if the supplier had dropped them earlier: a drop folder
            // leaves files changed in the last second for a later read (they may be half copied).
            let dropped = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
            std::fs::File::options()
                .write(true)
                .open(&path)?
                .set_modified(dropped)?;
        }
        Ok(format!(
            "wrote {} and {} invoice files into {} (orders are expected in {})",
            out.join(&self.prices.0).display(),
            self.invoices.len(),
            out.join("invoices").display(),
            out.join("orders").display()
        ))
    }
}

fn invoice_header(profile: &FeedProfile) -> Vec<String> {
    let layout = &profile.supplier.invoices;
    [
        layout.number,
        layout.date,
        layout.code,
        layout.article,
        layout.brand,
        layout.name,
        layout.quantity,
        layout.price,
        layout.vat,
        layout.currency,
    ]
    .iter()
    .map(|names| first(names))
    .collect()
}

fn invoice_rows(profile: &FeedProfile, invoice: &SimInvoice) -> (String, chrono::NaiveDate, Vec<Vec<String>>) {
    let format = profile.invoices;
    let rows = invoice
        .lines
        .iter()
        .map(|line| {
            vec![
                invoice.number.clone(),
                invoice.date.format("%d.%m.%Y").to_string(),
                line.code.clone(),
                line.article.clone(),
                line.brand.clone(),
                line.name.clone(),
                line.quantity.to_string(),
                format.number(line.price),
                format.number(profile.vat),
                profile.supplier.currency.to_owned(),
            ]
        })
        .collect();
    (invoice.number.clone(), invoice.date, rows)
}
