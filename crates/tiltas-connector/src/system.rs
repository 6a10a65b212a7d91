//! A system Tiltas connects to, as one value: its spec (settings, entities), how to open a
//! source or target on one of its connections, and its webhook receiver. The engine and the
//! server see systems only through these traits; the list of systems is assembled in one place
//! outside them and handed in.
use crate::oauth2::Authorization;
use crate::vault::{ConnectionVault, CredentialVault, NoVault};
use crate::{CallGate, ConnectorError, ErrorKind, PartQuoter, Source, SourceRecord, Target};
use std::path::Path;
use std::sync::Arc;
use tiltas_config::{Catalog, Connection, Flow, KeySpec, Settings, SettingsMismatch, SystemSpec, ValidatedConfig};
use tiltas_model::EntityKind;

/// Settings that do not fit a system's struct: a defect of the system (its spec and its
/// struct disagree), reported as such rather than as the user's mistake.
fn typed<T>(read: Result<T, SettingsMismatch>, connection: &str) -> Result<T, ConnectorError> {
    read.map_err(|mismatch| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!("connection \"{connection}\": {mismatch} — a defect in Tiltas, please report it"),
        )
    })
}

/// What a system needs to open a source or a target: the connection, the entity, the settings
/// of the flow's endpoint (its `from` or `to` table) — never a whole flow.
#[derive(Clone)]
pub struct OpenContext<'a> {
    /// The connection (its system's settings, credentials, base URL).
    pub connection: &'a Connection,
    /// What is read or written.
    pub entity: EntityKind,
    /// The endpoint's own settings (`from = { connection = "shop", statuses = [...] }`).
    pub settings: &'a Settings,
    /// The canonical field records are matched on (`match_on`), when one is named.
    pub match_on: Option<&'a str>,
    /// The folder relative paths (files) are resolved against: the flow file's folder.
    pub base_dir: &'a Path,
    /// Admits every request the connector sends (the connection's pacing and budget).
    pub gate: Arc<dyn CallGate>,
    /// Keeps credentials the connection obtains at run time (rotated refresh tokens).
    pub vault: Arc<dyn CredentialVault>,
}

impl<'a> OpenContext<'a> {
    /// The connection's settings in the system's own struct, defaults from the spec's
    /// `connection_keys` (see [`Settings::typed`]).
    pub fn connection_settings<T: serde::de::DeserializeOwned>(&self, spec: &SystemSpec) -> Result<T, ConnectorError> {
        typed(
            self.connection.settings.typed(spec.connection_keys),
            &self.connection.name,
        )
    }

    /// The endpoint's settings (`from` when opening a source, `to` when opening a target) in
    /// the system's own struct, defaults from `keys` (the spec's `source_keys` or `target_keys`).
    pub fn endpoint_settings<T: serde::de::DeserializeOwned>(&self, keys: &[KeySpec]) -> Result<T, ConnectorError> {
        typed(self.settings.typed(keys), &self.connection.name)
    }

    /// Refuses an entity the system's spec does not read (`writing` false) or write. Flow files
    /// are validated against the spec first, so this meets only configurations built in code
    /// and internal callers — one check from the spec, not a list per connector to keep in step.
    pub fn check_access(&self, spec: &SystemSpec, writing: bool) -> Result<(), ConnectorError> {
        let access = spec.access(self.entity);
        if access.is_some_and(|access| if writing { access.write } else { access.read }) {
            return Ok(());
        }
        let verb = if writing { "write" } else { "read" };
        Err(ConnectorError::new(
            ErrorKind::Fatal,
            format!("the {} connector does not {verb} {}", spec.name, self.entity),
        )
        .with_fix(format!(
            "see `tiltas docs {}` for the entities it reads and writes",
            spec.name
        )))
    }

    /// The context of a flow's source (`from`).
    pub fn source_of(
        config: &'a ValidatedConfig,
        flow: &'a Flow,
        connection: &'a Connection,
        gate: Arc<dyn CallGate>,
    ) -> Self {
        OpenContext {
            connection,
            entity: flow.entity,
            settings: &flow.from.settings,
            match_on: flow.match_on.as_deref(),
            base_dir: &config.base_dir,
            gate,
            vault: Arc::new(NoVault),
        }
    }

    /// The same context with credentials kept in `vault`.
    pub fn with_vault(self, vault: Arc<dyn CredentialVault>) -> Self {
        OpenContext { vault, ..self }
    }

    /// This connection's entry `name` in the vault, as an OAuth2 token store.
    pub fn token_store(&self, name: &str) -> Arc<ConnectionVault> {
        Arc::new(ConnectionVault::new(
            self.vault.clone(),
            self.connection.name.clone(),
            name,
        ))
    }

