//! Flows that run after others, and the order pipeline's keys.
use super::*;

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
