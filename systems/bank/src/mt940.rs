//! SWIFT MT940 (customer statement) and MT942 (interim transaction report), as banks export
//! them: with or without the SWIFT envelope (`{1:…}{2:…}{4:` … `-}`, or the `ä4:`/`-å` some
//! Nordic exports write for the braces), header lines (`ABNANL2A`, `940`) or prose before the
//! first tag, several messages per file separated by `-`, CRLF, LF or CR line ends.
//!
//! Written here rather than taken from the `mt940` crate: that crate (1.0.x) is strict by
//! design — files that bend the standard must be rewritten by its sanitizers first — and lists
//! MT942 as planned, while this import must take real exports as they are (the envelopes above,
//! MT942, a date that is no date: kept empty with a warning) and refuse only what it cannot
//! read, at the file's own `FILE:LINE`.
use crate::amount;
use crate::document::{Balance, Counterparty, Document, Entry, Statement};
use crate::error::{ParseError, ParseErrorKind};
use chrono::{Datelike, NaiveDate};

/// How far into a file to look for a tag line when guessing its format.
const SNIFF_BYTES: usize = 64 * 1024;

/// The tags of MT940 and MT942 block 4.
const TAGS: [&str; 19] = [
    "13", "13D", "20", "21", "25", "25P", "28", "28C", "34F", "60F", "60M", "61", "62F", "62M", "64", "65", "86",
    "90C", "90D",
];

/// The tag of a line that starts a field (`:61:…` → `61`), when it does.
fn tag_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let (tag, value) = rest.split_once(':')?;
    TAGS.contains(&tag).then_some((tag, value))
}

/// Whether `bytes` look like MT940/MT942: a line starting with a block-4 tag near the start.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    head.split(|byte| *byte == b'\n' || *byte == b'\r').any(|line| {
        let start = String::from_utf8_lossy(&line[..line.len().min(6)]);
        tag_of(&start).is_some()
    })
}

/// One field of block 4: its tag, its value (continuation lines joined with `\n`), its line.
#[derive(Debug)]
struct Field {
    tag: String,
    value: String,
    line: u64,
}

/// Splits the text into messages of fields, dropping envelopes, headers and trailers.
fn messages(text: &str) -> Vec<Vec<Field>> {
    let mut messages: Vec<Vec<Field>> = Vec::new();
    let mut current: Vec<Field> = Vec::new();
    for (index, line) in split_lines(text).enumerate() {
        let number = index as u64 + 1;
        let trimmed = line.trim_end();
        if let Some((tag, value)) = tag_of(trimmed) {
            // A new :20: without a `-` between is a new message all the same.
            if tag == "20" && !current.is_empty() {
                messages.push(std::mem::take(&mut current));
            }
            current.push(Field {
                tag: tag.to_owned(),
                value: value.to_owned(),
                line: number,
            });
            continue;
        }
        if is_message_end(trimmed) {
            if !current.is_empty() {
                messages.push(std::mem::take(&mut current));
            }
            continue;
        }
        // Envelope blocks (`{1:…}`, `{4:`) and anything before a message's first field are not
        // statement content; other lines continue the field above (`:86:` is often several).
        if trimmed.starts_with('{') || trimmed.is_empty() {
            continue;
        }
        if let Some(field) = current.last_mut() {
            field.value.push('\n');
            field.value.push_str(trimmed);
        }
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
}

/// `-`, `-}` (with the `{5:…}` trailer after it), or `-` and one substitute for the brace.
fn is_message_end(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('-') else {
        return false;
    };
    rest.is_empty() || rest.starts_with('}') || (rest.chars().count() == 1 && !rest.starts_with([' ', '-']))
}

/// Lines ended by `\r\n`, `\n` or a lone `\r`.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let mut next = end;
        if rest[end..].starts_with("\r\n") {
            next += 2;
        } else if end < rest.len() {
            next += 1;
        }
        rest = &rest[next..];
        Some(line)
    })
}

