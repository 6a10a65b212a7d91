//! Shared contract test suites: every store implementation must pass [`store_contract`]
//! (through [`store_contract_tests!`]), every connector with a simulator
//! [`connector_contract`] (through [`connector_contract_tests!`]).
#![forbid(unsafe_code)]

pub mod connector_contract;
pub mod store_contract;
