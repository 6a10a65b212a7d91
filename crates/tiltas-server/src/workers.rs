//! This process as one of several workers on a store: its registration and heartbeat (with
//! what it runs right now), the flows and the inbox it is running ([`Running`]), and a stop
//! that lets the current page finish, gives up leases and claims, and leaves the registry.
use crate::AppState;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use tiltas_store::WorkerKind;
use tokio::sync::watch;

/// How often a worker beats its heart.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(3);
/// A worker silent this long (three heartbeats and a margin) is shown as gone.
pub const GONE_AFTER: Duration = Duration::from_secs(10);
/// A worker silent this long is removed from the registry.
pub const PRUNE_AFTER: Duration = Duration::from_secs(600);

/// What this process runs right now: flow names and `inbox`, each with how many tasks run it.
#[derive(Debug, Default)]
pub struct Running {
    tasks: Mutex<BTreeMap<String, usize>>,
    /// Bumped whenever a task ends, so a stop can wait for the last one.
    ended: Mutex<Option<watch::Sender<usize>>>,
}

/// Marks one task as running until dropped.
pub struct RunningTask<'a> {
    running: &'a Running,
    name: String,
}

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, usize>> {
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks `name` running until the returned guard is dropped.
    pub fn enter(&self, name: &str) -> RunningTask<'_> {
        *self.lock().entry(name.to_owned()).or_default() += 1;
        RunningTask {
            running: self,
            name: name.to_owned(),
        }
    }

    /// What runs now, by name.
    pub fn names(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Waits until nothing runs, at most `timeout`; true when nothing runs.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut ended = {
            let mut sender = self.ended.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            sender.get_or_insert_with(|| watch::channel(0).0).subscribe()
        };
        let idle = async {
            while !self.lock().is_empty() {
                if ended.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(timeout, idle).await.is_ok()
    }
}

impl Drop for RunningTask<'_> {
    fn drop(&mut self) {
        {
            let mut tasks = self.running.lock();
            if let Some(count) = tasks.get_mut(&self.name) {
                *count -= 1;
                if *count == 0 {
                    tasks.remove(&self.name);
                }
            }
        }
        let sender = self
            .running
            .ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = sender.as_ref() {
            sender.send_modify(|ended| *ended += 1);
        }
    }
}

/// Registers this process in the store and beats its heart until the process ends: every
/// [`HEARTBEAT_EVERY`] with what it runs; registers again if it was pruned (a long pause);
/// prunes workers silent for [`PRUNE_AFTER`].
pub async fn run_heartbeat(state: AppState, kind: WorkerKind) {
    let id = tiltas_engine::worker_id();
    if let Err(error) = state.store.worker_register(id, kind).await {
        tracing::warn!(%error, worker = id, "could not register as a worker; retrying with the next heartbeat");
    }
    let mut ticks = tokio::time::interval(HEARTBEAT_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if tiltas_engine::stop_requested() {
            return;
        }
        let beat = state.store.worker_heartbeat(id, &state.running.names()).await;
        let registered = match beat {
            Ok(true) => Ok(()),
            Ok(false) => state.store.worker_register(id, kind).await,
            Err(error) => Err(error),
        };
        if let Err(error) = registered {
            tracing::warn!(%error, worker = id, "worker heartbeat failed");
        }
        // A live worker keeps its claims on deliveries however long its round takes.
        if let Err(error) = state.store.inbox_claims_renew(id, state.claim_ttl).await {
            tracing::warn!(%error, worker = id, "could not renew this worker's inbox claims");
        }
        let silent_since = chrono::Utc::now() - chrono::Duration::from_std(PRUNE_AFTER).unwrap_or_default();
        if let Err(error) = state.store.workers_prune(silent_since).await {
            tracing::debug!(%error, "pruning silent workers failed");
        }
    }
}

