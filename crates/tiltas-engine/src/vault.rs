//! The engine's [`CredentialVault`]: credentials in the store — run-time tokens (rotated refresh
//! tokens) and connection secrets set with `tiltas secrets set` — sealed with
//! XChaCha20-Poly1305 under a master key the store never sees. The key is `TILTAS_MASTER_KEY`
//! (64 hex digits; `TILTAS_SECRET_KEY` is its older alias) when set — what several workers on
//! one PostgreSQL share — else the file `TILTAS_MASTER_KEY_FILE` names, else the file
//! `tiltas-secret.key` beside the flow file, created (owner-only) the first time a credential is
//! saved. A sealed value is bound to its connection and name, so it cannot be moved to another
//! entry.
use async_trait::async_trait;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tiltas_connector::vault::CredentialVault;
use tiltas_connector::{ConnectorError, ErrorKind};
use tiltas_store::Store;
use tokio::sync::OnceCell;

/// The environment variable that holds the master key (64 hex digits).
pub const MASTER_KEY_VARIABLE: &str = "TILTAS_MASTER_KEY";
/// The older name of [`MASTER_KEY_VARIABLE`], still read when that one is not set.
pub const SECRET_KEY_VARIABLE: &str = "TILTAS_SECRET_KEY";
/// The environment variable naming a file that holds the master key.
pub const MASTER_KEY_FILE_VARIABLE: &str = "TILTAS_MASTER_KEY_FILE";
/// The key file's name, in the flow file's folder, when no variable is set.
pub const SECRET_KEY_FILE: &str = "tiltas-secret.key";
/// The prefix of a sealed value: the format's version, so a later format can read this one.
const SEALED_V1: &str = "v1:";
const NONCE_LEN: usize = 24;

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// An environment variable (its name and value, as read when the engine started).
    Variable(&'static str, String),
    /// A key file named by `TILTAS_MASTER_KEY_FILE` or `--master-key-file`: it must exist.
    GivenFile(PathBuf),
    /// The key file beside the flow file, made on first need.
    File(PathBuf),
}

impl KeySource {
    /// The key source this process is given: `TILTAS_MASTER_KEY`, `TILTAS_SECRET_KEY`,
    /// `given_file` (a `--master-key-file` flag), `TILTAS_MASTER_KEY_FILE`, else the key file in
    /// `folder`.
    pub fn from_environment(folder: &Path, given_file: Option<&Path>) -> KeySource {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        if let Some(value) = variable(MASTER_KEY_VARIABLE) {
            return KeySource::Variable(MASTER_KEY_VARIABLE, value);
        }
        if let Some(value) = variable(SECRET_KEY_VARIABLE) {
            return KeySource::Variable(SECRET_KEY_VARIABLE, value);
        }
        match given_file
            .map(Path::to_path_buf)
            .or_else(|| variable(MASTER_KEY_FILE_VARIABLE).map(PathBuf::from))
        {
            Some(path) => KeySource::GivenFile(path),
            None => KeySource::File(folder.join(SECRET_KEY_FILE)),
        }
    }

    /// What the key is, for messages: the variable's name or the file's path.
    pub fn name(&self) -> String {
        match self {
            KeySource::Variable(name, _) => (*name).to_string(),
            KeySource::GivenFile(path) | KeySource::File(path) => path.display().to_string(),
        }
    }
}

/// Credentials in the store, sealed.
pub struct StoreVault {
    store: Arc<dyn Store>,
    source: KeySource,
    key: OnceCell<XChaCha20Poly1305>,
}

impl StoreVault {
    /// A vault in `store`, its key from the environment or the key file in `folder`
    /// ([`KeySource::from_environment`]).
    pub fn new(store: Arc<dyn Store>, folder: &Path) -> StoreVault {
        StoreVault::with_source(store, KeySource::from_environment(folder, None))
    }

    /// A vault with its key from `source`.
    pub fn with_source(store: Arc<dyn Store>, source: KeySource) -> StoreVault {
        StoreVault {
            store,
            source,
            key: OnceCell::new(),
        }
    }

    /// The cipher, reading (or, when `create`, making) the key on first need.
    async fn cipher(&self, create: bool) -> Result<&XChaCha20Poly1305, ConnectorError> {
        if let Some(cipher) = self.key.get() {
            return Ok(cipher);
        }
        let source = self.source.clone();
        let key = tokio::task::spawn_blocking(move || load_key(&source, create))
            .await
            .map_err(|error| vault_error(format!("reading the secret key failed: {error}"), None))??;
        Ok(self
            .key
            .get_or_init(|| async { XChaCha20Poly1305::new(&key.into()) })
            .await)
    }

    /// What the key is, for messages.
    pub fn key_name(&self) -> String {
        self.source.name()
    }

    /// Where the key comes from.
    pub fn key_source(&self) -> &KeySource {
        &self.source
    }

