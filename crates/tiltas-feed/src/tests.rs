//! The parsers: CSV with `;`, `,` or tabs, decimal comma or point, with or without a BOM, and
//! XLSX read to the same rows; bad rows naming line and column; invoices grouped by number;
//! order files placed once in a folder; quotes from the newest file of a folder.
use crate::layout::{OrderField, OrderLayout};
use crate::table::{parse_date, parse_decimal, read_table};
use crate::*;
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;
use tiltas_connector::{OpenGate, PartQuery, PartQuoter, ReadRequest, Source, Target, WriteItem, WriteOutcome};

static TEST_SUPPLIER: Supplier = Supplier {
    system: "testfeed",
    label: "Test Supplier",
    prices: PriceLayout {
        code: &["Code", "Код"],
        article: &["Article", "Артикул"],
        brand: &["Brand", "Бренд"],
        name: &["Name"],
        price: &["Price", "Ціна"],
        currency: &["Currency"],
        ean: &["EAN"],
        stock_prefix: &["Stock ", "Склад "],
    },
    invoices: InvoiceLayout {
        number: &["Invoice"],
        date: &["Date"],
        code: &["Code"],
        article: &["Article"],
        brand: &["Brand"],
        name: &["Name"],
        quantity: &["Qty"],
        price: &["Price"],
        vat: &["VAT"],
        currency: &["Currency"],
    },
    orders: OrderLayout {
        delimiter: b';',
        decimal_comma: true,
        columns: &[
            ("Order", OrderField::Number),
            ("Code", OrderField::Code),
            ("Qty", OrderField::Quantity),
            ("Price", OrderField::Price),
        ],
    },
    currency: "EUR",
    only_currency: true,
    credential_keys: "`token`",
};

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn numbers_read_with_a_decimal_comma_or_point_and_thousands_separators() {
    for (text, expected) in [
        ("12,50", "12.50"),
        ("12.5", "12.5"),
        ("1 234,5", "1234.5"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1,234,567", "1234567"),
        ("-3", "-3"),
        ("1e-2", "0.01"),
    ] {
        assert_eq!(parse_decimal(text), Some(decimal(expected)), "{text}");
    }
    for text in ["", "abc", "12,3x", "--"] {
        assert_eq!(parse_decimal(text), None, "{text}");
    }
    assert_eq!(parse_date("31.01.2026"), parse_date("2026-01-31"));
    assert!(parse_date("2026-01-31").is_some() && parse_date("soon").is_none());
}

const ROWS: [[&str; 7]; 3] = [
    ["Code", "Article", "Brand", "Price", "Stock Kyiv", "Stock Lviv", "Name"],
    ["T-1", "W 712/75", "MANN-FILTER", "12,50", "3", "0", "Oil filter"],
    [
        "T-2",
        "0 986 494 104",
        "BOSCH",
        "1 234,50",
        ">10",
        "",
        "Brake pads; front",
    ],
];

fn csv(delimiter: char, decimal_point: bool, bom: bool) -> Vec<u8> {
    let mut text = String::new();
    if bom {
        text.push('\u{feff}');
    }
    for row in ROWS {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| {
                let cell = if decimal_point {
                    cell.replace(',', ".").replace("1 234.50", "1234.50")
                } else {
                    (*cell).to_owned()
                };
                if cell.contains(delimiter) || cell.contains(';') {
                    format!("\"{cell}\"")
                } else {
                    cell
                }
            })
            .collect();
        text.push_str(&cells.join(&delimiter.to_string()));
        text.push_str("\r\n");
    }
    text.into_bytes()
}

fn offers(bytes: &[u8]) -> Vec<FeedOffer> {
    let table = read_table(bytes).unwrap_or_else(|e| panic!("{e}"));
    let list = TEST_SUPPLIER.price_list(&table).unwrap_or_else(|e| panic!("{e}"));
    list.rows
        .into_iter()
        .map(|row| row.unwrap_or_else(|e| panic!("{e:?}")))
        .collect()
}

