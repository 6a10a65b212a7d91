//! The shop's database: a lazily connected pool, the settings every query needs, and the one
//! table from a database error to a [`ConnectorError`] naming the connection and the setting
//! to fix (never the password).
use crate::schema;
use crate::{CallGate, ConnectorError, ErrorKind};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use std::str::FromStr;
use std::sync::Arc;

/// Connections per pool: the connector reads or writes one page or batch at a time.
const POOL_SIZE: u32 = 4;

/// The options of a `mysql://` URL, or an error naming `connection` and `database_url` without
/// quoting the URL (it holds the password).
pub fn connect_options(connection: &str, url: &str) -> Result<MySqlConnectOptions, ConnectorError> {
    if !(url.starts_with("mysql://") || url.starts_with("mariadb://")) {
        return Err(ConnectorError::new(
            ErrorKind::Fatal,
            format!(
                "connection {connection}: database_url must start with mysql:// \
                 (mysql://user:password@host:3306/database)"
            ),
        ));
    }
    let url = url.replacen("mariadb://", "mysql://", 1);
    MySqlConnectOptions::from_str(&url).map_err(|_| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!(
                "connection {connection}: database_url is not a valid mysql:// URL; write it as \
                 mysql://user:password@host:3306/database (percent-encode @ : / in the password)"
            ),
        )
    })
}

/// One OpenCart database as the connector uses it.
#[derive(Clone)]
pub struct ShopDb {
    pool: MySqlPool,
    /// The connection's name, for messages.
    pub connection: String,
    prefix: String,
    /// Names and descriptions are read and written in this language.
    pub language_id: u64,
    /// Products and orders of this store.
    pub store_id: u64,
    /// The group of new customers.
    pub customer_group_id: u64,
    /// The tax class of products created.
    pub tax_class_id: u64,
    /// `sku` or `model`: the product column the ERP's code is in.
    pub sku_column: &'static str,
    /// OpenCart 3 or 4: how variants are kept.
    pub version: schema::Version,
    gate: Arc<dyn CallGate>,
}

impl ShopDb {
    /// A shop whose pool connects on first use (opening a source or target never blocks).
    pub fn open(
        connection: &str,
        settings: &crate::ConnectionSettings,
        gate: Arc<dyn CallGate>,
    ) -> Result<ShopDb, ConnectorError> {
        if !schema::valid_prefix(&settings.table_prefix) {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection {connection}: table_prefix {:?} may hold only letters, digits and _ \
                     (OpenCart's DB_PREFIX, usually oc_)",
                    settings.table_prefix
                ),
            ));
        }
        let Some(version) = schema::Version::parse(&settings.version) else {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection {connection}: version {:?} is not an OpenCart major version: write version = \"3\" or \"4\"",
                    settings.version
                ),
            ));
        };
        let url = crate::http::reveal(&settings.database_url)?;
        let options = connect_options(connection, &url)?;
        // InnoDB's default waits 50 s for a locked row; a shorter wait fails the write as
        // transient (retried by the engine) instead of holding the run.
        let lock_wait = settings.lock_wait.as_secs_f64().ceil().max(1.0) as u64;
        let pool = MySqlPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(settings.timeout)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    let statement = format!("SET SESSION innodb_lock_wait_timeout = {lock_wait}");
                    sqlx::Executor::execute(connection, statement.as_str())
                        .await
                        .map(|_| ())
                })
            })
            .connect_lazy_with(options);
        Ok(ShopDb {
            pool,
            connection: connection.to_owned(),
            prefix: settings.table_prefix.clone(),
            language_id: settings.language_id,
            store_id: settings.store_id,
            customer_group_id: settings.customer_group_id,
            tax_class_id: settings.tax_class_id,
            sku_column: if settings.sku_column == "model" { "model" } else { "sku" },
            version,
            gate,
        })
    }

    /// The pool, after the connection's gate admits one more call.
    pub async fn pool(&self) -> Result<&MySqlPool, ConnectorError> {
        self.gate.admit().await?;
        Ok(&self.pool)
    }

    /// The connection's table prefix (`oc_`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// OpenCart's table `name` with the connection's prefix, quoted.
    pub fn table(&self, name: &str) -> String {
        schema::table(&self.prefix, name)
    }

    /// A database error as a connector error: what failed (`doing`), why, and what to fix.
    pub fn error(&self, doing: &str, error: sqlx::Error) -> ConnectorError {
        classify(&self.connection, &self.prefix, doing, error)
    }
}

