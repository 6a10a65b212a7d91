//! A feed file as a table of text cells with the line (or spreadsheet row) each came from:
//! CSV separated by `;`, `,` or tabs (found from the header line), UTF-8 with or without a
//! byte-order mark, or the first worksheet of an XLSX workbook (read with `calamine`). Numbers
//! are read with a decimal comma or point ([`parse_decimal`]).
use calamine::{Data, Reader, Xlsx};
use rust_decimal::Decimal;
use std::io::Cursor;
use std::str::FromStr;
use tiltas_connector::filedrop::Unreadable;

/// One row of cells and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The 1-based line of a CSV file, or the spreadsheet's row number.
    pub line: u64,
    /// The cells, trimmed; a row shorter than the header reads as empty cells.
    pub cells: Vec<String>,
}

/// A file's header and rows (blank rows left out).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// The header's cells, trimmed.
    pub header: Vec<String>,
    /// The rows below the header.
    pub rows: Vec<Row>,
}

/// The ZIP signature every XLSX file starts with.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Whether `bytes` are an XLSX workbook (a ZIP archive) rather than text.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_MAGIC)
}

/// Reads a feed file: XLSX when it is a ZIP archive, CSV otherwise.
pub fn read_table(bytes: &[u8]) -> Result<Table, Unreadable> {
    if is_xlsx(bytes) {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
}

/// The delimiter of a CSV file: the one of `;`, `,` and tab found most often outside quotes
/// in its first non-blank line (`;` on a tie, the usual one where `,` is the decimal mark).
fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in first.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (delimiter, count) in &mut counts {
                if *delimiter == byte {
                    *count += 1;
                }
            }
        }
    }
    counts
        .iter()
        .fold(
            (b';', 0),
            |best, &(delimiter, count)| if count > best.1 { (delimiter, count) } else { best },
        )
        .0
}

/// Reads CSV text, with or without a UTF-8 byte-order mark.
pub fn read_csv(bytes: &[u8]) -> Result<Table, Unreadable> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes[..error.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        Unreadable::new(
            Some(line),
            format!(
                "the file is not UTF-8 (byte 0x{:02X} on this line)",
                bytes[error.valid_up_to()]
            ),
        )
        .with_fix("export it as CSV UTF-8 (or XLSX)")
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    let mut table = Table::default();
    let mut header_read = false;
    for record in reader.records() {
        let record = record.map_err(|error| {
            let line = error.position().map(csv::Position::line);
            Unreadable::new(line, format!("the CSV cannot be read: {error}"))
                .with_fix("close the quote or remove the stray quote character")
        })?;
        // From the record's byte offset: the reader's own line count drifts on CRLF files.
        // (A CRLF record may be said to start at the `\n` of the line before.)
        let mut byte = record.position().map_or(0, |p| p.byte() as usize).min(text.len());
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        let line = text.as_bytes()[..byte].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let cells: Vec<String> = record.iter().map(|cell| cell.trim().to_owned()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if header_read {
            table.rows.push(Row { line, cells });
        } else {
            table.header = cells;
            header_read = true;
        }
    }
    if !header_read {
        return Err(Unreadable::new(None, "the file is empty").with_fix("export the feed again with its header line"));
    }
    Ok(table)
}

/// A spreadsheet cell as text: numbers in their shortest decimal form, dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.trim().to_owned(),
        Data::Int(number) => number.to_string(),
        // The shortest text that reads back as the same double: `12.5`, never `12.4999…`.
        Data::Float(number) => number.to_string(),
        Data::Bool(value) => value.to_string(),
        Data::DateTime(date) => excel_date(date.as_f64()).unwrap_or_else(|| date.as_f64().to_string()),
        Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Error(error) => format!("#{error:?}"),
    }
}

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> Option<String> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = serial.floor();
    if !(0.0..=2_958_465.0).contains(&days) {
        return None;
    }
    let date = epoch.checked_add_days(chrono::Days::new(days as u64))?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// Reads the first worksheet of an XLSX workbook.
pub fn read_xlsx(bytes: &[u8]) -> Result<Table, Unreadable> {
    let mut workbook = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|error| {
        Unreadable::new(None, format!("the XLSX workbook cannot be opened: {error}"))
            .with_fix("save it again as an Excel workbook (.xlsx), or export CSV UTF-8")
    })?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| Unreadable::new(None, "the workbook has no worksheet"))?
        .map_err(|error| Unreadable::new(None, format!("the first worksheet cannot be read: {error}")))?;
    let first_row = range.start().map_or(0, |(row, _)| u64::from(row));
    let mut table = Table::default();
    let mut header_read = false;
    for (index, cells) in range.rows().enumerate() {
        let cells: Vec<String> = cells.iter().map(cell_text).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let line = first_row + index as u64 + 1;
        if header_read {
            table.rows.push(Row { line, cells });
        } else {
            table.header = cells;
            header_read = true;
        }
    }
    if !header_read {
        return Err(Unreadable::new(None, "the first worksheet is empty").with_fix("put the feed's header in row 1"));
    }
    Ok(table)
}

/// A number written with a decimal comma or point, with or without thousands separators
/// (spaces, `.` or `,`, `'`): `12,50`, `1 234,5`, `1.234,56`, `1,234.56`, `12.5`, `1e-2`.
/// With one separator only, it is the decimal mark (`1,234` is 1.234) unless it occurs more
/// than once (`1,234,567`). `None` when the text is no number.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let plain: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'' && *c != '\u{a0}' && *c != '\u{202f}')
        .collect();
    if plain.is_empty() {
        return None;
    }
    let commas = plain.matches(',').count();
    let dots = plain.matches('.').count();
    let normal = match (plain.rfind(','), plain.rfind('.')) {
        (Some(comma), Some(dot)) if comma > dot => plain.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => plain.replace(',', ""),
        (Some(_), None) if commas > 1 => plain.replace(',', ""),
        (Some(_), None) => plain.replace(',', "."),
        (None, Some(_)) if dots > 1 => plain.replace('.', ""),
        _ => plain,
    };
    Decimal::from_str(&normal)
        .ok()
        .or_else(|| Decimal::from_scientific(&normal).ok())
}

/// A date written `YYYY-MM-DD`, `DD.MM.YYYY` or `DD/MM/YYYY` (a time after it ignored).
pub fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    let day = text.trim().split([' ', 'T']).next().unwrap_or("");
    ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"]
        .iter()
        .find_map(|format| chrono::NaiveDate::parse_from_str(day, format).ok())
}