    /// The context of a flow's target (`to`).
    pub fn target_of(
        config: &'a ValidatedConfig,
        flow: &'a Flow,
        connection: &'a Connection,
        gate: Arc<dyn CallGate>,
    ) -> Self {
        OpenContext {
            settings: &flow.to.settings,
            ..OpenContext::source_of(config, flow, connection, gate)
        }
    }

    /// The context of a quote asked of `connection` (no flow: empty endpoint settings).
    pub fn quote_of(
        config: &'a ValidatedConfig,
        connection: &'a Connection,
        gate: Arc<dyn CallGate>,
        vault: Arc<dyn CredentialVault>,
    ) -> Self {
        static NO_SETTINGS: std::sync::LazyLock<Settings> = std::sync::LazyLock::new(Settings::default);
        OpenContext {
            connection,
            entity: EntityKind::SupplierOffer,
            settings: &NO_SETTINGS,
            match_on: None,
            base_dir: &config.base_dir,
            gate,
            vault,
        }
    }

    /// The failure of a system asked for a side or an entity it does not have.
    pub fn unsupported(&self, side: &str) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!(
                "connection \"{}\": system {} cannot be a flow's {side} for {} in this build",
                self.connection.name, self.connection.system.name, self.entity
            ),
        )
    }
}

/// Why a webhook delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The connection cannot take deliveries as configured (no secret): answered 404.
    #[error("{0}")]
    NotConfigured(String),
    /// Missing or wrong signature: answered 401, nothing kept.
    #[error("{0}")]
    Unauthorized(String),
    /// A body that is not what the topic says: answered 400.
    #[error("{0}")]
    Invalid(String),
}

/// What a verified delivery is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Keep it in the inbox under this topic; its records are read when it is delivered.
    Accepted {
        /// The system's topic (`order.created`).
        topic: String,
    },
    /// Answer 200 and keep nothing (a ping, a topic no flow takes: refusing those would make
    /// the sender count failures and disable its webhook).
    Ignored,
}

/// A system's webhook ingress: verifies deliveries and turns a kept one into records.
pub trait WebhookReceiver: Send + Sync {
    /// Verifies a delivery for `connection` over its exact body; `header` looks a header up by
    /// lower-case name.
    fn accept(
        &self,
        connection: &Connection,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<Delivery, WebhookError>;

    /// The entity and record a kept delivery of `topic` carries; `None` for one that carries
    /// none (a deletion). An `Err` is a note on why it cannot be used.
    fn record(&self, topic: &str, body: &[u8]) -> Result<Option<(EntityKind, SourceRecord)>, String>;
}

/// One external system.
pub trait System: Send + Sync {
    /// Its name, settings, entities and whether it is an accounting system.
    fn spec(&self) -> &'static SystemSpec;

    /// Opens a source on one of its connections.
    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        Err(context.unsupported("source"))
    }

    /// Opens a target on one of its connections.
    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        Err(context.unsupported("target"))
    }

    /// Opens a quoter on one of its connections (a parts supplier asked about one part);
    /// `context.entity` is `supplier_offer` and `context.settings` empty.
    fn open_quoter(&self, context: &OpenContext<'_>) -> Result<Box<dyn PartQuoter>, ConnectorError> {
        Err(context.unsupported("quoter"))
    }

    /// Whether [`System::open_quoter`] answers for its connections (`tiltas quote` asks only those).
    fn quotes(&self) -> bool {
        false
    }

    /// Its webhook ingress, when it sends webhooks.
    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        None
    }

    /// Its README (settings, what it supports, fidelity notes), for the docs check.
    fn readme(&self) -> Option<Readme> {
        None
    }

    /// How a person authorises `connection` at the provider (`tiltas connect`), for systems
    /// whose connections need it (OAuth2 authorization code); `None` when the flow file's
    /// settings are all the credentials it needs.
    fn authorization(&self, connection: &Connection) -> Result<Option<Authorization>, ConnectorError> {
        let _ = connection;
        Ok(None)
    }
}

/// A system's README as built in (`include_str!`) and where it lives in the source tree.
#[derive(Debug, Clone, Copy)]
pub struct Readme {
    /// The text the build saw.
    pub text: &'static str,
    /// Its path (`env!("CARGO_MANIFEST_DIR")/README.md`), to rewrite a stale one.
    pub path: &'static str,
}

/// The README of the crate this is called in.
#[macro_export]
macro_rules! readme {
    () => {
        Some($crate::Readme {
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")),
            path: concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        })
    };
}

/// The systems of a build, in the order shown to people: the one list the engine, the server
/// and configuration validation are given.
#[derive(Clone, Copy)]
pub struct Systems(&'static [&'static dyn System]);

