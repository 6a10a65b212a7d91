//! The engine: the flows of one configuration, prepared once, run against one store with the
//! systems of the build.
use crate::gate::ConnectionGate;
use crate::orders::OrderPipeline;
use crate::report::{SyncOptions, SyncReport};
use crate::run::{connector_error, this_host, Connectors, PreparedFlow};
use crate::vault::StoreVault;
use crate::EngineError;
use std::collections::HashMap;
use std::sync::Arc;
use tiltas_config::{Connection, Flow, ValidatedConfig};
use tiltas_connector::vault::CredentialVault;
use tiltas_connector::{
    CallGate, ConnectorError, OpenContext, Page, ReadRequest, Source, SourceRecord, Systems, Target,
};
use tiltas_model::EntityKind;
use tiltas_store::{DeadLetter, RunMode, Store};

/// Runs flows of one configuration against one store.
pub struct Engine {
    pub(crate) config: Arc<ValidatedConfig>,
    pub(crate) store: Arc<dyn Store>,
    systems: Systems,
    pub(crate) holder: String,
    gates: std::sync::Mutex<HashMap<String, Arc<ConnectionGate>>>,
    /// Every flow compiled once; a flow whose mapping does not compile keeps its error.
    prepared: HashMap<String, Result<Arc<PreparedFlow>, String>>,
    /// Credentials connections obtain at run time, sealed in the store.
    vault: Arc<dyn CredentialVault>,
}

impl Engine {
    /// An engine for a validated configuration, a store, and the systems of the build.
    pub fn new(config: Arc<ValidatedConfig>, store: Arc<dyn Store>, systems: Systems) -> Engine {
        let host = this_host();
        let holder = format!("{host}:{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let prepared = config
            .flows
            .iter()
            .map(|flow| {
                let prepared = PreparedFlow::new(&config, flow).map(Arc::new);
                (flow.name.clone(), prepared.map_err(|error| error.to_string()))
            })
            .collect();
        let vault: Arc<dyn CredentialVault> = Arc::new(StoreVault::new(store.clone(), &config.base_dir));
        Engine {
            vault,
            config,
            store,
            systems,
            holder,
            gates: std::sync::Mutex::new(HashMap::new()),
            prepared,
        }
    }

    /// This engine's lease holder (`HOST:PID:UNIQUE`): who holds a flow's lease while it runs.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The configuration the engine runs.
    pub fn config(&self) -> &ValidatedConfig {
        &self.config
    }

    /// The systems the engine opens connectors of.
    pub fn systems(&self) -> Systems {
        self.systems
    }

    /// The store the engine keeps its state in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Where connections keep credentials obtained at run time (sealed in the store).
    pub fn vault(&self) -> Arc<dyn CredentialVault> {
        self.vault.clone()
    }

    /// Runs one flow once, with the connectors its configuration names. A dry run opens the
    /// target too, to look records up, but never writes to it.
    pub async fn sync(&self, flow_name: &str, options: &SyncOptions) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let source = self.open_source(flow)?;
        let target = self.open_target(flow)?;
        self.sync_with(flow_name, source, Some(target), options).await
    }

    /// Runs one flow once with connectors the caller opened (tests, embedding).
    pub async fn sync_with(
        &self,
        flow_name: &str,
        source: Box<dyn Source>,
        target: Option<Box<dyn Target>>,
        options: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let mode = if options.full {
            RunMode::Full
        } else {
            RunMode::Incremental
        };
        let connectors = Connectors {
            source,
            target,
            admission: None,
            record_keys: None,
        };
        self.run(flow_name, connectors, options, mode).await
    }

    /// Sends dead letters of a flow again through the flow's current mapping (with their
    /// payloads as edited): those delivered are resolved, those failing again stay open with
    /// one more attempt. The flow's cursor is left alone.
    pub async fn replay(
        &self,
        flow_name: &str,
        letters: &[DeadLetter],
        options: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let target = self.open_target(flow)?;
        let records = letters
            .iter()
            .filter(|letter| letter.flow == flow.name)
            .map(|letter| SourceRecord {
                key: letter.source_key.clone(),
                updated_at: None,
                data: letter.payload.clone(),
            })
            .collect();
        let connectors = Connectors {
            source: Box::new(ReplaySource { records: Some(records) }),
            target: Some(target),
            admission: None,
            record_keys: None,
        };
        self.run(flow_name, connectors, options, RunMode::Replay).await
    }

    /// Delivers records a webhook brought (already verified by the connector), as an
    /// incremental run would: unchanged records are not sent again, so a delivery repeated by
    /// the shop, or one that a poll already brought, writes nothing. The cursor is left alone.
    pub async fn ingest(
        &self,
        flow_name: &str,
        records: Vec<SourceRecord>,
        options: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let record_keys = crate::spans::record_keys(records.iter().map(|record| record.key.as_str()));
        let connectors = Connectors {
            record_keys,
            source: Box::new(ReplaySource { records: Some(records) }),
            target: Some(self.open_target(flow)?),
            // The flow's own source, never read here: it decides which deliveries a read would
            // have returned, so a webhook passes the same filters (`statuses`, …) as polling.
            admission: Some(self.open_source(flow)?),
        };
        self.run(flow_name, connectors, options, RunMode::Webhook).await
    }