/// Reads an MT940 or MT942 file.
pub(crate) fn read(file: &str, text: &str) -> Result<Document, ParseError> {
    let mut statements = Vec::new();
    let mut interim = false;
    for fields in messages(text) {
        let Some(read) = statement(file, &fields)? else {
            continue;
        };
        interim |= read.1;
        statements.push(read.0);
    }
    if statements.is_empty() {
        return Err(ParseError::new(
            ParseErrorKind::UnknownFormat,
            file,
            None,
            "no MT940 or MT942 statement in the file (no :61: entry and no :60F:/:62F: balance)",
        )
        .with_fix("export the statement as MT940, or as camt.053 XML"));
    }
    Ok(Document {
        file: file.to_owned(),
        format: if interim { "mt942" } else { "mt940" }.to_owned(),
        statements,
    })
}

/// One message as a statement, and whether it is an MT942 report; `None` for a message with
/// neither entries nor balances (an envelope with nothing inside).
fn statement(file: &str, fields: &[Field]) -> Result<Option<(Statement, bool)>, ParseError> {
    let mut statement = Statement {
        id: None,
        number: None,
        account: None,
        currency: None,
        opening_balance: None,
        closing_balance: None,
        reconciles: None,
        entries: Vec::new(),
        warnings: Vec::new(),
    };
    let mut interim = false;
    let mut has_content = false;
    // :61: lines are read once the balances are known: their entry dates take the year from them.
    let mut raw_entries: Vec<(&Field, Vec<&Field>)> = Vec::new();
    let mut after_entry = false;
    for field in fields {
        let value = field.value.trim();
        match field.tag.as_str() {
            "20" => statement.id = Some(value.to_owned()),
            "25" | "25P" => statement.account = Some(value.lines().next().unwrap_or(value).trim().to_owned()),
            "28" | "28C" => statement.number = Some(value.to_owned()),
            "60F" | "60M" if statement.opening_balance.is_none() => {
                let (balance, currency) = balance(file, field, &mut statement.warnings)?;
                statement.opening_balance = Some(balance);
                statement.currency = statement.currency.or(Some(currency));
                has_content = true;
            }
            "62F" | "62M" => {
                let (balance, currency) = balance(file, field, &mut statement.warnings)?;
                statement.closing_balance = Some(balance);
                statement.currency = statement.currency.or(Some(currency));
                has_content = true;
            }
            "34F" | "13" | "13D" | "90C" | "90D" => {
                interim = true;
                if field.tag == "34F" && statement.currency.is_none() {
                    statement.currency = value.get(..3).map(str::to_owned);
                }
            }
            "61" => {
                raw_entries.push((field, Vec::new()));
                has_content = true;
            }
            "86" if after_entry => {
                if let Some((_, information)) = raw_entries.last_mut() {
                    information.push(field);
                }
            }
            _ => {}
        }
        after_entry = field.tag == "61" || (field.tag == "86" && after_entry);
    }
    if !has_content {
        return Ok(None);
    }
    interim &= statement.opening_balance.is_none();
    if statement.opening_balance.is_some() && statement.closing_balance.is_none() {
        let line = fields.last().map_or(0, |field| field.line);
        statement.warnings.push(format!(
            "{file}:{line}: the statement has an opening balance but no closing balance (:62F:): the file may be cut off"
        ));
    }
    let anchor = [&statement.closing_balance, &statement.opening_balance]
        .into_iter()
        .flatten()
        .find_map(|balance| balance.date.as_deref())
        .and_then(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok());
    for (line, information) in raw_entries {
        let entry = entry(
            file,
            line,
            &information,
            statement.currency.clone(),
            anchor,
            &mut statement.warnings,
        )?;
        statement.entries.push(entry);
    }
    Ok(Some((statement, interim)))
}

/// A date from `YYMMDD`: years 80–99 are 19xx, the rest 20xx (SWIFT's own rule).
fn full_date(text: &str) -> Option<NaiveDate> {
    let digits = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let (year, month, day) = (digits(0..2)?, digits(2..4)?, digits(4..6)?);
    let century = if year >= 80 { 1900 } else { 2000 };
    NaiveDate::from_ymd_opt(century + year as i32, month, day)
}

