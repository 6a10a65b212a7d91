//! How a connector declares the keys and entities its system accepts.
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
    /// One line for people (used in errors and generated docs).
    pub doc: &'static str,
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
    /// Fields the records it writes need (checked by `tiltas validate` as warnings).
    pub needs: &'static [FieldNeed],
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
