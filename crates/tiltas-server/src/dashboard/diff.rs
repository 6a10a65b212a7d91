//! Side-by-side comparison of a record as read and as sent: both payloads are flattened to
//! `path → value` rows (`lines[0].sku → "A00101"`), then each path is marked the same,
//! changed, only in the source (not sent) or only sent (added by the mapping).
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;

/// How a path differs between the two payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Both have it with the same value.
    Same,
    /// Both have it with different values.
    Changed,
    /// Only the source has it.
    OnlyInSource,
    /// Only the sent payload has it.
    OnlySent,
}

impl Change {
    /// The word shown in the row (the colour repeats it, never replaces it).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Change::Same => "same",
            Change::Changed => "changed",
            Change::OnlyInSource => "only in source",
            Change::OnlySent => "only sent",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Change::Same => "diff-same",
            Change::Changed => "diff-changed",
            Change::OnlyInSource => "diff-removed",
            Change::OnlySent => "diff-added",
        }
    }
}

/// One path of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiffRow {
    /// `billing.email`, `lines[0].sku`, `["odd key"]`.
    pub path: String,
    /// The value as read, as JSON text.
    pub source: Option<String>,
    /// The value as sent, as JSON text.
    pub sent: Option<String>,
    /// How they differ.
    pub change: Change,
}

/// The rows of both payloads: the source's paths in its order, then the paths only sent.
pub(crate) fn side_by_side(source: Option<&Value>, sent: Option<&Value>) -> Vec<DiffRow> {
    let mut source_leaves = Vec::new();
    if let Some(source) = source {
        flatten(source, String::new(), &mut source_leaves);
    }
    let mut sent_leaves = Vec::new();
    if let Some(sent) = sent {
        flatten(sent, String::new(), &mut sent_leaves);
    }
    let sent_by_path: HashMap<&str, &str> = sent_leaves
        .iter()
        .map(|(path, value)| (path.as_str(), value.as_str()))
        .collect();
    let source_by_path: HashMap<&str, &str> = source_leaves
        .iter()
        .map(|(path, value)| (path.as_str(), value.as_str()))
        .collect();
    let mut rows: Vec<DiffRow> = source_leaves
        .iter()
        .map(|(path, value)| {
            let sent = sent_by_path.get(path.as_str()).map(|sent| (*sent).to_owned());
            let change = match &sent {
                None => Change::OnlyInSource,
                Some(sent) if sent == value => Change::Same,
                Some(_) => Change::Changed,
            };
            DiffRow {
                path: path.clone(),
                source: Some(value.clone()),
                sent,
                change,
            }
        })
        .collect();
    rows.extend(
        sent_leaves
            .iter()
            .filter(|(path, _)| !source_by_path.contains_key(path.as_str()))
            .map(|(path, value)| DiffRow {
                path: path.clone(),
                source: None,
                sent: Some(value.clone()),
                change: Change::OnlySent,
            }),
    );
    rows
}

/// Appends `path → JSON text` for every scalar (and every empty object or array) in `value`.
fn flatten(value: &Value, path: String, leaves: &mut Vec<(String, String)>) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (name, field) in fields {
                flatten(field, join_field(&path, name), leaves);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                flatten(item, format!("{path}[{index}]"), leaves);
            }
        }
        scalar => {
            let shown_path = if path.is_empty() {
                "(whole value)".to_owned()
            } else {
                path
            };
            leaves.push((shown_path, scalar.to_string()));
        }
    }
}

/// `parent.name`, or `parent["odd name"]` when the name is not a plain identifier.
fn join_field(parent: &str, name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match (plain, parent.is_empty()) {
        (true, true) => name.to_owned(),
        (true, false) => format!("{parent}.{name}"),
        (false, _) => format!("{parent}[{}]", Value::String(name.to_owned())),
    }
}

/// The comparison as a table with a "show only differences" switch (CSS only).
pub(crate) fn render(rows: &[DiffRow]) -> Markup {
    let differences = rows.iter().filter(|row| row.change != Change::Same).count();
    html! {
        p {
            (differences) " of " (rows.len()) " field(s) differ. "
            input #only-differences type="checkbox";
            " " label for="only-differences" { "Show only differences" }
        }
        table.diff {
            caption.muted { "Each field of the record as read from the source and as sent to the target" }
            thead {
                tr {
                    th scope="col" { "Field" }
                    th scope="col" { "Difference" }
                    th scope="col" { "Source (as read)" }
                    th scope="col" { "Sent (to the target)" }
                }
            }
            tbody {
                @for row in rows {
                    tr class=(row.change.class()) {
                        th scope="row" { code { (row.path) } }
                        td.mark { (row.change.label()) }
                        td.mono { @if let Some(value) = &row.source { (value) } @else { span.muted { "—" } } }
                        td.mono { @if let Some(value) = &row.sent { (value) } @else { span.muted { "—" } } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_added_and_missing_fields_are_marked_by_path() {
        let source = json!({"sku": "A1", "price": "4.10", "lines": [{"sku": "X"}], "note": "x"});
        let sent = json!({"sku": "A1", "price": 4.1, "lines": [{"sku": "A00101"}], "odd key": {}});
        let rows = side_by_side(Some(&source), Some(&sent));
        let change_of = |path: &str| rows.iter().find(|row| row.path == path).map(|row| row.change);
        assert_eq!(change_of("sku"), Some(Change::Same));
        assert_eq!(change_of("price"), Some(Change::Changed));
        assert_eq!(change_of("lines[0].sku"), Some(Change::Changed));
        assert_eq!(change_of("note"), Some(Change::OnlyInSource));
        assert_eq!(change_of("[\"odd key\"]"), Some(Change::OnlySent));
        let price = rows.iter().find(|row| row.path == "price").unwrap();
        assert_eq!(
            (price.source.as_deref(), price.sent.as_deref()),
            (Some("\"4.10\""), Some("4.1"))
        );
    }

    #[test]
    fn a_missing_side_makes_every_row_one_sided() {
        let rows = side_by_side(Some(&json!({"a": 1, "b": [1, 2]})), None);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|row| row.change == Change::OnlyInSource));
    }
}
