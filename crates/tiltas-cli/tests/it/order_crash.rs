//! kill -9 during the order flow: `examples/accountview-mplus.toml`'s `orders-to-books` moves 30
//! MplusKASSA orders (walk-in sales, buyers AccountView knows, and two buyers only the till
//! knows, whose debtors the run creates) into AccountView while AccountView is slow and
//! sometimes fails after committing, and `tiltas sync` is killed with SIGKILL at seeded moments.
//! In the end every order is booked exactly once, no debtor is doubled, and the dead letters
//! hold only the one order that must be there (it sells an article AccountView lacks).
use crate::{simulator, tiltas, ExampleRun, Process};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ORDERS: usize = 30;
const KILLS: usize = 6;
const IDENT: &str = "demo";
const SECRET: &str = "demo-secret";

fn get(url: &str) -> Value {
    reqwest::blocking::get(url).unwrap().json().unwrap()
}

fn post(url: &str, body: Value) {
    let response = reqwest::blocking::Client::new().post(url).json(&body).send().unwrap();
    assert!(response.status().is_success(), "POST {url}: {}", response.status());
}

/// Calls one Q-API operation on the till (`body` is the operation's element, unprefixed).
fn soap(till_url: &str, body: &str) {
    let envelope = format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">\
         <SOAP-ENV:Body xmlns=\"urn:mplusqapi\">{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    );
    let response = reqwest::blocking::Client::new()
        .post(format!("{till_url}/?ident={IDENT}&secret={SECRET}"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"\"")
        .body(envelope)
        .send()
        .unwrap();
    let status = response.status();
    let text = response.text().unwrap();
    assert!(
        status.is_success() && text.contains("RESULT-OK"),
        "{body}: {status} {text}"
    );
}

/// `tiltas connect accountview --connection books` with the browser played by a client that
/// follows the simulator's redirect back to the listener: the refresh token sealed in the store.
fn connect(run: &ExampleRun) {
    let mut connect = tiltas()
        .args([
            "--db",
            &run.db,
            "connect",
            "accountview",
            "--connection",
            "books",
            "--wait",
            "30",
            "--config",
        ])
        .arg(&run.flows)
        .envs(run.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(connect.stdout.take().unwrap()).lines();
    let sign_in = lines
        .by_ref()
        .map(Result::unwrap)
        .find_map(|line| line.trim().starts_with("http").then(|| line.trim().to_owned()))
        .expect("the sign-in address");
    let page = reqwest::blocking::get(&sign_in).unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(connect.wait().unwrap().success(), "{rest:?}");
}

fn sync(run: &ExampleRun) -> Child {
    tiltas()
        .args(["--db", &run.db, "sync", "orders-to-books", "--json", "--config"])
        .arg(&run.flows)
        .envs(run.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The two simulators, the example pointed at them, connected, with the till holding
/// AccountView's articles and debtors, two buyers of its own and the orders to book.
fn set_up(seed: u64) -> (Process, String, Process, String, ExampleRun) {
    let seed = seed.to_string();
    let (books, books_url) = simulator(&[
        "sim",
        "accountview",
        "--port",
        "0",
        "--seed",
        &seed,
        "--articles",
        "16",
        "--debtors",
        "6",
        "--client-id",
        "av-demo",
        "--client-secret",
        "av-demo-secret",
    ]);
    let (till, till_url) = simulator(&[
        "sim",
        "mplus",
        "--port",
        "0",
        "--seed",
        &seed,
        "--ident",
        IDENT,
        "--secret",
        SECRET,
        "--products",
        "0",
        "--customers",
        "0",
        "--orders",
        "0",
    ]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("redirect_uri = \"http://127.0.0.1:{port}/callback\"");
    let run = ExampleRun::new(
        "accountview-mplus.toml",
        &[
            ("http://127.0.0.1:9501/", &format!("{books_url}/")),
            ("http://127.0.0.1:9401/", &format!("{till_url}/")),
            ("redirect_uri = \"http://127.0.0.1:8765/callback\"", &redirect),
        ],
        &[("AV_CLIENT_SECRET", "av-demo-secret"), ("MPLUS_SECRET", SECRET)],
    );
    connect(&run);
    for flow in ["products-to-till", "customers-to-till"] {
        let report = run.sync_ok(flow);
        assert_eq!(report["failed"], 0, "{flow}: {report}");
    }
    soap(
        &till_url,
        "<createRelation><relation><name>Bakkerij Noord B.V.</name><city>Utrecht</city><country>NL</country>\
         <contact>Els van Noord</contact><email>els@bakkerijnoord.nl</email><companyName>Bakkerij Noord B.V.</companyName>\
         </relation></createRelation>",
    );
    soap(
        &till_url,
        "<createRelation><relation><name>Tom Wit</name><city>Antwerpen</city><country>BE</country>\
         <email>tom.wit@example.be</email></relation></createRelation>",
    );
    post(
        &format!("{till_url}/__sim/mutate"),
        json!({"entity": "order", "count": ORDERS}),
    );
    // Then one order selling article 5, which only the till has: its dead letter must be the one.
    soap(
        &till_url,
        "<createProduct><product><articleList><article><articleNumber>5</articleNumber>\
         <description>Alleen in de kassa</description><vatPercentage>9</vatPercentage><priceIncl>250</priceIncl><priceExcl>229</priceExcl>\
         </article></articleList></product></createProduct>",
    );
    post(
        &format!("{till_url}/__sim/mutate"),
        json!({"entity": "order", "count": 1}),
    );
    (books, books_url, till, till_url, run)
}

/// The till's relations and AccountView's debtors, to tell an order's debtor from its relation.
struct Buyers {
    relations: Value,
    debtors: Value,
}

impl Buyers {
    fn read(till_url: &str, books_url: &str) -> Buyers {
        Buyers {
            relations: get(&format!("{till_url}/__sim/records/customer")),
            debtors: get(&format!("{books_url}/__sim/records/customer")),
        }
    }

    /// The debtor an order of `relation` belongs on: the default debtor (10001) for a walk-in
    /// sale, a relation's own debtor (its `extRelationId`) when it came from AccountView, else
    /// the debtor with its e-mail (the one the order pipeline created).
    fn debtor_of(&self, relation: i64) -> String {
        if relation == 0 {
            return "10001".into();
        }
        let fields = &self
            .relations
            .as_array()
            .unwrap()
            .iter()
            .find(|known| known["relationNumber"] == relation)
            .unwrap_or_else(|| panic!("relation {relation} in the till"))["fields"];
        if let Some(debtor) = fields["extRelationId"].as_str().filter(|ext| !ext.is_empty()) {
            return debtor.to_owned();
        }
        let mail = fields["email"].as_str().unwrap();
        let debtor = self
            .debtors
            .as_array()
            .unwrap()
            .iter()
            .find(|debtor| {
                debtor["MAIL_BUS"]
                    .as_str()
                    .is_some_and(|known| known.eq_ignore_ascii_case(mail))
            })
            .unwrap_or_else(|| panic!("a debtor with e-mail {mail}"));
        debtor["SUB_NR"].as_str().unwrap().to_owned()
    }
}

/// Waits until `ready()` holds (polled every 10 ms), then `delay`, then SIGKILLs `child`: no
/// destructor, no flush, no goodbye. `false` when the run ended first.
fn kill_after(child: &mut Child, ready: impl Fn() -> bool, delay: Duration) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(Instant::now() < deadline, "the run made no progress in 20 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(delay);
    if child.try_wait().unwrap().is_some() {
        return false;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    true
}

/// Runs `orders-to-books` KILLS times, each killed with SIGKILL: the first at a seeded moment
/// (while it reads, looks up and creates buyers), each later one once AccountView holds a
/// seeded number of orders plus a seeded few milliseconds — between two writes or in the
/// middle of one. Returns the orders booked after each kill.
fn kill_runs(run: &ExampleRun, books_url: &str, rng: &mut StdRng, context: &str) -> Vec<u64> {
    let booked_count = || {
        get(&format!("{books_url}/__sim/stats"))["records"]["order"]
            .as_u64()
            .unwrap_or(0)
    };
    let mut targets: Vec<u64> = Vec::new();
    while targets.len() < KILLS - 1 {
        let target = rng.gen_range(2..ORDERS as u64 - 2);
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets.sort_unstable();
    let mut killed_at = Vec::new();
    let first = Duration::from_millis(rng.gen_range(100..600));
    for target in std::iter::once(None).chain(targets.into_iter().map(Some)) {
        let extra = Duration::from_millis(rng.gen_range(0..40));
        let mut child = sync(run);
        let killed = match target {
            None => kill_after(&mut child, || true, first),
            Some(target) => kill_after(&mut child, || booked_count() >= target, extra),
        };
        assert!(killed, "the run ended before its kill (target {target:?}) {context}");
        killed_at.push(booked_count());
    }
    killed_at
}

/// Every good order of the till booked exactly once, on its buyer's debtor; the bad one (the
/// last) not at all; no order or debtor doubled. Returns the bad order's number.
fn assert_booked_once(till_url: &str, books_url: &str, context: &str) -> String {
    let till_orders = get(&format!("{till_url}/__sim/records/order"));
    let till_orders = till_orders.as_array().unwrap();
    assert_eq!(till_orders.len(), ORDERS + 1);
    let booked = get(&format!("{books_url}/__sim/records/order"));
    let mut times_booked: HashMap<&str, usize> = HashMap::new();
    let mut debtor_of: HashMap<&str, &str> = HashMap::new();
    for row in booked.as_array().unwrap() {
        let number = row["ORD_NR"].as_str().unwrap();
        *times_booked.entry(number).or_default() += 1;
        debtor_of.insert(number, row["SUB_NR"].as_str().unwrap_or_default());
    }
    let buyers = Buyers::read(till_url, books_url);
    let (good, rest) = till_orders.split_at(ORDERS);
    let bad = rest[0]["orderId"].as_str().unwrap();
    for order in good {
        let number = order["orderId"].as_str().unwrap();
        assert_eq!(
            times_booked.get(number),
            Some(&1),
            "order {number} booked once {context}"
        );
        let relation = order["relationNumber"].as_i64().unwrap();
        assert_eq!(
            debtor_of[number],
            buyers.debtor_of(relation),
            "order {number} of relation {relation} {context}"
        );
    }
    assert_eq!(
        times_booked.len(),
        ORDERS,
        "nothing else booked: {times_booked:?} {context}"
    );
    assert!(
        !times_booked.contains_key(bad),
        "{bad} sells an article AccountView lacks {context}"
    );
    let stats = get(&format!("{books_url}/__sim/stats"));
    assert_eq!(stats["duplicates"], 0, "no order or debtor doubled: {stats} {context}");
    assert_eq!(
        stats["records"]["customer"], 8,
        "6 debtors and the till's two buyers: {stats} {context}"
    );
    bad.to_owned()
}

#[test]
fn sigkill_during_the_order_flow_books_every_order_once_and_dead_letters_only_the_bad_one() {
    let started = Instant::now();
    let seed: u64 = std::env::var("TILTAS_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(20_261_130);
    let context = format!("(seed {seed}; rerun with TILTAS_CRASH_SEED={seed})");
    eprintln!("order crash proof {context}");
    let mut rng = StdRng::seed_from_u64(seed);
    let (_books, books_url, _till, till_url, run) = set_up(seed);
    // A slow AccountView that sometimes fails after committing: runs last long enough to be
    // killed in, and some writes are applied without the run learning it.
    post(
        &format!("{books_url}/__sim/faults"),
        json!({"latency_ms": 25, "commit_then_fail_rate": 0.1}),
    );
    let killed_at = kill_runs(&run, &books_url, &mut rng, &context);
    eprintln!("orders booked when each run was killed: {killed_at:?}");
    reqwest::blocking::Client::new()
        .delete(format!("{books_url}/__sim/faults"))
        .send()
        .unwrap();
    let output = sync(&run).wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{} {context}", String::from_utf8_lossy(&output.stderr)));

    let bad = assert_booked_once(&till_url, &books_url, &context);
    assert!(
        report["failed"].as_u64().is_some_and(|failed| failed <= 1),
        "the last run: only {bad} may fail: {report} {context}"
    );
    let letters = run.tiltas(&["dead-letters", "list", "--json"]);
    assert!(letters.status.success(), "{}", String::from_utf8_lossy(&letters.stderr));
    let letters: Vec<Value> = String::from_utf8_lossy(&letters.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(letters.len(), 1, "one dead letter: {letters:?} {context}");
    assert_eq!(letters[0]["source_key"], bad.as_str(), "{letters:?} {context}");
    assert!(
        letters[0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("product 5 not in ERP")),
        "{letters:?} {context}"
    );
    eprintln!(
        "order crash proof: {} kills, {:?} {context}",
        killed_at.len(),
        started.elapsed()
    );
}
