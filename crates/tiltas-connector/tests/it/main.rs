//! The shared plumbing against small servers on 127.0.0.1 (one test binary for the crate).
mod oauth2;
mod soap;

use std::sync::atomic::{AtomicU32, Ordering};
use tiltas_connector::{CallGate, ConnectorError};

/// A gate that counts the requests it admits.
#[derive(Default)]
pub struct CountingGate(AtomicU32);

impl CountingGate {
    pub fn admitted(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl CallGate for CountingGate {
    async fn admit(&self) -> Result<(), ConnectorError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Serves `app` on 127.0.0.1 at a free port until the test's runtime ends; its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}