/// Stops this worker: no new run or delivery starts, runs end after their current page
/// (their leases released), at most `grace` is waited for them; then the inbox claims are
/// given up and the worker leaves the registry. Returns whether everything ended in time.
pub async fn stop_worker(state: &AppState, grace: Duration) -> bool {
    tiltas_engine::request_stop();
    // Wakes an inbox worker waiting for work, so it sees the stop at once.
    state.inbox.notify_one();
    let idle = state.running.wait_idle(grace).await;
    if !idle {
        tracing::warn!(running = ?state.running.names(), "stopping before these ended; their leases lapse");
    }
    let id = tiltas_engine::worker_id();
    if let Err(error) = state.store.worker_remove(id).await {
        tracing::warn!(%error, worker = id, "could not leave the workers list; it shows as gone after a few seconds");
    }
    idle
}

/// How often a worker looks for scheduled flows whose run was cut short elsewhere.
pub const RESUME_CHECK_EVERY: Duration = Duration::from_secs(5);

/// What the stored error of a run cut short says (a stop between pages, a cancelled task).
const INTERRUPTED: &str = "the run was interrupted";

/// Takes over scheduled flows whose last run was cut short — its worker killed (its run still
/// `running`, its lease lapsed or its worker gone from the registry) or stopped between pages
/// — and runs them now, so the flow continues from its last settled page instead of waiting
/// for its next period. The flow's lease still decides: a run that is in fact going on
/// elsewhere makes this attempt `Busy`, and nothing happens.
pub async fn run_resumer(state: AppState, flows: Vec<String>) {
    let mut ticks = tokio::time::interval(RESUME_CHECK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if tiltas_engine::stop_requested() {
            return;
        }
        for flow in &flows {
            if state.running.names().contains(flow) {
                continue;
            }
            match cut_short(&state, flow).await {
                Ok(true) => {
                    tracing::info!(
                        flow,
                        "the flow's last run was cut short; resuming it here (its lease decides)"
                    );
                    crate::worker::run_flow(&state, flow).await;
                }
                Ok(false) => {}
                Err(error) => tracing::debug!(flow, %error, "could not look at the flow's last run"),
            }
        }
    }
}

/// Whether the last scheduled (or by-hand) run of `flow` was cut short and nobody runs it now.
pub(crate) async fn cut_short(state: &AppState, flow: &str) -> Result<bool, tiltas_store::StoreError> {
    let runs = state.store.runs(Some(flow), 10).await?;
    let Some(last) = runs.iter().find(|run| {
        matches!(
            run.mode,
            tiltas_store::RunMode::Incremental | tiltas_store::RunMode::Full
        )
    }) else {
        return Ok(false);
    };
    match last.status {
        tiltas_store::RunStatus::Failed => Ok(last.error.as_deref().is_some_and(|error| error.contains(INTERRUPTED))),
        tiltas_store::RunStatus::Running => {
            let Some(lease) = state.store.lease(&format!("flow:{flow}")).await? else {
                // A run without a live lease: its worker died and the lease lapsed.
                return Ok(true);
            };
            Ok(!holder_is_live(state, &lease.holder).await?)
        }
        _ => Ok(false),
    }
}

/// Whether a lease holder (`HOST:PID:…`) belongs to a worker whose heartbeat is recent. A
/// holder that is no registered worker (a `tiltas sync` by hand) counts as gone; the engine
/// then still refuses to take a lease whose holder lives on this machine.
async fn holder_is_live(state: &AppState, holder: &str) -> Result<bool, tiltas_store::StoreError> {
    let Some((host_and_pid, _)) = holder.rsplit_once(':') else {
        return Ok(false);
    };
    let prefix = format!("{host_and_pid}:");
    let live_since = chrono::Utc::now() - chrono::Duration::from_std(GONE_AFTER).unwrap_or_default();
    Ok(state
        .store
        .workers()
        .await?
        .iter()
        .any(|worker| worker.id.starts_with(&prefix) && worker.heartbeat_at >= live_since))
}
