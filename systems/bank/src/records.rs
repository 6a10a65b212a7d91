//! A parsed statement file as canonical `bank_transaction` records: one per booked entry, or one
//! per transaction detail when an entry books several that add up to it ([`splits`]).
//!
//! The record key (the canonical `reference`) must be the same whether the payment arrives in
//! an intraday camt.052, the day's camt.053, a camt.054 notification or a re-import:
//!
//! - `ACCOUNT:BANKREF:N` — the account as written (spaces dropped, upper case), the bank's
//!   reference of the entry (camt `Ntry/AcctSvcrRef`, else the detail's `Refs/AcctSvcrRef`;
//!   MT940 `:61:` after `//`), and the 1-based index of the detail within the entry (1 for an
//!   entry booked as one record). Banks give one reference per booking and repeat it in every
//!   report of it, so this is stable across formats.
//! - `ACCOUNT:H<16 hex>:N` when the bank gives no reference (or a placeholder such as `NONREF`):
//!   the SHA-256 of booking date, signed amount and counterparty (IBAN, else name) — what the
//!   same payment has in any report of it.
//! - Either key seen a second time in one file (two equal card payments on one day; a bank that
//!   repeats one reference) gets `#2`, `#3`… in file order, so neither is lost; re-importing the
//!   same file gives the same suffixes.
use crate::camt::real_reference;
use crate::document::{Detail, Document, Entry, Statement};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tiltas_connector::{RecordFailure, SourceRecord};
use tiltas_model::{validate_json, EntityKind};

/// The records of a parsed file, in file order.
pub fn records(document: &Document) -> Vec<Result<SourceRecord, RecordFailure>> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut records = Vec::new();
    for statement in &document.statements {
        for entry in statement.entries.iter().filter(|entry| entry.is_booked()) {
            let split = splits(entry);
            if split {
                for (index, detail) in entry.details.iter().enumerate() {
                    let booking = Booking::of_detail(entry, detail, index + 1);
                    records.push(record(document, statement, entry, &booking, &mut seen));
                }
            } else {
                let booking = Booking::of_entry(entry);
                records.push(record(document, statement, entry, &booking, &mut seen));
            }
        }
    }
    records
}

/// Whether an entry books as one record per detail: when it has several, each stating an
/// amount in the entry's currency, and they add up to the entry. Otherwise (a batch given only
/// as a count, details in the payer's currency, charges taken off) the entry is one record,
/// so what is booked always matches the statement.
fn splits(entry: &Entry) -> bool {
    if entry.details.len() < 2 {
        return false;
    }
    let mut total = rust_decimal::Decimal::ZERO;
    for detail in &entry.details {
        let Some(amount) = &detail.amount else {
            return false;
        };
        if detail.currency.is_some() && detail.currency != entry.currency {
            return false;
        }
        total += crate::amount::value(amount);
    }
    total == crate::amount::value(&entry.amount)
}

/// What one record books: an entry, or one detail of it.
struct Booking<'a> {
    amount: &'a str,
    currency: Option<&'a str>,
    bank_reference: Option<String>,
    end_to_end_id: Option<&'a str>,
    counterparty_name: Option<&'a str>,
    counterparty_account: Option<&'a str>,
    remittance: Option<&'a str>,
    structured_reference: Option<&'a str>,
    /// 1-based index of the detail in its entry (1 for a whole entry).
    index: usize,
    line: u64,
}

