//! Typed settings, budget groups, the quote table and where secrets come from.
use super::*;

#[test]
fn typed_settings_take_the_written_values_and_the_spec_defaults_for_the_rest() {
    #[derive(serde::Deserialize)]
    struct ErpSettings {
        base_url: String,
        api_key: Secret,
        timeout: Duration,
        level: String,
        warehouse: Option<String>,
    }
    const KEYS: [KeySpec; 5] = [
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "",
        },
        KeySpec {
            name: "api_key",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "",
        },
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("45s"),
            doc: "",
        },
        KeySpec {
            name: "level",
            kind: KeyKind::OneOf(&["1", "2"]),
            required: false,
            default: Some("2"),
            doc: "",
        },
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "",
        },
    ];
    let config = parse(VALID).unwrap_or_else(|errors| panic!("{errors}"));
    let erp: ErpSettings = config.connection("erp").unwrap().settings.typed(&KEYS).unwrap();
    assert!(erp.base_url.starts_with("http"), "{}", erp.base_url);
    // The secret stays unresolved (its variable is not set in tests) until it is used.
    assert!(format!("{:?}", erp.api_key).contains("env ERP_KEY_FOR_TESTS"));
    assert_eq!(
        (erp.timeout, erp.level.as_str(), erp.warehouse),
        (Duration::from_secs(45), "2", None)
    );
    let wrong = KeySpec {
        default: Some("soon"),
        ..KEYS[2]
    };
    assert!(wrong.default_value().unwrap_err().contains("`timeout`"));
}

const SHARED_PACKAGE: &str = r#"
[budget_groups.package]
daily_budget = 5000

[connections.erp]
system = "erp"
base_url = "http://127.0.0.1:9101/client/v2"
api_key = "k1"
budget_group = "package"

[connections.erp-two]
system = "erp"
base_url = "http://127.0.0.1:9102/client/v2"
api_key = "k2"
budget_group = "package"
daily_budget = 1000

[[flows]]
name = "products"
entity = "product"
from = { connection = "erp" }
to = { connection = "erp-two" }
"#;

#[test]
fn connections_draw_from_a_budget_group_the_file_defines() {
    let config = parse(SHARED_PACKAGE).unwrap_or_else(|errors| panic!("{errors}"));
    let group = config.budget_group("package").unwrap();
    assert_eq!(group.daily_budget, 5000);
    assert_eq!(
        config.connection("erp").unwrap().budget_group.as_deref(),
        Some("package")
    );
    let two = config.connection("erp-two").unwrap();
    assert_eq!(
        (two.budget_group.as_deref(), two.daily_budget),
        (Some("package"), Some(1000))
    );

    let misspelt = problems(&SHARED_PACKAGE.replacen("budget_group = \"package\"", "budget_group = \"pakage\"", 1));
    assert!(
        misspelt.iter().any(|problem| problem.contains("conf/flows.toml:9:")
            && problem.contains("no budget group \"pakage\": did you mean \"package\"?")),
        "{misspelt:?}"
    );
    let without_budget = problems(&SHARED_PACKAGE.replace("daily_budget = 5000", "budget = 5000"));
    assert!(
        without_budget
            .iter()
            .any(|problem| problem.contains("unknown key \"budget\" in [budget_groups.package]")),
        "{without_budget:?}"
    );
    assert!(
        without_budget
            .iter()
            .any(|problem| problem.contains("[budget_groups.package] needs `daily_budget = N`")),
        "{without_budget:?}"
    );
}

