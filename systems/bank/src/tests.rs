//! The parser against the shared fixture files (every one parses; balances and entry counts
//! as the files state them), bad input (each refused naming file and place, never a panic), and
//! the drop-folder source.
use crate::*;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// `shared/fixtures/bank` beside the repository, when it is there.
fn fixtures() -> Option<PathBuf> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/bank");
    if folder.is_dir() {
        Some(folder)
    } else {
        println!("note: {} is absent: fixture tests skipped", folder.display());
        None
    }
}

fn parse_fixture(folder: &Path, name: &str) -> Document {
    let bytes = std::fs::read(folder.join(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
    parse(name, &bytes).unwrap_or_else(|error| panic!("{name} must parse: {error}"))
}

/// One statement as the file states it: entries, opening and closing balance, whether they add
/// up.
type Expected = (usize, Option<&'static str>, Option<&'static str>, Option<bool>);

/// Every fixture file, with what it states, read off the files themselves (`<Bal>` OPBD/PRCD
/// and CLBD, `<Ntry>` counted; `:60F:`, `:62F:`, `:61:` counted) — the reconciliation follows
/// from them.
const FIXTURES: &[(&str, &str, usize, &[Expected])] = &[
    // (file, format, records, statements)
    (
        "camt/camt053-rs/test-camt053.xml",
        "camt.053.001.02",
        2,
        &[(2, Some("1000.00"), Some("950.00"), Some(true))],
    ),
    (
        "camt/camt053-rs/error-camt053.xml",
        "camt.053.001.02",
        2,
        &[(2, Some("1000.00"), Some("900.00"), Some(false))],
    ),
    (
        "camt/camt053-rs/example-camt053-a.xml",
        "camt.053.001.02",
        11,
        &[
            (7, Some("203.69"), Some("661.69"), Some(true)),
            (4, Some("1859.13"), Some("1660.87"), Some(true)),
        ],
    ),
    (
        "camt/camt053-rs/example-camt053-b.xml",
        "camt.053.001.02",
        19,
        &[(19, Some("-843686.20"), Some("-843610.73"), Some(true))],
    ),
    (
        "camt/hbci4java/test-camt-parse-05200102.xml",
        "camt.052.001.02",
        2,
        &[(2, Some("100.00"), Some("110.50"), Some(true))],
    ),
    (
        "camt/hbci4java/test-camt-parse-05200108.xml",
        "camt.052.001.08",
        1,
        &[(1, Some("100.00"), Some("66.00"), Some(true))],
    ),
    // PRCD 100.00, one debit of 53.00, CLBD 100.00: the file does not add up.
    (
        "camt/hbci4java/test-camt-ruecklastschrift.xml",
        "camt.052.001.02",
        1,
        &[(1, Some("100.00"), Some("100.00"), Some(false))],
    ),
    // The batch entry gives only a count (NbOfTxs 20), no details: three records.
    (
        "camt/dvbern/Business_Sample_camt.053.001.04.xml",
        "camt.053.001.04",
        3,
        &[(3, Some("500000"), Some("435678.50"), Some(true))],
    ),
    (
        "camt/dvbern/200519_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727_v2019.xml",
        "camt.054.001.08",
        2,
        &[(1, None, None, None)],
    ),
    // Three entries, one of them pending (Sts PDNG): two booked records.
    (
        "camt/dvbern/camt_054_Beispiel_NoCrdtBookedNotReversed.xml",
        "camt.054.001.04",
        2,
        &[(3, None, None, None)],
    ),
    (
        "camt/moov-io/200519_camt.052_P_CH2909000000250094239_1110092686_0_2019042416072347.xml",
        "camt.052.001.04",
        2,
        &[(2, Some("208509.19"), None, None)],
    ),
    (
        "camt/moov-io/200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml",
        "camt.054.001.04",
        6,
        &[(2, None, None, None)],
    ),
    (
        "camt/moov-io/camt054-returns_p_ch5109000000250092291_1110097606_0_2020112500512470.xml",
        "camt.054.001.04",
        1,
        &[(1, None, None, None)],
    ),
    (
        "camt/moov-io/FI_camt_053_sample.xml.xml",
        "camt.053.001.02",
        13,
        &[(10, Some("10000.00"), Some("23644.83"), Some(true))],
    ),
    // 13 details in 6 entries; the reversal of two is only information (Sts INFO): 11 records.
    (
        "camt/moov-io/FI_camt_054_sample.xml.xml",
        "camt.054.001.02",
        11,
        &[(6, None, None, None)],
    ),
    (
        "mt940/cmxl/mt940-handelsbank.txt",
        "mt940",
        0,
        &[
            (0, Some("0"), Some("0"), Some(true)),
            (0, Some("0"), Some("0"), Some(true)),
        ],
    ),
    // 0,00 + 1368378,92 is not 11 27421,94: as the file says.
    (
        "mt940/cmxl/mt940-headers.txt",
        "mt940",
        1,
        &[(1, Some("0.00"), Some("1127421.94"), Some(false))],
    ),
    (
        "mt940/cmxl/mt940-windows-line-breaks.txt",
        "mt940",
        2,
        &[(2, Some("2187.95"), Some("4387.95"), Some(true))],
    ),
    (
        "mt940/cmxl/mt940-with-colon-after-line-break.txt",
        "mt940",
        1,
        &[(1, Some("84349.74"), None, None)],
    ),
    (
        "mt940/cmxl/mt940-with-detailed-end-balance.txt",
        "mt940",
        1,
        &[(1, Some("10.00"), Some("15.00"), Some(false))],
    ),
    (
        "mt940/cmxl/mt942.txt",
        "mt942",
        2,
        &[(1, None, None, None), (1, None, None, None)],
    ),
    (
        "mt940/cmxl/statement-details-mt940.txt",
        "mt940",
        1,
        &[(1, None, None, None)],
    ),
    (
        "mt940/cmxl/statement-details-mt942.txt",
        "mt942",
        1,
        &[(1, None, None, None)],
    ),
    (
        "mt940/mt940-rs/abnamro/mt940.sta",
        "mt940",
        4,
        &[
            (3, Some("1111.10"), Some("2222.20"), Some(false)),
            (1, Some("5555.20"), Some("6666.83"), Some(false)),
        ],
    ),
    (
        "mt940/mt940-rs/bugs/issue-51.sta",
        "mt940",
        3,
        &[(3, Some("13564.13"), Some("13523.09"), Some(false))],
    ),
    (
        "mt940/mt940-rs/sparkasse/buxtehude.sta",
        "mt940",
        3,
        &[(3, Some("13564.13"), Some("13523.09"), Some(false))],
    ),
    (
        "mt940/mt940-rs/danskebank/MT940_FI_Example.sta",
        "mt940",
        6,
        &[(6, Some("54484.04"), Some("53126.94"), Some(true))],
    ),
];

#[test]
fn every_fixture_parses_with_the_balances_and_entries_it_states() {
    let Some(folder) = fixtures() else { return };
    for (name, format, records, statements) in FIXTURES {
        let document = parse_fixture(&folder, name);
        assert_eq!(document.format, *format, "{name}");
        let found: Vec<Expected> = document
            .statements
            .iter()
            .map(|statement| {
                (
                    statement.entries.len(),
                    statement.opening_balance.as_ref().map(|balance| leak(&balance.amount)),
                    statement.closing_balance.as_ref().map(|balance| leak(&balance.amount)),
                    statement.reconciles,
                )
            })
            .collect();
        assert_eq!(found, statements.to_vec(), "{name}");
        let read = crate::records(&document);
        assert_eq!(read.len(), *records, "{name}: records");
        for record in &read {
            match record {
                Ok(record) => assert!(!record.key.is_empty(), "{name}"),
                // The one sample in Deutsche Mark: the canonical model takes current ISO 4217
                // codes only, so its entry is a dead letter naming its line, not a panic.
                Err(failure) => {
                    assert!(
                        name.ends_with("mt940-with-colon-after-line-break.txt"),
                        "{name}: {}",
                        failure.message
                    );
                    assert_eq!(failure.location, format!("{name}:5"), "the :61: line");
                    assert!(
                        failure.message.contains("\"DEM\" is not an ISO 4217"),
                        "{}",
                        failure.message
                    );
                }
            }
        }
    }
}

/// A `&'static str` for comparing with the table (tests only).
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

#[test]
fn every_fixture_file_in_the_folder_is_in_the_table() {
    let Some(folder) = fixtures() else { return };
    let mut found = Vec::new();
    let mut stack = vec![folder.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture folder lists") {
            let path = entry.expect("fixture folder lists").path();
            let name = path.to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !name.ends_with(".md") && !name.ends_with(".json") {
                found.push(
                    path.strip_prefix(&folder)
                        .expect("inside")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    // The Danske Bank DK, NO and SE examples are checked against mt940-rs' own results below.
    let checked_elsewhere = ["MT940_DK_Example.sta", "MT940_NO_Example.sta", "MT940_SE_Example.sta"];
    for name in found {
        let listed = FIXTURES.iter().any(|(file, ..)| *file == name);
        let elsewhere = checked_elsewhere.iter().any(|file| name.ends_with(file));
        assert!(listed || elsewhere, "{name} is not in FIXTURES: add what it states");
    }
}

/// mt940-rs' own expected parse (the `.json` beside each of its samples) as an independent
/// oracle: the same statements, balances, and per entry the same signed amount and dates.
#[test]
fn mt940_samples_agree_with_mt940_rs_results() {
    let Some(folder) = fixtures() else { return };
    let samples = [
        "abnamro/mt940",
        "bugs/issue-51",
        "sparkasse/buxtehude",
        "danskebank/MT940_DK_Example",
        "danskebank/MT940_FI_Example",
        "danskebank/MT940_NO_Example",
        "danskebank/MT940_SE_Example",
    ];
    let value = |text: &str| Decimal::from_str(text).unwrap_or_else(|error| panic!("{text}: {error}"));
    for sample in samples {
        let name = format!("mt940/mt940-rs/{sample}.sta");
        let document = parse_fixture(&folder, &name);
        let oracle_text =
            std::fs::read_to_string(folder.join(format!("mt940/mt940-rs/{sample}.json"))).expect("oracle");
        let oracle: serde_json::Value = serde_json::from_str(&oracle_text).expect("oracle is JSON");
        let oracle = oracle.as_array().expect("a list of statements");
        assert_eq!(document.statements.len(), oracle.len(), "{name}: statements");
        for (statement, expected) in document.statements.iter().zip(oracle) {
            let balance = |balance: &serde_json::Value| {
                let amount = value(balance["amount"].as_str().expect("amount"));
                if balance["debit_credit_indicator"] == "Debit" {
                    -amount
                } else {
                    amount
                }
            };
            let opening = statement.opening_balance.as_ref().expect("opening");
            assert_eq!(value(&opening.amount), balance(&expected["opening_balance"]), "{name}");
            assert_eq!(
                opening.date.as_deref(),
                expected["opening_balance"]["date"].as_str(),
                "{name}"
            );
            let closing = statement.closing_balance.as_ref().expect("closing");
            assert_eq!(value(&closing.amount), balance(&expected["closing_balance"]), "{name}");
            let lines = expected["statement_lines"].as_array().expect("lines");
            assert_eq!(statement.entries.len(), lines.len(), "{name}: entries");
            for (entry, line) in statement.entries.iter().zip(lines) {
                let amount = value(line["amount"].as_str().expect("amount"));
                let signed = match line["ext_debit_credit_indicator"].as_str() {
                    Some("Debit") | Some("ReverseCredit") => -amount,
                    _ => amount,
                };
                assert_eq!(value(&entry.amount), signed, "{name}:{}", entry.line);
                assert_eq!(
                    entry.value_date.as_deref(),
                    line["value_date"].as_str(),
                    "{name}:{}",
                    entry.line
                );
                if let Some(entry_date) = line["entry_date"].as_str() {
                    assert_eq!(entry.booking_date.as_deref(), Some(entry_date), "{name}:{}", entry.line);
                }
            }
        }
    }
}

#[test]
fn a_batch_entry_books_each_transaction_detail_as_its_own_record() {
    let Some(folder) = fixtures() else { return };
    let name = "camt/moov-io/200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml";
    let document = parse_fixture(&folder, name);
    let entries = &document.statements[0].entries;
    let read: Vec<_> = crate::records(&document)
        .into_iter()
        .map(|record| record.expect("valid"))
        .collect();
    let detail_total: Decimal = read
        .iter()
        .map(|record| Decimal::from_str(record.data["amount"].as_str().expect("amount")).expect("decimal"))
        .sum();
    let entry_total: Decimal = entries
        .iter()
        .map(|entry| Decimal::from_str(&entry.amount).expect("decimal"))
        .sum();
    assert_eq!(detail_total, entry_total, "the details add up to their entries");
    let keys: std::collections::HashSet<_> = read.iter().map(|record| record.key.clone()).collect();
    assert_eq!(keys.len(), read.len(), "every detail has its own key: {keys:?}");
    assert!(
        read.iter()
            .all(|record| record.data["raw"]["structured_reference"].is_string()),
        "ISR references are carried for matching"
    );
}

#[test]
fn a_camt_reversal_keeps_the_direction_the_bank_booked() {
    let Some(folder) = fixtures() else { return };
    let document = parse_fixture(&folder, "camt/camt053-rs/example-camt053-b.xml");
    let statement = &document.statements[0];
    assert_eq!(statement.entries.iter().filter(|entry| entry.reversal).count(), 5);
    let first = &statement.entries[0];
    assert!(first.reversal);
    assert_eq!(first.amount, "10.00", "CRDT with RvslInd: money came back in");
    assert_eq!(statement.reconciles, Some(true));
}

const STATEMENT: &str = "{1:F01BANKDEFFAXXX0000000000}{2:O9401200240101BANKDEFFAXXX00000000002401011200N}\r\n{4:\r\n:20:STMT-1\r\n:25:LT601010012345678901\r\n:28C:1/1\r\n:60F:C231229EUR1000,00\r\n:61:2312290102D11,00NTRFNONREF//B-1\r\n:86:166?00SEPA?20EREF+E2E-9?21SVWZ+Invoice INV-7\r\n?32UAB Pirkejas?31LT121000011101001000\r\n:61:240102RC5,5NTRFNONREF//B-2\r\n:61:2401021229D0,5NCHGNONREF\r\n:86:Fees\r\n:62F:C240102EUR983,00\r\n-}\r\n";

#[test]
fn an_mt940_statement_over_new_year_dates_its_entries_in_the_right_year() {
    let document = parse("statement.sta", STATEMENT.as_bytes()).expect("parses");
    let statement = &document.statements[0];
    assert_eq!(statement.reconciles, Some(true), "{:?}", statement.warnings);
    let entries = &statement.entries;
    assert_eq!(entries[0].value_date.as_deref(), Some("2023-12-29"));
    assert_eq!(entries[0].booking_date.as_deref(), Some("2024-01-02"));
    assert_eq!(entries[0].amount, "-11.00");
    assert_eq!(entries[0].end_to_end_id.as_deref(), Some("E2E-9"));
    assert_eq!(entries[0].remittance.as_deref(), Some("Invoice INV-7"));
    let party = entries[0].counterparty.as_ref().expect("a party");
    assert_eq!(party.name.as_deref(), Some("UAB Pirkejas"));
    assert_eq!(party.iban.as_deref(), Some("LT121000011101001000"));
    assert!(entries[1].reversal);
    assert_eq!(
        entries[1].amount, "-5.5",
        "a reversed credit takes money off; scale as written"
    );
    assert_eq!(entries[2].booking_date.as_deref(), Some("2023-12-29"));
    assert_eq!(entries[2].value_date.as_deref(), Some("2024-01-02"));
}

#[test]
fn record_keys_are_stable_across_reimports_and_fall_back_to_a_hash_without_a_reference() {
    let document = parse("statement.sta", STATEMENT.as_bytes()).expect("parses");
    let keys: Vec<String> = crate::records(&document)
        .into_iter()
        .map(|record| record.expect("valid").key)
        .collect();
    assert_eq!(keys[0], "LT601010012345678901:B-1:1");
    assert_eq!(keys[1], "LT601010012345678901:B-2:1");
    assert!(keys[2].starts_with("LT601010012345678901:H"), "{}", keys[2]);
    let again = parse("renamed.sta", STATEMENT.as_bytes()).expect("parses");
    let again: Vec<String> = crate::records(&again)
        .into_iter()
        .map(|record| record.expect("valid").key)
        .collect();
    assert_eq!(keys, again);
}

#[test]
fn two_equal_payments_without_references_are_two_records() {
    let text =
        ":20:S\n:25:ACC\n:60F:C240101EUR0,\n:61:240102C5,NTRFNONREF\n:61:240102C5,NTRFNONREF\n:62F:C240102EUR10,\n";
    let document = parse("twice.sta", text.as_bytes()).expect("parses");
    let keys: Vec<String> = crate::records(&document)
        .into_iter()
        .map(|record| record.expect("valid").key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1], format!("{}#2", keys[0]));
}

#[test]
fn the_same_payment_in_camt_052_053_and_054_has_one_key() {
    let camt = |message: &str, statement: &str, number: &str| {
        format!(
            r#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{number}.001.08"><{message}><{statement}><Id>1</Id><Acct><Id><IBAN>LT60 1010 0123 4567 8901</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">8.850</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-03-01</Dt></BookgDt><AcctSvcrRef>REF-77</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>INV-1</EndToEndId></Refs><RltdPties><Dbtr><Pty><Nm>Payer</Nm></Pty></Dbtr></RltdPties></TxDtls></NtryDtls></Ntry></{statement}></{message}></Document>"#
        )
    };
    let files = [
        camt("BkToCstmrAcctRpt", "Rpt", "052"),
        camt("BkToCstmrStmt", "Stmt", "053"),
        camt("BkToCstmrDbtCdtNtfctn", "Ntfctn", "054"),
    ];
    let mut keys = Vec::new();
    for (index, text) in files.iter().enumerate() {
        let document = parse(&format!("f{index}.xml"), text.as_bytes()).expect("parses");
        assert_eq!(document.statements[0].entries[0].amount, "8.850", "no re-scaling");
        let record = crate::records(&document).remove(0).expect("valid");
        assert_eq!(record.data["counterparty_name"], "Payer");
        keys.push(record.key);
    }
    assert_eq!(keys[0], "LT601010012345678901:REF-77:1");
    assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");
}

#[test]
fn a_truncated_camt_is_refused_with_file_line_and_path() {
    let text = "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n<BkToCstmrStmt>\n<Stmt>\n<Ntry>\n<Amt Ccy=\"EUR\">1.00</Amt>\n";
    let error = parse("cut.xml", text.as_bytes()).expect_err("refused");
    assert_eq!(error.kind, ParseErrorKind::Truncated, "{error}");
    let message = error.to_string();
    assert!(message.starts_with("cut.xml:"), "{message}");
    assert!(message.contains("/Document/BkToCstmrStmt/Stmt/Ntry"), "{message}");
    assert!(message.contains("<Ntry> (opened on line 5)"), "{message}");
    assert!(message.starts_with("cut.xml:6:"), "{message}");
}

#[test]
fn a_camt_entry_without_amount_is_refused_at_its_xml_path() {
    let text = "<Document><BkToCstmrStmt><Stmt>\n<Ntry><CdtDbtInd>CRDT</CdtDbtInd></Ntry>\n<Ntry>\n<CdtDbtInd>CRDT</CdtDbtInd></Ntry></Stmt></BkToCstmrStmt></Document>";
    let error = parse("no-amount.xml", text.as_bytes()).expect_err("refused");
    assert_eq!(error.line, Some(2));
    assert_eq!(error.path.as_deref(), Some("/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"));
    assert!(
        error.to_string().starts_with("no-amount.xml:2: at /Document"),
        "{error}"
    );
}

#[test]
fn an_mt940_with_a_broken_entry_line_is_refused_at_that_line() {
    let text = ":20:S\r\n:25:ACC\r\n:60F:C240101EUR10,00\r\n:61:2401020102DXYZ\r\n:62F:C240102EUR10,00\r\n";
    let error = parse("broken.sta", text.as_bytes()).expect_err("refused");
    let message = error.to_string();
    assert!(message.starts_with("broken.sta:4: :61: has no amount"), "{message}");
    assert!(error.fix.is_some());
    let text = ":20:S\n:25:ACC\n:60F:C240101EUR10,00\n:61:24X1020102D1,00NTRF\n";
    let error = parse("broken.sta", text.as_bytes()).expect_err("refused");
    assert!(
        error
            .to_string()
            .starts_with("broken.sta:4: :61: does not start with a YYMMDD"),
        "{error}"
    );
}

#[test]
fn a_file_in_an_unknown_format_is_refused_as_not_a_statement() {
    let error = parse("prices.csv", b"sku;price\nA;1,00\n").expect_err("refused");
    assert_eq!(error.kind, ParseErrorKind::UnknownFormat);
    assert!(
        error.to_string().starts_with("prices.csv:1: not a bank statement"),
        "{error}"
    );
    assert!(error.to_string().contains("\"sku;price\""), "{error}");
    let pain = "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">\n<CstmrCdtTrfInitn/></Document>";
    let error = parse("order.xml", pain.as_bytes()).expect_err("refused");
    assert_eq!(error.kind, ParseErrorKind::UnknownFormat);
    assert!(error.to_string().contains("<CstmrCdtTrfInitn>"), "{error}");
    assert!(error.to_string().contains("pain.001.001.03"), "{error}");
    let error = parse("empty.sta", b"").expect_err("refused");
    assert!(error.to_string().contains("it is empty"), "{error}");
}

#[test]
fn fifty_megabytes_of_random_bytes_are_refused_without_a_panic() {
    use rand::{RngCore, SeedableRng};
    let mut random = rand::rngs::StdRng::seed_from_u64(14);
    let mut bytes = vec![0u8; 50 * 1024 * 1024];
    random.fill_bytes(&mut bytes);
    let error = parse("noise.bin", &bytes).expect_err("refused");
    assert!(error.to_string().starts_with("noise.bin"), "{error}");
    // The same noise behind an XML start and behind an MT940 start.
    let mut xml = b"<Document>".to_vec();
    xml.extend_from_slice(&bytes[..1024 * 1024]);
    assert!(parse("noise.xml", &xml).is_err());
    let mut mt = b":20:X\n:61:".to_vec();
    mt.extend_from_slice(&bytes[..1024 * 1024]);
    assert!(parse("noise.sta", &mt).is_err());
}

#[test]
fn truncated_fixtures_never_panic_and_truncated_camt_is_always_refused() {
    let Some(folder) = fixtures() else { return };
    for (name, ..) in FIXTURES {
        let bytes = std::fs::read(folder.join(name)).expect("fixture");
        for eighth in 1..8 {
            let cut = &bytes[..bytes.len() * eighth / 8];
            let result = parse(name, cut);
            if name.starts_with("camt/") {
                let error = result.expect_err("a cut camt file is refused");
                assert!(error.to_string().starts_with(name), "{error}");
                assert!(error.line.is_some(), "{error}");
            }
        }
    }
}

#[test]
fn deeply_nested_xml_is_refused_not_overflowing_the_stack() {
    let text = "<a>".repeat(100_000);
    let error = parse("deep.xml", text.as_bytes()).expect_err("refused");
    assert!(error.to_string().contains("nested deeper"), "{error}");
}

#[tokio::test]
async fn a_drop_folder_imports_each_statement_once_and_fails_bad_files_with_their_line() {
    use tiltas_connector::filedrop::FileDropSource;
    use tiltas_connector::{ReadRequest, Source};
    let dir = tempfile::tempdir().expect("temp dir");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).expect("inbox");
    std::fs::write(inbox.join("a.sta"), STATEMENT).expect("write");
    std::fs::write(inbox.join("b.sta"), STATEMENT).expect("write");
    std::fs::write(inbox.join("c.sta"), ":20:S\n:25:A\n:61:2401020102DXYZ\n").expect("write");
    let mut source = FileDropSource::open(&inbox, crate::source::StatementFiles)
        .expect("opens")
        .quiet_for(std::time::Duration::ZERO);
    let mut position = None;
    let mut records = Vec::new();
    loop {
        let request = ReadRequest {
            page_size: 100,
            position: position.clone(),
            changed_since: None,
        };
        let page = source.read_page(&request).await.expect("reads");
        records.extend(page.records);
        source.settled(page.next.as_deref()).await.expect("settles");
        position = page.next;
        if position.is_none() {
            break;
        }
    }
    let imported: Vec<_> = records.iter().filter_map(|record| record.as_ref().ok()).collect();
    let failed: Vec<_> = records.iter().filter_map(|record| record.as_ref().err()).collect();
    assert_eq!(imported.len(), 3, "one copy of the statement: {failed:?}");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].location, "c.sta:3");
    assert!(
        failed[0].message.contains(":61: has no amount"),
        "{}",
        failed[0].message
    );
    assert_eq!(std::fs::read_dir(inbox.join("failed")).expect("failed/").count(), 1);
    assert_eq!(std::fs::read_dir(inbox.join("done")).expect("done/").count(), 2);
}
