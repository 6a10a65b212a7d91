//! `examples/suppliers-rivile.toml` through the engine (issue 18, invoices → INC): 20 supplier
//! invoices — 5 each from the Inter Cars, Omega and Bus Market simulators and Unique Trade's
//! invoice files, all seeded alike so they share the catalogue of parts the Rivile simulator
//! keeps as products — become 20 purchase documents in Rivile, every line on the Rivile product of its part. A re-run writes
//! nothing; an invoice with a part Rivile does not know is a dead letter naming the supplier,
//! the code and the brand.
//!
//! Vesna (file feeds too) would join as one more entry in [`SUPPLIERS`] with its files written
//! in [`suppliers`] — the counts follow.
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 18;
/// Parts of the shared catalogue every simulator draws from (Rivile keeps them all).
const CATALOGUE: usize = 40;
/// Invoices each supplier starts with.
const INVOICES: usize = 5;

static SYSTEMS: tiltas_connector::Systems = tiltas_connector::Systems::new(&[
    &crate::RivileSystem,
    &tiltas_intercars::IntercarsSystem,
    &tiltas_omega::OmegaSystem,
    &tiltas_busmarket::BusmarketSystem,
    &tiltas_uniquetrade::UniqueTradeSystem,
]);

/// The suppliers with invoices: flow name, Rivile client code.
const SUPPLIERS: [(&str, &str); 4] = [
    ("intercars-invoices", "INTERCARS"),
    ("omega-invoices", "OMEGA"),
    ("busmarket-invoices", "BUSMARKET"),
    ("uniquetrade-invoices", "UNIQUETRADE"),
];

async fn serve(router: axum::Router) -> String {
    tiltas_sim::spawn(router)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"))
}

/// The running suppliers: the example's text with their addresses and credentials filled in,
/// and Inter Cars' simulator (for the invoice of a new part). Unique Trade's files are written
/// into `dir`, the folder of the flow file.
async fn suppliers(
    mut text: String,
    dir: &std::path::Path,
) -> (
    String,
    Arc<tiltas_intercars_sim::IntercarsSim>,
    Arc<tiltas_omega_sim::OmegaSim>,
) {
    let credentials = tiltas_intercars_sim::Credentials {
        client_id: "garage-1".into(),
        client_secret: "ic-demo".into(),
        token_lifetime: Duration::from_secs(3600),
    };
    let seeding = tiltas_intercars_sim::Seeding {
        seed: SEED,
        catalogue: CATALOGUE,
        invoices: INVOICES,
    };
    let intercars = Arc::new(tiltas_intercars_sim::IntercarsSim::new(credentials, seeding));
    let url = serve(tiltas_intercars_sim::router(
        intercars.clone(),
        Harness::new(intercars.clone(), SEED),
    ))
    .await;
    text = text
        .replace("http://127.0.0.1:9601", &url)
        .replace("{ env = \"INTERCARS_SECRET\" }", "\"ic-demo\"");

    let access = tiltas_omega_sim::Access {
        key: "om-demo".into(),
        allowed_ip: None,
    };
    let seeding = tiltas_omega_sim::Seeding {
        seed: SEED,
        catalogue: CATALOGUE,
        invoices: INVOICES,
    };
    let omega = Arc::new(tiltas_omega_sim::OmegaSim::new(access, seeding));
    let url = serve(tiltas_omega_sim::router(
        omega.clone(),
        Harness::new(omega.clone(), SEED),
    ))
    .await;
    text = text
        .replace("http://127.0.0.1:9611", &url)
        .replace("{ env = \"OMEGA_KEY\" }", "\"om-demo\"");

    let seeding = tiltas_busmarket_sim::Seeding {
        seed: SEED,
        catalogue: CATALOGUE,
        invoices: INVOICES,
    };
    let busmarket = Arc::new(tiltas_busmarket_sim::BusmarketSim::new("bm-demo", seeding));
    let url = serve(tiltas_busmarket_sim::router(
        busmarket.clone(),
        Harness::new(busmarket, SEED),
    ))
    .await;
    text = text
        .replace("http://127.0.0.1:9621", &url)
        .replace("{ env = \"BUSMARKET_TOKEN\" }", "\"bm-demo\"");

    let credentials = tiltas_uniquetrade_sim::SimCredentials::Basic {
        login: "garage".into(),
        password: "ut-demo".into(),
    };
    let seeding = tiltas_uniquetrade_sim::Seeding {
        seed: SEED,
        catalogue: CATALOGUE,
        invoices: INVOICES,
    };
    tiltas_uniquetrade_sim::FeedSim::new(tiltas_uniquetrade_sim::profile(), credentials, seeding)
        .write_files(&dir.join("uniquetrade"))
        .unwrap_or_else(|e| panic!("seed {SEED}: Unique Trade's files: {e}"));
    (text, intercars, omega)
}

/// The Rivile simulator keeping the catalogue's parts (and 3 products of its own).
async fn books(text: String) -> (String, Arc<tiltas_rivile_sim::RivileSim>) {
    let seeding = tiltas_rivile_sim::Seeding {
        seed: SEED,
        products: 3,
        customers: 0,
    };
    let books = Arc::new(tiltas_rivile_sim::RivileSim::new("GARAGE.demo", seeding).with_parts(CATALOGUE));
    let url = serve(tiltas_rivile_sim::router(
        books.clone(),
        Harness::new(books.clone(), SEED),
    ))
    .await;
    let text = text
        .replace("http://127.0.0.1:9301", &url)
        .replace("{ env = \"RIVILE_KEY\" }", "\"GARAGE.demo\"");
    (text, books)
}

