//! Flow-file validation against a small catalogue of made-up systems: the catalogue and the
//! file-level checks here, flow order and order flows in `dependencies`, typed settings, budget
//! groups, quotes and secrets in `settings`.
use std::path::Path;
use std::time::Duration;
use tiltas_config::*;
use tiltas_model::EntityKind;

const FILES_ENTITIES: &[EntityAccess] = &[
    EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Stock,
        read: true,
        write: false,
        incremental: false,
    },
];
const ERP_ENTITIES: &[EntityAccess] = &[
    EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Order,
        read: false,
        write: true,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Customer,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Stock,
        read: false,
        write: true,
        incremental: false,
    },
];

static FILES: SystemSpec = SystemSpec {
    name: "files",
    description: "test files",
    connection_keys: &[
        KeySpec {
            name: "dir",
            kind: KeyKind::Path,
            required: false,
            default: None,
            doc: "directory",
        },
        KeySpec {
            name: "delimiter",
            kind: KeyKind::Char,
            required: false,
            default: None,
            doc: "delimiter",
        },
    ],
    source_keys: &[
        KeySpec {
            name: "file",
            kind: KeyKind::String,
            required: true,
            default: None,
            doc: "file name",
        },
        KeySpec {
            name: "columns",
            kind: KeyKind::StringMap,
            required: false,
            default: None,
            doc: "columns",
        },
    ],
    target_keys: &[KeySpec {
        name: "file",
        kind: KeyKind::String,
        required: true,
        default: None,
        doc: "file name",
    }],
    entities: FILES_ENTITIES,
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

static ERP: SystemSpec = SystemSpec {
    name: "erp",
    description: "test ERP",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the API's address",
        },
        KeySpec {
            name: "api_key",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the API key",
        },
        KeySpec {
            name: "mode",
            kind: KeyKind::OneOf(&["invoice", "order"]),
            required: false,
            default: None,
            doc: "mode",
        },
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "warehouse",
        },
    ],
    source_keys: &[KeySpec {
        name: "warehouse",
        kind: KeyKind::String,
        required: false,
        default: None,
        doc: "warehouse",
    }],
    target_keys: &[KeySpec {
        name: "store",
        kind: KeyKind::String,
        required: false,
        default: None,
        doc: "store",
    }],
    entities: ERP_ENTITIES,
    accounting: true,
    one_of: &[],
    needs: &[FieldNeed {
        entity: EntityKind::Order,
        field: "warehouse",
        target_key: Some("store"),
        connection_key: Some("warehouse"),
        why: "is refused by the ERP",
    }],
    money_places: None,
};

/// A shop the order flows of these tests read from.
static SHOP: SystemSpec = SystemSpec {
    name: "shop",
    description: "test shop",
    connection_keys: &[],
    source_keys: &[],
    target_keys: &[],
    entities: &[EntityAccess {
        entity: EntityKind::Order,
        read: true,
        write: false,
        incremental: true,
    }],
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

struct TestCatalog;

impl Catalog for TestCatalog {
    fn system(&self, name: &str) -> Option<&'static SystemSpec> {
        [&FILES, &ERP, &SHOP].into_iter().find(|spec| spec.name == name)
    }
    fn system_names(&self) -> Vec<&'static str> {
        vec!["files", "erp", "shop"]
    }
}

const VALID: &str = r#"
store = "sqlite://state/tiltas.db"

[connections.feed]
system = "files"
dir = "data"
delimiter = ";"

[connections.erp]
system = "erp"
base_url = "http://127.0.0.1:9101/client/v2"
api_key = { env = "ERP_KEY_FOR_TESTS" }
rate_limit = "10/s"
daily_budget = 10000

[[flows]]
name = "products-to-erp"
entity = "product"
from = { connection = "feed", file = "products.csv", columns = { sku = "Kodas", "attributes.color" = "Spalva" } }
to = { connection = "erp" }
schedule = "every 15m"
match_on = "sku"
on_duplicate = "skip"
create_only = ["long_description"]
skip_without_code = true
map = { "attributes.origin" = "raw.N17_KILM", price_gross = "${ price_net * 1.21 }" }
filter = "${ price_net > 0 }"
values.unit = { vnt = "pcs", "*" = "pcs" }
defaults = { currency = "EUR", attributes = { brand = "Bosch" } }
look_back = "5m"
page_size = 100
redact = ["name"]
retention = "30d"
"#;

