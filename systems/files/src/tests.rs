use crate::registry::{catalog, open_source, open_target};
use crate::{ErrorKind, ReadRequest, RecordFailure, Source, SourceRecord, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tiltas_config::ValidatedConfig;

/// A flow file in `dir` with one flow named `f`; `from`/`to` are (system, file, extra keys).
fn flow_file(dir: &Path, entity: &str, from: (&str, &str, &str), to: (&str, &str)) -> ValidatedConfig {
    let delimiter = |system: &str| if system == "csv" { "delimiter = \";\"\n" } else { "" };
    let text = format!(
        "[connections.src]\nsystem = \"{}\"\n{}\n[connections.dst]\nsystem = \"{}\"\n{}\n[[flows]]\nname = \"f\"\n\
         entity = \"{entity}\"\nfrom = {{ connection = \"src\", file = \"{}\"{} }}\nto = {{ connection = \"dst\", file = \"{}\" }}\n",
        from.0,
        delimiter(from.0),
        to.0,
        delimiter(to.0),
        from.1,
        from.2,
        to.1
    );
    tiltas_config::parse_str(&text, &dir.join("flows.toml"), catalog()).unwrap_or_else(|errors| panic!("{errors}"))
}

fn config(dir: &Path, entity: &str, from: (&str, &str), to: (&str, &str)) -> ValidatedConfig {
    flow_file(dir, entity, (from.0, from.1, ""), to)
}

async fn read_all(source: &mut dyn Source, page_size: usize) -> (Vec<Vec<Result<SourceRecord, RecordFailure>>>, u32) {
    let mut pages = Vec::new();
    let mut request = ReadRequest {
        position: None,
        changed_since: None,
        page_size,
    };
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 1000, "the source never ends");
        let page = source.read_page(&request).await.unwrap();
        pages.push(page.records);
        match page.next {
            Some(next) => request.position = Some(next),
            None => return (pages, calls),
        }
    }
}

fn records(pages: &[Vec<Result<SourceRecord, RecordFailure>>]) -> Vec<Value> {
    pages
        .iter()
        .flatten()
        .filter_map(|entry| entry.as_ref().ok())
        .map(|record| record.data.clone())
        .collect()
}

const PRODUCTS: &str = "\u{feff}Kodas;Pavadinimas;Kaina;Kategorija;Tėvinis;Spalva;Pastaba\r\n\
A-1;Grąžtas;2,45;Įrankiai|Grąžtai;;;\r\n\
P-2;Pirštinės;2,60;Sauga;;;be latekso\r\n\
P-2-8;Pirštinės 8;2,60;;P-2;mėlyna;\r\n\
P-2-9;Pirštinės 9;2,75;;P-2;mėlyna;\r\n\
B-3;Plaktukas;1 234,50;;;;\r\n";

const PRODUCT_COLUMNS: &str = r#", columns = { sku = "Kodas", name = "Pavadinimas", price_net = "Kaina", categories = "Kategorija", parent_sku = "Tėvinis", "attributes.color" = "Spalva" }"#;

fn product_config(dir: &Path) -> ValidatedConfig {
    std::fs::write(dir.join("in.csv"), PRODUCTS).unwrap();
    flow_file(
        dir,
        "product",
        ("csv", "in.csv", PRODUCT_COLUMNS),
        ("jsonl", "out.jsonl"),
    )
}

#[tokio::test]
async fn csv_rows_become_canonical_records_with_decimal_commas_lists_and_raw_columns() {
    let dir = tempfile::tempdir().unwrap();
    let config = product_config(dir.path());
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (pages, _) = read_all(source.as_mut(), 100).await;
    let all = records(&pages);
    assert_eq!(all.len(), 3, "{all:#?}");
    assert_eq!(
        all[0],
        json!({"sku": "A-1", "name": "Grąžtas", "price_net": "2.45", "categories": ["Įrankiai", "Grąžtai"]})
    );
    assert_eq!(all[1]["raw"], json!({"Pastaba": "be latekso"}));
    assert_eq!(all[2]["price_net"], "1234.50");
}

