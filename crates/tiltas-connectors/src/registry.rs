//! The list of systems.
