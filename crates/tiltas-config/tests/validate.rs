//! Flow-file validation against a small catalogue of two made-up systems.
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

/// `VALID` plus a stock flow from the same feed to the same ERP, with `extra` lines in it.
fn with_stock_flow(extra: &str) -> String {
    format!(
        r#"{VALID}
[[flows]]
name = "stock-to-erp"
entity = "stock"
from = {{ connection = "feed", file = "stock.csv" }}
to = {{ connection = "erp" }}
schedule = "every 5m"
{extra}
"#
    )
}

#[test]
fn a_stock_flow_runs_after_the_product_flows_between_its_connections_unless_it_opts_out() {
    let config = parse(&with_stock_flow("")).unwrap_or_else(|errors| panic!("{errors}"));
    let stock = config.flow("stock-to-erp").unwrap();
    assert_eq!(stock.after, ["products-to-erp"]);
    assert!(stock.after_implied);
    assert!(config.flow("products-to-erp").unwrap().after.is_empty());

    let opted_out = parse(&with_stock_flow("after = []")).unwrap_or_else(|errors| panic!("{errors}"));
    let stock = opted_out.flow("stock-to-erp").unwrap();
    assert!(stock.after.is_empty() && !stock.after_implied);

    let disabled = VALID.replace("retention = \"30d\"", "retention = \"30d\"\nenabled = false");
    let text = with_stock_flow("").replace(VALID, &disabled);
    let config = parse(&text).unwrap_or_else(|errors| panic!("{errors}"));
    assert!(
        config.flow("stock-to-erp").unwrap().after.is_empty(),
        "a disabled product flow is not waited for"
    );
}

#[test]
fn flows_in_dependency_order_put_each_flow_after_the_ones_it_runs_after() {
    // The stock flow comes first in the file but runs after the product flow.
    let with_stock = with_stock_flow("");
    let sections: Vec<&str> = with_stock.split("[[flows]]").collect();
    let text = format!("{}[[flows]]{}[[flows]]{}", sections[0], sections[2], sections[1]);
    let config = parse(&text).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.flows[0].name, "stock-to-erp");
    let order: Vec<&str> = config
        .in_dependency_order()
        .iter()
        .map(|flow| flow.name.as_str())
        .collect();
    assert_eq!(order, ["products-to-erp", "stock-to-erp"]);
}

#[test]
fn after_naming_an_unknown_flow_or_the_flow_itself_is_located() {
    let text = with_stock_flow("after = [\"products-to-epr\", \"stock-to-erp\"]");
    let line = text.lines().position(|line| line.starts_with("after")).unwrap() + 1;
    assert_eq!(
        problems(&text),
        [
            format!("conf/flows.toml:{line}:10: flow \"stock-to-erp\": `after` names flow \"products-to-epr\", which does not exist: did you mean \"products-to-erp\"? defined flows: \"products-to-erp\", \"stock-to-erp\""),
            format!("conf/flows.toml:{line}:29: flow \"stock-to-erp\": `after` names the flow itself; a flow cannot run after itself: remove \"stock-to-erp\""),
        ]
    );
    let found = problems(&with_stock_flow("after = \"products-to-erp\""));
    assert!(found[0].contains("`after` must be a list of texts"), "{found:#?}");
}

#[test]
fn a_cycle_of_after_is_refused_with_its_path() {
    let text = with_stock_flow("").replace("retention = \"30d\"", "retention = \"30d\"\nafter = [\"stock-to-erp\"]");
    let line = text.lines().position(|line| line.starts_with("after")).unwrap() + 1;
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(&format!(
            "conf/flows.toml:{line}:1: flow \"products-to-erp\": `after` makes a cycle, products-to-erp → stock-to-erp → products-to-erp (each runs after the next)"
        )),
        "{found:#?}"
    );
    assert!(
        found[0].contains("\"stock-to-erp\" runs after the product flows"),
        "{found:#?}"
    );

    let explicit = text.replace(
        "schedule = \"every 5m\"",
        "schedule = \"every 5m\"\nafter = [\"products-to-erp\"]",
    );
    let found = problems(&explicit);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].ends_with("so none of them could start: remove one of these dependencies"),
        "{found:#?}"
    );
}

