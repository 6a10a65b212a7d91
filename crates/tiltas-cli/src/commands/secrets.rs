//! `tiltas secrets set CONNECTION KEY` (the value from standard input, never an argument),
//! `tiltas secrets list` (names and times, never values) and `tiltas secrets rotate-master
//! --new-key-file F` (every sealed value re-sealed under a new master key in one transaction).
use crate::args::{ConfigArgs, GlobalArgs};
use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tiltas_config::{KeyKind, SecretOrigin, ValidatedConfig};
use tiltas_engine::secrets::{rotate_master_key, set_stored_secret, stored_secret_key, unseal_stored_secrets};
use tiltas_engine::KeySource;
use tiltas_store::Store;

/// `tiltas secrets …`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Seal a connection secret in the store (the flow file reads it with `KEY = { store = true }`);
    /// the value is read from standard input, without echo on a terminal.
    Set(SecretsSetArgs),
    /// List the sealed values in the store: connection, name, kind and when written, never a value.
    List(SecretsKeyArgs),
    /// Seal every stored secret and run-time token again under a new master key, in one transaction.
    RotateMaster(SecretsRotateArgs),
}

/// The flow file and the master key every `tiltas secrets` command takes.
#[derive(Debug, Args)]
pub struct SecretsKeyArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The file holding the master key (64 hex digits) [default: TILTAS_MASTER_KEY,
    /// TILTAS_SECRET_KEY, TILTAS_MASTER_KEY_FILE, else tiltas-secret.key beside the flow file]
    #[arg(long, value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
}

/// `tiltas secrets set`.
#[derive(Debug, Args)]
pub struct SecretsSetArgs {
    /// The connection, as named in the flow file.
    pub connection: String,
    /// The connection's secret key (`api_key`, `consumer_secret`, …).
    pub key: String,
    #[command(flatten)]
    pub keys: SecretsKeyArgs,
}

/// `tiltas secrets rotate-master`.
#[derive(Debug, Args)]
pub struct SecretsRotateArgs {
    /// The new master key's file: made (owner-only, a fresh random key) when it does not exist.
    #[arg(long, value_name = "FILE")]
    pub new_key_file: PathBuf,
    #[command(flatten)]
    pub keys: SecretsKeyArgs,
}

/// Runs `tiltas secrets …`.
pub async fn run(global: &GlobalArgs, command: SecretsCommand) -> anyhow::Result<ExitCode> {
    let keys = match &command {
        SecretsCommand::Set(args) => &args.keys,
        SecretsCommand::List(args) => args,
        SecretsCommand::RotateMaster(args) => &args.keys,
    };
    let config = match super::load_or_report(&keys.config.config) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let store = crate::store_url::open(global.db.as_deref(), Some(&config)).await?;
    let key = KeySource::from_environment(&config.base_dir, keys.master_key_file.as_deref());
    match &command {
        SecretsCommand::Set(args) => set(&config, store, key, args).await,
        SecretsCommand::List(_) => list(store).await,
        SecretsCommand::RotateMaster(args) => rotate(store, key, &args.new_key_file).await,
    }
}

/// Reads every `{ store = true }` secret of a loaded flow file from the store, before its
/// connections open.
pub async fn unseal(mut config: ValidatedConfig, store: &Arc<dyn Store>) -> anyhow::Result<Arc<ValidatedConfig>> {
    let key = KeySource::from_environment(&config.base_dir, None);
    unseal_stored_secrets(&mut config, store.clone(), key).await?;
    Ok(Arc::new(config))
}

