use crate::{json_line, stderr, stdout, Workspace};
use serde_json::Value;

const FLOW: &str = "products-csv-to-jsonl";

fn open_letters(workspace: &Workspace) -> Vec<Value> {
    let output = workspace.tiltas(&["dead-letters", "list", "--config", "files.toml", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn a_bad_row_is_fixed_in_the_inbox_retried_and_resolved() {
    let workspace = Workspace::with_examples();
    let csv = workspace.path("data/products.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.replace("13,90", "12,5a")).unwrap();
    let first = workspace.tiltas(&["sync", "--config", "files.toml", FLOW, "--json"]);
    assert_eq!(first.status.code(), Some(3), "{}", stderr(&first));

    let letters = open_letters(&workspace);
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["source_key"], "MAT-0301");
    assert_eq!(letter["class"], "invalid");
    assert_eq!(
        letter["payload"]["price_net"], "12,5a",
        "the bad value is kept to be fixed"
    );
    let id = letter["id"].as_i64().unwrap().to_string();

    let shown = workspace.tiltas(&["dead-letters", "show", "--config", "files.toml", &id]);
    assert!(stdout(&shown).contains("Kaina be PVM"), "{}", stdout(&shown));

    let mut fixed = letter["payload"].clone();
    fixed["price_net"] = "13.90".into();
    std::fs::write(workspace.path("fixed.json"), fixed.to_string()).unwrap();
    let retry = workspace.tiltas(&[
        "dead-letters",
        "retry",
        "--config",
        "files.toml",
        &id,
        "--payload",
        "fixed.json",
        "--json",
    ]);
    assert!(retry.status.success(), "{}", stderr(&retry));
    let counters = json_line(&retry);
    assert_eq!(
        (counters["created"].as_u64(), counters["failed"].as_u64()),
        (Some(1), Some(0)),
        "{counters}"
    );

    assert!(open_letters(&workspace).is_empty(), "the letter is resolved");
    let out = std::fs::read_to_string(workspace.path("out/products.jsonl")).unwrap();
    let product = out
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|r| r["sku"] == "MAT-0301")
        .unwrap();
    assert_eq!(product["price_net"], "13.90");
    assert_eq!(product["unit"], "pcs", "the current mapping ran on the retried record");
}

#[test]
fn replay_resends_open_letters_through_the_current_mapping_and_keeps_failures_open() {
    let workspace = Workspace::with_examples();
    let csv = workspace.path("data/products.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.replace("13,90", "12,5a")).unwrap();
    assert_eq!(
        workspace
            .tiltas(&["sync", "--config", "files.toml", FLOW])
            .status
            .code(),
        Some(3)
    );

    let replay = workspace.tiltas(&[
        "dead-letters",
        "replay",
        "--config",
        "files.toml",
        "--flow",
        FLOW,
        "--json",
    ]);

    assert_eq!(replay.status.code(), Some(3), "still invalid: {}", stderr(&replay));
    let letters = open_letters(&workspace);
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["attempts"], 2);
    assert!(stderr(&replay).contains("price_net"), "{}", stderr(&replay));
}

#[test]
fn an_unknown_dead_letter_is_one_clear_line() {
    let workspace = Workspace::with_examples();
    assert!(workspace
        .tiltas(&["sync", "--config", "files.toml", FLOW])
        .status
        .success());
    let output = workspace.tiltas(&["dead-letters", "retry", "--config", "files.toml", "999"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("no dead letter 999"), "{}", stderr(&output));
    assert_eq!(stderr(&output).trim().lines().count(), 1, "{}", stderr(&output));
}
