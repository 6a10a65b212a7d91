//! The validated configuration: types that cannot hold a wrong value.
use crate::diagnostic::Location;
use crate::secret::{Secret, SecretOrigin};
use crate::spec::SystemSpec;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tiltas_model::EntityKind;

/// A flow file that passed validation.
#[derive(Debug, Clone)]
pub struct ValidatedConfig {
    /// The flow file.
    pub file: PathBuf,
    /// The directory relative paths are resolved against (the file's directory).
    pub base_dir: PathBuf,
    /// The file's `store` URL, if it names one.
    pub store_url: Option<String>,
    /// The connections, in file order.
    pub connections: Vec<Connection>,
    /// Daily budgets shared by several connections (`[budget_groups.NAME]`), in file order.
    pub budget_groups: Vec<BudgetGroup>,
    /// The flows, in file order.
    pub flows: Vec<Flow>,
    /// `[quote]`: how parts suppliers are asked for quotes, when the file says.
    pub quote: Option<crate::QuoteSettings>,
    /// `[server]`: how `tiltas serve` guards itself under load.
    pub server: ServerSettings,
    /// What does not refuse the file but will likely fail at run time, in file order.
    pub warnings: Vec<crate::Diagnostic>,
}

impl ValidatedConfig {
    /// Every secret kept in the store, as (connection, key): those the engine reads from the
    /// store (sealed) before connections open.
    pub fn stored_secrets(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut add = |connection: &str, settings: &Settings| {
            for key in settings.keys() {
                if settings.secret(key).map(Secret::origin) == Some(SecretOrigin::Store) {
                    let entry = (connection.to_owned(), key.to_owned());
                    if !found.contains(&entry) {
                        found.push(entry);
                    }
                }
            }
        };
        for connection in &self.connections {
            add(&connection.name, &connection.settings);
        }
        for flow in &self.flows {
            add(&flow.from.connection, &flow.from.settings);
            add(&flow.to.connection, &flow.to.settings);
        }
        found
    }

    /// Gives the stored secret `key` of `connection` its value, read from the store, wherever
    /// the connection or a flow endpoint on it names it.
    pub fn fill_stored_secret(&mut self, connection: &str, key: &str, value: &str) {
        let fill = |settings: &mut Settings| {
            if let Some((SettingValue::Secret(secret), _)) = settings.values.get_mut(key) {
                secret.fill_stored(value);
            }
        };
        for entry in self.connections.iter_mut().filter(|entry| entry.name == connection) {
            fill(&mut entry.settings);
        }
        for flow in &mut self.flows {
            for endpoint in [&mut flow.from, &mut flow.to] {
                if endpoint.connection == connection {
                    fill(&mut endpoint.settings);
                }
            }
        }
    }

    /// The budget group with this name.
    pub fn budget_group(&self, name: &str) -> Option<&BudgetGroup> {
        self.budget_groups.iter().find(|group| group.name == name)
    }

    /// Most accepted webhook deliveries of `connection` that may wait in the inbox before
    /// `/hooks` answers 503: the connection's `max_inbox_backlog`, else `[server]`'s.
    pub fn inbox_backlog_limit(&self, connection: &str) -> u64 {
        self.connection(connection)
            .and_then(|connection| connection.max_inbox_backlog)
            .unwrap_or(self.server.max_inbox_backlog)
    }

    /// The flow with this name.
    pub fn flow(&self, name: &str) -> Option<&Flow> {
        self.flows.iter().find(|flow| flow.name == name)
    }

    /// Every flow, each after the flows it runs after, otherwise in file order: the first
    /// flow in the file whose dependencies are placed goes next.
    pub fn in_dependency_order(&self) -> Vec<&Flow> {
        let mut ordered: Vec<&Flow> = Vec::with_capacity(self.flows.len());
        let placed = |ordered: &[&Flow], name: &str| ordered.iter().any(|done| done.name == name);
        while ordered.len() < self.flows.len() {
            let next = self.flows.iter().find(|flow| {
                !placed(&ordered, &flow.name)
                    && flow
                        .after
                        .iter()
                        .all(|dependency| placed(&ordered, dependency) || self.flow(dependency).is_none())
            });
            // Validation refuses cycles; a hand-built config with one keeps file order.
            let next = next.or_else(|| self.flows.iter().find(|flow| !placed(&ordered, &flow.name)));
            match next {
                Some(flow) => ordered.push(flow),
                None => break,
            }
        }
        ordered
    }

