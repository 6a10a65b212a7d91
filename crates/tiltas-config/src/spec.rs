//! How a connector declares the keys and entities its system accepts.
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
