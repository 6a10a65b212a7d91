//! WooCommerce REST API v3 (`shared/protocols/shops.md` §1): the OAuth 1.0a signing WooCommerce
//! requires over plain HTTP ([`oauth`]).
pub mod oauth;
