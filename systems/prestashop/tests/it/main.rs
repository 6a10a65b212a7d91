//! PrestaShop through the engine (one test binary for the crate): the Rivile example and
//! products with variants into a failing shop.
mod rivile_example;
mod variants;