#[test]
fn csv_with_semicolons_commas_or_tabs_a_bom_or_none_and_xlsx_read_to_the_same_offers() {
    let expected = offers(&csv(';', false, true));
    assert_eq!(expected.len(), 2);
    assert_eq!(
        (
            expected[0].code.as_str(),
            expected[0].article.as_str(),
            expected[0].price,
            expected[0].currency.as_str()
        ),
        ("T-1", "W 712/75", decimal("12.50"), "EUR")
    );
    assert_eq!(
        expected[0].stock,
        vec![("Kyiv".to_owned(), decimal("3")), ("Lviv".to_owned(), Decimal::ZERO)]
    );
    assert_eq!(expected[1].price, decimal("1234.50"));
    assert_eq!(
        expected[1].stock[0],
        ("Kyiv".to_owned(), decimal("10")),
        ">10 counts as 10"
    );
    assert_eq!(
        expected[1].name.as_deref(),
        Some("Brake pads; front"),
        "a quoted separator"
    );
    assert_eq!((expected[0].line, expected[1].line), (2, 3));
    for (delimiter, point, bom) in [
        (',', true, false),
        ('\t', true, true),
        (';', false, false),
        (';', true, false),
    ] {
        let read = offers(&csv(delimiter, point, bom));
        assert_eq!(read, expected, "{delimiter:?} point {point} bom {bom}");
    }
    let rows: Vec<Vec<String>> = ROWS
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| c.replace(',', ".").replace("1 234.50", "1234.5"))
                .collect()
        })
        .collect();
    let workbook = xlsx::write_xlsx(&rows).unwrap_or_else(|e| panic!("{e}"));
    assert!(table::is_xlsx(&workbook));
    let from_xlsx = offers(&workbook);
    assert_eq!(from_xlsx.len(), 2);
    for (xlsx, csv) in from_xlsx.iter().zip(&expected) {
        assert_eq!(
            (&xlsx.code, &xlsx.article, xlsx.price, &xlsx.stock, xlsx.line),
            (&csv.code, &csv.article, csv.price, &csv.stock, csv.line)
        );
    }
}

