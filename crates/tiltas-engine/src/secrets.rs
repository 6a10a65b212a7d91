//! Connection secrets kept in the store (`{ store = true }` in the flow file): set with
//! `tiltas secrets set`, read (unsealed) into the configuration before connections open, and
//! re-sealed with every run-time token under a new master key by `tiltas secrets rotate-master`.
use crate::vault::{KeySource, StoreVault};
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_connector::vault::CredentialVault;
use tiltas_store::{Resealed, Store};

/// The prefix of a stored connection secret's name in the credential table, which it shares
/// with the tokens connections obtain at run time (`refresh_token`).
pub const STORED_SECRET_PREFIX: &str = "secret:";

/// Why a stored secret could not be set, read or re-sealed: what, where and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecretsError(pub String);

impl From<tiltas_connector::ConnectorError> for SecretsError {
    fn from(error: tiltas_connector::ConnectorError) -> SecretsError {
        SecretsError(error.message)
    }
}

impl From<tiltas_store::StoreError> for SecretsError {
    fn from(error: tiltas_store::StoreError) -> SecretsError {
        SecretsError(error.to_string())
    }
}

/// The credential name a connection secret `key` is stored under.
pub fn stored_secret_name(key: &str) -> String {
    format!("{STORED_SECRET_PREFIX}{key}")
}

/// The connection key of a stored secret's credential name; `None` for a run-time token.
pub fn stored_secret_key(name: &str) -> Option<&str> {
    name.strip_prefix(STORED_SECRET_PREFIX)
}

/// Reads every `{ store = true }` secret of `config` from the store into it, so connections open
/// with them; one never set is an error naming the connection, the key and the command.
pub async fn unseal_stored_secrets(
    config: &mut ValidatedConfig,
    store: Arc<dyn Store>,
    key: KeySource,
) -> Result<(), SecretsError> {
    let wanted = config.stored_secrets();
    if wanted.is_empty() {
        return Ok(());
    }
    let vault = StoreVault::with_source(store, key);
    for (connection, key) in wanted {
        let Some(value) = vault.load(&connection, &stored_secret_name(&key)).await? else {
            return Err(SecretsError(format!(
                "connection \"{connection}\": `{key}` is read from the store ({{ store = true }} in {}) but was never \
                 set: run `tiltas secrets set {connection} {key} --config {}` and give the value on standard input",
                config.file.display(),
                config.file.display()
            )));
        };
        config.fill_stored_secret(&connection, &key, &value);
    }
    Ok(())
}

/// Seals `value` as the secret `key` of `connection` in the store.
pub async fn set_stored_secret(
    store: Arc<dyn Store>,
    key_source: KeySource,
    connection: &str,
    key: &str,
    value: &str,
) -> Result<(), SecretsError> {
    let vault = StoreVault::with_source(store, key_source);
    vault.save(connection, &stored_secret_name(key), value).await?;
    Ok(())
}

/// What `rotate-master` re-sealed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Connection secrets set with `tiltas secrets set`.
    pub secrets: u64,
    /// Tokens connections obtained at run time.
    pub tokens: u64,
}

/// Opens every sealed value with `current` and seals it again with `new`, all in one store
/// transaction: a value that `current` does not open stops it before anything is changed.
pub async fn rotate_master_key(
    store: Arc<dyn Store>,
    current: KeySource,
    new: KeySource,
) -> Result<Rotated, SecretsError> {
    let old_vault = StoreVault::with_source(store.clone(), current);
    let new_vault = StoreVault::with_source(store.clone(), new);
    let mut rotated = Rotated::default();
    let mut resealed = Vec::new();
    for entry in store.credentials_all().await? {
        let value = old_vault.open(&entry.connection, &entry.name, &entry.sealed).await?;
        let sealed = new_vault.seal(&entry.connection, &entry.name, &value).await?;
        match stored_secret_key(&entry.name) {
            Some(_) => rotated.secrets += 1,
            None => rotated.tokens += 1,
        }
        resealed.push(Resealed {
            connection: entry.connection,
            name: entry.name,
            old: entry.sealed,
            new: sealed,
        });
    }
    store.credentials_reseal(&resealed).await?;
    Ok(rotated)
}
