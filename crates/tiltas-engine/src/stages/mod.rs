//! The page pipeline, one stage per file, in the order a page goes through them: each stage
//! is a function over the page's candidates and the page's one [`Ledger`](crate::run::Ledger).
pub(crate) mod adopt;
pub(crate) mod compare;
pub(crate) mod orders;
pub(crate) mod prepare;
pub(crate) mod settle;
pub(crate) mod write;
