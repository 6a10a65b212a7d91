/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL is not one Tiltas understands.
    #[error("store URL {url:?} is not supported: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl {
        /// The URL (password redacted).
        url: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot open the store at {url}: {source}")]
    Connect {
        /// The URL (password redacted).
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The SQLite file's directory does not exist.
    #[error("cannot open the store at {url}: directory {directory} does not exist; create it or choose another path with --db")]
    MissingDirectory {
        /// The URL.
        url: String,
        /// The missing directory.
        directory: String,
    },
    /// Creating or upgrading the schema failed.
    #[error("cannot prepare the store at {url}: {source}")]
    Migrate {
        /// The URL (password redacted).
        url: String,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// The database was migrated by a newer Tiltas.
    #[error("the store at {url} has schema version {found}, this tiltas knows up to {known}: upgrade tiltas")]
    SchemaTooNew {
        /// The URL (password redacted).
        url: String,
        /// The database's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("store operation `{operation}` failed: {source}")]
    Query {
        /// The store method.
        operation: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A stored value cannot be read back.
    #[error("the store holds an unreadable {what}: {detail}; it was written by another program or a newer tiltas: upgrade tiltas or repair the row")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A record was written by someone else while this operation was making its change; nothing
    /// was changed.
    #[error("the {what} {id} was changed by another process meanwhile, so nothing was changed: run the command again")]
    Changed {
        /// What was being changed.
        what: &'static str,
        /// Which one.
        id: String,
    },
    /// The record to change does not exist (or is no longer in a changeable state).
    #[error("the store has no {what} with id {id}: check the id against the listing")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id.
        id: String,
    },
}
