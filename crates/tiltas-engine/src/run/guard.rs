//! The bookkeeping around a run: the flow's lease (one worker runs a flow at a time) and the
//! stored run record. [`RunGuard::finish`] ends both on every path out of a run; a guard
//! dropped without it (a cancelled task, a panic) still releases the lease and marks the run
//! failed, so a flow is never left locked until the lease expires.
use crate::EngineError;
use std::sync::Arc;
use std::time::Duration;
use tiltas_store::{RunId, RunMode, RunStatus, Store};

/// How long a run's lease lasts without renewal; renewed after every page.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(300);

/// A run's lease and run record, released and finished exactly once.
pub(crate) struct RunGuard {
    store: Arc<dyn Store>,
    holder: String,
    /// The lease and the stored run; `None` for a dry run, which holds neither.
    held: Option<(String, RunId)>,
}

impl RunGuard {
    /// A dry run's guard: it holds nothing and records nothing.
    pub fn unrecorded(store: Arc<dyn Store>, holder: &str) -> RunGuard {
        RunGuard {
            store,
            holder: holder.to_owned(),
            held: None,
        }
    }

    /// Claims the flow's lease and starts its run; `Busy` names who holds the lease.
    pub async fn begin(
        store: Arc<dyn Store>,
        holder: &str,
        flow: &str,
        mode: RunMode,
    ) -> Result<RunGuard, EngineError> {
        let lease = format!("flow:{flow}");
        if !claim(store.as_ref(), &lease, holder).await? {
            let current = store.lease(&lease).await?;
            return Err(EngineError::Busy {
                flow: flow.to_owned(),
                holder: current
                    .as_ref()
                    .map_or_else(|| "another worker".to_owned(), |lease| lease.holder.clone()),
                until: current.map_or_else(|| "soon".to_owned(), |lease| lease.expires_at.to_rfc3339()),
            });
        }
        match store.run_start(flow, mode).await {
            Ok(run) => Ok(RunGuard {
                store,
                holder: holder.to_owned(),
                held: Some((lease, run)),
            }),
            Err(error) => {
                store.lease_release(&lease, holder).await?;
                Err(error.into())
            }
        }
    }

    /// The stored run, when the run is recorded.
    pub fn run(&self) -> Option<RunId> {
        self.held.as_ref().map(|(_, run)| *run)
    }

    /// Extends the lease: called after every settled page.
    pub async fn renew(&self) -> Result<(), EngineError> {
        if let Some((lease, _)) = &self.held {
            self.store.lease_renew(lease, &self.holder, LEASE_TTL).await?;
        }
        Ok(())
    }

    /// Records how the run ended and releases the lease (both, even when one fails). A run that
    /// ended without an error but dead-lettered `failed` records is `partial`.
    pub async fn finish(mut self, error: Option<&EngineError>, failed: u64) -> Result<(), EngineError> {
        let Some((lease, run)) = self.held.take() else {
            return Ok(());
        };
        let (status, message) = match error {
            None if failed > 0 => (RunStatus::Partial, None),
            None => (RunStatus::Succeeded, None),
            Some(error) => (RunStatus::Failed, Some(error.to_string())),
        };
        let finished = self.store.run_finish(run, status, message.as_deref()).await;
        self.store.lease_release(&lease, &self.holder).await?;
        finished?;
        Ok(())
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let Some((lease, run)) = self.held.take() else {
            return;
        };
        // Only a run abandoned mid-way gets here (its task cancelled, or a panic): finish it
        // in the background, as `finish` would have.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, holder) = (self.store.clone(), self.holder.clone());
        runtime.spawn(async move {
            let message = "the run was interrupted (its task was cancelled or panicked)";
            if let Err(error) = store.run_finish(run, RunStatus::Failed, Some(message)).await {
                tracing::warn!(%error, "could not record an interrupted run");
            }
            if let Err(error) = store.lease_release(&lease, &holder).await {
                tracing::warn!(%error, lease, "could not release an interrupted run's lease");
            }
        });
    }
}

/// Claims a lease. A lease held by a process of this machine that no longer exists (killed,
/// crashed) is taken over at once instead of waiting for it to expire.
async fn claim(store: &dyn Store, lease: &str, holder: &str) -> Result<bool, EngineError> {
    if store.lease_acquire(lease, holder, LEASE_TTL).await? {
        return Ok(true);
    }
    match store.lease(lease).await? {
        Some(current) if holder_is_gone(&current.holder) => {
            tracing::warn!(lease, holder = %current.holder, "taking over the lease of a process that has died");
            store.lease_release(lease, &current.holder).await?;
            Ok(store.lease_acquire(lease, holder, LEASE_TTL).await?)
        }
        _ => Ok(false),
    }
}

/// This machine's name, as lease holders record it.
pub(crate) fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Whether a lease holder (`HOST:PID:RUN`) is a process of this machine that has ended. Only
/// answerable where /proc lists processes (Linux); elsewhere the lease is left to expire.
fn holder_is_gone(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (Some(_run), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let proc_fs = std::path::Path::new("/proc/self").exists();
    proc_fs
        && host == this_host()
        && pid.parse::<u32>().is_ok()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// This process's worker id, `HOST:PID:STARTED` (start time in Unix seconds): what the workers
/// list, the metrics' `worker` label and the logs name a process by. Fixed for the process's
/// life; an engine's lease holder (several engines may share a process) starts with the same
/// host and pid.
pub fn worker_id() -> &'static str {
    static WORKER_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    WORKER_ID.get_or_init(|| {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default();
        format!("{}:{}:{started}", this_host(), std::process::id())
    })
}
