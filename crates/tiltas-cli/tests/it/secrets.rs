//! Secrets at rest and never logged: `tiltas secrets set/list/rotate-master` against a real
//! SQLite store, a store copied without its master key, the log-scan of a whole sync and a
//! served API, and `tiltas serve` over HTTPS.
use crate::{simulator, started, tiltas, ExampleRun, Process};
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::Arc;
use tiltas_engine::{KeySource, StoreVault};
use tiltas_systems::vault::CredentialVault;

/// Fixed master keys: the tests are deterministic.
const KEY_ONE: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const KEY_TWO: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const RIVILE_KEY: &str = "SHOP.rivile-key-7Qx9";
const CK: &str = "ck_consumer-key-4Jv2";
const CS: &str = "cs_consumer-secret-8Lp3";
const HOOK_SECRET: &str = "hook-secret-2Wm6";

/// `tiltas ARGS…` of an example run with `stdin` as standard input.
fn with_stdin(example: &ExampleRun, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = example
        .command(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// How often `needle` occurs in every file of `dir` whose name starts with `prefix` (the
/// SQLite file with its `-wal` and `-shm`), byte for byte.
fn hits_in_files(dir: &Path, prefix: &str, needle: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(prefix))
        .map(|entry| {
            let bytes = std::fs::read(entry.path()).unwrap();
            bytes
                .windows(needle.len())
                .filter(|window| *window == needle.as_bytes())
                .count()
        })
        .sum()
}

/// erp-shop.toml with the shop's consumer secret kept in the store and the ERP's key in a file.
fn example_with_stored_secret(rivile_url: &str, shop_url: &str, env: &[(&str, &str)]) -> ExampleRun {
    let example = ExampleRun::new(
        "erp-shop.toml",
        &[
            ("http://127.0.0.1:9101", rivile_url),
            ("http://127.0.0.1:9201", shop_url),
            ("rate_limit = \"10/s, burst 25\"", "rate_limit = \"1000/s\""),
            (
                "consumer_secret = { env = \"WC_SECRET\" }",
                "consumer_secret = { store = true }",
            ),
            (
                "api_key = { env = \"RIVILE_API_KEY\" }",
                "api_key = { file = \"secrets/rivile.key\" }",
            ),
        ],
        &[[("WC_KEY", CK), ("WC_WEBHOOK_SECRET", HOOK_SECRET)].as_slice(), env].concat(),
    );
    std::fs::create_dir(example.dir.path().join("secrets")).unwrap();
    std::fs::write(example.dir.path().join("secrets/rivile.key"), format!("{RIVILE_KEY}\n")).unwrap();
    example
}

fn start_simulators(products: &str) -> ((Process, String), (Process, String)) {
    let rivile = simulator(&[
        "sim",
        "rivile",
        "--port",
        "0",
        "--api-key",
        RIVILE_KEY,
        "--products",
        products,
        "--customers",
        "3",
    ]);
    let shop = simulator(&[
        "sim",
        "woocommerce",
        "--port",
        "0",
        "--consumer-key",
        CK,
        "--consumer-secret",
        CS,
        "--products",
        "0",
        "--customers",
        "0",
        "--orders",
        "0",
    ]);
    (rivile, shop)
}

#[test]
fn a_secret_set_from_stdin_is_sealed_so_a_copied_store_reveals_nothing_and_another_key_is_refused() {
    let ((_rivile, rivile_url), (_shop, shop_url)) = start_simulators("5");
    let example = example_with_stored_secret(&rivile_url, &shop_url, &[("TILTAS_MASTER_KEY", KEY_ONE)]);

    let unset = example.tiltas(&["sync", "products-to-shop", "--json"]);
    assert_eq!(unset.status.code(), Some(1), "{}", text(&unset));
    assert!(
        text(&unset).contains("was never set: run `tiltas secrets set shop consumer_secret"),
        "{}",
        text(&unset)
    );

    let set = with_stdin(
        &example,
        &["secrets", "set", "shop", "consumer_secret"],
        &[],
        &format!("{CS}\n"),
    );
    assert!(set.status.success(), "{}", text(&set));
    assert!(
        text(&set).contains("sealed `consumer_secret` of connection \"shop\""),
        "{}",
        text(&set)
    );
    assert!(!text(&set).contains(CS));
    let wrong_key = with_stdin(&example, &["secrets", "set", "shop", "base_url"], &[], "x");
    assert!(!wrong_key.status.success());
    assert!(
        text(&wrong_key).contains("has no secret key `base_url`"),
        "{}",
        text(&wrong_key)
    );

    let list = example.tiltas(&["secrets", "list"]);
    assert!(list.status.success(), "{}", text(&list));
    let listed = text(&list);
    assert!(
        listed.contains("shop") && listed.contains("consumer_secret") && listed.contains("UTC"),
        "{listed}"
    );
    assert!(
        !listed.contains(CS) && !listed.contains("v1:"),
        "the listing shows a value: {listed}"
    );

    // The stored secret (and the one from a file) signs the shop's requests: products arrive.
    let report = example.sync_ok("products-to-shop");
    assert_eq!(report["created"].as_u64(), Some(5), "{report}");

    let dir = example.dir.path();
    for secret in [CS, RIVILE_KEY, KEY_ONE] {
        assert_eq!(
            hits_in_files(dir, "tiltas.db", secret),
            0,
            "{secret} is readable in the store file"
        );
    }
    // The store copied elsewhere, opened with another key: refused, saying what to do.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap()) {
        if entry.file_name().to_string_lossy().starts_with("tiltas.db") {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
    }
    let copied = format!("sqlite://{}", copy.path().join("tiltas.db").display());
    let other = tiltas()
        .args(["--db", &copied, "sync", "products-to-shop", "--config"])
        .arg(&example.flows)
        .env("TILTAS_MASTER_KEY", KEY_TWO)
        .env("WC_KEY", CK)
        .env("WC_WEBHOOK_SECRET", HOOK_SECRET)
        .output()
        .unwrap();
    let said = text(&other);
    assert_eq!(other.status.code(), Some(1), "{said}");
    assert!(
        said.contains(
            "connection \"shop\": the stored consumer_secret cannot be opened with the master key TILTAS_MASTER_KEY"
        ) && said.contains("wrong master key")
            && said.contains("tiltas secrets set shop consumer_secret"),
        "{said}"
    );
    assert!(!said.contains(CS), "{said}");
}

#[test]
fn rotate_master_reseals_stored_secrets_and_run_time_tokens_and_the_old_key_no_longer_opens_them() {
    let example = example_with_stored_secret("http://127.0.0.1:9", "http://127.0.0.1:9", &[]);
    let dir = example.dir.path();
    let old_key = dir.join("old.key");
    std::fs::write(&old_key, format!("{KEY_ONE}\n")).unwrap();
    let old_flag = ["--master-key-file", old_key.to_str().unwrap()];
    for (key, value) in [("consumer_secret", CS), ("webhook_secret", HOOK_SECRET)] {
        let set = with_stdin(
            &example,
            &[&["secrets", "set", "shop", key][..], &old_flag[..]].concat(),
            &[],
            value,
        );
        assert!(set.status.success(), "{}", text(&set));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(tiltas_store::open(&example.db)).unwrap();
    let vault = |key: &Path| StoreVault::with_source(store.clone(), KeySource::GivenFile(key.to_path_buf()));
    runtime
        .block_on(vault(&old_key).save("books", "refresh_token", "rt-refresh-token-5Nq1"))
        .unwrap();

    let new_key = dir.join("keys/new.key");
    std::fs::create_dir(dir.join("keys")).unwrap();
    let rotate = example.tiltas(
        &[
            &["secrets", "rotate-master", "--new-key-file", new_key.to_str().unwrap()][..],
            &old_flag[..],
        ]
        .concat(),
    );
    assert!(rotate.status.success(), "{}", text(&rotate));
    assert!(
        text(&rotate).contains("re-sealed 3 value(s) (2 connection secret(s), 1 run-time token(s))"),
        "{}",
        text(&rotate)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&new_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the new key file is readable by others: {mode:o}");
    }

    let new_vault: Arc<dyn CredentialVault> = Arc::new(vault(&new_key));
    let opened: Vec<Option<String>> = [
        ("shop", "secret:consumer_secret"),
        ("shop", "secret:webhook_secret"),
        ("books", "refresh_token"),
    ]
    .iter()
    .map(|(connection, name)| runtime.block_on(new_vault.load(connection, name)).unwrap())
    .collect();
    assert_eq!(
        opened,
        [
            Some(CS.to_owned()),
            Some(HOOK_SECRET.to_owned()),
            Some("rt-refresh-token-5Nq1".to_owned())
        ]
    );
    let old = runtime
        .block_on(vault(&old_key).load("books", "refresh_token"))
        .unwrap_err();
    assert!(old.message.contains("wrong master key"), "{old:?}");
    // The CLI says the same when asked to rotate from the old key again, and changes nothing.
    let again = example.tiltas(
        &[
            &[
                "secrets",
                "rotate-master",
                "--new-key-file",
                dir.join("third.key").to_str().unwrap(),
            ][..],
            &old_flag[..],
        ]
        .concat(),
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again).contains(&format!("cannot be opened with the master key {}", old_key.display()))
            && text(&again).contains("wrong master key"),
        "{}",
        text(&again)
    );
    drop(store);
    for secret in [CS, HOOK_SECRET, "rt-refresh-token-5Nq1"] {
        assert_eq!(
            hits_in_files(dir, "tiltas.db", secret),
            0,
            "{secret} is readable in the store file"
        );
    }
}

/// A self-signed certificate for 127.0.0.1 and its key, as PEM files in `dir`.
fn self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    (cert, key, cert_pem)
}

