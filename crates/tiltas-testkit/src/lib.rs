//! Shared contract test suites: every store implementation must pass [`store_contract`]
//! (through [`store_contract_tests!`]); every connector with a simulator passes
//! [`connector_contract`], run for every system by this crate's `contract` test from the
//! fixtures `tiltas_systems::contract_coverage` lists.
#![forbid(unsafe_code)]

pub mod connector_contract;
pub mod store_contract;
