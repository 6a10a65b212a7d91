//! Bank statements into B1.lt as payments of open sales invoices, as an accountant runs it:
//! statement files dropped in a folder, matched by invoice number or by amount and payer,
//! booked once however often the files arrive; what matches nothing waits in the dead letters
//! with its candidates.
use crate::{simulator, tiltas};
use serde_json::Value;
use std::path::Path;

fn get(url: &str) -> Vec<Value> {
    let value: Value = reqwest::blocking::get(url).unwrap().json().unwrap();
    value.as_array().cloned().unwrap_or_default()
}

/// An MT940 statement of `entries`: (C or D, amount "12,50", bank reference, payer, remittance).
fn mt940(id: &str, entries: &[(&str, String, String, String, String)]) -> String {
    let mut text = format!(
        "{{1:F01BANKLT2XAXXX0000000000}}{{2:O9401200240101BANKLT2XAXXX00000000002401011200N}}\r\n{{4:\r\n\
         :20:{id}\r\n:25:LT601010012345678901\r\n:28C:1/1\r\n:60F:C240101EUR0,00\r\n"
    );
    for (mark, amount, reference, payer, remittance) in entries {
        text.push_str(&format!(
            ":61:2401020102{mark}{amount}NTRFNONREF//{reference}\r\n:86:166?00SEPA?20{remittance}\r\n?32{payer}\r\n"
        ));
    }
    text.push_str(":62F:C240102EUR0,00\r\n-}\r\n");
    text
}

/// Drops a statement file as a finished copy: older than the quiet time a file must be left
/// unchanged before it is read.
fn drop_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    let a_minute_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(a_minute_ago))
        .unwrap();
}

fn sync(dir: &Path, db: &str) -> Value {
    let output = tiltas()
        .args(["--db", db, "sync", "payments", "--json", "--config"])
        .arg(dir.join("flows.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"))
}

#[test]
fn twenty_statements_dropped_twice_book_each_matched_payment_once_and_leave_the_rest_for_review() {
    let (_b1, url) = simulator(&[
        "sim",
        "b1",
        "--port",
        "0",
        "--seed",
        "7",
        "--api-key",
        "KEY",
        "--private-key",
        "SECRET",
        "--clients",
        "5",
        "--invoices",
        "48",
    ]);
    let paid: Vec<String> = get(&format!("{url}/__sim/records/payment"))
        .iter()
        .filter_map(|payment| payment["saleId"].as_i64().map(|id| id.to_string()))
        .collect();
    let clients = get(&format!("{url}/__sim/records/client"));
    let client_name = |id: &Value| {
        clients
            .iter()
            .find(|client| client["id"] == *id)
            .and_then(|client| client["name"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let open: Vec<(String, String, String)> = get(&format!("{url}/__sim/records/sale"))
        .iter()
        .filter(|sale| !paid.contains(&sale["id"].to_string()))
        .map(|sale| {
            let total = sale["total"].as_str().unwrap_or_default().to_owned();
            (
                sale["number"].as_str().unwrap_or_default().to_owned(),
                total,
                client_name(&sale["clientId"]),
            )
        })
        .collect();
    assert!(open.len() >= 20, "the seeded company has 20 open invoices: {open:?}");
    // One is paid without its number: its amount must single it out.
    let by_amount = open[19..]
        .iter()
        .find(|(_, total, _)| open.iter().filter(|other| other.1 == *total).count() == 1)
        .expect("an open invoice with an amount of its own");
    let comma = |amount: &str| amount.replace('.', ",");

    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        dir.path().join("flows.toml"),
        format!(
            "[connections.bank]\nsystem = \"bank\"\n\n\
             [connections.books]\nsystem = \"b1\"\nbase_url = \"{url}/api/\"\napi_key = \"KEY\"\nprivate_key = \"SECRET\"\n\n\
             [[flows]]\nname = \"payments\"\nentity = \"bank_transaction\"\nfrom = {{ connection = \"bank\" }}\n\
             to = {{ connection = \"books\" }}\nfilter = \"${{ amount > 0 }}\"\n"
        ),
    )
    .unwrap();
    // Twenty statements: nineteen pay an invoice by its number, one by amount and payer; the
    // first also has a line that pays nothing known and a debit.
    let mut statements: Vec<String> = open[..19]
        .iter()
        .enumerate()
        .map(|(n, (number, total, _))| {
            let mut lines = vec![(
                "C",
                comma(total),
                format!("B-{n}"),
                "Pirkėjas".to_owned(),
                format!("Apmokejimas pagal {number}"),
            )];
            if n == 0 {
                lines.push((
                    "C",
                    "1,23".into(),
                    "B-X".into(),
                    "Nepazistamas".into(),
                    "be saskaitos".into(),
                ));
                lines.push((
                    "D",
                    "11,00".into(),
                    "B-D".into(),
                    "Tiekejas".into(),
                    "saskaita 77".into(),
                ));
            }
            mt940(&format!("STMT-{n}"), &lines)
        })
        .collect();
    // The last also repeats the first statement's booking (an intraday report, then the day's
    // statement): the same bank reference, booked once.
    let first_again = format!("Apmokejimas pagal {}", open[0].0);
    statements.push(mt940(
        "STMT-19",
        &[
            (
                "C",
                comma(&by_amount.1),
                "B-19".into(),
                by_amount.2.clone(),
                "prekes".into(),
            ),
            ("C", comma(&open[0].1), "B-0".into(), "Pirkėjas".into(), first_again),
        ],
    ));
    for (n, statement) in statements.iter().enumerate() {
        drop_file(&inbox.join(format!("day-{n:02}.sta")), statement);
    }
    let db = format!("sqlite://{}", dir.path().join("tiltas.db").display());

    let report = sync(dir.path(), &db);
    assert_eq!(report["created"], 20, "{report}");
    assert_eq!(report["failed"], 1, "the unmatched line waits for review: {report}");
    let booked = get(&format!("{url}/__sim/records/payment"));
    assert_eq!(booked.len(), paid.len() + 20);
    for (number, total, _) in open[..19].iter().chain([by_amount]) {
        let payments = booked
            .iter()
            .filter(|payment| payment["saleNumber"] == number.as_str())
            .count();
        assert_eq!(payments, 1, "{number} paid once");
        assert!(
            booked
                .iter()
                .any(|payment| payment["saleNumber"] == number.as_str() && payment["amount"] == total.as_str()),
            "{number} paid {total}: {booked:?}"
        );
    }
    let letters = tiltas()
        .args(["--db", &db, "dead-letters", "list", "--json", "--config"])
        .arg(dir.path().join("flows.toml"))
        .output()
        .unwrap();
    let letters = String::from_utf8_lossy(&letters.stdout);
    assert!(letters.contains("matches no open invoice"), "{letters}");

    // The same twenty arrive again under other names: nothing is booked twice.
    for (n, statement) in statements.iter().enumerate() {
        drop_file(&inbox.join(format!("again-{n:02}.sta")), statement);
    }
    let again = sync(dir.path(), &db);
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(get(&format!("{url}/__sim/records/payment")).len(), paid.len() + 20);
}
