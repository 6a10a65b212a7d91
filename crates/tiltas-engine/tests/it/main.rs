//! Engine behaviour against in-memory connectors and a real SQLite store.
mod fakes;
mod reference;
mod semantics;
mod sync;
