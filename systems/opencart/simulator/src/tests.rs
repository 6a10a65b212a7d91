//! The simulator against a real MariaDB (`scripts/with-mariadb`): the seeded shop, its
//! `/__sim/` control API over HTTP, and `tiltas sim opencart`'s flags.
use super::*;
use clap::Parser;
use sqlx::mysql::MySqlPool;

const SEED: u64 = 7;

/// A database of its own for one test; `None` (after saying so) without a server.
async fn database(test: &str) -> Option<(String, String, MySqlPool)> {
    let Ok(base) = std::env::var("TILTAS_TEST_MYSQL_URL") else {
        if std::env::var("TILTAS_REQUIRE_MARIADB").as_deref() == Ok("1") {
            panic!("TILTAS_REQUIRE_MARIADB=1 but TILTAS_TEST_MYSQL_URL is not set: run under scripts/with-mariadb");
        }
        eprintln!("skipped: no MariaDB (run under scripts/with-mariadb)");
        return None;
    };
    let name = format!("tiltas_ocsim_{SEED}_{test}");
    let admin = MySqlPool::connect(&base)
        .await
        .expect("connect to TILTAS_TEST_MYSQL_URL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE `{name}`"))
        .execute(&admin)
        .await
        .unwrap();
    let (server, _) = base.rsplit_once('/').expect("a database URL ends in /database");
    Some((format!("{server}/{name}"), name, admin))
}

async fn drop_database(name: &str, admin: &MySqlPool) {
    sqlx::query(&format!("DROP DATABASE `{name}`"))
        .execute(admin)
        .await
        .unwrap();
}

#[derive(Parser)]
struct Command {
    #[command(flatten)]
    flags: Flags,
}

fn flags(args: &[&str]) -> Flags {
    let mut argv = vec!["sim"];
    argv.extend_from_slice(args);
    Command::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}")).flags
}

#[tokio::test]
async fn the_same_seed_builds_the_same_shop_and_install_never_reseeds_a_shop_with_data() {
    let Some((url, name, admin)) = database("seeded").await else {
        return;
    };
    let seeding = Seeding {
        seed: SEED,
        products: 12,
        customers: 4,
        orders: 10,
    };
    let sim = OpenCartSim::connect(&url, "oc_", seeding).await.unwrap();
    assert!(sim.install().await.unwrap(), "an empty database is seeded");
    let counts = sim.record_counts().await.unwrap();
    assert_eq!(
        (
            counts["product"],
            counts["customer"],
            counts["order"],
            counts["missing_order"]
        ),
        (12, 4, 10, 1)
    );
    let products = sim.records("product").await.unwrap().unwrap();
    let orders = sim.records("order").await.unwrap().unwrap();
    assert!(!sim.install().await.unwrap(), "a shop with data is left as it is");
    sim.reset().await.unwrap();
    let again = sim.records("product").await.unwrap().unwrap();
    let strip = |rows: &serde_json::Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row["sku"].clone(),
                    row["name"].clone(),
                    row["price"].clone(),
                    row["quantity"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&again), strip(&products), "seed {SEED}");
    let totals = |rows: &serde_json::Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|row| row["total"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(totals(&sim.records("order").await.unwrap().unwrap()), totals(&orders));
    assert_eq!(sim.duplicates().await.unwrap(), 0);
    drop_database(&name, &admin).await;
}

#[tokio::test]
async fn the_control_api_counts_mutates_and_lists_over_http() {
    let Some((url, name, admin)) = database("control").await else {
        return;
    };
    let flags = flags(&[
        "--mysql",
        &url,
        "--products",
        "5",
        "--customers",
        "2",
        "--orders",
        "3",
        "--seed",
        "7",
    ]);
    let base = tiltas_sim::spawn(flags.router()).await.unwrap();
    let http = reqwest::Client::new();
    // The first request waits for the tables and the seed.
    let stats: serde_json::Value = http
        .get(format!("{base}/__sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["records"]["product"], 5);
    assert_eq!(stats["records"]["order"], 3);
    assert_eq!(stats["duplicates"], 0);
    let mutated = http
        .post(format!("{base}/__sim/mutate"))
        .body(r#"{"entity":"order","count":4}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(mutated.status(), 200);
    let orders: serde_json::Value = http
        .get(format!("{base}/__sim/records/order"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 7);
    let wrong = http
        .post(format!("{base}/__sim/mutate"))
        .body(r#"{"entity":"invoice","count":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("use order, product, stock or customer"));
    let unknown = http.get(format!("{base}/__sim/records/basket")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let reset = http.post(format!("{base}/__sim/reset")).send().await.unwrap();
    assert_eq!(reset.status(), 204);
    let stats: serde_json::Value = http
        .get(format!("{base}/__sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["records"]["order"], 3);
    drop_database(&name, &admin).await;
}

#[tokio::test]
async fn a_database_it_cannot_reach_is_a_503_naming_the_flag() {
    // No server needed: nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let flags = flags(&["--mysql", &format!("mysql://u:secret-pw@127.0.0.1:{port}/shop")]);
    let base = tiltas_sim::spawn(flags.router()).await.unwrap();
    let answer = reqwest::get(format!("{base}/__sim/stats")).await.unwrap();
    assert_eq!(answer.status(), 503);
    let text = answer.text().await.unwrap();
    assert!(text.contains("--mysql"), "{text}");
    assert!(!text.contains("secret-pw"), "{text}");
}