    /// The connection with this name.
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|connection| connection.name == name)
    }
}

/// The default of `[server] max_inbox_backlog`.
pub const DEFAULT_MAX_INBOX_BACKLOG: u64 = 10_000;

/// `[server]`: settings of `tiltas serve` and `tiltas run` that are no connection's or flow's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Most deliveries of one connection waiting in the inbox before `/hooks` answers 503
    /// with `Retry-After` (a connection's own `max_inbox_backlog` overrides it).
    pub max_inbox_backlog: u64,
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            max_inbox_backlog: DEFAULT_MAX_INBOX_BACKLOG,
        }
    }
}

/// A daily request budget several connections draw from together (a B1.lt request package
/// paid by one company and used by several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetGroup {
    /// Its name (`[budget_groups.NAME]`).
    pub name: String,
    /// Requests its connections may send together per day (UTC).
    pub daily_budget: u64,
    /// Where it is defined.
    pub location: Location,
}

/// A connection to one system.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Its name in the file.
    pub name: String,
    /// What its connector declares.
    pub system: &'static SystemSpec,
    /// The system-specific keys.
    pub settings: Settings,
    /// Most requests per period.
    pub rate_limit: Option<RateLimit>,
    /// Most webhook deliveries accepted per period at `/hooks/NAME` (none: no limit); more
    /// are answered 429 with `Retry-After`.
    pub hooks_rate_limit: Option<RateLimit>,
    /// Most requests per day.
    pub daily_budget: Option<u64>,
    /// The shared daily budget it draws from too (`budget_group = "NAME"`).
    pub budget_group: Option<String>,
    /// Its own inbox backlog limit (`max_inbox_backlog`), over `[server]`'s.
    pub max_inbox_backlog: Option<u64>,
    /// Whether flows may use it.
    pub enabled: bool,
    /// Where it is defined.
    pub location: Location,
}

/// A request rate: `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed…
    pub requests: u32,
    /// …per this period.
    pub per: Duration,
    /// How many requests may go at once after a quiet spell (the system's documented burst);
    /// `None` spaces every request `per / requests` apart.
    pub burst: Option<u32>,
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_rate(f)?;
        match self.burst {
            Some(burst) => write!(f, ", burst {burst}"),
            None => Ok(()),
        }
    }
}

impl RateLimit {
    fn fmt_rate(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.per.as_secs() {
            1 => write!(f, "{}/s", self.requests),
            60 => write!(f, "{}/m", self.requests),
            3600 => write!(f, "{}/h", self.requests),
            _ => write!(f, "{}/{}", self.requests, format_duration(self.per)),
        }
    }
}

/// The value of a system-specific key, typed by its `KeyKind`.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// Text (also one of a fixed set).
    String(String),
    /// A secret.
    Secret(Secret),
    /// A non-negative whole number.
    Integer(u64),
    /// A flag.
    Bool(bool),
    /// A path, resolved against the flow file's directory.
    Path(PathBuf),
    /// One character.
    Char(char),
    /// A list of text.
    StringList(Vec<String>),
    /// A table of text.
    StringMap(BTreeMap<String, String>),
    /// A duration.
    Duration(Duration),
    /// An http(s) URL.
    Url(String),
}

impl fmt::Display for SettingValue {
    /// The value for people; a secret shows only where it comes from, never its value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::String(text) | SettingValue::Url(text) => f.write_str(text),
            SettingValue::Secret(_) => f.write_str("***"),
            SettingValue::Integer(number) => write!(f, "{number}"),
            SettingValue::Bool(flag) => write!(f, "{flag}"),
            SettingValue::Path(path) => write!(f, "{}", path.display()),
            SettingValue::Char(character) => write!(f, "{character}"),
            SettingValue::StringList(items) => f.write_str(&items.join(", ")),
            SettingValue::StringMap(items) => {
                let pairs: Vec<String> = items.iter().map(|(key, value)| format!("{key} = {value}")).collect();
                f.write_str(&pairs.join(", "))
            }
            SettingValue::Duration(duration) => f.write_str(&format_duration(*duration)),
        }
    }
}

