//! Engine behaviour against in-memory connectors and a real SQLite store.
mod booking;
mod fakes;
mod filedrop;
mod money;
mod orders;
mod overlap;
mod reference;
mod resync;
mod semantics;
mod settled;
mod sync;
