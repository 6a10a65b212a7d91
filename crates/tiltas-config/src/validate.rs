//! From the located TOML tree to a [`ValidatedConfig`], collecting every problem on the way.
use crate::diagnostic::{suggest, Diagnostic, Diagnostics, Location, Locator};
use crate::secret::Secret;
use crate::spec::{Catalog, KeyKind, KeySpec, KeyTable, SystemSpec};
use crate::tree::{self, Entry, Kind, Node};
use crate::types::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tiltas_model::fields::{field_paths, is_known_path};
use tiltas_model::EntityKind;

mod budget;
mod dependencies;
mod mapping;
mod quote;
mod server;
mod settings;

/// The default `look_back` of incremental reads.
const DEFAULT_LOOK_BACK: Duration = Duration::from_secs(120);

const TOP_KEYS: [&str; 6] = ["store", "budget_groups", "connections", "flows", "quote", "server"];
const CONNECTION_KEYS: [&str; 7] = [
    "system",
    "rate_limit",
    "daily_budget",
    "budget_group",
    "enabled",
    "max_inbox_backlog",
    "hooks_rate_limit",
];
const FLOW_KEYS: [&str; 26] = [
    "name",
    "entity",
    "from",
    "to",
    "schedule",
    "trigger",
    "match_on",
    "on_duplicate",
    "create_only",
    "skip_without_code",
    "map",
    "values",
    "filter",
    "defaults",
    "look_back",
    "page_size",
    "batch_size",
    "enabled",
    "redact",
    "retention",
    "description",
    "notes",
    "customer_match",
    "default_customer",
    "create_missing_products",
    "after",
];

/// Flow keys that only order flows accept (the order pipeline).
const ORDER_KEYS: [&str; 3] = ["customer_match", "default_customer", "create_missing_products"];

/// Reads, parses and validates a flow file.
pub fn load(path: &Path, catalog: &dyn Catalog) -> Result<ValidatedConfig, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|error| {
        let fix = match error.kind() {
            std::io::ErrorKind::NotFound => ": check the path (it is relative to the working directory)",
            _ => "",
        };
        Diagnostics(vec![Diagnostic::new(
            path.to_path_buf(),
            Location::default(),
            format!("cannot read the flow file: {error}{fix}"),
        )])
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        let bad = bytes.get(valid).copied().unwrap_or_default();
        // The prefix up to the first bad byte is valid UTF-8 by definition.
        let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let at = Locator::new(prefix).locate(valid);
        Diagnostics(vec![Diagnostic::new(
            path.to_path_buf(),
            at,
            format!(
                "the flow file is not UTF-8 (byte 0x{bad:02X} here; perhaps saved as Windows-1257 or Latin-1): save it as UTF-8"
            ),
        )])
    })?;
    parse_str(&text, path, catalog)
}

/// Parses and validates the text of a flow file named `file`.
pub fn parse_str(text: &str, file: &Path, catalog: &dyn Catalog) -> Result<ValidatedConfig, Diagnostics> {
    let locator = Locator::new(text);
    let document = toml_edit::ImDocument::parse(text.to_owned()).map_err(|error| {
        let at = error
            .span()
            .map_or(Location { line: 1, column: 1 }, |span| locator.locate(span.start));
        let message = error.message().trim().to_owned();
        Diagnostics(vec![Diagnostic::new(
            file.to_path_buf(),
            at,
            format!("this is not valid TOML: {message}"),
        )])
    })?;
    let root = tree::document(document.as_table(), &locator);
    let base_dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut checker = Checker {
        file: file.to_path_buf(),
        base_dir,
        catalog,
        problems: Vec::new(),
        warnings: Vec::new(),
        written_after: Vec::new(),
    };
    let mut config = checker.config(&root);
    if checker.problems.is_empty() {
        checker.warnings.sort_by_key(|warning| (warning.line, warning.column));
        config.warnings = checker.warnings;
        Ok(config)
    } else {
        checker.problems.sort_by_key(|problem| (problem.line, problem.column));
        Err(Diagnostics(checker.problems))
    }
}

struct Checker<'a> {
    file: PathBuf,
    base_dir: PathBuf,
    catalog: &'a dyn Catalog,
    problems: Vec<Diagnostic>,
    /// What does not refuse the file but will likely fail at run time.
    warnings: Vec<Diagnostic>,
    /// Each written `after`, checked once every flow is known.
    written_after: Vec<WrittenAfter>,
}

