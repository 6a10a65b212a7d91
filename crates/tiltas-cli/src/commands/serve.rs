//! `tiltas serve` (API, webhooks, metrics, dashboard, scheduler, inbox worker), over HTTP or,
//! with `--tls-cert`/`--tls-key`, HTTPS; the worker part is shared with `tiltas worker` and
//! `tiltas run` ([`super::worker`]).
use super::worker::WorkerHost;
use crate::args::{GlobalArgs, ServeArgs};
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;
use tiltas_store::WorkerKind;
use tower::ServiceExt;

/// Serves until SIGTERM or Ctrl-C; prints `listening on http(s)://ADDR` when ready. The HTTP
/// routes answer with the current flow file (a reload swaps it).
pub async fn serve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    // The certificate is checked before anything starts: a bad file is named at once.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(super::serve_tls::load(cert, key).await?),
        _ => None,
    };
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
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{address}");
    std::io::stdout().flush()?;
    tracing::info!(%address, flows = host.state().config.flows.len(), tls = tls.is_some(), "serving");
    let (stopped, stop_http) = tokio::sync::oneshot::channel::<()>();
    let stop_requested = async move {
        let _ = stop_http.await;
    };
    let http = tokio::spawn(async move {
        match tls {
            Some(tls) => super::serve_tls::serve(listener, tls, app, stop_requested).await,
            // The peer's address reaches the handlers (audit log "from", sign-in throttling).
            None => axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(stop_requested)
            .await
            .context("the server stopped"),
        }
    });
    let code = host.run_until_stopped().await;
    let _ = stopped.send(());
    http.await.context("the server stopped")??;
    Ok(code)
}
