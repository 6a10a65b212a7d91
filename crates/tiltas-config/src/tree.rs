//! The TOML document as a small tree whose every key and value knows its location. Built from
//! `toml_edit`'s span-keeping parser, so validation can point at the exact key.
use crate::diagnostic::{Location, Locator};
use toml_edit::{Item, Table, Value};

/// A value with its location.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub at: Location,
}

/// What a value is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

/// A key of a table, located, with its value.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub key_at: Location,
    pub node: Node,
}

impl Node {
    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Str(_) => "text",
            Kind::Int(_) => "a whole number",
            Kind::Float(_) => "a decimal number",
            Kind::Bool(_) => "true/false",
            Kind::Datetime(_) => "a date",
            Kind::Array(_) => "a list",
            Kind::Table(_) => "a table",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Table(entries) => Some(entries),
            _ => None,
        }
    }
}

/// Builds the tree of a parsed document.
pub(crate) fn document(root: &Table, locator: &Locator) -> Node {
    table(root, Location { line: 1, column: 1 }, locator)
}

fn located(span: Option<std::ops::Range<usize>>, fallback: Location, locator: &Locator) -> Location {
    span.map_or(fallback, |span| locator.locate(span.start))
}

fn table(table: &Table, fallback: Location, locator: &Locator) -> Node {
    let at = located(table.span(), fallback, locator);
    let entries = table
        .iter()
        .filter_map(|(key, value)| {
            let key_at = located(table.key(key).and_then(|key| key.span()), at, locator);
            item(value, key_at, locator).map(|node| Entry {
                key: key.to_owned(),
                key_at,
                node,
            })
        })
        .collect();
    Node {
        kind: Kind::Table(entries),
        at,
    }
}

fn item(item: &Item, fallback: Location, locator: &Locator) -> Option<Node> {
    match item {
        Item::None => None,
        Item::Value(value_) => Some(value(value_, fallback, locator)),
        Item::Table(table_) => Some(table(table_, fallback, locator)),
        Item::ArrayOfTables(array) => {
            let at = located(array.span(), fallback, locator);
            Some(Node {
                kind: Kind::Array(array.iter().map(|entry| table(entry, at, locator)).collect()),
                at,
            })
        }
    }
}

fn value(value_: &Value, fallback: Location, locator: &Locator) -> Node {
    let at = located(value_.span(), fallback, locator);
    let kind = match value_ {
        Value::String(text) => Kind::Str(text.value().clone()),
        Value::Integer(number) => Kind::Int(*number.value()),
        Value::Float(number) => Kind::Float(*number.value()),
        Value::Boolean(flag) => Kind::Bool(*flag.value()),
        Value::Datetime(at) => Kind::Datetime(at.value().to_string()),
        Value::Array(items) => Kind::Array(items.iter().map(|item| value(item, at, locator)).collect()),
        Value::InlineTable(inline) => Kind::Table(
            inline
                .iter()
                .map(|(key, child)| {
                    let key_at = located(inline.key(key).and_then(|key| key.span()), at, locator);
                    Entry {
                        key: key.to_owned(),
                        key_at,
                        node: value(child, key_at, locator),
                    }
                })
                .collect(),
        ),
    };
    Node { kind, at }
}
