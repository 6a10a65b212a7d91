/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL is not one Tiltas understands.
    #[error("store URL {url:?} is not supported: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl { url: String },
    // store helper: add the rest (connect, migrate, query with the operation name, schema too new, …)
}