fn parse(text: &str) -> Result<ValidatedConfig, Diagnostics> {
    parse_str(text, Path::new("conf/flows.toml"), &TestCatalog)
}

fn problems(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => panic!("the file was accepted"),
        Err(diagnostics) => diagnostics.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_valid_file_becomes_typed_values() {
    let config = parse(VALID).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.store_url.as_deref(), Some("sqlite://state/tiltas.db"));
    assert_eq!(config.base_dir, Path::new("conf"));
    let feed = config.connection("feed").unwrap();
    assert_eq!(feed.settings.path("dir"), Some(Path::new("conf/data")));
    assert_eq!(feed.settings.char("delimiter"), Some(';'));
    let erp = config.connection("erp").unwrap();
    assert_eq!(erp.rate_limit.map(|rate| rate.to_string()), Some("10/s".to_owned()));
    assert_eq!(erp.daily_budget, Some(10_000));
    assert!(format!("{:?}", erp.settings.secret("api_key")).contains("env ERP_KEY_FOR_TESTS"));

    let flow = config.flow("products-to-erp").unwrap();
    assert_eq!(flow.entity, EntityKind::Product);
    assert_eq!(flow.from.settings.str("file"), Some("products.csv"));
    assert_eq!(flow.from.settings.map("columns").unwrap()["attributes.color"], "Spalva");
    assert_eq!(
        flow.schedule.as_ref().map(|s| s.to_string()),
        Some("every 15m".to_owned())
    );
    assert_eq!(flow.trigger, Trigger::Schedule);
    assert_eq!(flow.on_duplicate, DuplicatePolicy::Skip);
    assert_eq!(flow.map.len(), 2);
    assert!(matches!(&flow.map[1].source, MapSource::Expression(e) if e.text == "price_net * 1.21"));
    assert_eq!(flow.filter.as_ref().map(|f| f.text.as_str()), Some("price_net > 0"));
    assert_eq!(flow.values["unit"]["vnt"], "pcs");
    assert_eq!(flow.defaults["attributes.brand"], "Bosch");
    assert_eq!(flow.look_back, Duration::from_secs(300));
    assert_eq!(flow.page_size, Some(100));
    assert_eq!(flow.retention, Some(Duration::from_secs(30 * 86_400)));
    assert!(flow.enabled);
}

#[test]
fn a_misspelt_key_is_located_and_gets_a_suggestion() {
    let text = VALID.replace("match_on = \"sku\"", "match_on = \"sku\"\nshedule = \"5m\"");
    let line = text.lines().position(|line| line.starts_with("shedule")).unwrap() + 1;
    let found = problems(&text);
    assert_eq!(
        found,
        [format!(
            "conf/flows.toml:{line}:1: unknown key \"shedule\" in flow \"products-to-erp\": did you mean \"schedule\"?"
        )]
    );
}

#[test]
fn every_problem_of_a_file_is_reported_at_once_in_file_order() {
    let text = VALID
        .replace("system = \"files\"", "system = \"fils\"")
        .replace("entity = \"product\"", "entity = \"prodcut\"")
        .replace("page_size = 100", "page_size = \"ten\"")
        .replace("look_back = \"5m\"", "look_back = \"5 minutes\"")
        .replace("schedule = \"every 15m\"", "schedule = \"sometimes\"");
    let found = problems(&text);
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(
        found[0].contains("unknown system \"fils\": did you mean \"files\"?"),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("unknown entity \"prodcut\"; did you mean \"product\"?")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("page_size` must be a whole number ≥ 1, found \"ten\"")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|p| p.contains("\"5 minutes\" is not a duration")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("schedule \"sometimes\" is not understood")),
        "{found:#?}"
    );
    let lines: Vec<usize> = found
        .iter()
        .map(|p| p.split(':').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(lines.windows(2).all(|pair| pair[0] <= pair[1]), "{found:#?}");
}