/// A flow's `after = [...]` as written: names with their locations.
struct WrittenAfter {
    /// The flow's location (unique, unlike a name that may be defined twice).
    flow_at: Location,
    /// Where the `after` key is.
    key_at: Location,
    names: Vec<(String, Location)>,
}

/// `"a", "b", "c"` for messages.
fn quoted_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|item| format!("\"{item}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Checker<'_> {
    fn problem(&mut self, at: Location, message: impl Into<String>) {
        self.problems.push(Diagnostic::new(self.file.clone(), at, message));
    }

    fn unknown_key(&mut self, entry: &Entry, place: &str, known: &[&str]) {
        let message = match suggest(&entry.key, known.iter().copied()) {
            Some(close) => format!("unknown key \"{}\" in {place}: did you mean \"{close}\"?", entry.key),
            None => format!(
                "unknown key \"{}\" in {place}; accepted keys: {}",
                entry.key,
                quoted_list(known.iter().copied())
            ),
        };
        self.problem(entry.key_at, message);
    }

    fn wrong_type(&mut self, entry: &Entry, place: &str, expected: &str) {
        let found = entry.node.type_name();
        self.problem(
            entry.node.at,
            format!("{place}: `{}` must be {expected}, found {found}", entry.key),
        );
    }

    fn string(&mut self, entry: &Entry, place: &str) -> Option<String> {
        match entry.node.as_str() {
            Some(text) => Some(text.to_owned()),
            None => {
                self.wrong_type(entry, place, "text in quotes");
                None
            }
        }
    }

    fn boolean(&mut self, entry: &Entry, place: &str) -> Option<bool> {
        match entry.node.kind {
            Kind::Bool(flag) => Some(flag),
            _ => {
                self.wrong_type(entry, place, "true or false");
                None
            }
        }
    }

    fn positive(&mut self, entry: &Entry, place: &str) -> Option<u64> {
        match entry.node.kind {
            Kind::Int(number) if number >= 1 => u64::try_from(number).ok(),
            _ => {
                let found = match &entry.node.kind {
                    Kind::Int(number) => number.to_string(),
                    Kind::Str(text) => format!("\"{text}\""),
                    _ => entry.node.type_name().to_owned(),
                };
                self.problem(
                    entry.node.at,
                    format!("{place}: `{}` must be a whole number ≥ 1, found {found}", entry.key),
                );
                None
            }
        }
    }

    fn duration(&mut self, entry: &Entry, place: &str) -> Option<Duration> {
        let text = self.string(entry, place)?;
        match parse_duration(&text) {
            Ok(duration) => Some(duration),
            Err(message) => {
                self.problem(entry.node.at, format!("{place}: `{}`: {message}", entry.key));
                None
            }
        }
    }

    fn string_list(&mut self, entry: &Entry, place: &str) -> Option<Vec<(String, Location)>> {
        match &entry.node.kind {
            Kind::Array(items) => {
                let mut texts = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(text) => texts.push((text.to_owned(), item.at)),
                        None => self.problem(
                            item.at,
                            format!(
                                "{place}: `{}` must be a list of texts, found {}",
                                entry.key,
                                item.type_name()
                            ),
                        ),
                    }
                }
                Some(texts)
            }
            _ => {
                self.wrong_type(entry, place, "a list of texts, e.g. [\"a\", \"b\"]");
                None
            }
        }
    }

    fn config(&mut self, root: &Node) -> ValidatedConfig {
        let mut store_url = None;
        let mut connection_node = None;
        let mut group_node = None;
        let mut flow_nodes: Vec<&Node> = Vec::new();
        let mut quote = None;
        let mut server = ServerSettings::default();
        for entry in root.as_table().unwrap_or_default() {
            match entry.key.as_str() {
                "store" => store_url = self.string(entry, "the file"),
                "budget_groups" => match entry.node.as_table() {
                    Some(_) => group_node = Some(&entry.node),
                    None => self.wrong_type(entry, "the file", "tables [budget_groups.NAME]"),
                },
                "connections" => match entry.node.as_table() {
                    Some(_) => connection_node = Some(&entry.node),
                    None => self.wrong_type(entry, "the file", "tables [connections.NAME]"),
                },
                "flows" => match &entry.node.kind {
                    Kind::Array(items) => flow_nodes.extend(items.iter()),
                    _ => self.wrong_type(entry, "the file", "a list of [[flows]] tables"),
                },
                "quote" => quote = self.quote(entry),
                "server" => server = self.server(entry),
                _ => self.unknown_key(entry, "the file", &TOP_KEYS),
            }
        }
        let budget_groups = self.budget_groups(group_node);
        let group_names: Vec<String> = budget_groups.iter().map(|group| group.name.clone()).collect();
        let mut connections = Vec::new();
        // Names of every connection written, valid or not, so a flow is not blamed for them.
        let mut written: Vec<String> = Vec::new();
        for entry in connection_node.and_then(Node::as_table).unwrap_or_default() {
            written.push(entry.key.clone());
            if let Some(connection) = self.connection(entry, &group_names) {
                connections.push(connection);
            }
        }
        // A file for quoting parts (`[quote]` and supplier connections) needs no flow.
        let quoting = root
            .as_table()
            .unwrap_or_default()
            .iter()
            .any(|entry| entry.key == "quote");
        if flow_nodes.is_empty() && !quoting {
            let what = if root.as_table().unwrap_or_default().is_empty() {
                "the flow file is empty"
            } else {
                "the flow file defines no flow"
            };
            self.problem(
                Location::default(),
                format!(
                    "{what}: add a [[flows]] table with `name`, `entity`, `from` and `to` (see examples/erp-shop.toml), or pass the flow file you meant with --config"
                ),
            );
        }
        // Names of every flow written, valid or not, so an `after` is not blamed for them.
        let written_flows: Vec<String> = flow_nodes
            .iter()
            .filter_map(|node| node.as_table()?.iter().find(|entry| entry.key == "name")?.node.as_str())
            .map(str::to_owned)
            .collect();
        let mut flows: Vec<Flow> = Vec::new();
        for node in flow_nodes {
            if let Some(flow) = self.flow(node, &connections, &written) {
                if let Some(first) = flows.iter().find(|other| other.name == flow.name) {
                    let message = format!(
                        "flow \"{}\" is defined twice (first at line {}): give each flow its own name",
                        flow.name, first.location.line
                    );
                    self.problem(flow.location, message);
                } else {
                    flows.push(flow);
                }
            }
        }
        self.dependencies(&mut flows, &written_flows);
        self.needs(&flows, &connections);
        ValidatedConfig {
            file: self.file.clone(),
            base_dir: self.base_dir.clone(),
            store_url,
            connections,
            budget_groups,
            flows,
            quote,
            server,
            warnings: Vec::new(),
        }
    }

    /// Warns about each flow that supplies no value for a field its target system needs
    /// ([`crate::FieldNeed`]): no default, no map entry, no `to` key and no connection key.
    fn needs(&mut self, flows: &[Flow], connections: &[Connection]) {
        for flow in flows.iter().filter(|flow| flow.enabled) {
            let Some(connection) = connections
                .iter()
                .find(|connection| connection.name == flow.to.connection)
            else {
                continue;
            };
            let system = connection.system;
            for need in system.needs.iter().filter(|need| need.entity == flow.entity) {
                let field = need.field;
                let supplied = flow.defaults.contains_key(field)
                    || flow.map.iter().any(|entry| entry.target == field)
                    || need.target_key.is_some_and(|key| flow.to.settings.get(key).is_some())
                    || need
                        .connection_key
                        .is_some_and(|key| connection.settings.get(key).is_some());
                if supplied {
                    continue;
                }
                let mut fixes = vec![format!("`defaults.{field}` on the flow")];
                if let Some(key) = need.connection_key {
                    fixes.push(format!("`{key}` on connection \"{}\"", connection.name));
                }
                if let Some(key) = need.target_key {
                    fixes.push(format!("`{key}` on the flow's `to`"));
                }
                fixes.push(format!("map `{field}` from the source"));
                let last = fixes.pop().unwrap_or_default();
                let message = format!(
                    "flow \"{}\": the {}s it writes to connection \"{}\" (system {}) get no {field} from this file, \
                     so one that does not carry its own {}; set {} or {last}",
                    flow.name,
                    flow.entity,
                    connection.name,
                    system.name,
                    need.why,
                    fixes.join(", "),
                );
                self.warnings
                    .push(Diagnostic::warning(self.file.clone(), flow.to.location, message));
            }
        }
    }

    fn connection(&mut self, entry: &Entry, groups: &[String]) -> Option<Connection> {
        let name = entry.key.clone();
        let place = format!("connection \"{name}\"");
        let mut valid = true;
        if !is_name(&name) {
            self.problem(
                entry.key_at,
                format!(
                    "{place}: a connection name is lower-case letters, digits, '-' and '_' (e.g. \"erp\", \"shop-lt\")"
                ),
            );
            valid = false;
        }
        let Some(entries) = entry.node.as_table() else {
            self.wrong_type(entry, "the file", "a table [connections.NAME]");
            return None;
        };
        let system = match entries.iter().find(|entry| entry.key == "system") {
            None => {
                let known = self.catalog.system_names();
                self.problem(
                    entry.node.at,
                    format!("{place} needs `system = \"…\"`; known systems: {}", known.join(", ")),
                );
                None
            }
            Some(system_entry) => {
                let system_name = self.string(system_entry, &place)?;
                match self.catalog.system(&system_name) {
                    Some(system) => Some(system),
                    None => {
                        let known = self.catalog.system_names();
                        let hint = suggest(&system_name, known.iter().copied())
                            .map_or_else(|| ";".to_owned(), |close| format!(": did you mean \"{close}\"?"));
                        self.problem(
                            system_entry.node.at,
                            format!(
                                "{place}: unknown system \"{system_name}\"{hint} known systems: {}",
                                known.join(", ")
                            ),
                        );
                        None
                    }
                }
            }
        };
        let mut rate_limit = None;
        let mut hooks_rate_limit = None;
        let mut daily_budget = None;
        let mut budget_group = None;
        let mut max_inbox_backlog = None;
        let mut enabled = true;
        let mut settings = Settings::default();
        let mut known_keys: Vec<&str> = CONNECTION_KEYS.to_vec();
        if let Some(system) = system {
            known_keys.extend(system.connection_keys.iter().map(|spec| spec.name));
        }
        for item in entries {
            match item.key.as_str() {
                "system" => {}
                "rate_limit" => {
                    if let Some(text) = self.string(item, &place) {
                        match parse_rate_limit(&text) {
                            Ok(rate) => rate_limit = Some(rate),
                            Err(message) => self.problem(item.node.at, format!("{place}: {message}")),
                        }
                    }
                }
                "hooks_rate_limit" => {
                    if let Some(text) = self.string(item, &place) {
                        match parse_rate_limit(&text) {
                            Ok(rate) => hooks_rate_limit = Some(rate),
                            Err(message) => self.problem(item.node.at, format!("{place}: hooks_{message}")),
                        }
                    }
                }
                "daily_budget" => daily_budget = self.positive(item, &place),
                "budget_group" => budget_group = self.budget_group_of(item, &place, groups),
                "enabled" => enabled = self.boolean(item, &place).unwrap_or(true),
                "max_inbox_backlog" => max_inbox_backlog = self.positive(item, &place),
                key => match system {
                    // Without a known system its keys cannot be checked; the system is reported.
                    None => {}
                    Some(system) => match system.connection_keys.iter().find(|spec| spec.name == key) {
                        Some(spec) => {
                            if let Some(value) = self.setting(spec, item, &place) {
                                settings.insert(key, value, item.key_at);
                            }
                        }
                        None => self.unknown_key(item, &place, &known_keys),
                    },
                },
            }
        }
        let system = system?;
        let place = format!("{place} (system {})", system.name);
        self.required(system.connection_keys, &settings, entry.node.at, &place);
        self.one_of(system, KeyTable::Connection, &settings, entry.node.at, &place);
        valid.then_some(Connection {
            name,
            system,
            settings,
            rate_limit,
            hooks_rate_limit,
            daily_budget,
            budget_group,
            max_inbox_backlog,
            enabled,
            location: entry.key_at,
        })
    }

    /// Each of the system's `one_of` groups for `table`: exactly one choice set.
    fn one_of(&mut self, system: &SystemSpec, table: KeyTable, settings: &Settings, at: Location, place: &str) {
        for group in system.one_of.iter().filter(|group| group.table == table) {
            if let Err(why) = group.check(|key| settings.get(key).is_some()) {
                self.problem(at, format!("{place} {why}"));
            }
        }
    }

    fn required(&mut self, specs: &[KeySpec], settings: &Settings, at: Location, place: &str) {
        for spec in specs.iter().filter(|spec| spec.required) {
            if settings.get(spec.name).is_none() {
                self.problem(at, format!("{place} needs `{}`: {}", spec.name, spec.doc));
            }
        }
    }

    /// A table's entries with nested tables flattened into dotted keys (`attributes.color`).
    fn flat_table<'n>(&mut self, entry: &'n Entry, place: &str) -> Option<Vec<(String, &'n Node)>> {
        fn walk<'n>(prefix: &str, entries: &'n [Entry], out: &mut Vec<(String, &'n Node)>) {
            for entry in entries {
                let key = if prefix.is_empty() {
                    entry.key.clone()
                } else {
                    format!("{prefix}.{}", entry.key)
                };
                match entry.node.as_table() {
                    Some(children) => walk(&key, children, out),
                    None => out.push((key, &entry.node)),
                }
            }
        }
        let Some(entries) = entry.node.as_table() else {
            self.wrong_type(entry, place, "a table { key = value, … }");
            return None;
        };
        let mut out = Vec::new();
        walk("", entries, &mut out);
        Some(out)
    }

    fn endpoint(
        &mut self,
        entry: &Entry,
        place: &str,
        entity: Option<EntityKind>,
        connections: &[Connection],
        written: &[String],
    ) -> Option<Endpoint> {
        let side = entry.key.as_str();
        let Some(entries) = entry.node.as_table() else {
            self.wrong_type(entry, place, "a table { connection = \"NAME\", … }");
            return None;
        };
        let Some(connection_entry) = entries.iter().find(|item| item.key == "connection") else {
            self.problem(
                entry.node.at,
                format!("{place}: `{side}` needs `connection = \"NAME\"`"),
            );
            return None;
        };
        let name = self.string(connection_entry, place)?;
        let connection = connections.iter().find(|connection| connection.name == name);
        if connection.is_none() && !written.contains(&name) {
            let hint = suggest(&name, written.iter().map(String::as_str))
                .map(|close| format!(": did you mean \"{close}\"?"))
                .unwrap_or_default();
            let defined = if written.is_empty() {
                "none is defined; add a [connections.NAME] table".to_owned()
            } else {
                format!(
                    "defined connections: {}",
                    quoted_list(written.iter().map(String::as_str))
                )
            };
            self.problem(
                connection_entry.node.at,
                format!("{place}: connection \"{name}\" does not exist{hint} {defined}"),
            );
        }
        let mut settings = Settings::default();
        let Some(connection) = connection else {
            return Some(Endpoint {
                connection: name,
                settings,
                location: entry.key_at,
            });
        };
        let system: &SystemSpec = connection.system;
        let reading = side == "from";
        let specs = if reading {
            system.source_keys
        } else {
            system.target_keys
        };
        let mut known: Vec<&str> = vec!["connection"];
        known.extend(specs.iter().map(|spec| spec.name));
        let endpoint_place = format!("{place}, `{side}`");
        for item in entries.iter().filter(|item| item.key != "connection") {
            match specs.iter().find(|spec| spec.name == item.key) {
                Some(spec) => {
                    if let Some(value) = self.setting(spec, item, &endpoint_place) {
                        settings.insert(&item.key, value, item.key_at);
                    }
                }
                None => self.unknown_key(item, &format!("{endpoint_place} (system {})", system.name), &known),
            }
        }
        let system_place = format!("{endpoint_place} (system {})", system.name);
        self.required(specs, &settings, entry.node.at, &system_place);
        let table = if reading { KeyTable::Source } else { KeyTable::Target };
        self.one_of(system, table, &settings, entry.node.at, &system_place);
        if let Some(entity) = entity {
            let can = system
                .access(entity)
                .is_some_and(|access| if reading { access.read } else { access.write });
            if !can {
                let verb = if reading { "read" } else { "write" };
                let able: Vec<&str> = system
                    .entities
                    .iter()
                    .filter(|access| if reading { access.read } else { access.write })
                    .map(|access| access.entity.as_str())
                    .collect();
                let able = if able.is_empty() {
                    "nothing".to_owned()
                } else {
                    able.join(", ")
                };
                self.problem(
                    connection_entry.node.at,
                    format!(
                        "{place}: connection \"{name}\" (system {}) cannot {verb} {entity}; it {verb}s: {able}",
                        system.name
                    ),
                );
            }
        }
        Some(Endpoint {
            connection: name,
            settings,
            location: entry.key_at,
        })
    }

    fn flow(&mut self, node: &Node, connections: &[Connection], written: &[String]) -> Option<Flow> {
        let Some(entries) = node.as_table() else {
            self.problem(node.at, "each [[flows]] entry must be a table");
            return None;
        };
        let find = |key: &str| entries.iter().find(|entry| entry.key == key);
        let name = match find("name") {
            Some(entry) => {
                let name = self.string(entry, "a flow")?;
                if !is_name(&name) {
                    self.problem(
                        entry.node.at,
                        format!("flow \"{name}\": a flow name is lower-case letters, digits, '-' and '_' (e.g. \"products-to-shop\")"),
                    );
                }
                name
            }
            None => {
                self.problem(node.at, "a flow needs `name = \"…\"`");
                String::from("(unnamed)")
            }
        };
        let place = format!("flow \"{name}\"");
        let entity = match find("entity") {
            None => {
                self.problem(node.at, format!("{place} needs `entity = \"…\"`, e.g. \"product\""));
                None
            }
            Some(entry) => {
                let text = self.string(entry, &place)?;
                let entity = EntityKind::parse(&text);
                if entity.is_none() {
                    let names = EntityKind::ALL.map(EntityKind::as_str);
                    let hint = suggest(&text, names)
                        .map(|close| format!("did you mean \"{close}\"? "))
                        .unwrap_or_default();
                    self.problem(
                        entry.node.at,
                        format!(
                            "{place}: unknown entity \"{text}\"; {hint}entities: {}",
                            names.join(", ")
                        ),
                    );
                }
                entity
            }
        };
        let mut from = None;
        let mut to = None;
        let mut flow = Flow {
            name: name.clone(),
            entity: entity.unwrap_or(EntityKind::Product),
            from: Endpoint {
                connection: String::new(),
                settings: Settings::default(),
                location: node.at,
            },
            to: Endpoint {
                connection: String::new(),
                settings: Settings::default(),
                location: node.at,
            },
            schedule: None,
            trigger: Trigger::Manual,
            match_on: None,
            on_duplicate: DuplicatePolicy::Update,
            create_only: Vec::new(),
            skip_without_code: false,
            map: Vec::new(),
            values: BTreeMap::new(),
            filter: None,
            defaults: BTreeMap::new(),
            look_back: DEFAULT_LOOK_BACK,
            page_size: None,
            batch_size: None,
            enabled: true,
            after: Vec::new(),
            after_implied: true,
            redact: Vec::new(),
            retention: None,
            orders: OrderRules::default(),
            location: node.at,
        };
        let mut trigger = None;
        for entry in entries {
            let key = entry.key.as_str();
            match key {
                "name" | "entity" => {}
                "description" | "notes" => {
                    self.string(entry, &place);
                }
                "from" => from = self.endpoint(entry, &place, entity, connections, written),
                "to" => to = self.endpoint(entry, &place, entity, connections, written),
                "schedule" => {
                    if let Some(text) = self.string(entry, &place) {
                        match parse_schedule(&text) {
                            Ok(schedule) => flow.schedule = Some(schedule),
                            Err(message) => self.problem(entry.node.at, format!("{place}: {message}")),
                        }
                    }
                }
                "trigger" => {
                    if let Some(text) = self.string(entry, &place) {
                        trigger = match text.as_str() {
                            "manual" => Some(Trigger::Manual),
                            "schedule" => Some(Trigger::Schedule),
                            "webhook" => Some(Trigger::Webhook),
                            _ => {
                                self.problem(
                                    entry.node.at,
                                    format!("{place}: `trigger` must be \"manual\", \"schedule\" or \"webhook\", found \"{text}\""),
                                );
                                None
                            }
                        };
                    }
                }
                "on_duplicate" => {
                    if let Some(text) = self.string(entry, &place) {
                        flow.on_duplicate = match text.as_str() {
                            "update" => DuplicatePolicy::Update,
                            "skip" => DuplicatePolicy::Skip,
                            "error" => DuplicatePolicy::Error,
                            _ => {
                                self.problem(
                                    entry.node.at,
                                    format!("{place}: `on_duplicate` must be \"update\", \"skip\" or \"error\", found \"{text}\""),
                                );
                                DuplicatePolicy::Update
                            }
                        };
                    }
                }
                "match_on" => {
                    if let Some(text) = self.string(entry, &place) {
                        if entity.is_none_or(|entity| self.field_path(&text, entry.node.at, &place, entity, false)) {
                            flow.match_on = Some(text);
                        }
                    }
                }
                "create_only" | "redact" => {
                    let bare = key == "redact";
                    let mut paths = Vec::new();
                    for (path, at) in self.string_list(entry, &place).unwrap_or_default() {
                        if entity.is_none_or(|entity| self.field_path(&path, at, &place, entity, bare)) {
                            paths.push(path);
                        }
                    }
                    if bare {
                        flow.redact = paths;
                    } else {
                        flow.create_only = paths;
                    }
                }
                "skip_without_code" => flow.skip_without_code = self.boolean(entry, &place).unwrap_or(false),
                key if ORDER_KEYS.contains(&key) && entity.is_some_and(|entity| entity != EntityKind::Order) => {
                    self.problem(
                        entry.node.at,
                        format!("{place}: `{key}` belongs to the order pipeline and works only in flows with entity = \"order\"; remove it"),
                    );
                }
                "customer_match" => {
                    if let Some(text) = self.string(entry, &place) {
                        if self.field_path(&text, entry.node.at, &place, EntityKind::Customer, false) {
                            flow.orders.customer_match = text;
                        }
                    }
                }
                "default_customer" => flow.orders.default_customer = self.string(entry, &place),
                "create_missing_products" => {
                    flow.orders.create_missing_products = self.boolean(entry, &place).unwrap_or(false)
                }
                "enabled" => flow.enabled = self.boolean(entry, &place).unwrap_or(true),
                "after" => {
                    flow.after_implied = false;
                    let names = self.string_list(entry, &place).unwrap_or_default();
                    self.written_after.push(WrittenAfter {
                        flow_at: node.at,
                        key_at: entry.key_at,
                        names,
                    });
                }
                "look_back" => flow.look_back = self.duration(entry, &place).unwrap_or(DEFAULT_LOOK_BACK),
                "retention" => flow.retention = self.duration(entry, &place),
                "page_size" => flow.page_size = self.positive(entry, &place).and_then(|n| usize::try_from(n).ok()),
                "batch_size" => flow.batch_size = self.positive(entry, &place).and_then(|n| usize::try_from(n).ok()),
                "filter" => {
                    if let Some(text) = self.string(entry, &place) {
                        match mapping::expression(&text) {
                            Some(inner) => flow.filter = Some(Expression { text: inner, location: entry.node.at }),
                            None => self.problem(
                                entry.node.at,
                                format!("{place}: `filter` must be an expression \"${{ … }}\", e.g. \"${{ price_net > 0 }}\""),
                            ),
                        }
                    }
                }
                "map" => flow.map = self.map(entry, &place, entity),
                "values" => flow.values = self.values(entry, &place, entity),
                "defaults" => flow.defaults = self.defaults(entry, &place, entity),
                _ => self.unknown_key(entry, &place, &FLOW_KEYS),
            }
        }
        flow.trigger = match (trigger, &flow.schedule) {
            (Some(Trigger::Schedule), None) => {
                self.problem(
                    node.at,
                    format!("{place}: trigger = \"schedule\" needs a `schedule`, e.g. \"every 15m\""),
                );
                Trigger::Schedule
            }
            (Some(trigger), _) => trigger,
            (None, Some(_)) => Trigger::Schedule,
            (None, None) => Trigger::Manual,
        };
        for (side, endpoint) in [("from", &from), ("to", &to)] {
            if endpoint.is_none() && find(side).is_none() {
                self.problem(
                    node.at,
                    format!("{place} needs `{side} = {{ connection = \"NAME\", … }}`"),
                );
            }
        }
        flow.from = from?;
        flow.to = to?;
        entity?;
        Some(flow)
    }
}
