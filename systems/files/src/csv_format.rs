//! CSV rows ⇄ canonical records: which header feeds which field, typed cell decoding, grouping
//! of rows that belong to one record (a configurable product's variant rows, an order's lines),
//! and rendering records back into rows.
use super::keyed::FileFormat;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tiltas_mapping::FieldPath;
use tiltas_model::fields::{coerce_text, field_type, is_known_path, FieldType};
use tiltas_model::{natural_key, EntityKind};

/// How a CSV file is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvLayout {
    /// Field delimiter.
    pub delimiter: char,
    /// Separator of list values inside one cell.
    pub list_separator: char,
    /// Canonical field path → column header.
    pub columns: BTreeMap<String, String>,
}

impl CsvLayout {
    /// A `csv` reader builder for this layout (the delimiter is one byte; non-ASCII delimiters
    /// are refused by configuration validation of `KeyKind::Char`… but checked here too).
    pub(super) fn reader_builder(&self) -> csv::ReaderBuilder {
        let mut builder = csv::ReaderBuilder::new();
        builder
            .delimiter(ascii_byte(self.delimiter))
            .flexible(true)
            .has_headers(true);
        builder
    }
}

fn ascii_byte(character: char) -> u8 {
    u8::try_from(character).ok().filter(u8::is_ascii).unwrap_or(b',')
}

/// One column of a file: its header and the field it feeds.
#[derive(Debug, Clone)]
struct Column {
    header: String,
    path: FieldPath,
    path_text: String,
    kind: FieldType,
}

/// Which column feeds which field, worked out once from the header row.
#[derive(Debug, Clone)]
pub(super) struct ColumnPlan {
    columns: Vec<Column>,
    list_separator: char,
}

/// A cell that could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CellError {
    /// The column header.
    pub header: String,
    /// The canonical field it feeds.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.header == self.field {
            write!(f, "column \"{}\": {}", self.header, self.message)
        } else {
            write!(f, "column \"{}\" ({}): {}", self.header, self.field, self.message)
        }
    }
}

