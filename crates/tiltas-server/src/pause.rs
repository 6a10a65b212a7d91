//! Connections paused because the system refused their credentials: a wrong key or a refresh
//! token that is expired, revoked or spent fails every run the same way, so the scheduler stops
//! running the connection's flows — no stream of failing calls — and the API and dashboard say
//! why and what fixes it. A connection signed in again (`tiltas connect` put a new token in the
//! store), a run that succeeds (run now, a webhook) or switching it on again resumes it.
use crate::AppState;
use std::collections::BTreeMap;
use tiltas_connector::ErrorKind;
use tiltas_engine::{EngineError, SyncReport};

/// Why a connection is paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    /// The refusal, as the connector reported it (it names the fix).
    pub reason: String,
    /// The sealed sign-in token in the store when it was refused: a different one means the
    /// connection was signed in again.
    token: Option<String>,
}

/// The paused connections of this process, by name.
pub type PausedConnections = BTreeMap<String, Paused>;

impl AppState {
    /// Why `connection` is paused, when it is.
    pub fn paused(&self, connection: &str) -> Option<Paused> {
        self.paused
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(connection)
            .cloned()
    }

    /// Resumes `connection`; whether it was paused.
    pub fn resume(&self, connection: &str) -> bool {
        let resumed = self
            .paused
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(connection)
            .is_some();
        if resumed {
            tracing::info!(connection, "connection resumed: its flows run again");
        }
        resumed
    }

    /// Counts a finished run and pauses or resumes the connections it used: refused
    /// credentials pause the connection that refused them, success resumes both of the flow's.
    pub async fn after_run(&self, flow: &str, result: &Result<SyncReport, EngineError>) {
        self.count_run(flow, result);
        match result {
            Err(EngineError::Connector { connection, error, .. }) if error.kind == ErrorKind::Auth => {
                let token = self.sign_in_token(connection).await;
                let reason = format!("connection \"{connection}\": {error}");
                tracing::warn!(connection, %reason, "connection paused: its credentials were refused");
                self.paused
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(connection.clone(), Paused { reason, token });
            }
            Ok(_) => {
                if let Some(definition) = self.config.flow(flow) {
                    self.resume(&definition.from.connection);
                    self.resume(&definition.to.connection);
                }
            }
            Err(_) => {}
        }
    }

    /// Whether a scheduled run of the connection's flows should wait: it is paused, and has
    /// not been signed in again since.
    pub async fn waits_for_sign_in(&self, connection: &str) -> bool {
        let Some(paused) = self.paused(connection) else {
            return false;
        };
        let token = self.sign_in_token(connection).await;
        if token.is_some() && token != paused.token {
            return !self.resume(connection);
        }
        true
    }

    /// The sealed token `tiltas connect` keeps for the connection, for systems signed in to.
    async fn sign_in_token(&self, connection: &str) -> Option<String> {
        let definition = self.config.connection(connection)?;
        let system = self.engine.systems().of(definition).ok()?;
        let authorization = system.authorization(definition).ok()??;
        self.store
            .credential(connection, authorization.token_name)
            .await
            .ok()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use crate::AppState;
    use std::sync::Arc;
    use tiltas_sim::Harness;
    use tiltas_systems::reference::simulator::{router, ReferenceSim, Seeding};

    /// A server state with a flow reading products from a system given a wrong token.
    async fn refused() -> (tempfile::TempDir, AppState) {
        let seeding = Seeding {
            seed: 5,
            products: 3,
            customers: 0,
            orders: 0,
        };
        let sim = Arc::new(ReferenceSim::new("right-token", seeding));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, 5)))
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[connections.erp]\nsystem = \"reference\"\nbase_url = \"{url}\"\ntoken = \"wrong-token\"\n\n\
             [connections.files]\nsystem = \"jsonl\"\n\n\
             [[flows]]\nname = \"products\"\nentity = \"product\"\nfrom = {{ connection = \"erp\" }}\n\
             to = {{ connection = \"files\", file = \"out.jsonl\" }}\n"
        );
        let config = tiltas_config::parse_str(
            &text,
            &dir.path().join("flows.toml"),
            tiltas_systems::registry::catalog(),
        )
        .unwrap_or_else(|errors| panic!("{errors}"));
        let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let state = AppState::new(Arc::new(config), store, tiltas_systems::registry::systems());
        (dir, state)
    }

    async fn runs(state: &AppState) -> usize {
        state.store.runs(Some("products"), 10).await.unwrap().len()
    }

    #[tokio::test]
    async fn refused_credentials_pause_the_connections_scheduled_runs_until_it_is_switched_on_again() {
        let (_dir, state) = refused().await;
        crate::worker::run_flow(&state, "products").await;
        let paused = state.paused("erp").expect("paused after the refusal");
        assert!(paused.reason.contains("erp"), "{}", paused.reason);
        assert_eq!(runs(&state).await, 1);

        // The schedule comes round again: nothing is sent while the credentials are wrong.
        crate::worker::run_flow(&state, "products").await;
        crate::worker::run_flow(&state, "products").await;
        assert_eq!(runs(&state).await, 1, "no run while paused");
        let view = crate::api::connection_views(&state)
            .into_iter()
            .find(|view| view.name == "erp")
            .unwrap();
        assert_eq!(view.paused.as_deref(), Some(paused.reason.as_str()));

        // Switching it on again (after fixing the token) resumes it; the next turn runs.
        crate::api::switch_connection(&state, "erp", true, &crate::audit::Actor::cli())
            .await
            .unwrap();
        assert!(state.paused("erp").is_none());
        crate::worker::run_flow(&state, "products").await;
        assert_eq!(runs(&state).await, 2);
    }
}
