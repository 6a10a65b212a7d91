//! ISO 20022 camt.052 (account report), camt.053 (statement) and camt.054 (debit/credit
//! notification), every version banks send (001.02 to 001.08 and on).
//!
//! Written here rather than taken from a crate: the `camt053` crate reads camt.053 only (001.02
//! and 001.08, to the Dutch banks' guideline), not camt.052 or camt.054 nor 001.04, and maps the
//! schema with serde so a version it does not know fails. This reader looks elements up by
//! local name, ignoring the namespace, so every version parses; where versions differ (001.08
//! wraps a party in `Pty`, states a transaction's amount as `Amt` rather than
//! `AmtDtls/TxAmt/Amt`, a status as `Sts/Cd`) it reads both.
use crate::amount;
use crate::document::{Balance, Counterparty, Detail, Document, Entry, Statement};
use crate::error::{ParseError, ParseErrorKind};
use crate::xml::Element;

/// The message kinds, by the element under `Document`: (message element, statement element,
/// message number).
const MESSAGES: [(&str, &str, &str); 3] = [
    ("BkToCstmrStmt", "Stmt", "053"),
    ("BkToCstmrAcctRpt", "Rpt", "052"),
    ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "054"),
];

/// References banks write where they have none: not a reference to key a record on.
const NO_REFERENCE: [&str; 3] = ["NONREF", "NOTPROVIDED", "NONE"];

/// The text, unless it is a placeholder for "no reference".
pub(crate) fn real_reference(reference: Option<String>) -> Option<String> {
    reference.filter(|text| !NO_REFERENCE.contains(&text.to_ascii_uppercase().as_str()))
}

/// Reads a camt document from its element tree.
pub(crate) fn read(file: &str, root: &Element) -> Result<Document, ParseError> {
    let not_camt = |problem: String| {
        ParseError::new(ParseErrorKind::UnknownFormat, file, Some(root.line), problem)
            .with_fix("export the statement as camt.052, camt.053 or camt.054 XML, or as MT940")
    };
    if root.name != "Document" {
        return Err(not_camt(format!(
            "the XML's root element is <{}>, not an ISO 20022 <Document>: this is not a bank statement",
            root.name
        )));
    }
    let namespace = root.namespace.clone().unwrap_or_default();
    let Some((message, statement_name, number)) = MESSAGES
        .iter()
        .find_map(|(message, statement, number)| root.child(message).map(|element| (element, *statement, *number)))
    else {
        let inside = root
            .children
            .first()
            .map(|child| format!("<{}>", child.name))
            .unwrap_or_else(|| "nothing".to_owned());
        let what = if namespace.is_empty() {
            String::new()
        } else {
            format!(" (namespace {namespace})")
        };
        return Err(not_camt(format!(
            "the ISO 20022 document{what} holds {inside}, not a camt.052, camt.053 or camt.054 statement"
        )));
    };
    // The version is in the namespace (`urn:iso:std:iso:20022:tech:xsd:camt.053.001.02`); a file
    // without one is still read, named by its message alone.
    let format = namespace
        .find("camt.")
        .map(|start| namespace[start..].trim().to_owned())
        .filter(|format| format.starts_with(&format!("camt.{number}")))
        .unwrap_or_else(|| format!("camt.{number}"));
    let base = format!("/Document/{}", message.name);
    let mut statements = Vec::new();
    for (index, element) in message.children_named(statement_name).enumerate() {
        let path = format!("{base}/{statement_name}[{}]", index + 1);
        statements.push(statement(file, element, &path)?);
    }
    if statements.is_empty() {
        return Err(ParseError::new(
            ParseErrorKind::Invalid,
            file,
            Some(message.line),
            format!("the {format} message holds no <{statement_name}>: there is nothing to import"),
        )
        .at_path(base));
    }
    Ok(Document {
        file: file.to_owned(),
        format,
        statements,
    })
}

