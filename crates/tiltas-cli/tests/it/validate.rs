use crate::{examples_dir, stderr, stdout, Workspace};

#[test]
fn every_example_file_validates() {
    let workspace = Workspace::with_examples();
    let mut checked = 0;
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "toml") {
            let output = workspace.tiltas(&["validate", path.to_str().unwrap()]);
            assert!(output.status.success(), "{}: {}", path.display(), stderr(&output));
            assert!(stdout(&output).contains(": ok ("), "{}", stdout(&output));
            checked += 1;
        }
    }
    assert!(checked > 0, "no example flow files found");
}

#[test]
fn a_misspelt_key_exits_2_with_location_and_suggestion() {
    let workspace = Workspace::with_examples();
    let path = workspace.path("files.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace("match_on = \"sku\"", "match_on = \"sku\"\nshedule = \"5m\"");
    std::fs::write(&path, &text).unwrap();
    let line = text.lines().position(|line| line.starts_with("shedule")).unwrap() + 1;

    let output = workspace.tiltas(&["validate", path.to_str().unwrap()]);

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let expected = format!("{}:{line}:1:", path.display());
    assert!(
        stderr(&output).contains(&expected),
        "missing {expected} in {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("did you mean \"schedule\""),
        "{}",
        stderr(&output)
    );
}

#[test]
fn all_problems_of_a_file_are_reported_at_once() {
    let workspace = Workspace::with_examples();
    let path = workspace.path("files.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("system = \"jsonl\"", "system = \"jsnol\"")
        .replace("match_on = \"sku\"", "match_on = \"skuu\"");
    std::fs::write(&path, text).unwrap();

    let output = workspace.tiltas(&["validate", path.to_str().unwrap()]);

    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(errors.contains("did you mean \"jsonl\""), "{errors}");
    assert!(errors.contains("skuu"), "{errors}");
}

#[test]
fn a_missing_config_file_is_one_clear_line() {
    let workspace = Workspace::with_examples();
    let output = workspace.tiltas(&["validate", "nope.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(errors.contains("nope.toml"), "{errors}");
    assert!(!errors.contains("panicked"), "{errors}");
}

#[test]
fn flows_lists_every_flow_of_the_file() {
    let workspace = Workspace::with_examples();
    let output = workspace.tiltas(&["flows", "--config", "files.toml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listing = stdout(&output);
    assert!(listing.contains("products-csv-to-jsonl"), "{listing}");
    assert!(listing.contains("supplier-feed → catalog-out"), "{listing}");
}

#[test]
fn flows_shows_what_each_flow_runs_after() {
    let workspace = Workspace::with_examples();
    let output = workspace.tiltas(&["flows", "--config", "erp-shop.toml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listing = stdout(&output);
    let stock = listing
        .lines()
        .find(|line| line.starts_with("stock-centr-to-shop"))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(stock.ends_with("products-to-shop (default)"), "{listing}");
    assert!(listing.lines().next().unwrap().ends_with("AFTER"), "{listing}");
}

#[test]
fn an_empty_flow_file_exits_2_naming_the_file_and_the_fix() {
    let workspace = Workspace::with_examples();
    for (name, text) in [
        ("empty.toml", ""),
        ("connections-only.toml", "[connections.feed]\nsystem = \"jsonl\"\n"),
    ] {
        let path = workspace.path(name);
        std::fs::write(&path, text).unwrap();
        let output = workspace.tiltas(&["validate", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stdout(&output));
        let errors = stderr(&output);
        assert!(
            errors.contains(&format!("{}: the flow file", path.display())) && errors.contains("add a [[flows]] table"),
            "{errors}"
        );
    }
}

#[test]
fn a_flow_file_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let workspace = Workspace::with_examples();
    let path = workspace.path("latin.toml");
    std::fs::write(&path, b"[connections.feed]\nsystem = \"jsonl\" # \xe0\n").unwrap();
    let output = workspace.tiltas(&["validate", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(
        errors.contains(&format!(
            "{}:2:20: the flow file is not UTF-8 (byte 0xE0 here",
            path.display()
        )),
        "{errors}"
    );
}

#[test]
fn an_order_flow_into_rivile_without_a_warehouse_is_a_warning_that_exits_0() {
    let workspace = Workspace::with_examples();
    let path = workspace.path("erp-shop.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            "api_key = { env = \"RIVILE_API_KEY\" }\nwarehouse = \"CENTR\"\n",
            "api_key = { env = \"RIVILE_API_KEY\" }\n",
        )
        .replace(
            "defaults = { employee = \"999999\", warehouse = \"CENTR\" }",
            "defaults = { employee = \"999999\" }",
        );
    std::fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|line| line.starts_with("to = { connection = \"erp\", operation"))
        .unwrap()
        + 1;

    let output = workspace.tiltas(&["validate", path.to_str().unwrap()]);

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let warnings = stderr(&output);
    assert!(
        warnings.contains(&format!(
            "{}:{line}:1: warning: flow \"orders-to-erp\":",
            path.display()
        )) && warnings.contains("set `defaults.warehouse` on the flow, `warehouse` on connection \"erp\""),
        "{warnings}"
    );
    assert!(stdout(&output).contains(": ok (2 connections, "), "{}", stdout(&output));
    assert!(stdout(&output).contains(", 1 warning)"), "{}", stdout(&output));
}

#[test]
fn keys_of_which_one_must_be_set_are_checked_before_anything_runs() {
    let workspace = Workspace::with_examples();
    let path = workspace.path("one-of.toml");
    let write_and_validate = |connection: &str, from: &str| {
        let text = format!(
            "[connections.shop]\nsystem = \"magento\"\nbase_url = \"http://127.0.0.1:9\"\n{connection}\n\n\
             [connections.files]\nsystem = \"jsonl\"\n\n\
             [[flows]]\nname = \"f\"\nentity = \"product\"\nfrom = {{ connection = \"files\"{from} }}\nto = {{ connection = \"shop\" }}\n"
        );
        std::fs::write(&path, text).unwrap();
        let output = workspace.tiltas(&["validate", path.to_str().unwrap()]);
        (output.status.code(), format!("{}{}", stdout(&output), stderr(&output)))
    };
    let (code, said) = write_and_validate("token = \"t\"", ", file = \"in.jsonl\"");
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = write_and_validate("username = \"admin\"\npassword = \"p\"", ", folder = \"inbox\"");
    assert_eq!(code, Some(0), "{said}");

    let (code, said) = write_and_validate("username = \"admin\"", ", file = \"in.jsonl\", folder = \"inbox\"");
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("connection \"shop\" (system magento) needs `username` and `password` together"),
        "{said}"
    );
    assert!(
        said.contains("sets `file` and also `folder`: keep one of them"),
        "{said}"
    );
    let (_, said) = write_and_validate("", "");
    assert!(said.contains("needs `token`, or `username` and `password`"), "{said}");
    assert!(said.contains("needs `file`, or `folder`"), "{said}");
}