#[tokio::test]
async fn variant_rows_fold_into_the_configurable_product_above_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = product_config(dir.path());
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (pages, _) = read_all(source.as_mut(), 100).await;
    let gloves = &records(&pages)[1];
    assert_eq!(
        gloves["variants"],
        json!([
            {"sku": "P-2-8", "name": "Pirštinės 8", "price_net": "2.60", "attributes": {"color": "mėlyna"}},
            {"sku": "P-2-9", "name": "Pirštinės 9", "price_net": "2.75", "attributes": {"color": "mėlyna"}},
        ])
    );
}

#[tokio::test]
async fn pages_never_split_a_product_from_its_variants_and_cover_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = product_config(dir.path());
    for page_size in 1..=4 {
        let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
        let (pages, _) = read_all(source.as_mut(), page_size).await;
        let skus: Vec<Value> = records(&pages).iter().map(|record| record["sku"].clone()).collect();
        assert_eq!(
            skus,
            vec![json!("A-1"), json!("P-2"), json!("B-3")],
            "page size {page_size}"
        );
        assert_eq!(
            records(&pages)[1]["variants"].as_array().map(Vec::len),
            Some(2),
            "page size {page_size}"
        );
        assert!(
            pages.iter().all(|page| page.len() <= page_size.max(1)),
            "page size {page_size}: {pages:?}"
        );
    }
}

#[tokio::test]
async fn a_bad_cell_fails_only_its_row_naming_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let config = product_config(dir.path());
    std::fs::write(dir.path().join("in.csv"), PRODUCTS.replace("1 234,50", "12,5a")).unwrap();
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (pages, _) = read_all(source.as_mut(), 100).await;
    let failures: Vec<&RecordFailure> = pages
        .iter()
        .flatten()
        .filter_map(|entry| entry.as_ref().err())
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].key, "B-3");
    assert_eq!(failures[0].location, "in.csv:6");
    assert!(
        failures[0]
            .message
            .contains("column \"Kaina\" (price_net): \"12,5a\" is not a number"),
        "{}",
        failures[0].message
    );
    assert_eq!(
        failures[0].raw["price_net"], "12,5a",
        "the bad cell is kept as text to fix and resend"
    );
    assert_eq!(failures[0].raw["sku"], "B-3");
    assert_eq!(
        failures[0].field.as_deref(),
        Some("price_net"),
        "the column's canonical field"
    );
    assert!(
        failures[0]
            .fix
            .as_deref()
            .is_some_and(|fix| fix.contains("column \"Kaina\"")),
        "{:?}",
        failures[0].fix
    );
    assert_eq!(records(&pages).len(), 2);
}

#[tokio::test]
async fn a_mapped_column_missing_from_the_file_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = product_config(dir.path());
    std::fs::write(dir.path().join("in.csv"), PRODUCTS.replace("Kaina", "Price")).unwrap();
    let error = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate))
        .err()
        .expect("missing column accepted");
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(
        error.message.contains("has no column \"Kaina\" (for price_net)"),
        "{}",
        error.message
    );
    assert!(error.message.contains("\"Price\""), "{}", error.message);
}

#[tokio::test]
async fn a_missing_input_file_names_the_path_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "product", ("csv", "nope.csv"), ("jsonl", "out.jsonl"));
    let error = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate))
        .err()
        .expect("missing file accepted");
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(error.message.contains("nope.csv cannot be opened"), "{}", error.message);
    assert!(error.message.contains("check `dir` and `file`"), "{}", error.message);
    assert_eq!(error.message.lines().count(), 1);
}

#[tokio::test]
async fn order_rows_repeating_a_number_become_one_order_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "number;status;lines.sku;lines.quantity;lines.price\n1001;processing;A-1;2;2,45\n1001;processing;B-3;1;9,90\n1002;completed;A-1;1;2,45\n";
    std::fs::write(dir.path().join("orders.csv"), csv).unwrap();
    let config = config(dir.path(), "order", ("csv", "orders.csv"), ("jsonl", "out.jsonl"));
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (pages, _) = read_all(source.as_mut(), 1).await;
    let orders = records(&pages);
    assert_eq!(orders.len(), 2);
    assert_eq!(
        orders[0],
        json!({"number": "1001", "status": "processing", "lines": [
            {"sku": "A-1", "quantity": "2", "price": "2.45"}, {"sku": "B-3", "quantity": "1", "price": "9.90"}]})
    );
}