fn statement(file: &str, element: &Element, path: &str) -> Result<Statement, ParseError> {
    let mut opening = None;
    let mut previous_closing = None;
    let mut closing = None;
    let mut balance_currency = None;
    for (index, balance) in element.children_named("Bal").enumerate() {
        let balance_path = format!("{path}/Bal[{}]", index + 1);
        let code = balance
            .text_at("Tp/CdOrPrtry/Cd")
            .or_else(|| balance.text_at("Tp/CdOrPrtry/Prtry"))
            .unwrap_or_default();
        let slot = match code.as_str() {
            "OPBD" => &mut opening,
            "PRCD" => &mut previous_closing,
            "CLBD" => &mut closing,
            _ => continue,
        };
        if slot.is_some() {
            continue;
        }
        let (value, currency) = own_amount(file, balance, &balance_path)?;
        balance_currency = balance_currency.or(currency);
        *slot = Some(Balance {
            amount: value,
            date: date_at(balance, "Dt"),
        });
    }
    let mut entries = Vec::new();
    for (index, entry_element) in element.children_named("Ntry").enumerate() {
        entries.push(entry(file, entry_element, &format!("{path}/Ntry[{}]", index + 1))?);
    }
    let currency = element
        .text_at("Acct/Ccy")
        .or(balance_currency)
        .or_else(|| entries.iter().find_map(|entry| entry.currency.clone()));
    Ok(Statement {
        id: element.text_at("Id"),
        number: element.text_at("ElctrncSeqNb").or_else(|| element.text_at("LglSeqNb")),
        account: element
            .text_at("Acct/Id/IBAN")
            .or_else(|| element.text_at("Acct/Id/Othr/Id")),
        currency,
        opening_balance: opening.or(previous_closing),
        closing_balance: closing,
        reconciles: None,
        entries,
        warnings: Vec::new(),
    })
}

/// A `YYYY-MM-DD` date at `path` (`…/Dt` or the date of `…/DtTm`), when it is a valid date.
fn date_at(element: &Element, path: &str) -> Option<String> {
    let holder = element.at(path)?;
    let text = holder.text_at("Dt").or_else(|| holder.text_at("DtTm"))?;
    let date = text.get(..10)?;
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(date.to_owned())
}

/// The signed amount `amount` (an `Amt` element) of `holder`, by `indicator` (`CRDT` or
/// `DBIT`), and its currency.
fn signed_amount(
    file: &str,
    holder: &Element,
    path: &str,
    amount: Option<&Element>,
    indicator: Option<&str>,
) -> Result<(String, Option<String>), ParseError> {
    let Some(amount_element) = amount else {
        return Err(invalid(file, holder.line, path, "has no <Amt>"));
    };
    let Some(unsigned) = amount::normalize(amount_element.text.trim(), '.') else {
        return Err(invalid(
            file,
            amount_element.line,
            &format!("{path}/Amt"),
            &format!("{:?} is not an amount", amount_element.text.trim()),
        ));
    };
    let negative = match indicator {
        Some("DBIT") => true,
        Some("CRDT") => false,
        Some(other) => {
            return Err(invalid(
                file,
                holder.line,
                &format!("{path}/CdtDbtInd"),
                &format!("{other:?} is neither CRDT nor DBIT"),
            ))
        }
        None => return Err(invalid(file, holder.line, path, "has no <CdtDbtInd> (CRDT or DBIT)")),
    };
    Ok((
        amount::signed(&unsigned, negative),
        amount_element.attribute("Ccy").map(str::to_owned),
    ))
}

/// The signed `Amt` of a balance or entry, by its own `CdtDbtInd`.
fn own_amount(file: &str, element: &Element, path: &str) -> Result<(String, Option<String>), ParseError> {
    let indicator = element.text_at("CdtDbtInd");
    signed_amount(file, element, path, element.child("Amt"), indicator.as_deref())
}

fn invalid(file: &str, line: u64, path: &str, problem: &str) -> ParseError {
    ParseError::new(
        ParseErrorKind::Invalid,
        file,
        Some(line),
        format!("<{}> {problem}", last_name(path)),
    )
    .at_path(path)
    .with_fix("the bank's file is not valid camt: ask the bank for a corrected statement")
}

/// `Amt` of `/Document/…/Ntry[2]/Amt`.
fn last_name(path: &str) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