impl ColumnPlan {
    /// Plans the columns of a header row. A header the layout maps feeds that field; a header
    /// that is itself a canonical path (`sku`, `attributes.color`, `raw.X`) feeds it; any other
    /// header lands in `raw.<header>`. A mapped header missing from the file is an error.
    pub fn new(layout: &CsvLayout, entity: EntityKind, headers: &csv::StringRecord) -> Result<ColumnPlan, String> {
        let by_header: BTreeMap<&str, &str> = layout
            .columns
            .iter()
            .map(|(path, header)| (header.as_str(), path.as_str()))
            .collect();
        let headers: Vec<String> = headers
            .iter()
            .enumerate()
            .map(|(index, header)| {
                let header = if index == 0 {
                    header.trim_start_matches('\u{feff}')
                } else {
                    header
                };
                header.trim().to_owned()
            })
            .collect();
        let missing: Vec<String> = layout
            .columns
            .iter()
            .filter(|(_, header)| !headers.iter().any(|present| present == *header))
            .map(|(path, header)| format!("\"{header}\" (for {path})"))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "has no column {}; its header row has: {}. Fix `columns` in the flow or the file's header",
                missing.join(", "),
                headers
                    .iter()
                    .map(|header| format!("\"{header}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let columns = headers
            .into_iter()
            .map(|header| {
                let path_text = match by_header.get(header.as_str()) {
                    Some(path) => (*path).to_owned(),
                    None if is_known_path(entity, &header) => header.clone(),
                    None => format!("raw.{header}"),
                };
                let kind = if path_text.starts_with("raw.") {
                    FieldType::Text
                } else {
                    field_type(entity, &path_text).unwrap_or(FieldType::Text)
                };
                Column {
                    path: FieldPath::parse(&path_text),
                    path_text,
                    kind,
                    header,
                }
            })
            .collect();
        Ok(ColumnPlan {
            columns,
            list_separator: layout.list_separator,
        })
    }

    /// Decodes one row into a record. Cells of list-item columns (`lines.sku`) form one item of
    /// that list. Every bad cell is reported, not only the first; the partial record returned
    /// with the errors holds bad cells as their text.
    pub fn decode(&self, entity: EntityKind, row: &csv::StringRecord) -> Result<Value, (Value, Vec<CellError>)> {
        let mut record = Value::Object(Map::new());
        let mut items: BTreeMap<String, Value> = BTreeMap::new();
        let mut errors = Vec::new();
        for (column, cell) in self.columns.iter().zip(row.iter()) {
            let value = match coerce_text(column.kind, cell, self.list_separator) {
                Ok(Value::Null) => continue,
                Ok(value) => value,
                Err(message) => {
                    errors.push(CellError {
                        header: column.header.clone(),
                        field: column.path_text.clone(),
                        message,
                    });
                    // Kept as written, so the record can be fixed in the dead-letter inbox and resent.
                    Value::String(cell.trim().to_owned())
                }
            };
            let target = match list_item_field(entity, &column.path_text) {
                Some((list, field)) => {
                    let item = items
                        .entry(list.to_owned())
                        .or_insert_with(|| Value::Object(Map::new()));
                    FieldPath::parse(field).set(item, value)
                }
                None => column.path.set(&mut record, value),
            };
            if let Err(error) = target {
                errors.push(CellError {
                    header: column.header.clone(),
                    field: column.path_text.clone(),
                    message: error.message,
                });
            }
        }
        if let Value::Object(fields) = &mut record {
            for (list, item) in items {
                fields.insert(list, Value::Array(vec![item]));
            }
        }
        if errors.is_empty() {
            Ok(record)
        } else {
            Err((record, errors))
        }
    }
}

/// For a path inside a list of objects (`lines.sku`), the list and the item's field.
fn list_item_field(entity: EntityKind, path: &str) -> Option<(&str, &str)> {
    let (list, field) = path.split_once('.')?;
    (field_type(entity, list) == Some(FieldType::ObjectList)).then_some((list, field))
}

/// The fields a configurable product's variant keeps from its own row.
const VARIANT_FIELDS: [&str; 6] = ["sku", "name", "ean", "price_net", "price_gross", "attributes"];

/// Folds consecutive rows of one record into it: a product's variant rows (rows whose
/// `parent_sku` is the product right above) and rows repeating a record's key to add list
/// items (an order's lines).
#[derive(Debug, Default)]
pub(super) struct RowGrouper {
    pending: Option<Value>,
}

impl RowGrouper {
    /// Adds a decoded row; returns the record it completed, if the row starts a new one.
    pub fn push(&mut self, entity: EntityKind, row: Value) -> Option<Value> {
        if let Some(pending) = &mut self.pending {
            if entity == EntityKind::Product && is_variant_of(&row, pending) {
                let variant: Map<String, Value> = VARIANT_FIELDS
                    .iter()
                    .filter_map(|field| row.get(*field).map(|value| ((*field).to_owned(), value.clone())))
                    .collect();
                push_items(pending, "variants", vec![Value::Object(variant)]);
                return None;
            }
            let key = natural_key(entity, &row);
            if key.is_some() && key == natural_key(entity, pending) {
                if let Value::Object(fields) = row {
                    for (field, value) in fields {
                        if let (Value::Array(items), Some(FieldType::ObjectList)) = (value, field_type(entity, &field))
                        {
                            push_items(pending, &field, items);
                        }
                    }
                }
                return None;
            }
        }
        self.pending.replace(row)
    }

    /// The last record, at the end of the input.
    pub fn finish(&mut self) -> Option<Value> {
        self.pending.take()
    }

    /// Whether a record is waiting for possible continuation rows.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }
}

fn is_variant_of(row: &Value, product: &Value) -> bool {
    let parent = row.get("parent_sku").and_then(Value::as_str);
    parent.is_some() && parent == product.get("sku").and_then(Value::as_str)
}

fn push_items(record: &mut Value, list: &str, items: Vec<Value>) {
    if let Value::Object(fields) = record {
        match fields
            .entry(list.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(existing) => existing.extend(items),
            other => *other = Value::Array(items),
        }
    }
}

/// A CSV file as the output of a flow.
pub(super) struct CsvFormat {
    layout: CsvLayout,
    entity: EntityKind,
}

impl CsvFormat {
    pub fn new(layout: CsvLayout, entity: EntityKind) -> CsvFormat {
        CsvFormat { layout, entity }
    }

    /// The rows of one record, each a list of (field path, cell text).
    fn rows(&self, record: &Value) -> Vec<Vec<(String, String)>> {
        let mut top = Vec::new();
        let mut lists: Vec<(String, Vec<Value>)> = Vec::new();
        if let Value::Object(fields) = record {
            for (field, value) in fields {
                match value {
                    Value::Array(items) if items.iter().any(Value::is_object) => {
                        lists.push((field.clone(), items.clone()));
                    }
                    _ => flatten(field, value, self.layout.list_separator, &mut top),
                }
            }
        }
        let mut rows = vec![top.clone()];
        for (list, items) in lists {
            for item in items {
                let mut row = Vec::new();
                if self.entity == EntityKind::Product && list == "variants" {
                    if let Some(sku) = record.get("sku").and_then(Value::as_str) {
                        row.push(("parent_sku".to_owned(), sku.to_owned()));
                    }
                    if let Value::Object(fields) = &item {
                        for (field, value) in fields {
                            flatten(field, value, self.layout.list_separator, &mut row);
                        }
                    }
                } else {
                    row.extend(top.iter().cloned());
                    flatten(&list, &item, self.layout.list_separator, &mut row);
                }
                rows.push(row);
            }
        }
        // A record whose list items repeat its fields has no row of its own.
        if rows.len() > 1 && self.entity != EntityKind::Product {
            rows.remove(0);
        }
        rows
    }
}

/// Flattens a value into (path, cell) pairs: objects by dotted paths, lists of text joined.
fn flatten(path: &str, value: &Value, list_separator: char, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::String(text) => out.push((path.to_owned(), text.clone())),
        Value::Bool(_) | Value::Number(_) => out.push((path.to_owned(), value.to_string())),
        Value::Array(items) => {
            let texts: Vec<String> = items
                .iter()
                .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned))
                .collect();
            out.push((path.to_owned(), texts.join(&list_separator.to_string())));
        }
        Value::Object(fields) => {
            for (field, child) in fields {
                flatten(&format!("{path}.{field}"), child, list_separator, out);
            }
        }
    }
}