/// `:60F:C090924EUR54484,04` → the signed balance and its currency.
fn balance(file: &str, field: &Field, warnings: &mut Vec<String>) -> Result<(Balance, String), ParseError> {
    let value = field.value.trim();
    let refuse = |what: &str| {
        ParseError::new(
            ParseErrorKind::Invalid,
            file,
            Some(field.line),
            format!(":{}: {what}: {value:?}", field.tag),
        )
        .with_fix("a balance is a D/C mark, a YYMMDD date, a currency and an amount, e.g. C240131EUR1234,56")
    };
    let negative = match value.chars().next() {
        Some('C') => false,
        Some('D') => true,
        _ => return Err(refuse("has no debit/credit mark (C or D)")),
    };
    let date_text = value.get(1..7).ok_or_else(|| refuse("is cut short"))?;
    if !date_text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(refuse("has no YYMMDD date after the mark"));
    }
    let currency = value.get(7..10).ok_or_else(|| refuse("has no currency"))?;
    if !currency.bytes().all(|byte| byte.is_ascii_uppercase()) {
        return Err(refuse("has no currency after the date"));
    }
    let amount_text = value.get(10..).unwrap_or_default();
    let unsigned = amount::normalize(amount_text, ',').ok_or_else(|| refuse("has no amount after the currency"))?;
    let date = full_date(date_text);
    if date.is_none() {
        warnings.push(format!(
            "{file}:{}: :{}: date {date_text} is not a date: the balance's date is left empty",
            field.line, field.tag
        ));
    }
    Ok((
        Balance {
            amount: amount::signed(&unsigned, negative),
            date: date.map(|date| date.to_string()),
        },
        currency.to_owned(),
    ))
}

/// The year for an entry date `MMDD` that puts it nearest `anchor` (its value date, else the
/// statement's balance date): a statement running over New Year books a 31 Dec value on 2 Jan.
fn nearest_year(month: u32, day: u32, anchor: NaiveDate) -> Option<NaiveDate> {
    [anchor.year() - 1, anchor.year(), anchor.year() + 1]
        .into_iter()
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .min_by_key(|date| (*date - anchor).num_days().abs())
}

fn entry(
    file: &str,
    field: &Field,
    information: &[&Field],
    currency: Option<String>,
    anchor: Option<NaiveDate>,
    warnings: &mut Vec<String>,
) -> Result<Entry, ParseError> {
    let mut lines = field.value.lines();
    let first = lines.next().unwrap_or_default().trim();
    let refuse = |what: &str| {
        ParseError::new(ParseErrorKind::Invalid, file, Some(field.line), format!(":61: {what}: {first:?}")).with_fix(
            "an entry is YYMMDD[MMDD], a mark (C, D, RC or RD), an amount and a type, e.g. :61:2401310131D12,50NTRFNONREF//B123",
        )
    };
    let bytes = first.as_bytes();
    let digit_run = bytes.iter().take_while(|byte| byte.is_ascii_digit()).count();
    if digit_run < 6 {
        return Err(refuse("does not start with a YYMMDD value date"));
    }
    let value_text = &first[..6];
    // Four more digits are the entry date; more than ten digits before the mark is no date.
    let entry_text = (digit_run >= 10).then(|| &first[6..10]);
    if digit_run != 6 && digit_run != 10 {
        return Err(refuse("has a date that is neither YYMMDD nor YYMMDDMMDD"));
    }
    let mut rest = &first[digit_run..];
    let (reversal, debit) = if let Some(after) = rest.strip_prefix("RC") {
        rest = after;
        (true, false)
    } else if let Some(after) = rest.strip_prefix("RD") {
        rest = after;
        (true, true)
    } else if let Some(after) = rest.strip_prefix('C') {
        rest = after;
        (false, false)
    } else if let Some(after) = rest.strip_prefix('D') {
        rest = after;
        (false, true)
    } else {
        return Err(refuse("has no debit/credit mark (C, D, RC or RD) after the date"));
    };
    // An optional funds code: the third letter of the currency (`R` in `DR800,`).
    if rest.starts_with(|character: char| character.is_ascii_alphabetic()) {
        rest = &rest[1..];
    }
    let amount_length = rest
        .bytes()
        .take_while(|byte| byte.is_ascii_digit() || *byte == b',')
        .count();
    let unsigned = amount::normalize(&rest[..amount_length], ',')
        .ok_or_else(|| refuse("has no amount after the debit/credit mark"))?;
    rest = &rest[amount_length..];
    // A reversal of a credit takes money off the account, a reversal of a debit puts it back.
    let negative = debit != reversal;
    let transaction_code = rest.get(..4).map(str::to_owned);
    let references = rest.get(4..).unwrap_or_default();
    let bank_reference = references
        .split_once("//")
        .map(|(_, bank)| bank.trim().to_owned())
        .filter(|bank| !bank.is_empty());

    let value_date = full_date(value_text);
    if value_date.is_none() {
        warnings.push(format!(
            "{file}:{}: :61: value date {value_text} is not a date: it is left empty",
            field.line
        ));
    }
    let booking_date = match entry_text {
        None => value_date,
        Some(text) => {
            let month = text[..2].parse::<u32>().unwrap_or(0);
            let day = text[2..].parse::<u32>().unwrap_or(0);
            let date = value_date
                .or(anchor)
                .and_then(|anchor| nearest_year(month, day, anchor));
            if date.is_none() {
                warnings.push(format!(
                    "{file}:{}: :61: entry date {text} is not a date: it is left empty",
                    field.line
                ));
            }
            date
        }
    };

    let information = information_of(information);
    Ok(Entry {
        amount: amount::signed(&unsigned, negative),
        currency,
        booking_date: booking_date.map(|date| date.to_string()),
        value_date: value_date.map(|date| date.to_string()),
        bank_reference,
        end_to_end_id: information.end_to_end_id,
        counterparty: (!information.counterparty.is_empty()).then_some(information.counterparty),
        remittance: information.remittance,
        structured_reference: information.structured_reference,
        reversal,
        status: None,
        transaction_code,
        line: field.line,
        details: Vec::new(),
    })
}