impl<'a> Booking<'a> {
    fn of_entry(entry: &'a Entry) -> Booking<'a> {
        let counterparty = entry.counterparty.as_ref();
        let detail_reference = match entry.details.as_slice() {
            [only] => only.bank_reference.clone(),
            _ => None,
        };
        Booking {
            amount: &entry.amount,
            currency: entry.currency.as_deref(),
            bank_reference: real_reference(entry.bank_reference.clone()).or(real_reference(detail_reference)),
            end_to_end_id: entry.end_to_end_id.as_deref(),
            counterparty_name: counterparty.and_then(|party| party.name.as_deref()),
            counterparty_account: counterparty.and_then(|party| party.iban.as_deref()),
            remittance: entry.remittance.as_deref(),
            structured_reference: entry.structured_reference.as_deref(),
            index: 1,
            line: entry.line,
        }
    }

    fn of_detail(entry: &'a Entry, detail: &'a Detail, index: usize) -> Booking<'a> {
        let counterparty = detail.counterparty.as_ref();
        Booking {
            amount: detail.amount.as_deref().unwrap_or(&entry.amount),
            currency: detail.currency.as_deref().or(entry.currency.as_deref()),
            bank_reference: real_reference(entry.bank_reference.clone())
                .or_else(|| real_reference(detail.bank_reference.clone())),
            end_to_end_id: detail.end_to_end_id.as_deref(),
            counterparty_name: counterparty.and_then(|party| party.name.as_deref()),
            counterparty_account: counterparty.and_then(|party| party.iban.as_deref()),
            remittance: detail.remittance.as_deref(),
            structured_reference: detail.structured_reference.as_deref(),
            index,
            line: detail.line,
        }
    }
}

/// The account as part of a key: spaces dropped, upper case.
fn account_key(statement: &Statement) -> String {
    let account: String = statement
        .account
        .as_deref()
        .unwrap_or("NO-ACCOUNT")
        .chars()
        .filter(|character| !character.is_whitespace())
        .collect();
    account.to_uppercase()
}

fn key(statement: &Statement, entry: &Entry, booking: &Booking<'_>, seen: &mut HashMap<String, u32>) -> String {
    let account = account_key(statement);
    let base = match &booking.bank_reference {
        Some(reference) => format!("{account}:{reference}:{}", booking.index),
        None => {
            let mut hasher = Sha256::new();
            let party = booking.counterparty_account.or(booking.counterparty_name).unwrap_or("");
            for part in [entry.booking_date.as_deref().unwrap_or(""), booking.amount, party] {
                hasher.update(part.as_bytes());
                hasher.update([0x1f]);
            }
            let digest = hex::encode(hasher.finalize());
            format!("{account}:H{}:{}", &digest[..16], booking.index)
        }
    };
    let count = seen.entry(base.clone()).or_insert(0);
    *count += 1;
    if *count == 1 {
        base
    } else {
        format!("{base}#{count}")
    }
}

fn record(
    document: &Document,
    statement: &Statement,
    entry: &Entry,
    booking: &Booking<'_>,
    seen: &mut HashMap<String, u32>,
) -> Result<SourceRecord, RecordFailure> {
    let key = key(statement, entry, booking, seen);
    let location = format!("{}:{}", document.file, booking.line);
    let mut raw = Map::new();
    let mut put = |name: &str, value: Value| {
        if !value.is_null() {
            raw.insert(name.to_owned(), value);
        }
    };
    put("file", json!(document.file));
    put("format", json!(document.format));
    put("line", json!(booking.line));
    put("statement_id", json!(statement.id));
    put("statement_number", json!(statement.number));
    put("bank_reference", json!(booking.bank_reference));
    put("structured_reference", json!(booking.structured_reference));
    put("reversal", json!(entry.reversal));
    put("status", json!(entry.status));
    put("transaction_code", json!(entry.transaction_code));
    if entry.details.len() > 1 {
        put("entry_amount", json!(entry.amount));
        put("detail", json!(booking.index));
        put("details_in_entry", json!(entry.details.len()));
    }
    let data = json!({
        "reference": key,
        "account": statement.account,
        "booking_date": entry.booking_date,
        "value_date": entry.value_date,
        "amount": booking.amount,
        "currency": booking.currency.or(statement.currency.as_deref()),
        "counterparty_name": booking.counterparty_name,
        "counterparty_account": booking.counterparty_account,
        "remittance_info": booking.remittance,
        "end_to_end_id": booking.end_to_end_id,
        "raw": raw,
    });
    if let Err(problems) = validate_json(EntityKind::BankTransaction, &data) {
        return Err(RecordFailure::new(
            key,
            location,
            format!("the entry cannot be imported: {problems}"),
            data,
        ));
    }
    Ok(SourceRecord {
        key,
        updated_at: None,
        data,
    })
}