impl Systems {
    /// A list of systems.
    pub const fn new(systems: &'static [&'static dyn System]) -> Systems {
        Systems(systems)
    }

    /// A system by name.
    pub fn get(&self, name: &str) -> Option<&'static dyn System> {
        self.0.iter().copied().find(|system| system.spec().name == name)
    }

    /// Every system.
    pub fn all(&self) -> impl Iterator<Item = &'static dyn System> {
        self.0.iter().copied()
    }

    /// The system of a connection.
    pub fn of(&self, connection: &Connection) -> Result<&'static dyn System, ConnectorError> {
        self.get(connection.system.name).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{}\": system {} is not in this build",
                    connection.name, connection.system.name
                ),
            )
        })
    }

    /// Opens the source of a flow (its `from`) without a vault; every request it sends passes `gate`.
    pub fn open_source(
        &self,
        config: &ValidatedConfig,
        flow: &Flow,
        gate: Arc<dyn CallGate>,
    ) -> Result<Box<dyn Source>, ConnectorError> {
        self.open_source_with(config, flow, gate, Arc::new(NoVault))
    }

    /// Opens the source of a flow (its `from`), its run-time credentials kept in `vault`.
    pub fn open_source_with(
        &self,
        config: &ValidatedConfig,
        flow: &Flow,
        gate: Arc<dyn CallGate>,
        vault: Arc<dyn CredentialVault>,
    ) -> Result<Box<dyn Source>, ConnectorError> {
        let connection = connection(config, &flow.from.connection)?;
        self.of(connection)?
            .open_source(&OpenContext::source_of(config, flow, connection, gate).with_vault(vault))
    }

    /// Opens the target of a flow (its `to`) without a vault; every request it sends passes `gate`.
    pub fn open_target(
        &self,
        config: &ValidatedConfig,
        flow: &Flow,
        gate: Arc<dyn CallGate>,
    ) -> Result<Box<dyn Target>, ConnectorError> {
        self.open_target_with(config, flow, gate, Arc::new(NoVault))
    }

    /// Opens the target of a flow (its `to`), its run-time credentials kept in `vault`.
    pub fn open_target_with(
        &self,
        config: &ValidatedConfig,
        flow: &Flow,
        gate: Arc<dyn CallGate>,
        vault: Arc<dyn CredentialVault>,
    ) -> Result<Box<dyn Target>, ConnectorError> {
        let connection = connection(config, &flow.to.connection)?;
        self.of(connection)?
            .open_target(&OpenContext::target_of(config, flow, connection, gate).with_vault(vault))
    }
}

impl Systems {
    /// Opens a quoter on `connection` (a parts supplier asked about one part), its requests
    /// passing `gate`, its run-time credentials kept in `vault`.
    pub fn open_quoter(
        &self,
        config: &ValidatedConfig,
        connection: &Connection,
        gate: Arc<dyn CallGate>,
        vault: Arc<dyn CredentialVault>,
    ) -> Result<Box<dyn PartQuoter>, ConnectorError> {
        self.of(connection)?
            .open_quoter(&OpenContext::quote_of(config, connection, gate, vault))
    }
}

impl std::fmt::Debug for Systems {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_list()
            .entries(self.0.iter().map(|system| system.spec().name))
            .finish()
    }
}

impl Catalog for Systems {
    fn system(&self, name: &str) -> Option<&'static SystemSpec> {
        self.get(name).map(System::spec)
    }

    fn system_names(&self) -> Vec<&'static str> {
        self.0.iter().map(|system| system.spec().name).collect()
    }
}

fn connection<'a>(config: &'a ValidatedConfig, name: &str) -> Result<&'a Connection, ConnectorError> {
    config.connection(name).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!("connection \"{name}\" is not defined in {}", config.file.display()),
        )
    })
}

/// A `registry` module for a system crate's tests: `catalog()`, `open_source` and `open_target`
/// over the systems given (the crate's own, and files for the other side of a flow), so a
/// system's tests open connectors the way the engine does without the build's full list.
#[macro_export]
macro_rules! test_registry {
    ($($system:expr),+ $(,)?) => {
        /// The systems this crate's tests open connectors of.
        #[cfg(test)]
        pub(crate) mod registry {
            use std::sync::Arc;
            use $crate::{CallGate, ConnectorError, Source, Systems, Target};
            use tiltas_config::{Catalog, Flow, ValidatedConfig};

            static SYSTEMS: Systems = Systems::new(&[$($system),+]);

            pub(crate) fn catalog() -> &'static dyn Catalog {
                &SYSTEMS
            }

            pub(crate) fn open_source(
                config: &ValidatedConfig,
                flow: &Flow,
                gate: Arc<dyn CallGate>,
            ) -> Result<Box<dyn Source>, ConnectorError> {
                SYSTEMS.open_source(config, flow, gate)
            }

            pub(crate) fn open_target(
                config: &ValidatedConfig,
                flow: &Flow,
                gate: Arc<dyn CallGate>,
            ) -> Result<Box<dyn Target>, ConnectorError> {
                SYSTEMS.open_target(config, flow, gate)
            }
        }
    };
}