#[test]
fn a_flow_naming_a_missing_connection_gets_a_suggestion_and_the_defined_ones() {
    let found = problems(&VALID.replace("to = { connection = \"erp\" }", "to = { connection = \"epr\" }"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("connection \"epr\" does not exist: did you mean \"erp\"?"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("defined connections: \"feed\", \"erp\""),
        "{}",
        found[0]
    );
}

#[test]
fn an_entity_the_system_cannot_read_or_write_is_refused_with_what_it_can() {
    let text = VALID
        .replace("entity = \"product\"", "entity = \"order\"")
        .replace("match_on = \"sku\"", "match_on = \"number\"")
        .replace("create_only = [\"long_description\"]", "")
        .replace("map = {", "# map = {")
        .replace("filter =", "# filter =")
        .replace("values.unit", "values.status")
        .replace(
            "defaults = { currency = \"EUR\", attributes = { brand = \"Bosch\" } }",
            "",
        );
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("connection \"feed\" (system files) cannot read order; it reads: product, stock"),
        "{}",
        found[0]
    );
}

#[test]
fn unknown_field_paths_are_refused_with_a_suggestion() {
    let found = problems(&VALID.replace("match_on = \"sku\"", "match_on = \"skuu\""));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("product has no field \"skuu\"; did you mean \"sku\"?"),
        "{}",
        found[0]
    );
}

#[test]
fn missing_required_keys_are_named_with_their_purpose() {
    let found = problems(&VALID.replace("base_url = \"http://127.0.0.1:9101/client/v2\"\n", ""));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("connection \"erp\" (system erp) needs `base_url`: the API's address"),
        "{}",
        found[0]
    );
}

#[test]
fn secrets_from_the_environment_are_not_needed_to_validate_and_literals_never_print() {
    let config = parse(&VALID.replace("{ env = \"ERP_KEY_FOR_TESTS\" }", "\"live-key-123\"")).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("live-key-123"), "a secret leaked into Debug output");
    assert_eq!(
        config
            .connection("erp")
            .unwrap()
            .settings
            .secret("api_key")
            .unwrap()
            .resolve()
            .unwrap(),
        "live-key-123"
    );
}

#[test]
fn a_decimal_default_written_as_a_float_is_refused() {
    let found = problems(&VALID.replace("currency = \"EUR\",", "price_net = 12.5, currency = \"EUR\","));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("write decimals as text, e.g. \"12.5\""),
        "{}",
        found[0]
    );
}

