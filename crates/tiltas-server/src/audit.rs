//! Recording admin actions in the store's audit log: who (the API key's name, or `cli:USER`),
//! what, on what, and from where. The server records its own actions; the CLI (`tiltas keys`,
//! `tiltas forget`, `tiltas secrets set`) calls [`record`] with [`Actor::cli`].
use crate::security::ClientAddress;
use tiltas_store::{ApiKey, NewAuditEntry, Store};

/// Who did an admin action, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The API key's name, or `cli:USER`.
    pub name: String,
    /// The client address, or `cli`.
    pub origin: String,
}

impl Actor {
    /// A request signed in with `key` from `address`.
    pub fn key(key: &ApiKey, address: &ClientAddress) -> Actor {
        Actor {
            name: key.name.clone(),
            origin: address.to_string(),
        }
    }

    /// The command line, as the operating-system user running it (`USER`, `USERNAME` on
    /// Windows; `unknown` when neither is set).
    pub fn cli() -> Actor {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Actor {
            name: format!("cli:{user}"),
            origin: "cli".to_owned(),
        }
    }
}

/// Records an action that was done. The action already happened, so a store failure here is
/// logged at ERROR (with everything the entry held) rather than undoing or hiding it.
pub async fn record(store: &dyn Store, actor: &Actor, action: &str, target: &str, detail: serde_json::Value) {
    let entry = NewAuditEntry {
        actor: actor.name.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail,
        origin: actor.origin.clone(),
    };
    if let Err(error) = store.audit_record(&entry).await {
        tracing::error!(
            actor = %entry.actor, action, target, origin = %entry.origin, detail = %entry.detail, %error,
            "the audit log could not record an admin action"
        );
    }
}

/// Records `tiltas secrets set` sealing a connection's secret `key` in the store (called once
/// the secret is stored). The value is never recorded.
pub async fn record_secret_set(store: &dyn Store, connection: &str, key: &str) {
    record(
        store,
        &Actor::cli(),
        tiltas_store::actions::SECRET_SET,
        connection,
        serde_json::json!({ "key": key }),
    )
    .await;
}
