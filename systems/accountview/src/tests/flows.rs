//! `examples/accountview-mplus.toml` end to end.
