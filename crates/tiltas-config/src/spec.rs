//! How a connector declares the keys and entities its system accepts.
use crate::types::SettingValue;
use tiltas_model::fields::MoneyKind;
use tiltas_model::EntityKind;

/// The type of a configuration key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Any string.
    String,
    /// A secret: a string or `{ env = "VAR" }`; never printed.
    Secret,
    /// A non-negative integer.
    Integer,
    /// `true` or `false`.
    Bool,
    /// A file system path, resolved relative to the configuration file's directory.
    Path,
    /// Exactly one character (e.g. a CSV delimiter).
    Char,
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
    /// An array of strings.
    StringList,
    /// A table of string to string (e.g. column names).
    StringMap,
    /// A duration such as `"90s"`, `"15m"`, `"2h"`, `"30d"`.
    Duration,
    /// A URL (http or https).
    Url,
}

/// One key a system accepts, in its connection table or in a flow's `from`/`to` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// The key's name.
    pub name: &'static str,
    /// Its value type.
    pub kind: KeyKind,
    /// Whether it must be present.
    pub required: bool,
    /// The value used when the key is absent, as written in a flow file without quotes
    /// (`"60s"`, `"1"`, `"false"`, `"a, b"` for a list): the one place a default is written —
    /// typed settings ([`crate::Settings::typed`]) and the generated docs read it from here.
    pub default: Option<&'static str>,
    /// One line for people (used in errors and generated docs).
    pub doc: &'static str,
}

impl KeySpec {
    /// A key, for a system's spec in a `static`: `KeySpec::new("timeout", KeyKind::Duration, false, Some("30s"), "…")`.
    pub const fn new(
        name: &'static str,
        kind: KeyKind,
        required: bool,
        default: Option<&'static str>,
        doc: &'static str,
    ) -> KeySpec {
        KeySpec {
            name,
            kind,
            required,
            default,
            doc,
        }
    }
}

/// What a system can do with one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityAccess {
    /// The entity.
    pub entity: EntityKind,
    /// It can be read (a flow's `from`).
    pub read: bool,
    /// It can be written (a flow's `to`).
    pub write: bool,
    /// Reads can start from a change time, so incremental syncs are possible.
    pub incremental: bool,
}

impl EntityAccess {
    /// What a system does with `entity`, for a system's spec in a `static`.
    pub const fn new(entity: EntityKind, read: bool, write: bool, incremental: bool) -> EntityAccess {
        EntityAccess {
            entity,
            read,
            write,
            incremental,
        }
    }
}

/// A canonical field a system needs in the records it writes, and the settings that supply it
/// when a record lacks it. `tiltas validate` warns about a flow into the system where none of
/// the flow's `defaults.FIELD`, a `map` entry for FIELD, `target_key` on the flow's `to` or
/// `connection_key` on the connection is set (the records may still carry it, so it is a
/// warning, not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldNeed {
    /// The entity written.
    pub entity: EntityKind,
    /// The canonical field, e.g. `warehouse`.
    pub field: &'static str,
    /// A key of a flow's `to = { … }` that supplies the field, if the system has one.
    pub target_key: Option<&'static str>,
    /// A key of the connection that supplies the field, if the system has one.
    pub connection_key: Option<&'static str>,
    /// For people: what the system does with a record that lacks it.
    pub why: &'static str,
}

/// Which table a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTable {
    /// `[connections.NAME]`.
    Connection,
    /// A flow's `from = { … }`.
    Source,
    /// A flow's `to = { … }`.
    Target,
}

/// Alternative ways to set one thing, exactly one of which a table must use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneOf {
    /// The table the keys are in.
    pub table: KeyTable,
    /// The choices: each one key, or several that go together joined by `+`
    /// (`"username+password"`).
    pub choices: &'static [&'static str],
}

