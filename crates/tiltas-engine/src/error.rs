use tiltas_connector::ConnectorError;
use tiltas_store::StoreError;

/// Why a run could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The flow is not in the configuration.
    #[error("flow \"{name}\" is not defined in {file}: defined flows are {known}")]
    UnknownFlow {
        /// The name asked for.
        name: String,
        /// The configuration file.
        file: String,
        /// The defined flow names, comma-separated.
        known: String,
    },
    /// The flow is switched off.
    #[error("flow \"{0}\" is disabled (enabled = false): set enabled = true to run it")]
    Disabled(String),
    /// Another run of the same flow holds the lease.
    #[error("flow \"{flow}\" is already running ({holder}, lease until {until}); wait for it to finish or let the lease expire")]
    Busy {
        /// The flow.
        flow: String,
        /// Who runs it.
        holder: String,
        /// When the lease expires.
        until: String,
    },
    /// The mapping does not compile.
    #[error("flow \"{flow}\": {message}")]
    Mapping {
        /// The flow.
        flow: String,
        /// What is wrong and where.
        message: String,
    },
    /// A connector failed in a way that stops the run.
    #[error("flow \"{flow}\": {side} connection \"{connection}\": {error}")]
    Connector {
        /// The flow.
        flow: String,
        /// "source" or "target".
        side: &'static str,
        /// The connection.
        connection: String,
        /// The failure.
        error: ConnectorError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run was stopped from outside (the process shutting down) before it finished.
    #[error("flow \"{0}\": the run was interrupted before its last page was stored; the next run resumes from the last stored page")]
    Interrupted(String),
}
