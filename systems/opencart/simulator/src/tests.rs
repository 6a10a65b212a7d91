//! The simulator against a real MariaDB.
