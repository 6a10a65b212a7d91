//! The connector against the B1 simulator.