/// The system-specific keys of a connection or of a flow's `from`/`to`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    values: BTreeMap<String, (SettingValue, Location)>,
}

/// Settings that do not fit the struct a system reads them into: a mismatch between the
/// system's spec and its settings struct, found by the system's tests, never by users (the
/// flow file was validated against the spec before).
#[derive(Debug, Clone, thiserror::Error)]
#[error("settings do not match the system's spec: {0}")]
pub struct SettingsMismatch(pub String);

impl SettingValue {
    /// The value as JSON, for [`Settings::typed`]: durations as serde writes them, secrets
    /// unresolved.
    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            SettingValue::String(text) | SettingValue::Url(text) => Value::String(text.clone()),
            SettingValue::Secret(secret) => serde_json::to_value(secret).unwrap_or(Value::Null),
            SettingValue::Integer(number) => Value::from(*number),
            SettingValue::Bool(flag) => Value::Bool(*flag),
            SettingValue::Path(path) => serde_json::to_value(path).unwrap_or(Value::Null),
            SettingValue::Char(character) => Value::String(character.to_string()),
            SettingValue::StringList(items) => Value::from(items.clone()),
            SettingValue::StringMap(items) => serde_json::to_value(items).unwrap_or(Value::Null),
            SettingValue::Duration(duration) => serde_json::to_value(duration).unwrap_or(Value::Null),
        }
    }
}

impl Settings {
    /// The settings read into a system's own struct (one field per key, named as the key;
    /// `Option` for keys without default that may be absent), each absent key taking its
    /// spec default — the one place defaults are written.
    pub fn typed<T: serde::de::DeserializeOwned>(&self, keys: &[crate::KeySpec]) -> Result<T, SettingsMismatch> {
        let mut object = serde_json::Map::new();
        for key in keys {
            let value = match self.get(key.name) {
                Some(value) => Some(value.clone()),
                None => key.default_value().map_err(SettingsMismatch)?,
            };
            if let Some(value) = value {
                object.insert(key.name.to_owned(), value.to_json());
            }
        }
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|error| SettingsMismatch(error.to_string()))
    }

    pub(crate) fn insert(&mut self, key: &str, value: SettingValue, location: Location) {
        self.values.insert(key.to_owned(), (value, location));
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&SettingValue> {
        self.values.get(key).map(|(value, _)| value)
    }

    /// Where a key is written.
    pub fn location(&self, key: &str) -> Option<Location> {
        self.values.get(key).map(|(_, location)| *location)
    }

    /// A text, URL or one-of value.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            SettingValue::String(text) | SettingValue::Url(text) => Some(text),
            _ => None,
        }
    }

    /// A path (already resolved against the flow file's directory).
    pub fn path(&self, key: &str) -> Option<&Path> {
        match self.get(key)? {
            SettingValue::Path(path) => Some(path),
            _ => None,
        }
    }

    /// A character.
    pub fn char(&self, key: &str) -> Option<char> {
        match self.get(key)? {
            SettingValue::Char(character) => Some(*character),
            _ => None,
        }
    }

    /// A whole number.
    pub fn integer(&self, key: &str) -> Option<u64> {
        match self.get(key)? {
            SettingValue::Integer(number) => Some(*number),
            _ => None,
        }
    }

    /// A flag.
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            SettingValue::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    /// A list of text.
    pub fn list(&self, key: &str) -> Option<&[String]> {
        match self.get(key)? {
            SettingValue::StringList(items) => Some(items),
            _ => None,
        }
    }

    /// A table of text.
    pub fn map(&self, key: &str) -> Option<&BTreeMap<String, String>> {
        match self.get(key)? {
            SettingValue::StringMap(map) => Some(map),
            _ => None,
        }
    }

    /// A secret.
    pub fn secret(&self, key: &str) -> Option<&Secret> {
        match self.get(key)? {
            SettingValue::Secret(secret) => Some(secret),
            _ => None,
        }
    }

    /// A duration.
    pub fn duration(&self, key: &str) -> Option<Duration> {
        match self.get(key)? {
            SettingValue::Duration(duration) => Some(*duration),
            _ => None,
        }
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The keys that are set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// One side of a flow: a connection and its system-specific keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The connection's name.
    pub connection: String,
    /// The system-specific keys (`file`, `warehouse`, `statuses`, …).
    pub settings: Settings,
    /// Where it is written.
    pub location: Location,
}

