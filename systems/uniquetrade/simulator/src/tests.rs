//! The simulator's own behaviour: Basic credentials checked on every route, the price list as
//! Unique Trade writes it (BOM, `;`, decimal comma, a stock column per branch), the same files
//! written by `--out`, order uploads kept once and listed, the parts with canonical fields.
use crate::{profile, router, FeedSim, Flags, Seeding, SimCredentials};
use clap::Parser;
use std::sync::Arc;
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 5;

/// `tiltas sim uniquetrade`'s flags on their own.
#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    flags: Flags,
}

fn flags(args: &[&str]) -> Flags {
    let args = std::iter::once("uniquetrade").chain(args.iter().copied());
    Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{e}")).flags
}

fn sim() -> Arc<FeedSim> {
    let credentials = SimCredentials::Basic {
        login: "garage".into(),
        password: "pw".into(),
    };
    Arc::new(FeedSim::new(
        profile(),
        credentials,
        Seeding {
            seed: SEED,
            catalogue: 30,
            invoices: 3,
        },
    ))
}

async fn start(sim: Arc<FeedSim>) -> String {
    tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, SEED)))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn the_price_list_is_served_with_basic_credentials_as_unique_trade_writes_it() {
    let sim = sim();
    let url = start(sim.clone()).await;
    let client = reqwest::Client::new();
    let refused = client
        .get(format!("{url}/feed/prices.csv"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refused.status(), 401);
    let wrong = client
        .get(format!("{url}/feed/prices.csv"))
        .basic_auth("garage", Some("nope"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wrong.status(), 401);
    let answer = client
        .get(format!("{url}/feed/prices.csv"))
        .basic_auth("garage", Some("pw"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().contains_key("last-modified"));
    let bytes = answer.bytes().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark first");
    let text = String::from_utf8_lossy(&bytes[3..]).into_owned();
    let header = text.lines().next().unwrap_or_default();
    assert_eq!(
        header,
        "Код;Артикул;Бренд;Найменування;Ціна;Валюта;Штрихкод;Склад Київ;Склад Львів;Склад Дніпро"
    );
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    assert_eq!(text.lines().count(), parts.len() + 1);
    let first: Vec<&str> = text.lines().nth(1).unwrap_or_default().split(';').collect();
    assert_eq!(first[0], parts[0]["code"]);
    assert_eq!(first[1], parts[0]["article"]);
    assert_eq!(
        first[4],
        parts[0]["price"].as_str().unwrap_or_default().replace('.', ",")
    );
    assert!(parts[0]["code"].as_str().is_some_and(|c| c.starts_with("UT")));
}

#[tokio::test]
async fn orders_are_kept_once_by_file_name_and_listed() {
    let sim = sim();
    let url = start(sim.clone()).await;
    let client = reqwest::Client::new();
    let body = "Номер замовлення;Код;Найменування;Кількість;Ціна;Коментар\nSO-1;UT1;x;1;1,5;\n";
    let upload = |name: &str| {
        client
            .post(format!("{url}/orders"))
            .basic_auth("garage", Some("pw"))
            .header("content-disposition", format!("attachment; filename=\"{name}\""))
            .body(body)
            .send()
    };
    assert_eq!(upload("SO-1.csv").await.map(|r| r.status().as_u16()).ok(), Some(201));
    assert_eq!(upload("SO-1.csv").await.map(|r| r.status().as_u16()).ok(), Some(409));
    let bad = client
        .post(format!("{url}/orders"))
        .basic_auth("garage", Some("pw"))
        .header("content-disposition", "attachment; filename=\"SO-2.csv\"")
        .body("Article,Qty\nX,1\n")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status(), 400, "not the order layout");
    let orders = sim
        .records("order")
        .and_then(|o| o.as_array().cloned())
        .unwrap_or_default();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["file"], "SO-1.csv");
    let listed = client
        .get(format!("{url}/__sim/records/order"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(listed.contains("SO-1.csv"), "{listed}");
}

#[test]
fn out_writes_the_price_list_and_one_file_per_invoice_the_same_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("ut");
    let said = flags(&[
        "--out",
        out.to_str().unwrap_or_default(),
        "--seed",
        "7",
        "--invoices",
        "4",
    ])
    .write_files()
    .unwrap_or_else(|| panic!("--out alone writes"))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(said.contains("4 invoice files"), "{said}");
    let invoices = std::fs::read_dir(out.join("invoices"))
        .map(Iterator::count)
        .unwrap_or(0);
    assert_eq!(invoices, 4);
    assert!(out.join("orders").is_dir());
    let first = std::fs::read(out.join("prices.csv")).unwrap_or_default();
    let again = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let _ = flags(&["--out", again.path().to_str().unwrap_or_default(), "--seed", "7"]).write_files();
    assert_eq!(
        std::fs::read(again.path().join("prices.csv")).unwrap_or_default(),
        first
    );
    assert!(
        flags(&["--out", "x", "--serve"]).write_files().is_none(),
        "--serve serves"
    );
}