#[test]
fn a_bad_row_names_its_line_and_column_and_the_rest_of_the_file_is_read() {
    let text = "Code;Article;Brand;Price;Currency;Stock Kyiv\n\
                A-1;W 1;MANN;1,00;EUR;1\n\
                A-2;;MANN;1,00;EUR;1\n\
                A-3;W 3;MANN;12,3x;EUR;1\n\
                A-4;W 4;MANN;1,00;EUR;-2\n\
                A-5;W 5;MANN;1,00;USD;1\n\
                A-6;W 6;;1,00;EUR;1\n\
                A-7;W 7;BOSCH;2;eur;4\n";
    let table = read_table(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let rows = TEST_SUPPLIER.price_list(&table).unwrap_or_else(|e| panic!("{e}")).rows;
    let problems: Vec<(u64, String, String)> = rows
        .iter()
        .filter_map(|row| row.as_ref().err())
        .map(|p| (p.line, p.column.clone(), p.problem.clone()))
        .collect();
    assert_eq!(rows.iter().filter(|r| r.is_ok()).count(), 2, "{problems:?}");
    let at: Vec<(u64, &str)> = problems
        .iter()
        .map(|(line, column, _)| (*line, column.as_str()))
        .collect();
    assert_eq!(
        at,
        vec![
            (3, "Article"),
            (4, "Price"),
            (5, "Stock Kyiv"),
            (6, "Currency"),
            (7, "Brand")
        ]
    );
    assert!(problems[1].2.contains("\"12,3x\" is not a number"), "{}", problems[1].2);
    assert!(
        problems[3].2.contains("in USD") && problems[3].2.contains("EUR only"),
        "{}",
        problems[3].2
    );
    let failure = row_failure(
        &TEST_SUPPLIER,
        "ts",
        "prices.csv",
        rows[2].as_ref().err().unwrap_or_else(|| panic!()),
    );
    assert_eq!(
        (failure.key.as_str(), failure.location.as_str()),
        ("A-3", "prices.csv:4")
    );
    assert!(
        failure
            .message
            .contains("connection \"ts\": Test Supplier feed prices.csv, line 4, column \"Price\""),
        "{}",
        failure.message
    );

    let no_price = read_table(b"Code;Article;Brand\nA;B;C\n").unwrap_or_else(|e| panic!("{e}"));
    let unreadable = TEST_SUPPLIER
        .price_list(&no_price)
        .err()
        .unwrap_or_else(|| panic!("no price column"));
    assert!(unreadable.problem.contains("no price column"), "{unreadable}");
    let latin1 = read_table(b"Code;Article\nA;Caf\xe9\n")
        .err()
        .unwrap_or_else(|| panic!("not UTF-8"));
    assert_eq!(latin1.line, Some(2));
}

#[test]
fn invoice_lines_are_grouped_by_number_into_receipts_and_a_bad_line_fails_its_invoice() {
    let text = "Invoice,Date,Code,Article,Brand,Qty,Price,VAT,Currency\n\
                INV-1,31.01.2026,T-1,W 712/75,MANN-FILTER,2,10.00,20,EUR\n\
                INV-2,2026-02-01,T-2,0 986,BOSCH,1,5.5,20,EUR\n\
                INV-1,31.01.2026,T-3,X 1,TRW,1,1.00,20,EUR\n\
                INV-3,2026-02-02,T-2,0 986,BOSCH,one,5.5,20,EUR\n\
                ,2026-02-02,T-2,0 986,BOSCH,1,5.5,20,EUR\n";
    let table = read_table(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let receiving = Receiving {
        counterparty: "TS".into(),
        warehouse: Some("MAIN".into()),
    };
    let records = TEST_SUPPLIER
        .invoices(&table, "inv.csv", "ts", &receiving)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(records.len(), 4);
    let blank = records[0]
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("the row without a number first"));
    assert_eq!(blank.location, "inv.csv:6");
    let first = records[1].as_ref().unwrap_or_else(|e| panic!("{e:?}"));
    let document: tiltas_model::Document = serde_json::from_value(first.data.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((document.number.as_str(), document.lines.len()), ("INV-1", 2));
    assert_eq!(document.kind, tiltas_model::DocumentKind::IncomingReceipt);
    assert_eq!(document.total, Some(decimal("25.20")));
    assert_eq!(first.data["raw"]["lines"][0]["article"], "W 712/75");
    assert_eq!(first.data["raw"]["lines"][1]["brand"], "TRW");
    let bad = records[3]
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("INV-3 has a bad quantity"));
    assert_eq!((bad.key.as_str(), bad.location.as_str()), ("INV-3", "inv.csv:5"));
    assert!(
        bad.message.contains("column \"Qty\"") && bad.message.contains("\"one\""),
        "{}",
        bad.message
    );
}

fn connection(dir: &std::path::Path) -> Arc<FeedConnection> {
    let connection = FeedConnection::new(
        &TEST_SUPPLIER,
        "ts",
        Location::Folder(dir.join("prices")),
        Some(Location::Folder(dir.join("invoices"))),
        Some(Location::Folder(dir.join("orders"))),
        Credentials::None,
        std::time::Duration::from_secs(5),
        Arc::new(OpenGate),
    );
    Arc::new(connection.unwrap_or_else(|e| panic!("{e}")))
}

fn write_aged(path: &std::path::Path, bytes: &[u8], seconds_ago: u64) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
    let at = std::time::SystemTime::now() - std::time::Duration::from_secs(seconds_ago);
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{e}"));
    file.set_modified(at).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn the_newest_feed_of_a_folder_is_read_and_quoted_and_older_ones_retire_to_done() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for sub in ["prices", "invoices", "orders"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap_or_else(|e| panic!("{e}"));
    }
    let prices = dir.path().join("prices");
    write_aged(
        &prices.join("old.csv"),
        b"Code;Article;Brand;Price\nT-1;W 712/75;MANN;99,00\n",
        600,
    );
    write_aged(&prices.join("new.csv"), &csv(';', false, true), 60);
    let connection = connection(dir.path());
    let mut source = PriceSource::new(connection.clone(), Reading::Stock);
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 1,
    };
    let page = source.read_page(&request).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.records.len(), 2, "two branches of the first row");
    assert_eq!(page.next.as_deref(), Some("1"));
    assert!(!prices.join("old.csv").exists(), "superseded");
    assert_eq!(
        std::fs::read_dir(prices.join("done")).map(Iterator::count).unwrap_or(0),
        1
    );

    let quoter = FeedQuoter::new(connection);
    let query = |article: &str| PartQuery {
        article: article.into(),
        brand: None,
        quantity: Decimal::ONE,
    };
    let found = quoter.quote(&query("w71275")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].price, found[0].availability.len()),
        (Some(decimal("12.50")), 2)
    );
    assert_eq!(found[0].raw["feed_file"], "new.csv");
    assert!(found[0].raw["feed_date"].as_str().is_some_and(|d| d.starts_with("20")));
    assert!(quoter
        .quote(&query("NOPE 1"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
}

#[tokio::test]
async fn an_order_file_is_placed_once_and_a_retry_finds_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir(dir.path().join("orders")).unwrap_or_else(|e| panic!("{e}"));
    let mut target = OrderTarget::open(connection(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    let order = serde_json::json!({
        "number": "SO/1", "lines": [{ "sku": "T-1", "quantity": "2", "price": "12.5" }]
    });
    let item = || WriteItem {
        source_key: "SO/1".into(),
        target_id: None,
        payload: order.clone(),
    };
    let lookup = target
        .lookup(Some("number"), &["SO/1".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(lookup.found.is_empty());
    let written = target.write_batch(vec![item()]).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&written.outcomes[0], WriteOutcome::Written { target_id } if target_id == "SO_1.csv"));
    let text = std::fs::read_to_string(dir.path().join("orders/SO_1.csv")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text, "Order;Code;Qty;Price\nSO/1;T-1;2;12,5\n");
    std::fs::write(dir.path().join("orders/SO_1.csv"), "picked up").unwrap_or_else(|e| panic!("{e}"));
    let again = target.write_batch(vec![item()]).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&again.outcomes[0], WriteOutcome::Written { .. }));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("orders/SO_1.csv"))
            .ok()
            .as_deref(),
        Some("picked up"),
        "not written twice"
    );
    let lookup = target
        .lookup(Some("number"), &["SO/1".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lookup.found.get("SO/1").map(|f| f.target_id.as_str()), Some("SO_1.csv"));
    let files = std::fs::read_dir(dir.path().join("orders"))
        .map(Iterator::count)
        .unwrap_or(0);
    assert_eq!(files, 1, "no temporary file left");
}