    fn open_source(&self, flow: &Flow) -> Result<Box<dyn Source>, EngineError> {
        self.systems
            .open_source_with(&self.config, flow, self.gate(&flow.from.connection), self.vault.clone())
            .map_err(|error| connector_error(flow, "source", error))
    }

    fn open_target(&self, flow: &Flow) -> Result<Box<dyn Target>, EngineError> {
        self.systems
            .open_target_with(&self.config, flow, self.gate(&flow.to.connection), self.vault.clone())
            .map_err(|error| connector_error(flow, "target", error))
    }

    /// The order pipeline of an order flow into an accounting system: its customer and
    /// product sides opened on the flow's `to` connection.
    pub(crate) fn order_pipeline(&self, flow: &Flow, writing: bool) -> Result<Option<OrderPipeline>, EngineError> {
        let to = self.connection(&flow.to.connection);
        if !writing || flow.entity != EntityKind::Order || !to.system.accounting {
            return Ok(None);
        }
        let system = self
            .systems
            .of(to)
            .map_err(|error| connector_error(flow, "target", error))?;
        let open = |entity: EntityKind, match_on: &str| {
            let context = OpenContext {
                connection: to,
                entity,
                settings: &flow.to.settings,
                match_on: Some(match_on),
                base_dir: &self.config.base_dir,
                gate: self.gate(&flow.to.connection),
                vault: self.vault.clone(),
            };
            system
                .open_target(&context)
                .map_err(|error| connector_error(flow, "target", error))
        };
        let customers = open(EntityKind::Customer, &flow.orders.customer_match)?;
        let products = open(EntityKind::Product, "sku")?;
        Ok(Some(OrderPipeline::new(flow, customers, products)))
    }

    /// A defined, enabled flow.
    fn flow(&self, flow_name: &str) -> Result<&Flow, EngineError> {
        let flow = self.config.flow(flow_name).ok_or_else(|| EngineError::UnknownFlow {
            name: flow_name.to_owned(),
            file: self.config.file.display().to_string(),
            known: self
                .config
                .flows
                .iter()
                .map(|flow| flow.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        if !flow.enabled {
            return Err(EngineError::Disabled(flow.name.clone()));
        }
        Ok(flow)
    }

    /// A defined, enabled flow as prepared when the engine was built.
    pub(crate) fn prepared(&self, flow_name: &str) -> Result<Arc<PreparedFlow>, EngineError> {
        let flow = self.flow(flow_name)?;
        match self.prepared.get(&flow.name) {
            Some(Ok(prepared)) => Ok(prepared.clone()),
            Some(Err(message)) => Err(EngineError::Mapping {
                flow: flow.name.clone(),
                message: message.clone(),
            }),
            None => PreparedFlow::new(&self.config, flow).map(Arc::new),
        }
    }

    /// The pacing and budget gate of a connection, shared by every flow this engine runs.
    /// The limits the system of connection `name` reported about itself in this process's
    /// answers (Smartup's quota classes), latest of each.
    pub fn reported_quotas(&self, name: &str) -> Vec<tiltas_connector::RemoteQuota> {
        let gates = self.gates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        gates.get(name).map(|gate| gate.reported()).unwrap_or_default()
    }

    pub(crate) fn gate(&self, name: &str) -> Arc<dyn CallGate> {
        let mut gates = self.gates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let gate = gates.entry(name.to_owned()).or_insert_with(|| {
            let connection = self.connection(name);
            let group = connection
                .budget_group
                .as_deref()
                .and_then(|group| self.config.budget_group(group));
            Arc::new(ConnectionGate::new(connection, group, self.store.clone()))
        });
        gate.clone()
    }

    pub(crate) fn connection(&self, name: &str) -> &Connection {
        // The validated configuration guarantees every flow names a defined connection.
        self.config
            .connection(name)
            .unwrap_or_else(|| unreachable!("validated configuration names an undefined connection {name:?}"))
    }
}

/// Dead letters' or a webhook's records as a one-page source.
struct ReplaySource {
    records: Option<Vec<SourceRecord>>,
}

#[async_trait::async_trait]
impl Source for ReplaySource {
    async fn read_page(&mut self, _request: &ReadRequest) -> Result<Page, ConnectorError> {
        let records = self.records.take().unwrap_or_default().into_iter().map(Ok).collect();
        Ok(Page {
            records,
            next: None,
            api_calls: 0,
        })
    }
}

/// The server runs flows on spawned tasks, so a run's future must stay `Send`: this does not
/// compile otherwise.
#[cfg(test)]
#[allow(dead_code)]
fn runs_are_send(engine: &Engine, options: &SyncOptions, letters: &[DeadLetter]) {
    fn send<T: Send>(_: T) {}
    send(engine.sync("flow", options));
    send(engine.ingest("flow", Vec::new(), options));
    send(engine.replay("flow", letters, options));
}