#[test]
fn a_quote_table_is_typed_and_needs_no_flow() {
    let config =
        parse("[quote]\ncurrency = \"EUR\"\nbudget = \"2s\"\n\n[quote.rates]\nPLN = \"4.2675\"\nUAH = \"45.1\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
    let quote = config.quote.unwrap_or_else(|| panic!("no [quote]"));
    assert_eq!((quote.currency.as_str(), quote.budget), ("EUR", Duration::from_secs(2)));
    let RateSource::Fixed(rates) = &quote.rates else {
        panic!("{:?}", quote.rates)
    };
    assert_eq!(rates.get("PLN").map(ToString::to_string).as_deref(), Some("4.2675"));

    let ecb = parse("[quote]\nrates = \"ecb\"\n").unwrap_or_else(|e| panic!("{e}"));
    let quote = ecb.quote.unwrap_or_else(|| panic!("no [quote]"));
    assert_eq!(quote.rates, RateSource::EcbUrl(ECB_DAILY_URL.to_owned()));
    assert_eq!((quote.currency.as_str(), quote.budget), ("EUR", DEFAULT_QUOTE_BUDGET));
    let file =
        parse("[quote]\nrates = \"ecb\"\necb_file = \"rates/eurofxref-daily.xml\"\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        file.quote.map(|q| q.rates),
        Some(RateSource::EcbFile(
            Path::new("conf/rates/eurofxref-daily.xml").to_path_buf()
        )),
        "relative to the flow file"
    );
}

#[test]
fn quote_problems_are_located_and_name_the_fix() {
    let found = problems(
        "[quote]\ncurrency = \"eur\"\nbudget = \"0s\"\necb_url = \"ftp://x\"\nrate = 1\n\n[quote.rates]\nPLN = 4.2675\nzl = \"4\"\nUAH = \"-1\"\n",
    );
    let expected = [
        "conf/flows.toml:2:12: [quote]: `currency` = \"eur\" is not an ISO 4217 code",
        "conf/flows.toml:3:10: [quote]: `budget` must be longer than 0s",
        "conf/flows.toml:4:11: [quote]: `ecb_url` = \"ftp://x\" is not an http(s) address",
        "conf/flows.toml:5:1: unknown key \"rate\" in [quote]: did you mean \"rates\"?",
        "conf/flows.toml:8:7: [quote.rates]: `PLN` must be a positive decimal in quotes",
        "conf/flows.toml:9:1: [quote.rates]: \"zl\" is not an ISO 4217 code",
        "conf/flows.toml:10:7: [quote.rates]: `UAH` must be a positive decimal in quotes",
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (problem, start) in found.iter().zip(expected) {
        assert!(problem.starts_with(start), "{problem}\nexpected: {start}");
    }
    assert!(found[4].contains("write it in quotes"), "{}", found[4]);

    let both = problems("[quote]\nrates = \"ecb\"\necb_url = \"http://127.0.0.1:1/x.xml\"\necb_file = \"x.xml\"\n");
    assert!(
        both[0].starts_with("conf/flows.toml:4:1: [quote]: give `ecb_url` or `ecb_file`, not both"),
        "{both:?}"
    );
    let stray = problems("[quote]\necb_file = \"x.xml\"\n");
    assert!(
        stray[0].contains("`ecb_file` is read only with rates = \"ecb\""),
        "{stray:?}"
    );
    let company = problems("[quote]\ncurrency = \"PLN\"\n[quote.rates]\nUAH = \"45\"\n");
    assert!(
        company[0].contains("the company currency PLN has no rate"),
        "{company:?}"
    );
}

#[test]
fn a_secret_comes_from_a_file_beside_the_flow_file_or_from_the_store_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/erp-key"), "key-from-file-42\n").unwrap();
    let file = dir.path().join("flows.toml");
    let text = VALID.replace("{ env = \"ERP_KEY_FOR_TESTS\" }", "{ file = \"secrets/erp-key\" }");
    let mut config = parse_str(&text, &file, &TestCatalog).unwrap_or_else(|errors| panic!("{errors}"));
    let secret = config
        .connection("erp")
        .unwrap()
        .settings
        .secret("api_key")
        .unwrap()
        .clone();
    assert_eq!(
        secret.resolve().unwrap(),
        "key-from-file-42",
        "the trailing newline is trimmed"
    );
    assert_eq!(secret.origin(), SecretOrigin::File(dir.path().join("secrets/erp-key")));
    assert!(
        !format!("{config:?}").contains("key-from-file-42"),
        "a file secret leaked into Debug"
    );
    assert!(config.stored_secrets().is_empty());

    let text = VALID.replace("{ env = \"ERP_KEY_FOR_TESTS\" }", "{ store = true }");
    config = parse_str(&text, &file, &TestCatalog).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.stored_secrets(), vec![("erp".to_owned(), "api_key".to_owned())]);
    let unread = config
        .connection("erp")
        .unwrap()
        .settings
        .secret("api_key")
        .unwrap()
        .resolve();
    assert!(unread.unwrap_err().contains("tiltas secrets set"));
    config.fill_stored_secret("erp", "api_key", "unsealed-77");
    let secret = config.connection("erp").unwrap().settings.secret("api_key").unwrap();
    assert_eq!(
        (secret.origin(), secret.resolve().unwrap()),
        (SecretOrigin::Store, "unsealed-77".to_owned())
    );
    assert!(
        !format!("{config:?}").contains("unsealed-77"),
        "a stored secret leaked into Debug"
    );
}

#[test]
fn a_missing_secret_file_is_a_problem_naming_the_file_the_connection_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = VALID.replace("{ env = \"ERP_KEY_FOR_TESTS\" }", "{ file = \"secrets/missing\" }");
    let found = match parse_str(&text, &dir.path().join("flows.toml"), &TestCatalog) {
        Ok(_) => panic!("a missing secret file was accepted"),
        Err(diagnostics) => diagnostics.to_string(),
    };
    let expected = dir.path().join("secrets/missing").display().to_string();
    assert!(found.contains(&expected), "{found}");
    assert!(
        found.contains("connection \"erp\"") && found.contains("`api_key`"),
        "{found}"
    );
    let wrong = problems(&VALID.replace("{ env = \"ERP_KEY_FOR_TESTS\" }", "{ store = \"yes\" }"));
    assert!(
        wrong.iter().any(|problem| problem.contains("{ store = true }")),
        "{wrong:?}"
    );
}