    /// Opens a sealed value of an entry; a value sealed under another key (or for another entry)
    /// is an error saying which key was tried and how to fix it.
    pub async fn open(&self, connection: &str, name: &str, sealed: &str) -> Result<String, ConnectorError> {
        let cipher = self.cipher(false).await?;
        let unreadable = || self.wrong_key(connection, name);
        let bytes = sealed
            .strip_prefix(SEALED_V1)
            .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or_else(unreadable)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = entry(connection, name);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| unreadable())?;
        String::from_utf8(plain).map_err(|_| unreadable())
    }

    /// Seals a value for an entry (making the default key file when it is missing).
    pub async fn seal(&self, connection: &str, name: &str, value: &str) -> Result<String, ConnectorError> {
        let cipher = self.cipher(true).await?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = entry(connection, name);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| vault_error(format!("connection \"{connection}\": sealing {name} failed"), None))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Ok(format!(
            "{SEALED_V1}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// The error of a value that does not open with this vault's key.
    fn wrong_key(&self, connection: &str, name: &str) -> ConnectorError {
        let fix = match crate::secrets::stored_secret_key(name) {
            Some(key) => format!(
                "this is the wrong master key: give the one it was sealed with ({MASTER_KEY_VARIABLE}, \
                 {MASTER_KEY_FILE_VARIABLE} or the key file; every worker needs the same key), or set the secret \
                 again: `tiltas secrets set {connection} {key}`"
            ),
            None => format!(
                "this is the wrong master key: give the one it was saved with ({MASTER_KEY_VARIABLE}, \
                 {MASTER_KEY_FILE_VARIABLE} or the key file; every worker needs the same key), or authorise \
                 the connection again: `tiltas connect --connection {connection}`"
            ),
        };
        vault_error(
            format!(
                "connection \"{connection}\": the stored {} cannot be opened with the master key {}: {fix}",
                crate::secrets::stored_secret_key(name).unwrap_or(name),
                self.key_name()
            ),
            Some(fix),
        )
    }
}

/// The associated data a value is sealed with: its entry.
fn entry(connection: &str, name: &str) -> String {
    format!("tiltas credential\0{connection}\0{name}")
}

#[async_trait]
impl CredentialVault for StoreVault {
    async fn load(&self, connection: &str, name: &str) -> Result<Option<String>, ConnectorError> {
        let sealed = self
            .store
            .credential(connection, name)
            .await
            .map_err(|error| store_error(connection, &error))?;
        match sealed {
            Some(sealed) => self.open(connection, name, &sealed).await.map(Some),
            None => Ok(None),
        }
    }

    async fn save(&self, connection: &str, name: &str, value: &str) -> Result<(), ConnectorError> {
        let sealed = self.seal(connection, name, value).await?;
        self.store
            .credential_put(connection, name, &sealed)
            .await
            .map_err(|error| store_error(connection, &error))
    }
}

/// The key from its source; a missing key file is made when `create`.
fn load_key(source: &KeySource, create: bool) -> Result<[u8; 32], ConnectorError> {
    match source {
        KeySource::Variable(name, value) => parse_key(value).ok_or_else(|| {
            vault_error(
                format!(
                    "{name} is not a key: it must be 64 hex digits (32 bytes); make one with `openssl rand -hex 32`, \
                     or unset it to keep the key in a file"
                ),
                Some("make one with `openssl rand -hex 32`, or unset it to keep the key in a file".into()),
            )
        }),
        KeySource::GivenFile(path) => read_key_file(path),
        KeySource::File(path) => match std::fs::read_to_string(path) {
            Ok(text) => parse_key(&text).ok_or_else(|| {
                vault_error(
                    format!("{} is not a key: it must hold 64 hex digits (32 bytes)", path.display()),
                    Some("restore the file from a backup; without it, stored credentials must be authorised again".into()),
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && create => create_key_file(path),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(vault_error(
                format!("the secret key {} is missing, so stored credentials cannot be opened", path.display()),
                Some(format!(
                    "restore the file, set {MASTER_KEY_VARIABLE}, or authorise the connection again with `tiltas connect`"
                )),
            )),
            Err(error) => Err(vault_error(format!("cannot read the secret key {}: {error}", path.display()), None)),
        },
    }
}

/// The key in a file that must exist.
fn read_key_file(path: &Path) -> Result<[u8; 32], ConnectorError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        vault_error(
            format!(
                "cannot read the master key file {}: {error}; fix the path ({MASTER_KEY_FILE_VARIABLE} or \
                 --master-key-file) or restore the file",
                path.display()
            ),
            None,
        )
    })?;
    parse_key(&text).ok_or_else(|| {
        vault_error(
            format!(
                "{} is not a key: it must hold 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`",
                path.display()
            ),
            None,
        )
    })
}

/// Makes a new key file that must not exist yet (`tiltas secrets rotate-master --new-key-file`),
/// readable by its owner only.
pub fn create_new_key_file(path: &Path) -> Result<(), ConnectorError> {
    let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
    write_key_file(path, &key)
}

/// Writes a key file that must not exist yet, owner-only.
fn write_key_file(path: &Path, key: &[u8; 32]) -> Result<(), ConnectorError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|error| {
        vault_error(
            format!(
                "cannot make the key file {}: {error}; choose a new path in a writable folder",
                path.display()
            ),
            None,
        )
    })?;
    file.write_all(format!("{}\n", hex::encode(key)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| vault_error(format!("cannot write the key file {}: {error}", path.display()), None))
}

