//! `tiltas connect` as a person meets it before any OAuth2 system is involved: a connection
//! that needs no sign-in, an unknown connection, and a system name that is not the connection's.
use super::Workspace;

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
