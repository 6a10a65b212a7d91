//! tiltas-testkit