/// What `:86:` says, read as the German `?nn` sub-fields where it has them, else free text.
#[derive(Debug, Default)]
struct Information {
    end_to_end_id: Option<String>,
    counterparty: Counterparty,
    remittance: Option<String>,
    structured_reference: Option<String>,
}

/// SEPA keywords inside the purpose sub-fields (`EREF+…SVWZ+…`).
const SEPA_KEYWORDS: [&str; 12] = [
    "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "IBAN+", "BIC+", "COAM+", "OAMT+",
];

fn information_of(fields: &[&Field]) -> Information {
    let text = fields
        .iter()
        .map(|field| field.value.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    if text.trim().is_empty() {
        return Information::default();
    }
    let joined: String = text.lines().collect();
    let structured =
        joined.len() > 4 && joined.as_bytes()[..3].iter().all(u8::is_ascii_digit) && joined[3..].starts_with('?');
    if !structured {
        let remittance = text.trim().to_owned();
        return Information {
            structured_reference: creditor_reference(&remittance),
            remittance: Some(remittance),
            ..Information::default()
        };
    }
    // `?nn` sub-fields of 27 characters, wrapped at any character: lines join without a space.
    let mut subfields: Vec<(u32, String)> = Vec::new();
    let mut rest = &joined[3..];
    while let Some(start) = rest.find('?') {
        let after = &rest[start + 1..];
        let code = after
            .get(..2)
            .filter(|code| code.bytes().all(|byte| byte.is_ascii_digit()))
            .and_then(|code| code.parse::<u32>().ok());
        match code {
            Some(code) => {
                let body = &after[2..];
                let end = next_subfield(body);
                subfields.push((code, body[..end].to_owned()));
                rest = &body[end..];
            }
            None => rest = after,
        }
    }
    let collect = |codes: &[std::ops::RangeInclusive<u32>]| -> String {
        subfields
            .iter()
            .filter(|(code, _)| codes.iter().any(|range| range.contains(code)))
            .map(|(_, value)| value.as_str())
            .collect()
    };
    let purpose = collect(&[20..=29, 60..=63]);
    let sepa = sepa_parts(&purpose);
    let part = |keyword: &str| {
        sepa.iter()
            .find(|(key, _)| *key == keyword)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let remittance = if sepa.is_empty() {
        Some(purpose.trim().to_owned()).filter(|text| !text.is_empty())
    } else {
        part("SVWZ+")
    };
    let name = collect(&[32..=33]);
    let account = collect(&[31..=31]);
    Information {
        end_to_end_id: crate::camt::real_reference(part("EREF+")),
        counterparty: Counterparty {
            name: Some(name.trim().to_owned()).filter(|name| !name.is_empty()),
            iban: Some(account.trim().to_owned()).filter(|account| !account.is_empty()),
        },
        structured_reference: remittance.as_deref().and_then(creditor_reference),
        remittance,
    }
}

/// Where the next `?nn` sub-field starts in `body`, or its end.
fn next_subfield(body: &str) -> usize {
    let bytes = body.as_bytes();
    (0..bytes.len())
        .find(|&index| {
            bytes[index] == b'?'
                && bytes
                    .get(index + 1..index + 3)
                    .is_some_and(|code| code.iter().all(u8::is_ascii_digit))
        })
        .unwrap_or(bytes.len())
}

/// The purpose split at SEPA keywords: (keyword, value) in order; empty when it has none.
fn sepa_parts(purpose: &str) -> Vec<(&'static str, String)> {
    let mut starts: Vec<(usize, &'static str)> = SEPA_KEYWORDS
        .iter()
        .flat_map(|keyword| purpose.match_indices(keyword).map(move |(index, _)| (index, *keyword)))
        .collect();
    starts.sort_unstable();
    starts
        .iter()
        .enumerate()
        .map(|(index, (start, keyword))| {
            let end = starts.get(index + 1).map_or(purpose.len(), |(next, _)| *next);
            (*keyword, purpose[start + keyword.len()..end].to_owned())
        })
        .collect()
}

/// The first ISO 11649 creditor reference (`RF18539007547034`) in `text` whose check digits
/// are right: what a payer copies from the invoice, so matching can rely on it.
pub(crate) fn creditor_reference(text: &str) -> Option<String> {
    text.split(|character: char| !character.is_ascii_alphanumeric())
        .filter(|word| (5..=25).contains(&word.len()) && word.to_ascii_uppercase().starts_with("RF"))
        .map(str::to_ascii_uppercase)
        .find(|word| {
            word[2..4].bytes().all(|byte| byte.is_ascii_digit())
                && mod97_is_one(&format!("{}{}", &word[4..], &word[..4]))
        })
}

/// ISO 7064 MOD 97-10 over letters as numbers (A = 10 … Z = 35).
fn mod97_is_one(text: &str) -> bool {
    let mut remainder: u32 = 0;
    for character in text.chars() {
        let Some(value) = character.to_digit(36) else {
            return false;
        };
        let digits = if value >= 10 { 100 } else { 10 };
        remainder = (remainder * digits + value) % 97;
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_date_takes_the_year_nearest_its_value_date() {
        let value = NaiveDate::from_ymd_opt(2023, 12, 29).unwrap_or_default();
        assert_eq!(nearest_year(1, 2, value), NaiveDate::from_ymd_opt(2024, 1, 2));
        let value = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default();
        assert_eq!(nearest_year(12, 29, value), NaiveDate::from_ymd_opt(2023, 12, 29));
        assert_eq!(nearest_year(2, 30, value), None);
    }

    #[test]
    fn two_digit_years_follow_the_swift_pivot() {
        assert_eq!(full_date("991231"), NaiveDate::from_ymd_opt(1999, 12, 31));
        assert_eq!(full_date("090924"), NaiveDate::from_ymd_opt(2009, 9, 24));
        assert_eq!(full_date("141387"), None);
    }

    #[test]
    fn creditor_references_are_checked() {
        assert_eq!(
            creditor_reference("Invoice RF18 5390 0754 7034"),
            None,
            "spaced is not one word"
        );
        assert_eq!(
            creditor_reference("pay RF18539007547034 thanks").as_deref(),
            Some("RF18539007547034")
        );
        assert_eq!(creditor_reference("RF19539007547034"), None, "wrong check digits");
    }

    #[test]
    fn german_subfields_give_party_reference_and_purpose() {
        let field = Field {
            tag: "86".to_owned(),
            value: "171?00SEPA LASTSCHRIFT?20EREF+TRX-1?21-2 MREF+M1?22SVWZ+Rechnung\n 4711?30HYVEDEMMXXX?31DE02100100109307118603?32Peter Pan".to_owned(),
            line: 1,
        };
        let information = information_of(&[&field]);
        assert_eq!(information.end_to_end_id.as_deref(), Some("TRX-1-2"));
        assert_eq!(information.remittance.as_deref(), Some("Rechnung 4711"));
        assert_eq!(information.counterparty.name.as_deref(), Some("Peter Pan"));
        assert_eq!(information.counterparty.iban.as_deref(), Some("DE02100100109307118603"));
    }
}
