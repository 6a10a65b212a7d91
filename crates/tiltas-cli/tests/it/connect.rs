//! `tiltas connect` as a person meets it: a connection that needs no sign-in, an unknown
//! connection, a system name that is not the connection's, and the whole sign-in with the
//! AccountView simulator.
use super::{simulator, tiltas, ExampleRun, Workspace};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn connect_refuses_a_connection_that_needs_no_sign_in_an_unknown_one_and_a_wrong_system() {
    let workspace = Workspace::with_examples();
    let needless = workspace.tiltas(&["connect", "--config", "erp-shop.toml", "--connection", "erp"]);
    assert!(!needless.status.success());
    let message = stderr_of(&needless);
    assert!(message.contains("needs no `tiltas connect`"), "{message}");

    let unknown = workspace.tiltas(&["connect", "--config", "erp-shop.toml", "--connection", "books"]);
    let message = stderr_of(&unknown);
    assert!(!unknown.status.success());
    assert!(
        message.contains("no connection \"books\"") && message.contains("erp"),
        "{message}"
    );

    let wrong = workspace.tiltas(&[
        "connect",
        "accountview",
        "--config",
        "erp-shop.toml",
        "--connection",
        "erp",
    ]);
    let message = stderr_of(&wrong);
    assert!(!wrong.status.success());
    assert!(message.contains("not accountview"), "{message}");
    assert!(
        !workspace.path("tiltas-secret.key").exists(),
        "no key is made when nothing is saved"
    );
}

/// The whole sign-in as a person does it: `tiltas connect` prints the provider's page, the
/// browser (here a client following redirects) signs in and is sent back to the listener on
/// 127.0.0.1, the token is sealed in the store, and a flow then reads with it.
#[test]
fn connect_completes_the_browser_round_trip_and_flows_then_read_with_the_sealed_token() {
    let (_books, books_url) = simulator(&[
        "sim",
        "accountview",
        "--port",
        "0",
        "--client-id",
        "av-demo",
        "--client-secret",
        "av-demo-secret",
    ]);
    let (_till, till_url) = simulator(&[
        "sim",
        "mplus",
        "--port",
        "0",
        "--ident",
        "demo",
        "--secret",
        "demo-secret",
        "--products",
        "0",
        "--orders",
        "0",
    ]);
    // The client's registered redirect URI, on a port free now (tiltas connect listens on it).
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
        &[("AV_CLIENT_SECRET", "av-demo-secret"), ("MPLUS_SECRET", "demo-secret")],
    );
    let before = run.tiltas(&["sync", "products-to-till"]);
    let message = String::from_utf8_lossy(&before.stderr);
    assert!(!before.status.success(), "no token yet");
    assert!(
        message.contains("tiltas connect accountview --connection books"),
        "{message}"
    );

    let mut connect = tiltas()
        .args([
            "--db",
            &run.db,
            "connect",
            "accountview",
            "--connection",
            "books",
            "--wait",
            "60",
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
    assert!(
        sign_in.contains("response_type=code") && sign_in.contains("state="),
        "{sign_in}"
    );
    let page = reqwest::blocking::get(&sign_in).unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    assert!(page.text().unwrap().contains("You can close this window"));
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = connect.wait().unwrap();
    assert!(status.success(), "{rest:?}");
    assert!(rest.iter().any(|line| line.contains("is authorised")), "{rest:?}");
    assert!(
        run.dir.path().join("tiltas-secret.key").exists(),
        "the key beside the flow file"
    );

    let report = run.sync_ok("products-to-till");
    assert_eq!(report["created"], 100, "{report}");
}
