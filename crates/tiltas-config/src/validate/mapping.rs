//! A flow's `map`, `values` and `defaults`, and JSON values written in TOML.
use super::*;

impl Checker<'_> {
    /// Checks a field path of the flow's entity; `bare_names` also accepts a last segment
    /// (`email` for every `*.email`).
    pub(super) fn field_path(
        &mut self,
        path: &str,
        at: Location,
        place: &str,
        entity: EntityKind,
        bare_names: bool,
    ) -> bool {
        if is_known_path(entity, path) {
            return true;
        }
        let paths = field_paths(entity);
        if bare_names && paths.iter().any(|known| known.rsplit('.').next() == Some(path)) {
            return true;
        }
        let hint = suggest(path, paths.iter().map(String::as_str))
            .map(|close| format!("did you mean \"{close}\"? "))
            .unwrap_or_default();
        self.problem(
            at,
            format!(
                "{place}: {entity} has no field \"{path}\"; {hint}fields: {} (or raw.NAME for a system's own field)",
                paths
                    .iter()
                    .filter(|known| !known.contains('.'))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        false
    }

    pub(super) fn map(&mut self, entry: &Entry, place: &str, entity: Option<EntityKind>) -> Vec<MapEntry> {
        let mut entries = Vec::new();
        for (target, node) in self.flat_table(entry, place).unwrap_or_default() {
            let Some(text) = node.as_str() else {
                self.problem(
                    node.at,
                    format!(
                        "{place}: map `{target}` must be a source field path or \"${{ expression }}\", found {}",
                        node.type_name()
                    ),
                );
                continue;
            };
            let target_ok = entity.is_none_or(|entity| self.field_path(&target, node.at, place, entity, false));
            let source = match expression(text) {
                Some(inner) => MapSource::Expression(Expression {
                    text: inner,
                    location: node.at,
                }),
                None => {
                    if !entity.is_none_or(|entity| self.field_path(text, node.at, place, entity, false)) {
                        continue;
                    }
                    MapSource::Path(text.to_owned())
                }
            };
            if target_ok {
                entries.push(MapEntry {
                    target,
                    source,
                    location: node.at,
                });
            }
        }
        entries
    }

    pub(super) fn values(
        &mut self,
        entry: &Entry,
        place: &str,
        entity: Option<EntityKind>,
    ) -> BTreeMap<String, BTreeMap<String, String>> {
        // A code table is a table whose values are all scalars; tables above it name the field.
        fn walk<'n>(prefix: &str, entries: &'n [Entry], out: &mut Vec<(String, Location, &'n [Entry])>) {
            for entry in entries {
                let key = if prefix.is_empty() {
                    entry.key.clone()
                } else {
                    format!("{prefix}.{}", entry.key)
                };
                if let Some(children) = entry.node.as_table() {
                    if children.iter().all(|child| child.node.as_table().is_none()) {
                        out.push((key, entry.key_at, children));
                    } else {
                        walk(&key, children, out);
                    }
                }
            }
        }
        let Some(entries) = entry.node.as_table() else {
            self.wrong_type(entry, place, "a table: values.FIELD = { CODE = CODE, … }");
            return BTreeMap::new();
        };
        let mut tables = Vec::new();
        walk("", entries, &mut tables);
        let mut values = BTreeMap::new();
        for (field, at, codes) in tables {
            if !entity.is_none_or(|entity| self.field_path(&field, at, place, entity, false)) {
                continue;
            }
            let mut table = BTreeMap::new();
            for code in codes {
                let text = match &code.node.kind {
                    Kind::Str(text) => text.clone(),
                    Kind::Int(number) => number.to_string(),
                    Kind::Bool(flag) => flag.to_string(),
                    _ => {
                        self.problem(
                            code.node.at,
                            format!(
                                "{place}: values.{field}.{} must be text, found {}",
                                code.key,
                                code.node.type_name()
                            ),
                        );
                        continue;
                    }
                };
                table.insert(code.key.clone(), text);
            }
            values.insert(field, table);
        }
        values
    }

    pub(super) fn defaults(
        &mut self,
        entry: &Entry,
        place: &str,
        entity: Option<EntityKind>,
    ) -> BTreeMap<String, serde_json::Value> {
        let mut defaults = BTreeMap::new();
        for (field, node) in self.flat_table(entry, place).unwrap_or_default() {
            if !entity.is_none_or(|entity| self.field_path(&field, node.at, place, entity, false)) {
                continue;
            }
            match self.json(node, place, &field) {
                Some(value) => {
                    defaults.insert(field, value);
                }
                None => continue,
            }
        }
        defaults
    }

    /// A TOML value as JSON; floats are refused so money never becomes binary.
    pub(super) fn json(&mut self, node: &Node, place: &str, field: &str) -> Option<serde_json::Value> {
        Some(match &node.kind {
            Kind::Str(text) => serde_json::Value::String(text.clone()),
            Kind::Int(number) => serde_json::Value::from(*number),
            Kind::Bool(flag) => serde_json::Value::Bool(*flag),
            Kind::Datetime(text) => serde_json::Value::String(text.clone()),
            Kind::Float(number) => {
                self.problem(
                    node.at,
                    format!("{place}: default `{field}` = {number}: write decimals as text, e.g. \"{number}\", so they stay exact"),
                );
                return None;
            }
            Kind::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|item| self.json(item, place, field))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Kind::Table(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|entry| {
                        self.json(&entry.node, place, field)
                            .map(|value| (entry.key.clone(), value))
                    })
                    .collect::<Option<serde_json::Map<_, _>>>()?,
            ),
        })
    }
}

/// The inside of `${ … }`, trimmed, when the text is an expression.
pub(super) fn expression(text: &str) -> Option<String> {
    let inner = text.trim().strip_prefix("${")?.strip_suffix('}')?.trim();
    (!inner.is_empty()).then(|| inner.to_owned())
}