/// One entry of a flow's `map`.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    /// The target field path.
    pub target: String,
    /// Where the value comes from.
    pub source: MapSource,
    /// Where it is written.
    pub location: Location,
}

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MapSource {
    /// A source field path.
    Path(String),
    /// A `${ … }` expression.
    Expression(Expression),
}

/// The text of a `${ … }` expression and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    /// The text between `${` and `}`, trimmed.
    pub text: String,
    /// Where it is written.
    pub location: Location,
}

/// When a scheduled flow runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every so often.
    Every(Duration),
    /// Once a day at a local time.
    DailyAt {
        /// Hour, 0–23.
        hour: u8,
        /// Minute, 0–59.
        minute: u8,
    },
    /// A cron expression (5 fields: minute hour day-of-month month day-of-week, local time).
    Cron(String),
}

impl Schedule {
    /// The wait from `now` until the schedule next fires.
    pub fn next_delay(&self, now: chrono::DateTime<chrono::Local>) -> Duration {
        let next = match self {
            Schedule::Every(every) => return *every,
            Schedule::DailyAt { hour, minute } => {
                let today = now
                    .date_naive()
                    .and_hms_opt(u32::from(*hour), u32::from(*minute), 0)
                    .and_then(|at| at.and_local_timezone(chrono::Local).single());
                match today {
                    Some(at) if at > now => at,
                    Some(at) => at + chrono::Duration::days(1),
                    None => now + chrono::Duration::days(1),
                }
            }
            Schedule::Cron(expression) => {
                // Validated when the file was read; a failure here only delays by a day.
                match cron(expression)
                    .and_then(|cron| cron.find_next_occurrence(&now, false).map_err(|e| e.to_string()))
                {
                    Ok(at) => at,
                    Err(_) => now + chrono::Duration::days(1),
                }
            }
        };
        (next - now).to_std().unwrap_or(Duration::from_secs(60))
    }
}

fn cron(expression: &str) -> Result<croner::Cron, String> {
    use std::str::FromStr as _;
    croner::Cron::from_str(expression).map_err(|error| error.to_string())
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(every) => write!(f, "every {}", format_duration(*every)),
            Schedule::DailyAt { hour, minute } => write!(f, "daily at {hour:02}:{minute:02}"),
            Schedule::Cron(expression) => write!(f, "cron {expression}"),
        }
    }
}

/// What starts a flow's runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Only `tiltas sync` or the API.
    Manual,
    /// The flow's `schedule`.
    Schedule,
    /// Webhooks of the source system.
    Webhook,
}

/// What to do when the target already has the record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DuplicatePolicy {
    /// Update it.
    #[default]
    Update,
    /// Leave it and count the record as skipped.
    Skip,
    /// Dead-letter the record.
    Error,
}