#[tokio::test]
async fn jsonl_source_reports_a_broken_line_and_reads_the_rest_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"sku\":\"A\"}\n{\"sku\":\n\n{\"sku\":\"B\"}\n[1]\n{\"sku\":\"C\"}\n",
    )
    .unwrap();
    let config = config(dir.path(), "product", ("jsonl", "in.jsonl"), ("jsonl", "out.jsonl"));
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (pages, calls) = read_all(source.as_mut(), 2).await;
    assert!(calls >= 3);
    let failures: Vec<&RecordFailure> = pages
        .iter()
        .flatten()
        .filter_map(|entry| entry.as_ref().err())
        .collect();
    assert_eq!(
        failures
            .iter()
            .map(|failure| failure.location.as_str())
            .collect::<Vec<_>>(),
        ["in.jsonl:2", "in.jsonl:5"]
    );
    let skus: Vec<Value> = records(&pages).iter().map(|record| record["sku"].clone()).collect();
    assert_eq!(skus, [json!("A"), json!("B"), json!("C")]);
}

fn item(sku: &str, name: &str, target_id: Option<&str>) -> WriteItem {
    WriteItem {
        source_key: sku.to_owned(),
        target_id: target_id.map(str::to_owned),
        payload: json!({"sku": sku, "name": name}),
    }
}

fn written(outcomes: &[WriteOutcome]) -> Vec<String> {
    outcomes
        .iter()
        .map(|outcome| match outcome {
            WriteOutcome::Written { target_id } => target_id.clone(),
            WriteOutcome::Failed(error) => format!("failed: {}", error.message),
        })
        .collect()
}

#[tokio::test]
async fn the_target_adopts_records_already_in_the_file_and_appends_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("out.jsonl"),
        "{\"sku\":\"A\",\"name\":\"old\"}\n{\"sku\":\"Z\",\"name\":\"kept\"}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "").unwrap();
    let config = config(dir.path(), "product", ("jsonl", "in.jsonl"), ("jsonl", "out.jsonl"));
    let mut target = open_target(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let result = target
        .write_batch(vec![
            item("A", "new", None),
            item("B", "added", None),
            WriteItem {
                source_key: "row 3".into(),
                target_id: None,
                payload: json!({"name": "no sku"}),
            },
        ])
        .await
        .unwrap();
    assert_eq!(written(&result.outcomes)[..2], ["A".to_owned(), "B".to_owned()]);
    assert!(
        written(&result.outcomes)[2].contains("has no a product key (sku)")
            || written(&result.outcomes)[2].contains("sku")
    );
    target.finish().await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(
        text,
        "{\"sku\":\"A\",\"name\":\"new\"}\n{\"sku\":\"Z\",\"name\":\"kept\"}\n{\"sku\":\"B\",\"name\":\"added\"}\n"
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_a_crash_before_finish() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "").unwrap();
    let config = config(
        dir.path(),
        "product",
        ("jsonl", "in.jsonl"),
        ("jsonl", "out/products.jsonl"),
    );
    {
        let mut target = open_target(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
        target.write_batch(vec![item("A", "first", None)]).await.unwrap();
        target
            .write_batch(vec![item("A2", "renamed", Some("A")), item("B", "b", None)])
            .await
            .unwrap();
        // Dropped without finish: the process died.
    }
    assert!(!dir.path().join("out/products.jsonl").exists());
    let mut target = open_target(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    target.finish().await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("out/products.jsonl")).unwrap();
    assert_eq!(
        text,
        "{\"sku\":\"A2\",\"name\":\"renamed\"}\n{\"sku\":\"B\",\"name\":\"b\"}\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "journal or temporary file left behind: {leftovers:?}"
    );
}

#[tokio::test]
async fn a_csv_target_writes_rows_that_read_back_as_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "").unwrap();
    let config = config(dir.path(), "product", ("jsonl", "in.jsonl"), ("csv", "out.csv"));
    let products = vec![
        json!({"sku": "A-1", "name": "Grąžtas; 6 mm", "price_net": "2.45", "categories": ["Įrankiai", "Grąžtai"]}),
        json!({"sku": "P-2", "name": "Pirštinės", "variants": [
            {"sku": "P-2-8", "price_net": "2.60", "attributes": {"color": "mėlyna"}},
            {"sku": "P-2-9", "price_net": "2.75", "attributes": {"color": "juoda"}}]}),
    ];
    let mut target = open_target(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let items = products
        .iter()
        .map(|product| WriteItem {
            source_key: product["sku"].as_str().unwrap().into(),
            target_id: None,
            payload: product.clone(),
        })
        .collect();
    target.write_batch(items).await.unwrap();
    target.finish().await.unwrap();

    let back = config_reading_csv(dir.path(), "out.csv");
    let mut source = open_source(&back, &back.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let (pages, _) = read_all(source.as_mut(), 10).await;
    assert_eq!(records(&pages), products);
}

fn config_reading_csv(dir: &Path, file: &str) -> ValidatedConfig {
    flow_file(dir, "product", ("csv", file, ""), ("jsonl", "x.jsonl"))
}

/// Reads `bytes` as the products CSV and returns the error that stops the read.
async fn read_error(bytes: &[u8]) -> crate::ConnectorError {
    let dir = tempfile::tempdir().unwrap();
    let config = product_config(dir.path());
    std::fs::write(dir.path().join("in.csv"), bytes).unwrap();
    let mut source = match open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)) {
        Ok(source) => source,
        Err(error) => return error,
    };
    let mut request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 2,
    };
    loop {
        match source.read_page(&request).await {
            Ok(page) => request.position = Some(page.next.expect("the file was read without an error")),
            Err(error) => return error,
        }
    }
}

