//! `tiltas serve` (API, webhooks, metrics, dashboard, scheduler, inbox worker); the worker part
//! is shared with `tiltas worker` and `tiltas run` ([`super::worker`]).
use super::worker::WorkerHost;
use crate::args::{GlobalArgs, ServeArgs};
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;
use tiltas_store::WorkerKind;
use tower::ServiceExt;

/// Serves until SIGTERM or Ctrl-C; prints `listening on http://ADDR` when ready. The HTTP
/// routes answer with the current flow file (a reload swaps it).
pub async fn serve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let host = match WorkerHost::start(global, &args.config, &args.worker, WorkerKind::Serve).await? {
        Ok(host) => host,
        Err(code) => return Ok(code),
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}: choose another address with --listen", args.listen))?;
    let address = listener.local_addr()?;
    // The router of the current state, rebuilt when a reload swaps the state.
    let (router_sender, routers) = tokio::sync::watch::channel(tiltas_server::router(host.state()));
    let mut states = host.states();
    tokio::spawn(async move {
        while states.changed().await.is_ok() {
            let state = states.borrow_and_update().clone();
            let _ = router_sender.send_replace(tiltas_server::router(state));
        }
    });
    let current_router = tower::service_fn(move |request: axum::extract::Request| {
        let router = routers.borrow().clone();
        async move { router.oneshot(request).await }
    });
    let app = axum::Router::new().fallback_service(current_router);
    println!("listening on http://{address}");
    std::io::stdout().flush()?;
    tracing::info!(%address, flows = host.state().config.flows.len(), "serving");
    let (stopped, stop_http) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_http.await;
            })
            .await
    });
    let code = host.run_until_stopped().await;
    let _ = stopped.send(());
    http.await
        .context("the server stopped")?
        .context("the server stopped")?;
    Ok(code)
}