impl OneOf {
    /// The choice `present` keys make, if exactly one is fully set and no key of another is;
    /// otherwise why not, for a message after "needs" or "sets".
    pub fn check(&self, present: impl Fn(&str) -> bool) -> Result<(), String> {
        let keys = |choice: &'static str| choice.split('+');
        let full: Vec<&str> = self
            .choices
            .iter()
            .copied()
            .filter(|choice| keys(choice).all(&present))
            .collect();
        let touched: Vec<&str> = self
            .choices
            .iter()
            .copied()
            .filter(|choice| keys(choice).any(&present))
            .collect();
        let spelled = |choice: &str| {
            choice
                .split('+')
                .map(|key| format!("`{key}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        match (full.as_slice(), touched.as_slice()) {
            ([_], [_]) => Ok(()),
            (_, [partial]) => Err(format!("needs {} together", spelled(partial))),
            (_, []) => Err(format!(
                "needs {}",
                self.choices
                    .iter()
                    .map(|choice| spelled(choice))
                    .collect::<Vec<_>>()
                    .join(", or ")
            )),
            (_, several) => Err(format!(
                "sets {}: keep one of them",
                several
                    .iter()
                    .map(|choice| spelled(choice))
                    .collect::<Vec<_>>()
                    .join(" and also ")
            )),
        }
    }
}

/// Everything a connector declares about its system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemSpec {
    /// The value of `system = "…"`.
    pub name: &'static str,
    /// One line for people.
    pub description: &'static str,
    /// Keys of `[connections.NAME]` besides the common ones (`system`, `rate_limit`,
    /// `daily_budget`, `enabled`).
    pub connection_keys: &'static [KeySpec],
    /// Keys of a flow's `from = { … }` besides `connection`.
    pub source_keys: &'static [KeySpec],
    /// Keys of a flow's `to = { … }` besides `connection`.
    pub target_keys: &'static [KeySpec],
    /// The entities it reads and writes.
    pub entities: &'static [EntityAccess],
    /// An accounting system: orders written to it go through the order pipeline (buyer found
    /// or created, every line's product checked).
    pub accounting: bool,
    /// Keys of which exactly one choice must be set (`token`, or `username` and `password`):
    /// `tiltas validate` refuses a table with none or more than one.
    pub one_of: &'static [OneOf],
    /// Fields the records it writes need (checked by `tiltas validate` as warnings).
    pub needs: &'static [FieldNeed],
    /// The decimals the system keeps of money written to it: the engine rounds the payload's
    /// money fields to them (half away from zero) before hashing, sending and logging, so the
    /// activity log shows what the system stores. `None` sends amounts as mapped.
    pub money_places: Option<MoneyPlaces>,
}

/// How many decimals a system keeps of each kind of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyPlaces {
    /// Decimals of a unit price (a product's price, an order line's price per unit).
    pub unit_price: u32,
    /// Decimals of a sum (line totals, taxes, discounts, order totals, payments).
    pub sum: u32,
}

impl MoneyPlaces {
    /// The same decimals for every amount (a shop that stores cents: 2).
    pub const fn all(places: u32) -> MoneyPlaces {
        MoneyPlaces {
            unit_price: places,
            sum: places,
        }
    }

    /// The decimals kept of an amount of `kind`.
    pub fn places(&self, kind: MoneyKind) -> u32 {
        match kind {
            MoneyKind::UnitPrice => self.unit_price,
            MoneyKind::Sum => self.sum,
        }
    }
}

impl SystemSpec {
    /// What the system can do with `entity`, if anything.
    pub fn access(&self, entity: EntityKind) -> Option<EntityAccess> {
        self.entities.iter().copied().find(|access| access.entity == entity)
    }
}

/// Looks up systems by name; implemented by the connector registry.
pub trait Catalog {
    /// The spec of a system.
    fn system(&self, name: &str) -> Option<&'static SystemSpec>;
    /// Every known system name (for "did you mean" suggestions).
    fn system_names(&self) -> Vec<&'static str>;
}

impl KeySpec {
    /// The default as a value of the key's kind, when the key has one; an error names the key
    /// when the spec's default is not of its kind (a test runs this for every system).
    pub fn default_value(&self) -> Result<Option<SettingValue>, String> {
        let Some(text) = self.default else {
            return Ok(None);
        };
        let wrong = |why: &str| format!("the default {text:?} of `{}` is not {why}", self.name);
        let value = match self.kind {
            KeyKind::String => SettingValue::String(text.to_owned()),
            KeyKind::Url => SettingValue::Url(text.to_owned()),
            KeyKind::OneOf(values) if values.contains(&text) => SettingValue::String(text.to_owned()),
            KeyKind::OneOf(_) => return Err(wrong("one of the allowed values")),
            KeyKind::Integer => SettingValue::Integer(text.parse().map_err(|_| wrong("an integer"))?),
            KeyKind::Bool => SettingValue::Bool(text.parse().map_err(|_| wrong("`true` or `false`"))?),
            KeyKind::Path => SettingValue::Path(text.into()),
            KeyKind::Char => {
                let mut characters = text.chars();
                match (characters.next(), characters.next()) {
                    (Some(character), None) => SettingValue::Char(character),
                    _ => return Err(wrong("one character")),
                }
            }
            KeyKind::StringList => SettingValue::StringList(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            KeyKind::Duration => SettingValue::Duration(crate::parse_duration(text).map_err(|why| wrong(&why))?),
            KeyKind::Secret | KeyKind::StringMap => return Err(wrong("allowed: secrets and tables have no default")),
        };
        Ok(Some(value))
    }
}

impl KeyKind {
    /// The value type as the docs show it.
    fn shown(self) -> String {
        match self {
            KeyKind::String => "text".to_owned(),
            KeyKind::Secret => {
                "secret (text, `{ env = \"VAR\" }`, `{ file = \"PATH\" }` or `{ store = true }`)".to_owned()
            }
            KeyKind::Integer => "integer".to_owned(),
            KeyKind::Bool => "`true` / `false`".to_owned(),
            KeyKind::Path => "path".to_owned(),
            KeyKind::Char => "one character".to_owned(),
            KeyKind::OneOf(values) => values
                .iter()
                .map(|value| format!("`{value}`"))
                .collect::<Vec<_>>()
                .join(" / "),
            KeyKind::StringList => "list of text".to_owned(),
            KeyKind::StringMap => "table of text".to_owned(),
            KeyKind::Duration => "duration (`90s`, `15m`)".to_owned(),
            KeyKind::Url => "URL".to_owned(),
        }
    }
}

impl SystemSpec {
    /// The start and end markers of the generated settings section of this system.
    fn settings_markers(&self) -> (String, String) {
        (
            format!(
                "<!-- settings of `{}`: generated from its spec by `tiltas docs`; do not edit -->",
                self.name
            ),
            format!("<!-- end of the settings of `{}` -->", self.name),
        )
    }

