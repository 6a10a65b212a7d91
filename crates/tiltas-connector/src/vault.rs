//! Credentials a connection obtains at run time — OAuth2 refresh tokens that rotate on every
//! use (AccountView), tokens a supplier issues after a log-in — kept by the host, not in the
//! flow file: [`CredentialVault`]. The engine hands connectors one backed by the store (values
//! encrypted at rest); tests use [`MemoryVault`]. A connector reaches its own connection's
//! entries only, through [`crate::OpenContext::token_store`] or [`ConnectionVault`].
use crate::oauth2::TokenStore;
use crate::{ConnectorError, ErrorKind};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Named secrets per connection, kept across runs and processes.
#[async_trait]
pub trait CredentialVault: Send + Sync {
    /// The value of `name` for `connection`; `None` when never saved.
    async fn load(&self, connection: &str, name: &str) -> Result<Option<String>, ConnectorError>;

    /// Keeps `value` as `name` for `connection`, replacing the one before; durable on return.
    async fn save(&self, connection: &str, name: &str, value: &str) -> Result<(), ConnectorError>;
}

/// A vault in memory, for tests and one-off commands that must not persist anything.
#[derive(Debug, Default)]
pub struct MemoryVault(Mutex<HashMap<(String, String), String>>);

#[async_trait]
impl CredentialVault for MemoryVault {
    async fn load(&self, connection: &str, name: &str) -> Result<Option<String>, ConnectorError> {
        let entries = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(entries.get(&(connection.to_owned(), name.to_owned())).cloned())
    }

    async fn save(&self, connection: &str, name: &str, value: &str) -> Result<(), ConnectorError> {
        let mut entries = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.insert((connection.to_owned(), name.to_owned()), value.to_owned());
        Ok(())
    }
}

/// No vault: what a connector opened outside the engine gets (a quick look-up, a test of a
/// connection by hand). Loading finds nothing; saving fails and says where credentials are kept,
/// so a rotated token is never silently dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoVault;

#[async_trait]
impl CredentialVault for NoVault {
    async fn load(&self, _connection: &str, _name: &str) -> Result<Option<String>, ConnectorError> {
        Ok(None)
    }

    async fn save(&self, connection: &str, name: &str, _value: &str) -> Result<(), ConnectorError> {
        Err(ConnectorError::new(
            ErrorKind::Fatal,
            format!("connection \"{connection}\": {name} cannot be kept: this command opened the connection without a store"),
        )
        .with_fix("run the flow with `tiltas run` or `tiltas serve`, which keep credentials in the store"))
    }
}

/// One connection's entry `name` in a vault, as the OAuth2 [`TokenStore`] a `TokenSource` keeps
/// its refresh token in.
#[derive(Clone)]
pub struct ConnectionVault {
    vault: Arc<dyn CredentialVault>,
    connection: String,
    name: String,
}

impl ConnectionVault {
    /// The entry `name` of `connection` in `vault`.
    pub fn new(vault: Arc<dyn CredentialVault>, connection: impl Into<String>, name: impl Into<String>) -> Self {
        ConnectionVault {
            vault,
            connection: connection.into(),
            name: name.into(),
        }
    }
}

#[async_trait]
impl TokenStore for ConnectionVault {
    async fn load(&self) -> Result<Option<String>, ConnectorError> {
        self.vault.load(&self.connection, &self.name).await
    }

    async fn save(&self, refresh_token: &str) -> Result<(), ConnectorError> {
        self.vault.save(&self.connection, &self.name, refresh_token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_vault_reads_and_replaces_only_its_own_entry() {
        let vault: Arc<dyn CredentialVault> = Arc::new(MemoryVault::default());
        let books = ConnectionVault::new(vault.clone(), "books", "refresh_token");
        let other = ConnectionVault::new(vault.clone(), "other", "refresh_token");
        assert_eq!(books.load().await.unwrap(), None);
        books.save("first").await.unwrap();
        books.save("second").await.unwrap();
        assert_eq!(books.load().await.unwrap().as_deref(), Some("second"));
        assert_eq!(other.load().await.unwrap(), None);
    }

    #[tokio::test]
    async fn no_vault_refuses_to_drop_a_token_and_says_where_tokens_are_kept() {
        let error = NoVault.save("books", "refresh_token", "x").await.unwrap_err();
        assert!(error.message.contains("connection \"books\""), "{error:?}");
        assert!(
            error.fix.as_deref().unwrap_or_default().contains("tiltas run"),
            "{error:?}"
        );
    }
}