#[test]
fn a_flow_file_on_disk_resolves_paths_against_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flows.toml");
    std::fs::write(&path, VALID).unwrap();
    let config = load(&path, &TestCatalog).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.base_dir, dir.path());
    assert_eq!(
        config.connection("feed").unwrap().settings.path("dir"),
        Some(dir.path().join("data").as_path())
    );
}

#[test]
fn validated_types_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<ValidatedConfig>();
    shareable::<Flow>();
    shareable::<Settings>();
    shareable::<Diagnostics>();
}

#[test]
fn order_pipeline_keys_are_refused_outside_order_flows() {
    let text = VALID.replace("match_on = \"sku\"", "match_on = \"sku\"\ndefault_customer = \"K1\"");
    let line = text
        .lines()
        .position(|line| line.starts_with("default_customer"))
        .unwrap()
        + 1;
    assert_eq!(
        problems(&text),
        [format!(
            "conf/flows.toml:{line}:20: flow \"products-to-erp\": `default_customer` belongs to the order pipeline and works only in flows with entity = \"order\"; remove it"
        )]
    );
}

/// VALID plus an order flow into the ERP with `extra` flow lines (and `to` keys).
fn with_order_flow(to: &str, extra: &str) -> String {
    format!(
        "{VALID}\n[connections.shop]\nsystem = \"shop\"\n\n[[flows]]\nname = \"orders-to-erp\"\nentity = \"order\"\nfrom = {{ connection = \"shop\" }}\n\
         to = {{ connection = \"erp\"{to} }}\n{extra}\n"
    )
}

#[test]
fn an_order_flow_without_a_field_its_target_needs_is_accepted_with_a_warning_naming_flow_and_key() {
    let text = with_order_flow("", "");
    let lines: Vec<&str> = text.lines().collect();
    let line = lines
        .iter()
        .rposition(|line| line.starts_with("to = { connection = \"erp\" }"))
        .unwrap()
        + 1;
    let config = parse(&text).unwrap_or_else(|errors| panic!("a warning must not refuse the file: {errors}"));
    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [format!(
            "conf/flows.toml:{line}:1: warning: flow \"orders-to-erp\": the orders it writes to connection \"erp\" \
             (system erp) get no warehouse from this file, so one that does not carry its own is refused by the ERP; \
             set `defaults.warehouse` on the flow, `warehouse` on connection \"erp\", `store` on the flow's `to` or \
             map `warehouse` from the source"
        )]
    );
    assert_eq!(config.warnings[0].severity, Severity::Warning);
}

#[test]
fn any_one_source_of_the_needed_field_silences_the_warning() {
    for (to, extra) in [
        ("", "defaults = { warehouse = \"CENTR\" }"),
        ("", "map = { warehouse = \"raw.sandelis\" }"),
        (", store = \"CENTR\"", ""),
        ("", "enabled = false"),
    ] {
        let config = parse(&with_order_flow(to, extra)).unwrap_or_else(|errors| panic!("{errors}"));
        assert!(config.warnings.is_empty(), "{to} {extra}: {:?}", config.warnings);
    }
    let text = with_order_flow("", "").replace("daily_budget = 10000", "daily_budget = 10000\nwarehouse = \"CENTR\"");
    let config = parse(&text).unwrap_or_else(|errors| panic!("{errors}"));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn errors_and_warnings_print_differently() {
    let at = Location { line: 3, column: 1 };
    let error = Diagnostic::new("f.toml".into(), at, "bad");
    let warning = Diagnostic::warning("f.toml".into(), at, "risky");
    assert_eq!(error.to_string(), "f.toml:3:1: bad");
    assert_eq!(warning.to_string(), "f.toml:3:1: warning: risky");
}

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