fn entry(file: &str, element: &Element, path: &str) -> Result<Entry, ParseError> {
    // The sign follows CdtDbtInd alone: ISO 20022 states a reversal's own direction there (a
    // reversed credit is booked DBIT with RvslInd true), so RvslInd must not flip it again —
    // example-camt053-b.xml, with five reversals, reconciles only this way.
    let (amount, currency) = own_amount(file, element, path)?;
    let indicator = element.text_at("CdtDbtInd");
    let reversal = element
        .text_at("RvslInd")
        .is_some_and(|text| text == "true" || text == "1");
    // The party the money came from or went to: on a reversal, the original transaction's.
    let credit = (indicator.as_deref() == Some("CRDT")) != reversal;
    let mut details = Vec::new();
    let mut index = 0;
    for entry_details in element.children_named("NtryDtls") {
        for transaction in entry_details.children_named("TxDtls") {
            index += 1;
            let detail_path = format!("{path}/NtryDtls/TxDtls[{index}]");
            details.push(detail(file, transaction, &detail_path, indicator.as_deref(), credit)?);
        }
    }
    let additional = element.text_at("AddtlNtryInf");
    let single = (details.len() == 1).then(|| details[0].clone());
    let transaction_code = element
        .at("BkTxCd/Domn")
        .and_then(|domain| {
            let parts = [
                domain.text_at("Cd"),
                domain.text_at("Fmly/Cd"),
                domain.text_at("Fmly/SubFmlyCd"),
            ];
            let parts: Vec<String> = parts.into_iter().flatten().collect();
            (!parts.is_empty()).then(|| parts.join("/"))
        })
        .or_else(|| element.text_at("BkTxCd/Prtry/Cd"));
    Ok(Entry {
        amount,
        currency,
        booking_date: date_at(element, "BookgDt"),
        value_date: date_at(element, "ValDt"),
        bank_reference: element.text_at("AcctSvcrRef"),
        end_to_end_id: single.as_ref().and_then(|detail| detail.end_to_end_id.clone()),
        counterparty: single.as_ref().and_then(|detail| detail.counterparty.clone()),
        remittance: single
            .as_ref()
            .and_then(|detail| detail.remittance.clone())
            .or(additional),
        structured_reference: single.as_ref().and_then(|detail| detail.structured_reference.clone()),
        reversal,
        status: element.text_at("Sts/Cd").or_else(|| element.text_at("Sts")),
        transaction_code,
        line: element.line,
        details,
    })
}

fn detail(
    file: &str,
    element: &Element,
    path: &str,
    indicator: Option<&str>,
    credit: bool,
) -> Result<Detail, ParseError> {
    // The amount booked on the account: `AmtDtls/TxAmt` (001.02–001.07) or `Amt` (001.08);
    // never `InstdAmt`, which is what the payer ordered before charges and exchange.
    let booked = element.at("AmtDtls/TxAmt/Amt").or_else(|| element.child("Amt"));
    let (amount, currency) = match booked {
        Some(booked) => {
            let own_indicator = element.text_at("CdtDbtInd");
            let (amount, currency) = signed_amount(
                file,
                element,
                path,
                Some(booked),
                own_indicator.as_deref().or(indicator),
            )?;
            (Some(amount), currency)
        }
        None => (None, None),
    };
    let (party, account) = if credit {
        ("RltdPties/Dbtr", "RltdPties/DbtrAcct/Id")
    } else {
        ("RltdPties/Cdtr", "RltdPties/CdtrAcct/Id")
    };
    let counterparty = Counterparty {
        name: element
            .text_at(&format!("{party}/Nm"))
            .or_else(|| element.text_at(&format!("{party}/Pty/Nm"))),
        iban: element
            .text_at(&format!("{account}/IBAN"))
            .or_else(|| element.text_at(&format!("{account}/Othr/Id"))),
    };
    let unstructured: Vec<String> = element
        .at("RmtInf")
        .map(|remittance| {
            remittance
                .children_named("Ustrd")
                .map(|line| line.text.trim().to_owned())
                .filter(|line| !line.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let remittance = if unstructured.is_empty() {
        element.text_at("AddtlTxInf")
    } else {
        Some(unstructured.join(" "))
    };
    let structured_reference = element.at("RmtInf").and_then(|remittance| {
        remittance
            .children_named("Strd")
            .find_map(|structured| structured.text_at("CdtrRefInf/Ref"))
    });
    Ok(Detail {
        amount,
        currency,
        bank_reference: element.text_at("Refs/AcctSvcrRef"),
        end_to_end_id: real_reference(element.text_at("Refs/EndToEndId")),
        counterparty: (!counterparty.is_empty()).then_some(counterparty),
        remittance,
        structured_reference,
        line: element.line,
    })
}
