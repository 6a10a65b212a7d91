//! `tiltas keys create|list|revoke`: API keys for the server. A key is printed once; the store
//! keeps only its SHA-256.
use crate::args::{GlobalArgs, KeyScope, KeysCommand};
use chrono::{DateTime, Utc};
use std::path::Path;
use std::process::ExitCode;
use tiltas_server::audit::Actor;
use tiltas_server::keys::{create_key, revoke_key, CreatedKey};
use tiltas_store::ApiScope;

pub(crate) async fn store(
    global: &GlobalArgs,
    config: Option<&Path>,
) -> anyhow::Result<std::sync::Arc<dyn tiltas_store::Store>> {
    let config = match config {
        Some(path) => Some(
            tiltas_engine::load_config(path, tiltas_systems::registry::catalog())
                .map_err(|problems| anyhow::anyhow!("{problems}"))?,
        ),
        None => None,
    };
    crate::store_url::open(global.db.as_deref(), config.as_ref()).await
}

/// Creates a key in `store` without an audit entry (`tiltas demo`'s own key) and returns its
/// id and secret.
pub async fn create(store: &dyn tiltas_store::Store, name: &str, scope: ApiScope) -> anyhow::Result<(i64, String)> {
    let created = tiltas_server::keys::store_new_key(store, name, scope, None).await?;
    Ok((created.id, created.secret))
}

/// The moment a key created now with `lifetime` expires.
fn expiry(lifetime: std::time::Duration) -> anyhow::Result<DateTime<Utc>> {
    chrono::Duration::from_std(lifetime)
        .ok()
        .and_then(|lifetime| Utc::now().checked_add_signed(lifetime))
        .ok_or_else(|| anyhow::anyhow!("--expires {lifetime:?} is too far away: give at most a few years, e.g. 365d"))
}

/// A key's state in `tiltas keys list`.
fn key_state(key: &tiltas_store::ApiKey, now: DateTime<Utc>) -> String {
    let minute = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M").to_string();
    match (key.revoked_at, key.expires_at) {
        (Some(at), _) => format!("revoked {}", minute(at)),
        (None, Some(at)) if at <= now => format!("expired {}", minute(at)),
        (None, Some(at)) => format!("active until {}", minute(at)),
        (None, None) => "active".to_owned(),
    }
}

/// Runs a `keys` subcommand.
pub async fn run(global: &GlobalArgs, command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Create(args) => {
            let store = store(global, args.config.as_deref()).await?;
            let scope = match args.scope {
                KeyScope::Read => ApiScope::Read,
                KeyScope::Write => ApiScope::Write,
                KeyScope::Admin => ApiScope::Admin,
            };
            let expires_at = args.expires.map(expiry).transpose()?;
            let CreatedKey { id, secret } =
                create_key(store.as_ref(), &args.name, scope, expires_at, &Actor::cli()).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "id": id, "name": args.name, "scope": scope, "expires_at": expires_at, "key": secret })
                );
            } else {
                println!("{secret}");
                eprintln!(
                    "key {id} (\"{}\", scope {scope:?}) created; it is shown only now — send it as `Authorization: Bearer KEY`",
                    args.name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::List(args) => {
            let store = store(global, args.config.as_deref()).await?;
            let keys = store.api_keys().await?;
            if args.json {
                for key in &keys {
                    println!("{}", serde_json::to_string(key)?);
                }
            } else if keys.is_empty() {
                println!("no API keys: create one with `tiltas keys create --scope read|write|admin`");
            } else {
                let now = Utc::now();
                let rows: Vec<[String; 6]> = keys
                    .iter()
                    .map(|key| {
                        [
                            key.id.to_string(),
                            key.name.clone(),
                            format!("{:?}", key.scope).to_lowercase(),
                            key.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                            key.last_used_at
                                .map_or_else(|| "never".to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string()),
                            key_state(key, now),
                        ]
                    })
                    .collect();
                super::flows::print_table(
                    &["ID", "NAME", "SCOPE", "CREATED (UTC)", "LAST USED (UTC)", "STATE"],
                    &rows,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Revoke(args) => {
            let store = store(global, args.config.as_deref()).await?;
            if revoke_key(store.as_ref(), args.id, &Actor::cli()).await?.is_some() {
                println!("key {} revoked", args.id);
                Ok(ExitCode::SUCCESS)
            } else {
                anyhow::bail!("no active key {}: `tiltas keys list` shows the keys", args.id)
            }
        }
    }
}