#[test]
fn serve_answers_over_https_with_the_given_certificate_and_names_a_bad_file() {
    let example = ExampleRun::new(
        "erp-shop.toml",
        &[],
        &[
            ("RIVILE_API_KEY", RIVILE_KEY),
            ("WC_KEY", CK),
            ("WC_SECRET", CS),
            ("WC_WEBHOOK_SECRET", HOOK_SECRET),
        ],
    );
    let (cert, key, cert_pem) = self_signed(example.dir.path());
    let missing = example.dir.path().join("nowhere.pem");
    let refused = example.tiltas(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        missing.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains(&format!("cannot read the TLS certificate {}", missing.display())),
        "{}",
        text(&refused)
    );
    let swapped = example.tiltas(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        cert.to_str().unwrap(),
    ]);
    assert!(text(&swapped).contains("cannot be used together"), "{}", text(&swapped));

    let (_server, url) = started(&mut example.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = client.get(format!("{url}/healthz")).send().unwrap();
    assert_eq!(health.status(), 200);
    // A client that does not trust the certificate is turned away by TLS itself.
    assert!(reqwest::blocking::get(format!("{url}/healthz")).is_err());
    let plain = reqwest::blocking::get(url.replace("https://", "http://") + "/healthz");
    assert!(
        plain.map(|answer| !answer.status().is_success()).unwrap_or(true),
        "plain HTTP was served"
    );
}