/// `text` with every U+0001 replaced by the raw byte `byte` (a character of another encoding).
fn with_byte(text: &str, byte: u8) -> Vec<u8> {
    text.bytes().map(|b| if b == 1 { byte } else { b }).collect()
}

#[tokio::test]
async fn a_csv_that_is_not_utf8_names_the_physical_line_of_the_bad_byte_with_lf_and_crlf() {
    // "mėlyna" of line 5 with its "ė" in Windows-1257 (0xEB).
    let line_5 = PRODUCTS.lines().nth(4).unwrap();
    assert!(line_5.starts_with("P-2-9"), "{line_5}");
    let windows = PRODUCTS.replace(line_5, &line_5.replace('ė', "\u{1}"));
    for ending in ["\n", "\r\n"] {
        let error = read_error(&with_byte(&windows.replace("\r\n", ending), 0xEB)).await;
        assert_eq!(error.kind, ErrorKind::Fatal);
        assert!(
            error
                .message
                .contains("in.csv:5: the file is not UTF-8 (byte 0xEB on this line"),
            "{ending:?}: {}",
            error.message
        );
        assert!(
            error.message.ends_with("save it as UTF-8, e.g. Excel's \"CSV UTF-8\""),
            "{}",
            error.message
        );
    }
}

#[tokio::test]
async fn a_bad_byte_in_the_header_is_line_1_and_after_a_quoted_line_break_is_its_physical_line() {
    let error = read_error(&with_byte(&PRODUCTS.replace("Kodas", "K\u{1}das"), 0xF8)).await;
    assert!(
        error.message.contains("in.csv:1: the file is not UTF-8 (byte 0xF8"),
        "{}",
        error.message
    );
    // A quoted line break in line 3's note moves "Plaktukas" from line 6 to line 7.
    let text = PRODUCTS
        .replace("be latekso", "\"be\r\nlatekso\"")
        .replace("Plaktukas", "Plaktuk\u{1}s");
    let error = read_error(&with_byte(&text, 0xE0)).await;
    assert!(
        error.message.contains("in.csv:7: the file is not UTF-8 (byte 0xE0"),
        "{}",
        error.message
    );
}

/// A flow reading the drop folder `dir/inbox` of a `system` connection whose `dir` is `drops`.
/// A flow from a `system` drop folder `dir/drops` (its `from` extended by `from_extra`).
fn folder_flow(system: &str, entity: &str, from_extra: &str) -> String {
    let delimiter = if system == "csv" { "delimiter = \";\"\n" } else { "" };
    format!(
        "[connections.src]\nsystem = \"{system}\"\ndir = \"drops\"\n{delimiter}\n[connections.dst]\nsystem = \"jsonl\"\n\n\
         [[flows]]\nname = \"f\"\nentity = \"{entity}\"\nfrom = {{ connection = \"src\"{from_extra} }}\n\
         to = {{ connection = \"dst\", file = \"out.jsonl\" }}\n"
    )
}

