//! The simulator's own behaviour: the token (401) and the customer id it was issued for (403)
//! checked, the price list as an XLSX workbook in EUR with a stock column per branch, the
//! parts listed with canonical fields, `--out` writing the workbooks.
use crate::{profile, router, FeedSim, Flags, Seeding, SimCredentials};
use clap::Parser;
use std::sync::Arc;
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 5;

/// `tiltas sim vesna`'s flags on their own.
#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    flags: Flags,
}

fn sim() -> Arc<FeedSim> {
    let credentials = SimCredentials::TokenAndCustomer {
        token: "t0k".into(),
        customer_id: "42".into(),
    };
    Arc::new(FeedSim::new(
        profile(),
        credentials,
        Seeding {
            seed: SEED,
            catalogue: 30,
            invoices: 2,
        },
    ))
}

#[tokio::test]
async fn the_workbook_is_served_for_the_token_and_its_customer_only() {
    let sim = sim();
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = reqwest::Client::new();
    let get = |token: &str, customer: &str| {
        client
            .get(format!("{url}/feed/prices.xlsx"))
            .bearer_auth(token)
            .query(&[("customer_id", customer)])
            .send()
    };
    assert_eq!(get("nope", "42").await.map(|r| r.status().as_u16()).ok(), Some(401));
    assert_eq!(get("t0k", "43").await.map(|r| r.status().as_u16()).ok(), Some(403));
    let answer = get("t0k", "42").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.status(), 200);
    let bytes = answer.bytes().await.unwrap_or_else(|e| panic!("{e}"));
    let table = tiltas_feed::table::read_table(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        table.header,
        [
            "Code",
            "Article",
            "Brand",
            "Description",
            "Price EUR",
            "Currency",
            "EAN",
            "Stock Kyiv",
            "Stock Odesa",
            "Stock Kharkiv"
        ]
    );
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    assert_eq!(table.rows.len(), parts.len());
    assert_eq!(table.rows[0].cells[1], parts[0]["article"].as_str().unwrap_or_default());
    assert_eq!(
        table.rows[0].cells[6],
        parts[0]["ean"].as_str().unwrap_or_default(),
        "EANs stay text"
    );
    assert!(table.rows.iter().all(|row| row.cells[5] == "EUR"));
    assert!(parts[0]["code"].as_str().is_some_and(|c| c.starts_with("V-")));
}

#[test]
fn out_writes_the_price_workbook_and_one_workbook_per_invoice() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().to_str().unwrap_or_default();
    let flags = Cli::try_parse_from(["vesna", "--out", out, "--invoices", "3"])
        .unwrap_or_else(|e| panic!("{e}"))
        .flags;
    let said = flags
        .write_files()
        .unwrap_or_else(|| panic!("--out writes"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(said.contains("3 invoice files"), "{said}");
    assert!(tiltas_feed::table::is_xlsx(
        &std::fs::read(dir.path().join("prices.xlsx")).unwrap_or_default()
    ));
    let names: Vec<String> = std::fs::read_dir(dir.path().join("invoices"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(
        names.iter().all(|n| n.starts_with("VS_") && n.ends_with(".xlsx")),
        "{names:?}"
    );
}
