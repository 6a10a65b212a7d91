//! The simulator against PrestaShop's protocol.