fn folder_config(dir: &Path, system: &str, entity: &str, from_extra: &str) -> ValidatedConfig {
    std::fs::create_dir_all(dir.join("drops/inbox")).unwrap();
    let text = folder_flow(system, entity, from_extra);
    tiltas_config::parse_str(&text, &dir.join("flows.toml"), catalog()).unwrap_or_else(|errors| panic!("{errors}"))
}

/// Drops a file into `dir/drops/inbox`, last modified `minutes` minutes into 2017 (long
/// enough ago to be finished; files with more minutes are newer).
fn drop_into_inbox(dir: &Path, name: &str, bytes: &[u8], minutes: u64) -> std::path::PathBuf {
    let path = dir.join("drops/inbox").join(name);
    std::fs::write(&path, bytes).unwrap();
    let when = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_500_000_000 + 60 * minutes);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    path
}

/// Reads every page as the engine does, settling each before the next.
async fn read_settling(source: &mut dyn Source, page_size: usize) -> Vec<Vec<Result<SourceRecord, RecordFailure>>> {
    let mut pages = Vec::new();
    let mut request = ReadRequest {
        position: None,
        changed_since: None,
        page_size,
    };
    loop {
        assert!(pages.len() < 1000, "the source never ends");
        let page = source.read_page(&request).await.unwrap();
        source.settled(page.next.as_deref()).await.unwrap();
        pages.push(page.records);
        match page.next {
            Some(next) => request.position = Some(next),
            None => return pages,
        }
    }
}

fn folder_names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_csv_folder_reads_each_dropped_file_with_the_csv_reader_and_moves_it_to_done() {
    let dir = tempfile::tempdir().unwrap();
    let config = folder_config(
        dir.path(),
        "csv",
        "product",
        &format!(", folder = \"inbox\"{PRODUCT_COLUMNS}"),
    );
    drop_into_inbox(dir.path(), "monday.csv", PRODUCTS.as_bytes(), 1);
    let tuesday =
        "Kodas;Pavadinimas;Kaina;Kategorija;Tėvinis;Spalva;Pastaba\r\nC-4;Replės;7,10;;;;\r\nD-5;Kaltas;abc;;;;\r\n";
    drop_into_inbox(dir.path(), "tuesday.csv", tuesday.as_bytes(), 2);
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let pages = read_settling(source.as_mut(), 2).await;

    let skus: Vec<Value> = records(&pages).iter().map(|record| record["sku"].clone()).collect();
    assert_eq!(skus, [json!("A-1"), json!("P-2"), json!("B-3"), json!("C-4")]);
    assert_eq!(records(&pages)[1]["variants"].as_array().map(Vec::len), Some(2));
    let failures: Vec<&RecordFailure> = pages
        .iter()
        .flatten()
        .filter_map(|entry| entry.as_ref().err())
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].location, "tuesday.csv:3");
    assert_eq!(folder_names(&dir.path().join("drops/inbox")), ["done"]);
    let done = folder_names(&dir.path().join("drops/inbox/done"));
    assert_eq!(done.len(), 2, "{done:?}");
    for name in ["_monday.csv", "_tuesday.csv"] {
        assert!(done.iter().any(|done| done.ends_with(name)), "{name} not in {done:?}");
    }
}

#[tokio::test]
async fn a_dropped_csv_in_another_encoding_goes_to_failed_before_any_row_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = folder_config(
        dir.path(),
        "csv",
        "product",
        &format!(", folder = \"inbox\"{PRODUCT_COLUMNS}"),
    );
    let line_5 = PRODUCTS.lines().nth(4).unwrap();
    let windows = PRODUCTS.replace(line_5, &line_5.replace('ė', "\u{1}"));
    drop_into_inbox(dir.path(), "prices.csv", &with_byte(&windows, 0xEB), 1);
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let pages = read_settling(source.as_mut(), 100).await;

    assert!(
        records(&pages).is_empty(),
        "rows of a file in another encoding were read"
    );
    let failures: Vec<&RecordFailure> = pages
        .iter()
        .flatten()
        .filter_map(|entry| entry.as_ref().err())
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].location, "prices.csv:5");
    assert!(
        failures[0]
            .message
            .starts_with("prices.csv was not imported: the file is not UTF-8 (byte 0xEB on this line"),
        "{}",
        failures[0].message
    );
    assert_eq!(
        failures[0].fix.as_deref(),
        Some("save it as UTF-8, e.g. Excel's \"CSV UTF-8\", then put the file back in the folder")
    );
    let failed = folder_names(&dir.path().join("drops/inbox/failed"));
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].ends_with("_prices.csv"));
}

