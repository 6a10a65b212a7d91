//! What a statement file says, format-neutral: the [`Document`] that `tiltas bank parse --json`
//! prints and the drop-folder source turns into records. Amounts are decimal strings exactly as
//! the file states them (a `,` decimal mark becomes `.`, a sign is added); nothing is rounded
//! or re-scaled, so `8.850` stays `8.850`.
use serde::Serialize;

/// One parsed statement file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// The file's name, as given to [`crate::parse`].
    pub file: String,
    /// `camt.053.001.02`, `camt.052.001.08`, `mt940`, `mt942`, …
    pub format: String,
    /// The statements (camt `Stmt`/`Rpt`/`Ntfctn`, MT940 messages) in file order.
    pub statements: Vec<Statement>,
}

/// One statement, report or notification of one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// The bank's id of the statement (camt `Id`, MT940 `:20:`).
    pub id: Option<String>,
    /// The statement's sequence number where the format has one (MT940 `:28C:`, camt
    /// `ElctrncSeqNb`).
    pub number: Option<String>,
    /// The account as written: an IBAN, or the bank's own account id.
    pub account: Option<String>,
    /// ISO 4217 currency of the account.
    pub currency: Option<String>,
    /// Opening booked balance (camt OPBD, else PRCD; MT940 `:60F:`/`:60M:`).
    pub opening_balance: Option<Balance>,
    /// Closing booked balance (camt CLBD; MT940 `:62F:`/`:62M:`).
    pub closing_balance: Option<Balance>,
    /// Whether opening + booked entries = closing; `None` when a balance is missing.
    pub reconciles: Option<bool>,
    /// The entries in file order.
    pub entries: Vec<Entry>,
    /// What is odd about the statement but did not stop the import (it does not reconcile, a
    /// date that is not a date, …), each naming its place.
    pub warnings: Vec<String>,
}

/// A balance: a signed amount on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    /// Signed decimal as the file states it: a debit balance is negative.
    pub amount: String,
    /// `YYYY-MM-DD`, when the file gives a valid date.
    pub date: Option<String>,
}

/// The other party of a payment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counterparty {
    /// Its name.
    pub name: Option<String>,
    /// Its account: an IBAN, or the account number as written.
    pub iban: Option<String>,
}

impl Counterparty {
    /// Whether nothing is known of it.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.iban.is_none()
    }
}

/// One booking line of a statement (camt `Ntry`, MT940 `:61:` with its `:86:`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Signed amount as stated: credit positive, debit negative, a reversal inverted.
    pub amount: String,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    pub booking_date: Option<String>,
    /// `YYYY-MM-DD`.
    pub value_date: Option<String>,
    /// The bank's reference (camt `AcctSvcrRef`, MT940 `:61:` after `//`).
    pub bank_reference: Option<String>,
    /// The payer's end-to-end id (SEPA `EREF`).
    pub end_to_end_id: Option<String>,
    /// The other party, when the entry has one detail (else each detail has its own).
    pub counterparty: Option<Counterparty>,
    /// Unstructured remittance text (what the payer wrote, often an invoice number).
    pub remittance: Option<String>,
    /// A structured creditor reference (ISO 11649 `RF…`, a national reference).
    pub structured_reference: Option<String>,
    /// Whether the entry reverses an earlier one (camt `RvslInd`, MT940 `RC`/`RD`).
    pub reversal: bool,
    /// `BOOK`, `PDNG`, `INFO` (camt `Sts`); MT940 entries are booked.
    pub status: Option<String>,
    /// The bank's transaction code (camt `BkTxCd`, MT940 `:61:` type such as `NTRF`).
    pub transaction_code: Option<String>,
    /// The 1-based line where the entry starts in the file.
    pub line: u64,
    /// The transactions booked together in this entry (camt `TxDtls`), each with its own
    /// amount, party and remittance; empty when the file gives none.
    pub details: Vec<Detail>,
}

/// One transaction inside an entry (camt `TxDtls`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    /// Signed amount as stated, when the detail states one.
    pub amount: Option<String>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// The bank's reference of this transaction (`Refs/AcctSvcrRef`).
    pub bank_reference: Option<String>,
    /// The payer's end-to-end id.
    pub end_to_end_id: Option<String>,
    /// The other party.
    pub counterparty: Option<Counterparty>,
    /// Unstructured remittance text.
    pub remittance: Option<String>,
    /// A structured creditor reference.
    pub structured_reference: Option<String>,
    /// The 1-based line where the detail starts.
    pub line: u64,
}

impl Entry {
    /// Whether the entry counts towards the booked balance (camt `BOOK`, or no status given).
    pub fn is_booked(&self) -> bool {
        self.status.as_deref().is_none_or(|status| status == "BOOK")
    }
}
