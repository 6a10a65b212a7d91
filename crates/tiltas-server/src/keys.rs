//! Making and ending API keys, shared by `tiltas keys`, `POST`/`DELETE /api/v1/keys` and the
//! dashboard's Keys page: one way to generate a key, one hash kept in the store, one audit entry
//! per key created or revoked.
use crate::audit::{record, Actor};
use chrono::{DateTime, Utc};
use rand::distributions::Alphanumeric;
use rand::Rng;
use tiltas_store::{actions, hash_api_key, ApiKey, ApiScope, NewApiKey, Store, StoreResult};

/// A new key's secret: a recognisable prefix and 40 random letters and digits (from the
/// operating system's generator through `thread_rng`, a CSPRNG).
pub fn new_secret() -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("tiltas_{random}")
}

/// A key just made: its store id and the secret, which exists nowhere else once shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKey {
    /// Store id (`tiltas keys revoke ID`, `DELETE /api/v1/keys/{id}`).
    pub id: i64,
    /// The secret to send as `Authorization: Bearer …`.
    pub secret: String,
}

/// Makes a key named `name` with `scope`, stopping at `expires_at` (never when `None`), and
/// records `key.created` in the audit log as done by `actor`. The store keeps only the hash.
pub async fn create_key(
    store: &dyn Store,
    name: &str,
    scope: ApiScope,
    expires_at: Option<DateTime<Utc>>,
    actor: &Actor,
) -> StoreResult<CreatedKey> {
    let created = store_new_key(store, name, scope, expires_at).await?;
    let id = created.id;
    let detail = serde_json::json!({ "name": name, "scope": scope, "expires_at": expires_at });
    record(store, actor, actions::KEY_CREATED, &id.to_string(), detail).await;
    Ok(created)
}

/// Makes a key without an audit entry: for a key no person asked for (the one `tiltas demo`
/// signs its dashboard in with). Every other key goes through [`create_key`].
pub async fn store_new_key(
    store: &dyn Store,
    name: &str,
    scope: ApiScope,
    expires_at: Option<DateTime<Utc>>,
) -> StoreResult<CreatedKey> {
    let secret = new_secret();
    let id = store
        .api_key_create(&NewApiKey {
            name: name.to_owned(),
            scope,
            key_hash: hash_api_key(&secret),
            expires_at,
        })
        .await?;
    Ok(CreatedKey { id, secret })
}

/// Revokes the key with `id` and records `key.revoked` (with its name and scope) as done by
/// `actor`. Returns the key as it was, or `None` when there is no such key not yet revoked.
pub async fn revoke_key(store: &dyn Store, id: i64, actor: &Actor) -> StoreResult<Option<ApiKey>> {
    let Some(key) = store.api_keys().await?.into_iter().find(|key| key.id == id) else {
        return Ok(None);
    };
    if !store.api_key_revoke(id).await? {
        return Ok(None);
    }
    let detail = serde_json::json!({ "name": key.name, "scope": key.scope });
    record(store, actor, actions::KEY_REVOKED, &id.to_string(), detail).await;
    Ok(Some(key))
}

/// A key's state as people read it: `active`, `expired` or `revoked`.
pub fn key_state(key: &ApiKey, now: DateTime<Utc>) -> &'static str {
    if key.revoked_at.is_some() {
        "revoked"
    } else if key.expired(now) {
        "expired"
    } else {
        "active"
    }
}
