//! Which store a command uses: `--db` / `TILTAS_DB`, else the flow file's `store`, else
//! `sqlite://tiltas.db` in the working directory.
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use tiltas_config::ValidatedConfig;
use tiltas_store::{Store, DEFAULT_STORE_URL};

/// Opens the store chosen for this command.
pub async fn open(flag: Option<&str>, config: Option<&ValidatedConfig>) -> anyhow::Result<Arc<dyn Store>> {
    let url = chosen_url(flag, config);
    tiltas_store::open(&url)
        .await
        .with_context(|| "cannot open the store (choose it with --db URL or TILTAS_DB)")
}

/// Opens the store for a dry run, which must write nothing anywhere: an SQLite file that does
/// not exist yet is not created — an empty in-memory store stands in for it (nothing has been
/// delivered yet, so everything would be created).
pub async fn open_for_dry_run(flag: Option<&str>, config: Option<&ValidatedConfig>) -> anyhow::Result<Arc<dyn Store>> {
    let url = chosen_url(flag, config);
    if let Some(path) = url.strip_prefix("sqlite://") {
        if !Path::new(path).exists() {
            return tiltas_store::open("sqlite::memory:")
                .await
                .context("cannot open an in-memory store for the dry run");
        }
    }
    open(Some(&url), config).await
}

fn chosen_url(flag: Option<&str>, config: Option<&ValidatedConfig>) -> String {
    flag.map(str::to_owned)
        .or_else(|| config.and_then(|config| config.store_url.clone()))
        .unwrap_or_else(|| DEFAULT_STORE_URL.to_owned())
}