#[tokio::test]
async fn a_dropped_csv_without_a_mapped_column_goes_to_failed_naming_line_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = folder_config(
        dir.path(),
        "csv",
        "product",
        &format!(", folder = \"inbox\"{PRODUCT_COLUMNS}"),
    );
    drop_into_inbox(
        dir.path(),
        "prices.csv",
        PRODUCTS.replace("Kaina", "Price").as_bytes(),
        1,
    );
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let pages = read_settling(source.as_mut(), 100).await;
    let failures: Vec<&RecordFailure> = pages
        .iter()
        .flatten()
        .filter_map(|entry| entry.as_ref().err())
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].location, "prices.csv:1");
    assert!(
        failures[0].message.contains("has no column \"Kaina\" (for price_net)"),
        "{}",
        failures[0].message
    );
    assert_eq!(folder_names(&dir.path().join("drops/inbox/failed")).len(), 1);
}

#[tokio::test]
async fn a_jsonl_folder_names_bad_lines_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = folder_config(dir.path(), "jsonl", "product", ", folder = \"inbox\"");
    drop_into_inbox(dir.path(), "a.jsonl", b"{\"sku\":\"A\"}\n", 1);
    drop_into_inbox(
        dir.path(),
        "b.jsonl",
        b"{\"sku\":\"B\"}\n{\"sku\":\n{\"sku\":\"C\"}\n",
        2,
    );
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let pages = read_settling(source.as_mut(), 10).await;
    let skus: Vec<Value> = records(&pages).iter().map(|record| record["sku"].clone()).collect();
    assert_eq!(skus, [json!("A"), json!("B"), json!("C")]);
    let failures: Vec<&RecordFailure> = pages
        .iter()
        .flatten()
        .filter_map(|entry| entry.as_ref().err())
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].location, "b.jsonl:2");
    assert_eq!(folder_names(&dir.path().join("drops/inbox/done")).len(), 2);
}

#[tokio::test]
async fn a_source_reads_exactly_one_of_file_and_folder() {
    // Refused by validation (`one_of`), with the flow's location, before anything is opened.
    let dir = tempfile::tempdir().unwrap();
    for (system, from_extra, says) in [
        (
            "csv",
            ", file = \"in.csv\", folder = \"inbox\"",
            "sets `file` and also `folder`: keep one of them",
        ),
        ("jsonl", "", "needs `file`, or `folder`"),
    ] {
        let text = folder_flow(system, "product", from_extra);
        let refused = tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), catalog())
            .expect_err("validated without exactly one of file and folder")
            .to_string();
        assert!(refused.contains(says) && refused.contains("flows.toml:"), "{refused}");
    }
}

#[tokio::test]
async fn a_missing_drop_folder_names_the_folder_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = folder_config(dir.path(), "jsonl", "product", ", folder = \"inbox\"");
    std::fs::remove_dir(dir.path().join("drops/inbox")).unwrap();
    let error = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate))
        .err()
        .expect("a missing folder was opened");
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(
        error
            .message
            .contains(&dir.path().join("drops/inbox").display().to_string()),
        "{}",
        error.message
    );
    assert!(error.message.contains("create it"), "{}", error.message);
}

#[tokio::test]
async fn a_jsonl_file_that_is_not_utf8_names_the_line_of_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.jsonl"),
        b"{\"sku\":\"A\"}\n{\"sku\":\"K\xEBdas\"}\n",
    )
    .unwrap();
    let config = config(dir.path(), "product", ("jsonl", "in.jsonl"), ("jsonl", "out.jsonl"));
    let mut source = open_source(&config, &config.flows[0], Arc::new(crate::OpenGate)).unwrap();
    let request = ReadRequest {
        position: None,
        changed_since: None,
        page_size: 10,
    };
    let error = source.read_page(&request).await.expect_err("not UTF-8 was read");
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(
        error
            .message
            .contains("in.jsonl:2: the file is not UTF-8 (byte 0xEB on this line"),
        "{}",
        error.message
    );
    assert_eq!(error.fix.as_deref(), Some("save it as UTF-8"));
}
