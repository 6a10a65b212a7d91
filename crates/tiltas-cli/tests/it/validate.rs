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