/// MariaDB/MySQL error numbers the connector tells apart.
mod code {
    pub const ACCESS_DENIED: u16 = 1045;
    pub const DB_ACCESS_DENIED: u16 = 1044;
    pub const UNKNOWN_DATABASE: u16 = 1049;
    pub const TABLE_MISSING: u16 = 1146;
    pub const COLUMN_MISSING: u16 = 1054;
    pub const COMMAND_DENIED: u16 = 1142;
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    pub const DEADLOCK: u16 = 1213;
    pub const TOO_MANY_CONNECTIONS: u16 = 1040;
    pub const SERVER_SHUTDOWN: u16 = 1053;
    pub const QUERY_INTERRUPTED: u16 = 1317;
    pub const READ_ONLY: u16 = 1290;
}

/// The table behind [`ShopDb::error`].
pub(crate) fn classify(connection: &str, prefix: &str, doing: &str, error: sqlx::Error) -> ConnectorError {
    let at = format!("connection {connection}: {doing}");
    match error {
        sqlx::Error::Database(database) => {
            let number = database
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|mysql| mysql.number())
                .unwrap_or(0);
            let message = database.message().to_owned();
            let (kind, fix) = match number {
                code::ACCESS_DENIED => (
                    ErrorKind::Auth,
                    "the server refused the user or password: check the user and password in database_url",
                ),
                code::DB_ACCESS_DENIED | code::COMMAND_DENIED => (
                    ErrorKind::Auth,
                    "the database user lacks a privilege: GRANT SELECT, INSERT, UPDATE on the shop's database to the user of database_url",
                ),
                code::UNKNOWN_DATABASE => (
                    ErrorKind::Fatal,
                    "no such database: check the database name at the end of database_url (DB_DATABASE in OpenCart's config.php)",
                ),
                code::TABLE_MISSING | code::COLUMN_MISSING => (
                    ErrorKind::Fatal,
                    "the shop's tables are not where expected: check table_prefix (DB_PREFIX in config.php) and that the shop is OpenCart 3.x",
                ),
                code::LOCK_WAIT_TIMEOUT
                | code::DEADLOCK
                | code::TOO_MANY_CONNECTIONS
                | code::SERVER_SHUTDOWN
                | code::QUERY_INTERRUPTED
                | code::READ_ONLY => (ErrorKind::Transient, "the server is busy or restarting: retried"),
                _ => (
                    ErrorKind::Invalid,
                    "the shop's database refused the values: fix the record in the source",
                ),
            };
            let text = if matches!(number, code::TABLE_MISSING | code::COLUMN_MISSING) {
                format!("{at}: {message} (table_prefix = {prefix:?})")
            } else {
                format!("{at}: MariaDB error {number}: {message}")
            };
            ConnectorError::new(kind, text).with_fix(fix)
        }
        sqlx::Error::Io(io) => ConnectorError::new(
            ErrorKind::Transient,
            format!("{at}: cannot reach the database server ({io})"),
        )
        .with_fix("check the host and port in database_url and that the server is running"),
        sqlx::Error::PoolTimedOut => ConnectorError::new(
            ErrorKind::Transient,
            format!("{at}: no database connection within the timeout"),
        )
        .with_fix("check the host and port in database_url, or raise timeout"),
        sqlx::Error::Tls(_) => ConnectorError::new(
            ErrorKind::Fatal,
            format!("{at}: the TLS handshake with the database server failed"),
        )
        .with_fix("add ?ssl-mode=disabled to database_url for a server without TLS"),
        sqlx::Error::Protocol(message) => ConnectorError::new(
            ErrorKind::Transient,
            format!("{at}: the database connection broke ({message})"),
        ),
        sqlx::Error::ColumnDecode { index, source } => ConnectorError::new(
            ErrorKind::Fatal,
            format!("{at}: column {index} is not what OpenCart 3.x stores there ({source})"),
        )
        .with_fix("check that the shop is OpenCart 3.x and table_prefix names its tables"),
        other => ConnectorError::new(ErrorKind::Transient, format!("{at}: {other}")),
    }
}
