//! WooCommerce REST API v3 (`shared/protocols/shops.md` §1): the OAuth 1.0a signing WooCommerce
//! requires over plain HTTP ([`oauth`]) and a simulator of the shop ([`simulator`]) with
//! products, variations, categories, customers, orders, batches and signed webhooks.
pub mod oauth;
pub mod simulator;

#[cfg(test)]
mod sim_tests;
