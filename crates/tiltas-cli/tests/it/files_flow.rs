use crate::{json_line, stderr, stdout, Workspace};
use serde_json::Value;

const FLOW: &str = "products-csv-to-jsonl";

fn sync(workspace: &Workspace, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sync", "--config", "files.toml", FLOW, "--json"];
    args.extend_from_slice(extra);
    workspace.tiltas(&args)
}

fn output_records(workspace: &Workspace) -> Vec<Value> {
    std::fs::read_to_string(workspace.path("out/products.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn first_sync_creates_every_product_and_prints_one_json_line() {
    let workspace = Workspace::with_examples();
    let output = sync(&workspace, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let counters = json_line(&output);
    for key in [
        "flow",
        "read",
        "unchanged",
        "created",
        "updated",
        "skipped",
        "failed",
        "api_calls",
        "duration_ms",
    ] {
        assert!(counters.get(key).is_some(), "missing {key} in {counters}");
    }
    assert_eq!(counters["flow"], FLOW);
    assert_eq!(counters["failed"], 0, "{}", stderr(&output));
    assert!(counters["read"].as_u64().unwrap() >= 40, "{counters}");
    assert_eq!(counters["created"], counters["read"]);

    let records = output_records(&workspace);
    assert_eq!(records.len() as u64, counters["created"].as_u64().unwrap());
    let drill = records.iter().find(|record| record["sku"] == "GRZ-0001").unwrap();
    assert_eq!(drill["name"], "Grąžtas metalui HSS 6 mm");
    assert_eq!(drill["price_net"], "2.45");
    assert_eq!(drill["unit"], "pcs", "value map applied");
    assert_eq!(drill["currency"], "EUR", "default applied");
    let gloves = records.iter().find(|record| record["sku"] == "PIR-2000").unwrap();
    assert_eq!(gloves["variants"].as_array().unwrap().len(), 3, "{gloves}");
}

#[test]
fn second_sync_changes_nothing_and_does_not_rewrite_the_output() {
    let workspace = Workspace::with_examples();
    let first = sync(&workspace, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let path = workspace.path("out/products.jsonl");
    let bytes_before = std::fs::read(&path).unwrap();
    let modified_before = std::fs::metadata(&path).unwrap().modified().unwrap();

    let second = sync(&workspace, &[]);

    assert!(second.status.success(), "{}", stderr(&second));
    let counters = json_line(&second);
    assert_eq!(counters["created"], 0);
    assert_eq!(counters["updated"], 0);
    assert_eq!(counters["unchanged"], counters["read"]);
    assert_eq!(std::fs::read(&path).unwrap(), bytes_before);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified_before);
}

#[test]
fn a_changed_row_is_updated_in_place_and_the_rest_stay_unchanged() {
    let workspace = Workspace::with_examples();
    assert!(sync(&workspace, &[]).status.success());
    let csv = workspace.path("data/products.csv");
    let text = std::fs::read_to_string(&csv)
        .unwrap()
        .replace("Plaktukas 500 g", "Plaktukas 600 g");
    std::fs::write(&csv, text).unwrap();

    let output = sync(&workspace, &[]);

    let counters = json_line(&output);
    assert_eq!(counters["updated"], 1, "{counters}");
    assert_eq!(counters["created"], 0);
    assert_eq!(
        counters["unchanged"].as_u64().unwrap() + 1,
        counters["read"].as_u64().unwrap()
    );
    let records = output_records(&workspace);
    assert_eq!(records.iter().filter(|record| record["sku"] == "PLK-0100").count(), 1);
    assert!(records
        .iter()
        .any(|record| record["name"].as_str().unwrap_or("").starts_with("Plaktukas 600 g")));
}

#[test]
fn a_bad_price_is_reported_with_row_and_column_and_every_other_row_is_written() {
    let workspace = Workspace::with_examples();
    let csv = workspace.path("data/products.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let bad_line = text.lines().position(|line| line.starts_with("MAT-0301")).unwrap() + 1;
    std::fs::write(&csv, text.replace("13,90", "12,5a")).unwrap();

    let output = sync(&workspace, &[]);

    assert_eq!(
        output.status.code(),
        Some(3),
        "records failed → exit 3; {}",
        stderr(&output)
    );
    let counters = json_line(&output);
    assert_eq!(counters["failed"], 1);
    assert_eq!(
        counters["created"].as_u64().unwrap() + 1,
        counters["read"].as_u64().unwrap()
    );
    let errors = stderr(&output);
    assert!(
        errors.contains(&format!("products.csv:{bad_line}")),
        "row number missing: {errors}"
    );
    assert!(errors.contains("Kaina be PVM"), "column missing: {errors}");
    assert!(errors.contains("12,5a"), "{errors}");
    let records = output_records(&workspace);
    assert!(records.iter().all(|record| record["sku"] != "MAT-0301"));
    assert!(records.iter().any(|record| record["sku"] == "MAT-0302"));
}

#[test]
fn a_missing_input_file_is_one_clear_line_not_a_panic() {
    let workspace = Workspace::with_examples();
    std::fs::remove_file(workspace.path("data/products.csv")).unwrap();

    let output = sync(&workspace, &[]);

    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert_eq!(errors.trim().lines().count(), 1, "{errors}");
    assert!(errors.contains("products.csv"), "{errors}");
    assert!(
        !errors.contains("panicked") && !errors.contains("backtrace"),
        "{errors}"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn dry_run_reports_the_plan_and_writes_nothing_anywhere() {
    let workspace = Workspace::with_examples();
    let output = workspace.tiltas(&["sync", "--config", "files.toml", FLOW, "--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let plan = stdout(&output);
    assert!(plan.contains("would create GRZ-0001"), "{plan}");
    assert!(plan.contains("dry run, nothing written"), "{plan}");
    assert!(!workspace.path("out").exists(), "dry run created the output directory");
    assert!(!workspace.path("tiltas.db").exists(), "dry run created the store");
}

#[test]
fn full_sync_sends_everything_again() {
    let workspace = Workspace::with_examples();
    assert!(sync(&workspace, &[]).status.success());
    let counters = json_line(&sync(&workspace, &["--full"]));
    assert_eq!(counters["unchanged"], 0);
    assert_eq!(counters["updated"], counters["read"]);
}

#[test]
fn runs_lists_the_runs_with_their_counters() {
    let workspace = Workspace::with_examples();
    assert!(sync(&workspace, &[]).status.success());
    assert!(sync(&workspace, &[]).status.success());
    let output = workspace.tiltas(&["runs", "--config", "files.toml", "--flow", FLOW, "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let runs: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(runs[0]["counters"]["created"], 0, "newest first");
    assert!(runs[1]["counters"]["created"].as_u64().unwrap() > 0);
}
