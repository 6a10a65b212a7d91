//! Shared contract test suites: every store implementation must pass
//! [`store_contract`] (run through [`store_contract_tests!`]).
#![forbid(unsafe_code)]

pub mod store_contract;
