//! What `tiltas serve`, `tiltas worker` and `tiltas run` share: the start-up (flow file,
//! store, state), this process as a worker on the store (registered, heartbeat), the inbox
//! worker and the scheduler, the flow file reloaded on SIGHUP or when it changes, and the stop
//! on SIGTERM or Ctrl-C (the current page finishes, leases and claims are given up, the worker
//! leaves the registry, exit 0).
use crate::args::{ConfigArgs, GlobalArgs, WorkerArgs, WorkerOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tiltas_engine::Engine;
use tiltas_server::AppState;
use tiltas_store::WorkerKind;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the flow file's modification time is looked at.
const RELOAD_POLL: Duration = Duration::from_secs(2);
/// How long a stop waits for running pages to finish.
const STOP_GRACE: Duration = Duration::from_secs(60);

/// This process as a worker: its current state and the tasks running it.
pub(crate) struct WorkerHost {
    path: PathBuf,
    current: watch::Sender<AppState>,
    /// The inbox worker and the scheduler of the current flow file.
    background: Vec<JoinHandle<()>>,
    heartbeat: JoinHandle<()>,
    modified: Option<SystemTime>,
}

/// Why the host stopped waiting.
enum Wake {
    Stop,
    Reload(&'static str),
}

impl WorkerHost {
    /// Loads the flow file, opens the store and starts the worker (registered as `kind`); the
    /// exit code instead when the flow file has problems (they are printed).
    pub async fn start(
        global: &GlobalArgs,
        config: &ConfigArgs,
        options: &WorkerOptions,
        kind: WorkerKind,
    ) -> anyhow::Result<Result<WorkerHost, ExitCode>> {
        let path = config.config.clone();
        let loaded = match super::load_or_report(&path) {
            Ok(loaded) => loaded,
            Err(code) => return Ok(Err(code)),
        };
        let store = crate::store_url::open(global.db.as_deref(), Some(&loaded)).await?;
        let loaded = super::secrets::unseal(loaded, &store).await?;
        let mut state = AppState::new(loaded, store, tiltas_systems::registry::systems());
        state.claim_ttl = Duration::from_secs(options.claim_ttl);
        let heartbeat = tokio::spawn(tiltas_server::run_heartbeat(state.clone(), kind));
        let background = spawn_background(&state);
        tracing::info!(
            worker = tiltas_engine::worker_id(),
            kind = kind.as_str(),
            "joined the store as a worker"
        );
        Ok(Ok(WorkerHost {
            modified: modified_at(&path),
            path,
            current: watch::Sender::new(state),
            background,
            heartbeat,
        }))
    }

    /// The state now (a reload replaces it).
    pub fn state(&self) -> AppState {
        self.current.borrow().clone()
    }

    /// Follows the current state (the HTTP server answers with the latest).
    pub fn states(&self) -> watch::Receiver<AppState> {
        self.current.subscribe()
    }

    /// Runs until SIGTERM or Ctrl-C, reloading the flow file on SIGHUP or when it changes;
    /// then stops gracefully. Exit 0 when everything ended in time.
    pub async fn run_until_stopped(mut self) -> ExitCode {
        let mut signals = Signals::new();
        let mut poll = tokio::time::interval(RELOAD_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = tokio::select! {
                () = stop_signal(&mut signals.terminate) => Wake::Stop,
                () = hangup_signal(&mut signals.hangup) => Wake::Reload("SIGHUP"),
                _ = poll.tick() => {
                    let modified = modified_at(&self.path);
                    if modified == self.modified { continue; }
                    self.modified = modified;
                    Wake::Reload("the file changed")
                }
            };
            match wake {
                Wake::Stop => break,
                Wake::Reload(why) => self.reload(why).await,
            }
        }
        let state = self.state();
        eprintln!("stopping: finishing the current pages, then leaving");
        let clean = tiltas_server::stop_worker(&state, STOP_GRACE).await;
        for task in self.background.drain(..) {
            task.abort();
        }
        self.heartbeat.abort();
        if clean {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// Reads the flow file again; a valid one replaces the running configuration (its
    /// scheduler and inbox worker start afresh), an invalid one is logged with FILE:LINE:COL
    /// and the previous one keeps running.
    async fn reload(&mut self, why: &str) {
        let path = self.path.display().to_string();
        let loaded = match tiltas_engine::load_config(&self.path, tiltas_systems::registry::catalog()) {
            Ok(loaded) => loaded,
            Err(problems) => {
                tracing::error!(file = %path, "the flow file has problems; still running the previous one:\n{problems}");
                eprintln!("{problems}\n{path}: not reloaded ({why}); still running the previous flow file");
                return;
            }
        };
        let old = self.state();
        let config = match super::secrets::unseal(loaded, &old.store).await {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(file = %path, %error, "the flow file's stored secrets cannot be read; still running the previous one");
                eprintln!("{path}: not reloaded ({why}): {error:#}; still running the previous flow file");
                return;
            }
        };
        let engine = Engine::new(config.clone(), old.store.clone(), tiltas_systems::registry::systems());
        let state = AppState {
            config,
            engine: Arc::new(engine),
            ..old
        };
        // A run cut here repeats its page in the next run, as after a crash: nothing is lost
        // or sent twice (the outbox and the delivered hashes see to it).
        for task in self.background.drain(..) {
            task.abort();
        }
        let worker = tiltas_engine::worker_id();
        if let Err(error) = state.store.inbox_release(worker).await {
            tracing::warn!(%error, "could not give up inbox claims on reload; they lapse after the claim TTL");
        }
        self.background = spawn_background(&state);
        self.current.send_replace(state);
        tracing::info!(file = %path, why, "flow file reloaded");
        eprintln!("{path}: reloaded ({why})");
    }
}

/// Starts the inbox worker and the scheduler of `state`.
fn spawn_background(state: &AppState) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(tiltas_server::run_worker(state.clone())),
        tokio::spawn(tiltas_server::run_scheduler(state.clone())),
    ]
}

fn modified_at(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok()
}

/// SIGTERM and Ctrl-C (stop), SIGHUP (reload); on other systems Ctrl-C alone.
struct Signals {
    terminate: Option<Signal>,
    hangup: Option<Signal>,
}

#[cfg(unix)]
type Signal = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Signal = std::convert::Infallible;

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                terminate: signal(SignalKind::terminate()).ok(),
                hangup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {
            terminate: None,
            hangup: None,
        }
    }
}

