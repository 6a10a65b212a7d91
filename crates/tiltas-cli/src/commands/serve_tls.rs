//! `tiltas serve --tls-cert F --tls-key F`: HTTPS with rustls (through `axum-server`, on the
//! ring provider reqwest already brings), stopped like plain HTTP when the worker host stops.
use anyhow::{anyhow, Context};
use axum_server::tls_rustls::RustlsConfig;
use std::path::Path;
use std::time::Duration;

/// How long open connections may finish once a stop is asked for.
const GRACE: Duration = Duration::from_secs(10);

/// The certificate chain and key, read and checked before the server listens: a missing,
/// unreadable or invalid file is named with the fix.
pub async fn load(cert: &Path, key: &Path) -> anyhow::Result<RustlsConfig> {
    let read = |path: &Path, what: &str, flag: &str| {
        std::fs::read(path).with_context(|| {
            format!(
                "cannot read the TLS {what} {}: give a readable PEM file with {flag}",
                path.display()
            )
        })
    };
    let cert_pem = read(cert, "certificate", "--tls-cert")?;
    let key_pem = read(key, "private key", "--tls-key")?;
    if !String::from_utf8_lossy(&cert_pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(anyhow!(
            "the TLS certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the \
             certificate chain, server certificate first, with --tls-cert",
            cert.display()
        ));
    }
    RustlsConfig::from_pem(cert_pem, key_pem).await.map_err(|error| {
        anyhow!(
            "the TLS certificate {} and private key {} cannot be used together: {error}; give the PEM \
             certificate chain with --tls-cert and its PEM private key (PKCS#8, PKCS#1 or SEC1) with --tls-key",
            cert.display(),
            key.display()
        )
    })
}

/// Serves `router` over HTTPS on `listener` until `stop` completes (the worker host's stop:
/// SIGTERM or Ctrl-C), then lets open connections finish for a grace period.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: RustlsConfig,
    router: axum::Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = listener
        .into_std()
        .context("cannot hand the listening socket to the HTTPS server")?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        stop.await;
        stopper.graceful_shutdown(Some(GRACE));
    });
    axum_server::from_tcp_rustls(listener, tls)
        .context("cannot serve HTTPS on the listening socket")?
        .handle(handle)
        .serve(router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await
        .context("the HTTPS server stopped")
}
