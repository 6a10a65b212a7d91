//! `tiltas serve` (API, webhooks, metrics, dashboard, scheduler, inbox worker) and `tiltas run`
//! (the scheduler and the inbox worker alone).
use crate::args::{ConfigArgs, GlobalArgs, ServeArgs};
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;
use tiltas_server::AppState;

async fn state(global: &GlobalArgs, config: &ConfigArgs) -> anyhow::Result<Result<AppState, ExitCode>> {
    let config = match super::load_or_report(&config.config) {
        Ok(config) => config,
        Err(code) => return Ok(Err(code)),
    };
    let store = crate::store_url::open(global.db.as_deref(), Some(&config)).await?;
    let config = super::secrets::unseal(config, &store).await?;
    Ok(Ok(AppState::new(config, store, tiltas_systems::registry::systems())))
}

/// Waits for Ctrl-C (or SIGTERM on Unix).
pub(super) async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Serves until Ctrl-C; prints `listening on http://ADDR` when ready.
pub async fn serve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let state = match state(global, &args.config).await? {
        Ok(state) => state,
        Err(code) => return Ok(code),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(super::serve_tls::load(cert, key).await?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}: choose another address with --listen", args.listen))?;
    let address = listener.local_addr()?;
    tokio::spawn(tiltas_server::run_worker(state.clone()));
    tokio::spawn(tiltas_server::run_scheduler(state.clone()));
    println!(
        "listening on {}://{address}",
        if tls.is_some() { "https" } else { "http" }
    );
    std::io::stdout().flush()?;
    tracing::info!(%address, flows = state.config.flows.len(), tls = tls.is_some(), "serving");
    if let Some(tls) = tls {
        super::serve_tls::serve(listener, tls, tiltas_server::router(state)).await?;
        return Ok(ExitCode::SUCCESS);
    }
    axum::serve(listener, tiltas_server::router(state))
        .with_graceful_shutdown(shutdown())
        .await
        .context("the server stopped")?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the schedules and the inbox until Ctrl-C.
pub async fn run(global: &GlobalArgs, args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let state = match state(global, args).await? {
        Ok(state) => state,
        Err(code) => return Ok(code),
    };
    eprintln!(
        "running {} flow(s) on their schedules; Ctrl-C stops",
        state.config.flows.iter().filter(|flow| flow.schedule.is_some()).count()
    );
    tokio::select! {
        _ = tiltas_server::run_worker(state.clone()) => {}
        _ = tiltas_server::run_scheduler(state) => {}
        _ = shutdown() => {}
    }
    Ok(ExitCode::SUCCESS)
}