    /// The system's settings and entities as Markdown tables, between markers: the section of
    /// its README that is generated from the spec, so the docs never drift from what
    /// validation accepts.
    pub fn settings_markdown(&self) -> String {
        let (start, end) = self.settings_markers();
        let mut out = String::new();
        out.push_str(&start);
        out.push('\n');
        let mut table = |title: &str, keys: &[KeySpec]| {
            if keys.is_empty() {
                return;
            }
            out.push_str(&format!(
                "\n{title}\n\n| key | value | required | default | meaning |\n|---|---|---|---|---|\n"
            ));
            for key in keys {
                let escaped = key.doc.replace('|', "\\|");
                let default = key
                    .default
                    .map_or_else(|| "—".to_owned(), |text| format!("`{}`", text.replace('|', "\\|")));
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    key.name,
                    key.kind.shown().replace('|', "\\|"),
                    if key.required { "yes" } else { "no" },
                    default,
                    escaped
                ));
            }
        };
        table(
            &format!("`[connections.NAME]` with `system = \"{}\"`:", self.name),
            self.connection_keys,
        );
        table("A flow's `from = { connection = …, … }`:", self.source_keys);
        table("A flow's `to = { connection = …, … }`:", self.target_keys);
        out.push_str("\n| entity | read | write | incremental |\n|---|---|---|---|\n");
        let mark = |yes: bool| if yes { "yes" } else { "—" };
        for access in self.entities {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                access.entity,
                mark(access.read),
                mark(access.write),
                mark(access.incremental)
            ));
        }
        out.push('\n');
        out.push_str(&end);
        out.push('\n');
        out
    }

    /// This system's generated section of a README as it is now, if it has one.
    pub fn settings_section<'a>(&self, readme: &'a str) -> Option<&'a str> {
        let (start_marker, end_marker) = self.settings_markers();
        let start = readme.find(&start_marker)?;
        let end = readme[start..].find(&end_marker)? + start + end_marker.len();
        let end = if readme[end..].starts_with('\n') { end + 1 } else { end };
        Some(&readme[start..end])
    }

    /// `readme` with its generated section replaced by the current one (appended when absent).
    pub fn with_settings(&self, readme: &str) -> String {
        match self.settings_section(readme) {
            Some(section) => readme.replacen(section, &self.settings_markdown(), 1),
            None => format!(
                "{}\n\n## Settings of `{}`\n\n{}",
                readme.trim_end(),
                self.name,
                self.settings_markdown()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_choice_of_a_one_of_passes() {
        let login = OneOf {
            table: KeyTable::Connection,
            choices: &["token", "username+password"],
        };
        let with = |keys: &'static [&'static str]| login.check(|key| keys.contains(&key));
        assert_eq!(with(&["token"]), Ok(()));
        assert_eq!(with(&["username", "password"]), Ok(()));
        assert_eq!(with(&[]), Err("needs `token`, or `username` and `password`".to_owned()));
        assert_eq!(
            with(&["username"]),
            Err("needs `username` and `password` together".to_owned())
        );
        assert_eq!(
            with(&["token", "password"]),
            Err("sets `token` and also `username` and `password`: keep one of them".to_owned())
        );
    }
}
