//! The systems of the build as a person meets them: `tiltas sim` lists every simulator, each
//! simulator shows its own flags, and `tiltas docs` prints a system's settings.
use super::tiltas;

fn stdout_of(args: &[&str]) -> (bool, String) {
    let output = tiltas().args(args).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn sim_lists_every_simulator_and_each_shows_only_its_own_flags() {
    let (ok, help) = stdout_of(&["sim", "--help"]);
    assert!(ok, "{help}");
    for system in ["reference", "rivile", "woocommerce"] {
        assert!(help.contains(&format!("  {system} ")), "{system} missing:\n{help}");
    }
    let (ok, rivile) = stdout_of(&["sim", "rivile", "--help"]);
    assert!(ok, "{rivile}");
    assert!(
        rivile.contains("--api-key") && rivile.contains("--port") && rivile.contains("--seed"),
        "{rivile}"
    );
    assert!(
        !rivile.contains("--consumer-key") && !rivile.contains("--orders"),
        "only Rivile's flags:\n{rivile}"
    );
    let (_, shop) = stdout_of(&["sim", "woocommerce", "--help"]);
    assert!(
        shop.contains("--consumer-key") && shop.contains("--webhook-url") && !shop.contains("--api-key"),
        "{shop}"
    );
}

#[test]
fn docs_prints_a_systems_settings_and_names_the_known_ones_for_a_typo() {
    let (ok, rivile) = stdout_of(&["docs", "rivile"]);
    assert!(ok);
    assert!(rivile.contains("| `shipping_service` | text | no |"), "{rivile}");
    let output = tiltas().args(["docs", "rivle"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("no system \"rivle\"") && error.contains("rivile"),
        "{error}"
    );
}