/// A flow: one entity from one connection to another.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Unique name.
    pub name: String,
    /// What it moves.
    pub entity: EntityKind,
    /// Where records come from.
    pub from: Endpoint,
    /// Where records go.
    pub to: Endpoint,
    /// When it runs on its own.
    pub schedule: Option<Schedule>,
    /// What starts it.
    pub trigger: Trigger,
    /// The field that finds a record in the target when it has no identity link yet.
    pub match_on: Option<String>,
    /// What to do when the target already has the record.
    pub on_duplicate: DuplicatePolicy,
    /// Fields sent on create only.
    pub create_only: Vec<String>,
    /// Records without their natural key are skipped rather than failed.
    pub skip_without_code: bool,
    /// The field map.
    pub map: Vec<MapEntry>,
    /// Value maps: field → source code → target code (`"*"`: any other code).
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Records for which it is false are skipped.
    pub filter: Option<Expression>,
    /// Values for fields still empty after mapping.
    pub defaults: BTreeMap<String, serde_json::Value>,
    /// How far before the cursor incremental reads start.
    pub look_back: Duration,
    /// Records per read page.
    pub page_size: Option<usize>,
    /// Records per write call.
    pub batch_size: Option<usize>,
    /// Whether it may run.
    pub enabled: bool,
    /// The flows whose run this flow waits for when they are due at the same time (`after`;
    /// see [`Flow::after_implied`] for the default).
    pub after: Vec<String>,
    /// `after` was not written: a stock or price-list flow then runs after the enabled product
    /// flows with the same `from` and `to` connections (`after = []` opts out).
    pub after_implied: bool,
    /// Fields shown as `***` in the activity log.
    pub redact: Vec<String>,
    /// How long activity is kept.
    pub retention: Option<Duration>,
    /// The order pipeline's rules (order flows only).
    pub orders: OrderRules,
    /// Where it is defined.
    pub location: Location,
}

/// How an order flow finds the buyer and checks the lines in the target (DESIGN §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRules {
    /// The customer field an order's buyer is found by in the target (default `email`).
    pub customer_match: String,
    /// The target's customer code for orders with no usable buyer.
    pub default_customer: Option<String>,
    /// Create products the target lacks instead of dead-lettering the order.
    pub create_missing_products: bool,
}

impl Default for OrderRules {
    fn default() -> Self {
        OrderRules {
            customer_match: "email".to_owned(),
            default_customer: None,
            create_missing_products: false,
        }
    }
}

const UNITS: [(&str, u64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];

/// Parses a duration such as `90s`, `15m`, `2h`, `30d` or `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid =
        || format!("\"{text}\" is not a duration: write a number and a unit, e.g. \"90s\", \"15m\", \"2h\", \"30d\"");
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(invalid());
    }
    let mut seconds: u64 = 0;
    let mut rest = compact.as_str();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let factor = UNITS
            .iter()
            .find(|(unit, _)| *unit == &rest[..unit_end])
            .ok_or_else(invalid)?
            .1;
        seconds = number
            .checked_mul(factor)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(invalid)?;
        rest = &rest[unit_end..];
    }
    Ok(Duration::from_secs(seconds))
}

/// Writes a duration in the shortest form `parse_duration` reads (`15m`, `1h30m`, `0s`).
pub fn format_duration(duration: Duration) -> String {
    let mut seconds = duration.as_secs();
    if seconds == 0 {
        return "0s".to_owned();
    }
    let mut text = String::new();
    for (unit, factor) in UNITS {
        if seconds >= factor {
            text.push_str(&format!("{}{unit}", seconds / factor));
            seconds %= factor;
        }
    }
    text
}

/// Parses `every 15m`, `15m`, `daily at 06:30` or a cron expression (`cron */15 * * * *`, or
/// just its five fields).
pub(crate) fn parse_schedule(text: &str) -> Result<Schedule, String> {
    let invalid = || {
        format!(
            "schedule \"{text}\" is not understood: write \"every 15m\", \"every 1h\", \"daily at 06:30\" or a cron expression such as \"cron 0 */2 * * 1-5\""
        )
    };
    let trimmed = text.trim();
    let expression = trimmed.strip_prefix("cron ").map(str::trim);
    if let Some(expression) = expression.or((trimmed.split_whitespace().count() == 5).then_some(trimmed)) {
        if expression.split_whitespace().count() != 5 {
            return Err(format!(
                "cron schedule \"{expression}\" needs five fields: minute hour day-of-month month day-of-week, e.g. \"0 */2 * * 1-5\""
            ));
        }
        return cron(expression)
            .map(|_| Schedule::Cron(expression.to_owned()))
            .map_err(|error| format!("cron schedule \"{expression}\": {error}"));
    }
    if let Some(time) = trimmed.strip_prefix("daily at ") {
        let (hour, minute) = time.trim().split_once(':').ok_or_else(invalid)?;
        let hour: u8 = hour.parse().map_err(|_| invalid())?;
        let minute: u8 = minute.parse().map_err(|_| invalid())?;
        if hour > 23 || minute > 59 {
            return Err(invalid());
        }
        return Ok(Schedule::DailyAt { hour, minute });
    }
    let every = trimmed.strip_prefix("every ").unwrap_or(trimmed);
    match parse_duration(every) {
        Ok(duration) if duration >= Duration::from_secs(1) => Ok(Schedule::Every(duration)),
        _ => Err(invalid()),
    }
}