#[test]
fn a_toml_syntax_error_is_one_located_problem() {
    let found = problems("[connections.feed\nsystem = \"files\"\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("conf/flows.toml:1:"), "{}", found[0]);
    assert!(found[0].contains("not valid TOML"), "{}", found[0]);
}

#[test]
fn a_missing_file_is_one_problem_naming_the_path() {
    let error = load(Path::new("/nonexistent/flows.toml"), &TestCatalog).unwrap_err();
    assert_eq!(error.0.len(), 1);
    let text = error.to_string();
    assert!(
        text.starts_with("/nonexistent/flows.toml: cannot read the flow file"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
}

#[test]
fn duplicate_flow_names_and_bad_one_of_values_are_reported() {
    let text = format!(
        "{VALID}\n[[flows]]\nname = \"products-to-erp\"\nentity = \"product\"\nfrom = {{ connection = \"erp\" }}\nto = {{ connection = \"erp\" }}\n"
    )
    .replace("rate_limit = \"10/s\"", "rate_limit = \"10/s\"\nmode = \"invoices\"");
    let found = problems(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0]
        .contains("`mode` must be one of \"invoice\", \"order\", found \"invoices\" (did you mean \"invoice\"?)"));
    assert!(
        found[1].contains("flow \"products-to-erp\" is defined twice"),
        "{}",
        found[1]
    );
}

#[test]
fn a_trigger_schedule_without_a_schedule_is_refused() {
    let found = problems(&VALID.replace("schedule = \"every 15m\"", "trigger = \"schedule\""));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("needs a `schedule`"), "{}", found[0]);
}

#[test]
fn unquoted_dotted_keys_are_flattened_back_into_field_paths() {
    let text = VALID
        .replace(
            "map = { \"attributes.origin\" = \"raw.N17_KILM\",",
            "map = { attributes.origin = \"raw.N17_KILM\", attributes.size.eu = \"raw.DYDIS\",",
        )
        .replace(
            "values.unit = { vnt = \"pcs\", \"*\" = \"pcs\" }",
            "values.attributes.color = { raud = \"red\" }",
        )
        .replace("attributes = { brand = \"Bosch\" }", "attributes.brand = \"Bosch\"");
    let config = parse(&text).unwrap_or_else(|errors| panic!("{errors}"));
    let flow = config.flow("products-to-erp").unwrap();
    let targets: Vec<&str> = flow.map.iter().map(|entry| entry.target.as_str()).collect();
    assert_eq!(targets, ["attributes.origin", "attributes.size.eu", "price_gross"]);
    assert_eq!(flow.values["attributes.color"]["raud"], "red");
    assert_eq!(flow.defaults["attributes.brand"], "Bosch");
}

#[test]
fn redact_accepts_the_last_segment_of_a_nested_field_but_not_an_unknown_name() {
    let text = "[connections.erp]\nsystem = \"erp\"\nbase_url = \"https://erp.example.com\"\napi_key = \"k\"\n\n\
                [[flows]]\nname = \"customers\"\nentity = \"customer\"\nfrom = { connection = \"erp\" }\n\
                to = { connection = \"erp\" }\nredact = [\"postcode\", \"email\", \"shoe_size\"]\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("customer has no field \"shoe_size\""), "{}", found[0]);
    let config = parse(&text.replace(", \"shoe_size\"", "")).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.flow("customers").unwrap().redact, ["postcode", "email"]);
}

#[test]
fn an_unknown_top_level_key_lists_the_accepted_ones() {
    let found = problems(&format!("colour = \"blue\"\n{VALID}"));
    assert_eq!(
        found,
        ["conf/flows.toml:1:1: unknown key \"colour\" in the file; accepted keys: \"store\", \"budget_groups\", \"connections\", \"flows\", \"quote\", \"server\""]
    );
}

#[test]
fn an_unknown_system_in_a_connection_gets_a_suggestion_and_the_known_ones() {
    let found = problems(&VALID.replace("system = \"erp\"", "system = \"epr\""));
    assert!(
        found[0]
            .contains("connection \"erp\": unknown system \"epr\": did you mean \"erp\"? known systems: files, erp"),
        "{found:#?}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_one_problem_at_its_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flows.toml");
    // Windows-1257 "š" (0xF0) on line 3, after "# Kainų" (ų is two bytes in UTF-8).
    std::fs::write(
        &path,
        b"[connections.erp]\r\nsystem = \"erp\"\r\n# Kain\xc5\xb3 ta\xf0kai\r\n",
    )
    .unwrap();
    let error = load(&path, &TestCatalog).unwrap_err();
    assert_eq!(error.0.len(), 1, "{error}");
    assert_eq!((error.0[0].line, error.0[0].column), (3, 11), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "{}:3:11: the flow file is not UTF-8 (byte 0xF0 here",
            path.display()
        )),
        "{message}"
    );
    assert!(message.ends_with("save it as UTF-8"), "{message}");

    std::fs::write(&path, b"\xff").unwrap();
    let first = load(&path, &TestCatalog).unwrap_err();
    assert_eq!((first.0[0].line, first.0[0].column), (1, 1), "{first}");
}

#[test]
fn a_flow_file_without_flows_is_a_problem_naming_the_fix() {
    for (text, what) in [
        ("", "the flow file is empty"),
        ("# nothing yet\n\n", "the flow file is empty"),
        (
            VALID.split("[[flows]]").next().unwrap(),
            "the flow file defines no flow",
        ),
        ("flows = []\n", "the flow file defines no flow"),
    ] {
        let found = problems(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with(&format!("conf/flows.toml: {what}: add a [[flows]] table")),
            "{found:#?}"
        );
    }
}

mod dependencies;
mod settings;
