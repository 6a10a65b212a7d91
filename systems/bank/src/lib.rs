//! Bank statements (`system = "bank"`): ISO 20022 camt.052, camt.053 and camt.054 in any
//! version, and SWIFT MT940 and MT942, dropped into a folder. [`parse`] reads one file into a
//! [`Document`] (statements, balances, entries with their transaction details; amounts exactly
//! as stated); [`BankSystem`] is the source that imports every dropped file once as canonical
//! `bank_transaction` records ([`records`] says how they are keyed).
#![forbid(unsafe_code)]
mod amount;
mod camt;
mod document;
mod error;
mod mt940;
mod records;
mod source;
mod xml;

pub use document::{Balance, Counterparty, Detail, Document, Entry, Statement};
pub use error::{ParseError, ParseErrorKind};
pub use records::records;

use tiltas_config::{EntityAccess, KeyKind, KeySpec, SystemSpec};
use tiltas_connector::filedrop::FileDropSource;
use tiltas_connector::{ConnectorError, OpenContext, Source, System};
use tiltas_model::EntityKind;

/// `system = "bank"`.
pub static BANK: SystemSpec = SystemSpec {
    name: "bank",
    description: "Bank statements dropped into a folder: ISO 20022 camt.052/053/054 (any version) and SWIFT MT940/MT942",
    connection_keys: &[KeySpec {
        name: "dir",
        kind: KeyKind::Path,
        required: false,
        default: None,
        doc: "directory the drop folder is in, relative to the flow file (unset: the flow file's directory)",
    }],
    source_keys: &[KeySpec {
        name: "folder",
        kind: KeyKind::String,
        required: false,
        default: Some("inbox"),
        doc: "drop folder inside the connection's `dir`: each statement file dropped there is imported once, then moved to `done/` (unreadable ones to `failed/`)",
    }],
    target_keys: &[],
    entities: &[EntityAccess {
        entity: EntityKind::BankTransaction,
        read: true,
        write: false,
        incremental: false,
    }],
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

/// A `bank` connection (`[connections.NAME]`).
#[derive(serde::Deserialize)]
struct ConnectionSettings {
    /// Unset: the flow file's folder.
    dir: Option<std::path::PathBuf>,
}

/// A flow's `from` on a `bank` connection, defaults from the spec.
#[derive(serde::Deserialize)]
struct SourceSettings {
    folder: String,
}

/// Bank statement files: a source only (`system = "bank"`).
pub struct BankSystem;

impl System for BankSystem {
    fn spec(&self) -> &'static SystemSpec {
        &BANK
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        let connection: ConnectionSettings = context.connection_settings(&BANK)?;
        let settings: SourceSettings = context.endpoint_settings(BANK.source_keys)?;
        let dir = connection.dir.unwrap_or_else(|| context.base_dir.to_path_buf());
        Ok(Box::new(FileDropSource::open(
            dir.join(settings.folder),
            source::StatementFiles,
        )?))
    }
}

/// Reads one statement file: camt XML or MT940/MT942, told apart by content (not by name).
/// Refuses, naming the file and the line (and XML path), a file that is not a statement, is
/// cut off or cannot be read; a statement that does not add up is read, with `reconciles:
/// false` and a warning.
pub fn parse(file_name: &str, bytes: &[u8]) -> Result<Document, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    let mut document = if first == Some(&b'<') {
        let text = decode(bytes);
        let root = xml::parse(file_name, &text)?;
        camt::read(file_name, &root)?
    } else if mt940::looks_like(bytes) {
        mt940::read(file_name, &decode(bytes))?
    } else {
        return Err(unknown_format(file_name, bytes));
    };
    for statement in &mut document.statements {
        reconcile(file_name, statement);
    }
    Ok(document)
}

/// The text of a file: UTF-8, else Latin-1 (what older MT940 exports use; every byte is a
/// character, so nothing is refused for its encoding alone).
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|byte| char::from(*byte)).collect(),
    }
}

fn unknown_format(file_name: &str, bytes: &[u8]) -> ParseError {
    let head = &bytes[..bytes.len().min(64)];
    let printable = head
        .iter()
        .filter(|byte| {
            byte.is_ascii_graphic() || **byte == b' ' || **byte == b'\n' || **byte == b'\r' || **byte == b'\t'
        })
        .count();
    let start = if bytes.is_empty() {
        "it is empty".to_owned()
    } else if printable * 10 < head.len() * 9 {
        "it is binary data".to_owned()
    } else {
        let line = String::from_utf8_lossy(head);
        format!("it starts with {:?}", line.lines().next().unwrap_or_default())
    };
    ParseError::new(
        ParseErrorKind::UnknownFormat,
        file_name,
        Some(1),
        format!("not a bank statement: neither ISO 20022 camt XML nor SWIFT MT940/MT942 ({start})"),
    )
    .with_fix("export the statement from the bank as camt.053 (or camt.052/camt.054) XML, or as MT940")
}

/// Checks opening + booked entries = closing, and says so in `reconciles` (and a warning when
/// it does not hold): real files do not always add up, and such a statement is still imported.
fn reconcile(file_name: &str, statement: &mut Statement) {
    let (Some(opening), Some(closing)) = (&statement.opening_balance, &statement.closing_balance) else {
        return;
    };
    let entries: rust_decimal::Decimal = statement
        .entries
        .iter()
        .filter(|entry| entry.is_booked())
        .map(|entry| amount::value(&entry.amount))
        .sum();
    let computed = amount::value(&opening.amount) + entries;
    let holds = computed == amount::value(&closing.amount);
    statement.reconciles = Some(holds);
    if !holds {
        let which = statement.id.as_deref().unwrap_or("without id");
        let line = statement
            .entries
            .first()
            .map(|entry| format!(":{}", entry.line))
            .unwrap_or_default();
        statement.warnings.push(format!(
            "{file_name}{line}: statement {which} does not add up: opening balance {} + entries {entries} = {computed}, but the closing balance is {}; imported as the bank sent it (reconciles: false)",
            opening.amount, closing.amount
        ));
    }
}

#[cfg(test)]
mod tests;

tiltas_connector::test_registry!(&crate::BankSystem);