/// A WooCommerce order webhook body for a product the ERP does not have: a dead letter.
fn unknown_product_order(id: u64) -> String {
    serde_json::json!({
        "id": id, "number": id.to_string(), "status": "processing", "currency": "EUR",
        "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:00:00",
        "total": "12.10", "total_tax": "2.10", "shipping_total": "0.00",
        "billing": {"first_name": "Ona", "last_name": "Onaitė", "email": "ona@example.lt", "country": "LT"},
        "line_items": [{"id": 1, "sku": "NOT-IN-ERP-1", "name": "Kava", "quantity": 1, "price": 10, "total": "10.00", "total_tax": "2.10"}]
    })
    .to_string()
}

/// Starts `tiltas serve` with debug JSON logs into `log`; its URL.
fn serve_logging_to(example: &ExampleRun, log: &Path) -> (Process, String) {
    let mut command = example.command(&[
        "--log",
        "debug",
        "--log-format",
        "json",
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    started(command.stderr(std::fs::File::create(log).unwrap()))
}

#[test]
fn no_secret_value_reaches_a_log_line_an_activity_payload_a_dead_letter_an_api_answer_or_metrics() {
    let ((_rivile, rivile_url), (_shop, shop_url)) = start_simulators("8");
    let example = example_with_stored_secret(&rivile_url, &shop_url, &[("TILTAS_MASTER_KEY", KEY_ONE)]);
    let set = with_stdin(&example, &["secrets", "set", "shop", "consumer_secret"], &[], CS);
    assert!(set.status.success(), "{}", text(&set));
    let mut seen = vec![text(&set)];
    let debug = ["--log", "debug", "--log-format", "json"];

    // Every flow of the demo's file, with debug logs in JSON.
    for flow in [
        "products-to-shop",
        "stock-centr-to-shop",
        "customers-to-shop",
        "customers-to-erp",
        "orders-to-erp",
    ] {
        let output = example.tiltas(&[&debug[..], &["sync", flow, "--json"][..]].concat());
        assert!(matches!(output.status.code(), Some(0 | 3)), "{flow}: {}", text(&output));
        seen.push(text(&output));
    }
    // A failing connection: the shop refuses a wrong consumer key (itself a secret).
    const WRONG_KEY: &str = "ck_wrong-key-3Zt8";
    let refused = tiltas()
        .args(["--db", &example.db])
        .args(debug)
        .args(["sync", "products-to-shop", "--full", "--config"])
        .arg(&example.flows)
        .envs(example.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("WC_KEY", WRONG_KEY)
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "a wrong consumer key was accepted: {}",
        text(&refused)
    );
    assert!(
        text(&refused).contains("\"shop\""),
        "the failure names the connection: {}",
        text(&refused)
    );
    seen.push(text(&refused));

    let key = example.tiltas(&["keys", "create", "--scope", "admin", "--name", "scan", "--json"]);
    assert!(key.status.success(), "{}", text(&key));
    let api_key: serde_json::Value = serde_json::from_slice(&key.stdout).unwrap();
    let api_key = api_key["key"].as_str().unwrap().to_owned();

    let log = example.dir.path().join("serve.log");
    let (server, url) = serve_logging_to(&example, &log);
    let client = reqwest::blocking::Client::new();
    // A webhook order the ERP cannot take (a dead letter) and one with a forged signature.
    let body = unknown_product_order(4242);
    let signature = tiltas_systems::woocommerce::webhook::sign(HOOK_SECRET, body.as_bytes());
    let sent = |signature: &str| {
        client
            .post(format!("{url}/hooks/shop"))
            .header("x-wc-webhook-topic", "order.created")
            .header("x-wc-webhook-signature", signature)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .unwrap()
    };
    assert_eq!(sent(&signature).status(), 200);
    let forged = sent("Zm9yZ2Vk");
    assert_eq!(forged.status(), 401);
    seen.push(forged.text().unwrap());
    let get = |path: &str| {
        let answer = client.get(format!("{url}{path}")).bearer_auth(&api_key).send().unwrap();
        assert!(answer.status().is_success(), "GET {path}: {}", answer.status());
        answer.text().unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while get("/api/v1/dead-letters").trim() == "[]" {
        assert!(
            std::time::Instant::now() < deadline,
            "the webhook order never became a dead letter"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for connection in ["shop", "erp"] {
        let tested = client
            .post(format!("{url}/api/v1/connections/{connection}/test"))
            .bearer_auth(&api_key)
            .send()
            .unwrap();
        seen.push(tested.text().unwrap());
    }
    let mut ids = Vec::new();
    for path in [
        "/api/v1/runs?limit=100",
        "/api/v1/activity?limit=200",
        "/api/v1/dead-letters",
    ] {
        let answer = get(path);
        let listed: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let kind = path.split('?').next().unwrap().to_owned();
        ids.extend(
            listed
                .as_array()
                .or_else(|| listed["items"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|item| item["id"].as_i64().map(|id| format!("{kind}/{id}"))),
        );
        seen.push(answer);
    }
    assert!(ids.iter().any(|id| id.starts_with("/api/v1/dead-letters/")), "{ids:?}");
    for path in ids.iter().map(String::as_str).chain([
        "/api/v1/connections",
        "/api/v1/flows",
        "/api/v1/deliveries",
        "/api/v1/quota",
        "/api/v1/openapi.json",
        "/metrics",
        "/healthz",
    ]) {
        seen.push(get(path));
    }
    drop(server);
    seen.push(std::fs::read_to_string(&log).unwrap());
    let everything = seen.join("\n");
    assert!(
        everything.contains("\"level\":\"DEBUG\""),
        "no debug log lines were scanned"
    );

    let secrets = [RIVILE_KEY, CK, CS, HOOK_SECRET, WRONG_KEY, KEY_ONE, api_key.as_str()];
    let mut leaks = Vec::new();
    for secret in secrets {
        for line in everything.lines().filter(|line| line.contains(secret)) {
            leaks.push(format!("{secret}: {line}"));
        }
        if hits_in_files(example.dir.path(), "tiltas.db", secret) > 0 {
            leaks.push(format!("{secret}: in the store file (activity, dead letters, inbox)"));
        }
    }
    assert!(leaks.is_empty(), "secret values leaked:\n{}", leaks.join("\n"));
}