impl FileFormat for CsvFormat {
    fn parse(&self, content: &str) -> Result<Vec<Value>, String> {
        let mut reader = self.layout.reader_builder().from_reader(content.as_bytes());
        let headers = reader.headers().map_err(|error| error.to_string())?.clone();
        let plan = ColumnPlan::new(&self.layout, self.entity, &headers)?;
        let mut grouper = RowGrouper::default();
        let mut records = Vec::new();
        for row in reader.records() {
            let row = row.map_err(|error| error.to_string())?;
            let line = row.position().map_or(0, csv::Position::line);
            let decoded = plan.decode(self.entity, &row).map_err(|(_, errors)| {
                let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
                format!("line {line}: {}", problems.join("; "))
            })?;
            records.extend(grouper.push(self.entity, decoded));
        }
        records.extend(grouper.finish());
        Ok(records)
    }

    fn render(&self, records: &[&Value]) -> Result<String, String> {
        let rows: Vec<Vec<(String, String)>> = records.iter().flat_map(|record| self.rows(record)).collect();
        let mut paths: Vec<String> = Vec::new();
        for row in &rows {
            for (path, _) in row {
                if !paths.contains(path) {
                    paths.push(path.clone());
                }
            }
        }
        let header = |path: &String| self.layout.columns.get(path).cloned().unwrap_or_else(|| path.clone());
        let mut writer = csv::WriterBuilder::new()
            .delimiter(ascii_byte(self.layout.delimiter))
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        writer
            .write_record(paths.iter().map(header))
            .map_err(|error| error.to_string())?;
        for row in rows {
            let cells: BTreeMap<&str, &str> = row.iter().map(|(path, cell)| (path.as_str(), cell.as_str())).collect();
            writer
                .write_record(paths.iter().map(|path| cells.get(path.as_str()).copied().unwrap_or("")))
                .map_err(|error| error.to_string())?;
        }
        let bytes = writer.into_inner().map_err(|error| error.to_string())?;
        String::from_utf8(bytes).map_err(|error| error.to_string())
    }
}
