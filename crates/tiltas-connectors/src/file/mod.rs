//! File feeds.