async fn set(
    config: &ValidatedConfig,
    store: Arc<dyn Store>,
    key: KeySource,
    args: &SecretsSetArgs,
) -> anyhow::Result<ExitCode> {
    let file = config.file.display();
    let connection = config.connection(&args.connection).ok_or_else(|| {
        let known: Vec<&str> = config
            .connections
            .iter()
            .map(|connection| connection.name.as_str())
            .collect();
        anyhow!(
            "{file}: no connection \"{}\" (it has: {})",
            args.connection,
            known.join(", ")
        )
    })?;
    let secret_keys: Vec<&str> = connection
        .system
        .connection_keys
        .iter()
        .filter(|spec| matches!(spec.kind, KeyKind::Secret))
        .map(|spec| spec.name)
        .collect();
    if !secret_keys.contains(&args.key.as_str()) {
        bail!(
            "connection \"{}\" ({}) has no secret key `{}`: its secret keys are {}",
            connection.name,
            connection.system.name,
            args.key,
            if secret_keys.is_empty() {
                "none".to_owned()
            } else {
                secret_keys.join(", ")
            }
        );
    }
    let value = read_value(&connection.name, &args.key)?;
    let key_name = key.name();
    set_stored_secret(store.clone(), key, &connection.name, &args.key, &value).await?;
    // Who sealed which secret, never its value (docs/operations.md, Audit log).
    tiltas_server::audit::record_secret_set(store.as_ref(), &connection.name, &args.key).await;
    println!(
        "sealed `{}` of connection \"{}\" in the store with the master key {key_name}",
        args.key, connection.name
    );
    match connection.settings.secret(&args.key).map(|secret| secret.origin()) {
        Some(SecretOrigin::Store) => {}
        Some(origin) => eprintln!(
            "note: {file} reads `{}` from {origin}; write `{} = {{ store = true }}` to use the stored value",
            args.key, args.key
        ),
        None => eprintln!(
            "note: {file} does not set `{}` on connection \"{}\"; write `{} = {{ store = true }}` to use the stored value",
            args.key, connection.name, args.key
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The secret from standard input: typed without echo on a terminal, else read whole, one
/// trailing line break trimmed.
fn read_value(connection: &str, key: &str) -> anyhow::Result<String> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{key} of connection \"{connection}\" (not shown): "))
            .context("cannot read the secret from the terminal")?
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the secret from standard input (it must be UTF-8 text)")?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    };
    if value.is_empty() {
        bail!("no value for `{key}` of connection \"{connection}\" on standard input: pipe it in, e.g. `tiltas secrets set {connection} {key} < file`");
    }
    Ok(value)
}

async fn list(store: Arc<dyn Store>) -> anyhow::Result<ExitCode> {
    let entries = store.credentials_all().await?;
    if entries.is_empty() {
        println!("no sealed values in the store");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<24} {:<24} {:<18} UPDATED", "CONNECTION", "NAME", "KIND");
    for entry in entries {
        let (name, kind) = match stored_secret_key(&entry.name) {
            Some(key) => (key, "secret"),
            None => (entry.name.as_str(), "run-time token"),
        };
        println!(
            "{:<24} {:<24} {:<18} {}",
            entry.connection,
            name,
            kind,
            entry.updated_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate(store: Arc<dyn Store>, current: KeySource, new_key_file: &Path) -> anyhow::Result<ExitCode> {
    if matches!(&current, KeySource::GivenFile(path) | KeySource::File(path) if path == new_key_file) {
        bail!(
            "--new-key-file {} is the current master key: name a new file (it is made when missing)",
            new_key_file.display()
        );
    }
    if !new_key_file.exists() {
        tiltas_engine::create_new_key_file(new_key_file)?;
        eprintln!(
            "made a new master key in {} (owner-only): back it up",
            new_key_file.display()
        );
    }
    let current_name = current.name();
    let rotated = rotate_master_key(store, current, KeySource::GivenFile(new_key_file.to_path_buf())).await?;
    println!(
        "re-sealed {} value(s) ({} connection secret(s), {} run-time token(s)) from the master key {current_name} \
         under {}",
        rotated.secrets + rotated.tokens,
        rotated.secrets,
        rotated.tokens,
        new_key_file.display()
    );
    eprintln!(
        "from now on every tiltas process needs the new key: TILTAS_MASTER_KEY_FILE={} (or its contents in \
         TILTAS_MASTER_KEY); the old key {current_name} no longer opens them",
        new_key_file.display()
    );
    Ok(ExitCode::SUCCESS)
}