fn text_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

#[tokio::test]
async fn twenty_supplier_invoices_become_twenty_purchases_once_and_an_unknown_part_is_a_dead_letter() {
    let example = include_str!("../../../../examples/suppliers-rivile.toml").to_owned();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (text, intercars, omega) = suppliers(example, dir.path()).await;
    let (text, books) = books(text).await;
    // Omega's first line is booked as the garage's own product A00101 by the cross-reference
    // (it wins over the maker's number), read from a file beside the flows.
    let invoices = omega.records("invoice").unwrap_or_default();
    let mapped = text_at(&invoices, "/0/lines/0/Code").to_owned();
    assert!(!mapped.is_empty(), "seed {SEED}: Omega's invoices: {invoices}");
    std::fs::write(
        dir.path().join("xref.csv"),
        format!("supplier,code,item\nOMEGA,{mapped},A00101\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = text.replace(
        "counterparty = \"OMEGA\", currencies",
        "counterparty = \"OMEGA\", part_xref = \"xref.csv\", currencies",
    );
    // A part Inter Cars started selling that the garage has no item for yet.
    intercars.add_part("ZZQNEW", "W 999/99", "MANN-FILTER");
    intercars.add_invoice_of("ZZQNEW", 2);

    let config =
        tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), &SYSTEMS).unwrap_or_else(|e| panic!("{e}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(Arc::new(config), store, SYSTEMS);
    let sync = |flow: &'static str| {
        let engine = &engine;
        async move {
            engine
                .sync(flow, &SyncOptions::default())
                .await
                .unwrap_or_else(|error| panic!("seed {SEED}: {flow}: {error}"))
        }
    };
    let (mut created, mut failed) = (0, 0);
    for (flow, _) in SUPPLIERS {
        let run = sync(flow).await;
        println!("{flow}: {:?}", run.counters);
        created += run.counters.created;
        failed += run.counters.failed;
    }
    let all = tiltas_store::DeadLetterFilter {
        flow: None,
        status: None,
        limit: 0,
    };
    let letters = engine
        .store()
        .dead_letters(&all)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let messages: Vec<&str> = letters.iter().map(|letter| letter.message.as_str()).collect();
    assert_eq!(
        (created, failed),
        ((INVOICES * SUPPLIERS.len()) as u64, 1),
        "seed {SEED}: {messages:#?}"
    );

    let purchases = books.purchases();
    assert_eq!(purchases.len(), INVOICES * SUPPLIERS.len());
    for (_, supplier) in SUPPLIERS {
        let booked = purchases.iter().filter(|p| p["I06_KODAS_KS"] == supplier).count();
        assert_eq!(booked, INVOICES, "{supplier}'s purchases");
    }
    let lines: Vec<&Value> = purchases
        .iter()
        .flat_map(|p| p["I07"].as_array().into_iter().flatten())
        .collect();
    assert!(lines.iter().all(|line| line["I07_KODAS_IS"] == "CENTR"));
    let omega_lines: Vec<&str> = purchases
        .iter()
        .filter(|p| p["I06_KODAS_KS"] == "OMEGA")
        .flat_map(|p| p["I07"].as_array().into_iter().flatten())
        .map(|line| text_at(line, "/I07_KODAS"))
        .collect();
    assert!(
        omega_lines.contains(&"A00101"),
        "part_xref maps {mapped}: {omega_lines:?}"
    );
    // Every other line is a part of the catalogue (by its maker's number as code or barcode).
    let parts: Vec<String> = tiltas_sim::parts::catalogue(SEED, CATALOGUE)
        .iter()
        .enumerate()
        .map(|(index, part)| tiltas_rivile_sim::part_product(part, index).0)
        .collect();
    let unmatched: Vec<&str> = lines
        .iter()
        .map(|line| text_at(line, "/I07_KODAS"))
        .filter(|code| *code != "A00101" && !parts.iter().any(|part| part == code))
        .collect();
    assert!(unmatched.is_empty(), "lines on no part: {unmatched:?}");

    let filter = tiltas_store::DeadLetterFilter {
        flow: Some("intercars-invoices".into()),
        status: None,
        limit: 0,
    };
    let letters = engine
        .store()
        .dead_letters(&filter)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(letters.len(), 1, "{letters:#?}");
    for needed in [
        "INTERCARS",
        "ZZQNEW",
        "MANN-FILTER",
        "create the item in Rivile",
        "part_xref",
    ] {
        assert!(letters[0].message.contains(needed), "{needed}: {}", letters[0].message);
    }

    for (flow, _) in SUPPLIERS {
        let again = sync(flow).await;
        println!("re-run {flow}: {:?}", again.counters);
        assert_eq!((again.counters.created, again.counters.updated), (0, 0), "{flow}");
    }
    assert_eq!(books.purchases().len(), purchases.len());

    // A hub that lost its links (a fresh store) finds each purchase by supplier and number
    // before writing: Rivile keeps no unique number, so this look-up is what books it once.
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("fresh.db").display()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let config =
        tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), &SYSTEMS).unwrap_or_else(|e| panic!("{e}"));
    let fresh = Engine::new(Arc::new(config), store, SYSTEMS);
    for (flow, _) in SUPPLIERS {
        let run = fresh
            .sync(flow, &SyncOptions::default())
            .await
            .unwrap_or_else(|error| panic!("seed {SEED}: {flow}: {error}"));
        println!("fresh hub {flow}: {:?}", run.counters);
        assert_eq!(run.counters.created, 0, "{flow}: {:?}", run.counters);
    }
    assert_eq!(books.purchases().len(), purchases.len());
}