/// Ctrl-C, or SIGTERM when it can be listened to.
async fn stop_signal(terminate: &mut Option<Signal>) {
    #[cfg(unix)]
    if let Some(terminate) = terminate.as_mut() {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        return;
    }
    let _ = terminate;
    let _ = tokio::signal::ctrl_c().await;
}

/// SIGHUP; never where it cannot be listened to.
async fn hangup_signal(hangup: &mut Option<Signal>) {
    #[cfg(unix)]
    if let Some(hangup) = hangup.as_mut() {
        hangup.recv().await;
        return;
    }
    let _ = hangup;
    std::future::pending::<()>().await;
}

/// `tiltas worker` (and `tiltas run`): the scheduler and the inbox worker, no HTTP.
pub async fn run(global: &GlobalArgs, args: &WorkerArgs, kind: WorkerKind) -> anyhow::Result<ExitCode> {
    let host = match WorkerHost::start(global, &args.config, &args.worker, kind).await? {
        Ok(host) => host,
        Err(code) => return Ok(code),
    };
    let state = host.state();
    eprintln!(
        "worker {} running {} flow(s) on their schedules and the webhook inbox; SIGTERM or Ctrl-C stops, SIGHUP reloads the flow file",
        tiltas_engine::worker_id(),
        state.config.flows.iter().filter(|flow| flow.schedule.is_some()).count()
    );
    Ok(host.run_until_stopped().await)
}