/// Makes a new key file readable by its owner only; when another process made it first, reads
/// theirs, so two workers never seal with different keys.
fn create_key_file(path: &Path) -> Result<[u8; 32], ConnectorError> {
    let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|error| {
                    vault_error(format!("cannot write the secret key {}: {error}", path.display()), None)
                })?;
            tracing::info!(key = %path.display(), "made a new secret key for stored credentials; back it up");
            Ok(key)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            load_key(&KeySource::File(path.into()), false)
        }
        Err(error) => Err(vault_error(
            format!("cannot make the secret key {}: {error}", path.display()),
            Some(format!("make the folder writable, or set {MASTER_KEY_VARIABLE}")),
        )),
    }
}

/// 64 hex digits as a key.
fn parse_key(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

fn vault_error(message: String, fix: Option<String>) -> ConnectorError {
    let error = ConnectorError::new(ErrorKind::Fatal, message);
    match fix {
        Some(fix) => error.with_fix(fix),
        None => error,
    }
}

fn store_error(connection: &str, error: &tiltas_store::StoreError) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Transient,
        format!("connection \"{connection}\": the store could not keep or read its credentials: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("tiltas.db").display());
        let store: Arc<dyn Store> = Arc::new(tiltas_store::SqliteStore::open(&url).await.unwrap());
        (dir, store)
    }

    #[tokio::test]
    async fn a_saved_credential_is_sealed_in_the_store_and_opens_again_with_the_key_file() {
        let (dir, store) = store().await;
        let vault = StoreVault::with_source(store.clone(), KeySource::File(dir.path().join(SECRET_KEY_FILE)));
        assert_eq!(vault.load("books", "refresh_token").await.unwrap(), None);
        vault.save("books", "refresh_token", "rt-secret-1").await.unwrap();
        let sealed = store.credential("books", "refresh_token").await.unwrap().unwrap();
        assert!(
            sealed.starts_with(SEALED_V1) && !sealed.contains("rt-secret-1"),
            "{sealed}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key file is readable by others: {mode:o}");
        }
        // A second process with the same key file opens it.
        let again = StoreVault::with_source(store, KeySource::File(dir.path().join(SECRET_KEY_FILE)));
        assert_eq!(
            again.load("books", "refresh_token").await.unwrap().as_deref(),
            Some("rt-secret-1")
        );
    }

    #[tokio::test]
    async fn a_sealed_value_moved_to_another_entry_or_read_with_another_key_is_refused() {
        let (_dir, store) = store().await;
        let key = "11".repeat(32);
        let vault = StoreVault::with_source(store.clone(), KeySource::Variable(SECRET_KEY_VARIABLE, key));
        vault.save("books", "refresh_token", "rt").await.unwrap();
        let sealed = store.credential("books", "refresh_token").await.unwrap().unwrap();
        store.credential_put("shop", "refresh_token", &sealed).await.unwrap();
        let moved = vault.load("shop", "refresh_token").await.unwrap_err();
        assert!(moved.message.contains("connection \"shop\""), "{moved:?}");
        assert!(
            moved.fix.as_deref().unwrap_or_default().contains("tiltas connect"),
            "{moved:?}"
        );
        let other = StoreVault::with_source(store, KeySource::Variable(SECRET_KEY_VARIABLE, "22".repeat(32)));
        let error = other.load("books", "refresh_token").await.unwrap_err();
        assert!(error.message.contains(SECRET_KEY_VARIABLE), "{error:?}");
    }

    #[tokio::test]
    async fn a_bad_key_or_a_lost_key_file_is_named_with_its_fix() {
        let (dir, store) = store().await;
        let bad = StoreVault::with_source(
            store.clone(),
            KeySource::Variable(MASTER_KEY_VARIABLE, "not hex".into()),
        );
        let error = bad.save("books", "refresh_token", "rt").await.unwrap_err();
        assert!(error.message.contains("64 hex digits"), "{error:?}");
        let path = dir.path().join(SECRET_KEY_FILE);
        let vault = StoreVault::with_source(store.clone(), KeySource::File(path.clone()));
        vault.save("books", "refresh_token", "rt").await.unwrap();
        std::fs::remove_file(&path).unwrap();
        let lost = StoreVault::with_source(store, KeySource::File(path));
        let error = lost.load("books", "refresh_token").await.unwrap_err();
        assert!(error.message.contains("is missing"), "{error:?}");
    }
}