/// Parses a rate such as `10/s`, `600/m`, `5000/h` or `20/2s`, optionally with the burst the
/// system allows: `10/s, burst 30`.
pub(crate) fn parse_rate_limit(text: &str) -> Result<RateLimit, String> {
    let invalid = || {
        format!(
            "rate_limit \"{text}\" is not a rate: write requests per period, e.g. \"10/s\", \"600/m\", \"5000/h\", \
             and the system's burst if it allows one, e.g. \"10/s, burst 30\""
        )
    };
    let (rate, burst) = match text.split_once(',') {
        Some((rate, burst)) => {
            let count = burst.trim().strip_prefix("burst").ok_or_else(invalid)?;
            let count: u32 = count.trim().parse().map_err(|_| invalid())?;
            if count == 0 {
                return Err(invalid());
            }
            (rate, Some(count))
        }
        None => (text, None),
    };
    let (requests, period) = rate.split_once('/').ok_or_else(invalid)?;
    let requests: u32 = requests.trim().parse().map_err(|_| invalid())?;
    let period = period.trim();
    let per = if period.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(period).map_err(|_| invalid())?
    } else {
        parse_duration(&format!("1{period}")).map_err(|_| invalid())?
    };
    if requests == 0 || per.is_zero() {
        return Err(invalid());
    }
    Ok(RateLimit { requests, per, burst })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write_back() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        for bad in ["", "5", "m", "5x", "-5m", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn schedules_and_rates_read_and_display() {
        assert_eq!(
            parse_schedule("every 15m").map(|s| s.to_string()),
            Ok("every 15m".to_owned())
        );
        assert_eq!(parse_schedule("15m"), Ok(Schedule::Every(Duration::from_secs(900))));
        assert_eq!(
            parse_schedule("daily at 6:30").map(|s| s.to_string()),
            Ok("daily at 06:30".to_owned())
        );
        assert!(parse_schedule("daily at 25:00").is_err());
        assert!(parse_schedule("sometimes").is_err());
        assert_eq!(
            parse_schedule("cron */15 6-18 * * 1-5"),
            Ok(Schedule::Cron("*/15 6-18 * * 1-5".to_owned()))
        );
        assert_eq!(parse_schedule("0 3 * * *"), Ok(Schedule::Cron("0 3 * * *".to_owned())));
        assert!(parse_schedule("cron 61 * * * *").unwrap_err().contains("cron schedule"));
        assert!(parse_schedule("cron * * *").unwrap_err().contains("five fields"));
        let quarter = Schedule::Cron("*/15 * * * *".to_owned());
        let now = chrono::Local::now();
        let wait = quarter.next_delay(now);
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(15 * 60),
            "{wait:?}"
        );
        assert_eq!(
            parse_rate_limit("10/s"),
            Ok(RateLimit {
                requests: 10,
                per: Duration::from_secs(1),
                burst: None,
            })
        );
        assert_eq!(parse_rate_limit("20/2s").map(|r| r.to_string()), Ok("20/2s".to_owned()));
        assert!(parse_rate_limit("0/s").is_err());
        let burst = parse_rate_limit("10/s, burst 30").unwrap();
        assert_eq!((burst.requests, burst.burst), (10, Some(30)));
        assert_eq!(burst.to_string(), "10/s, burst 30");
        assert!(parse_rate_limit("10/s, burst 0").is_err());
        assert!(parse_rate_limit("10/s, 30").is_err());
        assert!(parse_rate_limit("ten per second").is_err());
    }
}
