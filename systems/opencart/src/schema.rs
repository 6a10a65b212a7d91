//! The subset of OpenCart 3.0's tables the connector reads and writes, written by us from the
//! column names and types of OpenCart's `upload/install/opencart.sql` (branch 3.0.x.x), so the
//! simulator and the tests build a shop the connector cannot tell from a real one. Columns
//! without a default stay `NOT NULL` without one, as in OpenCart: an insert that forgets one is
//! refused by a strict MariaDB exactly as on a real shop.
//!
//! One difference: OpenCart 3.0 creates MyISAM tables; these are InnoDB (as OpenCart 4 and most
//! converted shops), so the tests prove the writes' transactions. On MyISAM a transaction does
//! not roll back, and the connector's writes are upserts a retry completes.

/// The tables, by OpenCart's name without prefix, and their columns.
const TABLES: &[(&str, &str)] = &[
    (
        "product",
        "`product_id` int(11) NOT NULL AUTO_INCREMENT,
  `model` varchar(64) NOT NULL,
  `sku` varchar(64) NOT NULL,
  `upc` varchar(12) NOT NULL,
  `ean` varchar(14) NOT NULL,
  `jan` varchar(13) NOT NULL,
  `isbn` varchar(17) NOT NULL,
  `mpn` varchar(64) NOT NULL,
  `location` varchar(128) NOT NULL,
  `quantity` int(4) NOT NULL DEFAULT '0',
  `stock_status_id` int(11) NOT NULL,
  `image` varchar(255) DEFAULT NULL,
  `manufacturer_id` int(11) NOT NULL,
  `shipping` tinyint(1) NOT NULL DEFAULT '1',
  `price` decimal(15,4) NOT NULL DEFAULT '0.0000',
  `points` int(8) NOT NULL DEFAULT '0',
  `tax_class_id` int(11) NOT NULL,
  `date_available` date NOT NULL DEFAULT '0000-00-00',
  `weight` decimal(15,8) NOT NULL DEFAULT '0.00000000',
  `weight_class_id` int(11) NOT NULL DEFAULT '0',
  `length` decimal(15,8) NOT NULL DEFAULT '0.00000000',
  `width` decimal(15,8) NOT NULL DEFAULT '0.00000000',
  `height` decimal(15,8) NOT NULL DEFAULT '0.00000000',
  `length_class_id` int(11) NOT NULL DEFAULT '0',
  `subtract` tinyint(1) NOT NULL DEFAULT '1',
  `minimum` int(11) NOT NULL DEFAULT '1',
  `sort_order` int(11) NOT NULL DEFAULT '0',
  `status` tinyint(1) NOT NULL DEFAULT '0',
  {VERSION_COLUMNS}
  `date_added` datetime NOT NULL,
  `date_modified` datetime NOT NULL,
  PRIMARY KEY (`product_id`),
  KEY `tiltas_modified` (`date_modified`, `product_id`)",
    ),
    (
        "product_description",
        "`product_id` int(11) NOT NULL,
  `language_id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `description` text NOT NULL,
  `tag` text NOT NULL,
  `meta_title` varchar(255) NOT NULL,
  `meta_description` varchar(255) NOT NULL,
  `meta_keyword` varchar(255) NOT NULL,
  PRIMARY KEY (`product_id`,`language_id`),
  KEY `name` (`name`)",
    ),
    (
        "product_to_store",
        "`product_id` int(11) NOT NULL,
  `store_id` int(11) NOT NULL DEFAULT '0',
  PRIMARY KEY (`product_id`,`store_id`)",
    ),
    (
        "option",
        "`option_id` int(11) NOT NULL AUTO_INCREMENT,
  `type` varchar(32) NOT NULL,
  `sort_order` int(3) NOT NULL,
  PRIMARY KEY (`option_id`)",
    ),
    (
        "option_description",
        "`option_id` int(11) NOT NULL,
  `language_id` int(11) NOT NULL,
  `name` varchar(128) NOT NULL,
  PRIMARY KEY (`option_id`,`language_id`)",
    ),
    (
        "option_value",
        "`option_value_id` int(11) NOT NULL AUTO_INCREMENT,
  `option_id` int(11) NOT NULL,
  `image` varchar(255) NOT NULL,
  `sort_order` int(3) NOT NULL,
  PRIMARY KEY (`option_value_id`)",
    ),
    (
        "option_value_description",
        "`option_value_id` int(11) NOT NULL,
  `language_id` int(11) NOT NULL,
  `option_id` int(11) NOT NULL,
  `name` varchar(128) NOT NULL,
  PRIMARY KEY (`option_value_id`,`language_id`)",
    ),
    (
        "product_option",
        "`product_option_id` int(11) NOT NULL AUTO_INCREMENT,
  `product_id` int(11) NOT NULL,
  `option_id` int(11) NOT NULL,
  `value` text NOT NULL,
  `required` tinyint(1) NOT NULL,
  PRIMARY KEY (`product_option_id`)",
    ),
    (
        "product_option_value",
        "`product_option_value_id` int(11) NOT NULL AUTO_INCREMENT,
  `product_option_id` int(11) NOT NULL,
  `product_id` int(11) NOT NULL,
  `option_id` int(11) NOT NULL,
  `option_value_id` int(11) NOT NULL,
  `quantity` int(3) NOT NULL,
  `subtract` tinyint(1) NOT NULL,
  `price` decimal(15,4) NOT NULL,
  `price_prefix` varchar(1) NOT NULL,
  `points` int(8) NOT NULL,
  `points_prefix` varchar(1) NOT NULL,
  `weight` decimal(15,8) NOT NULL,
  `weight_prefix` varchar(1) NOT NULL,
  PRIMARY KEY (`product_option_value_id`)",
    ),
    (
        "customer",
        "`customer_id` int(11) NOT NULL AUTO_INCREMENT,
  `customer_group_id` int(11) NOT NULL,
  `store_id` int(11) NOT NULL DEFAULT '0',
  `language_id` int(11) NOT NULL,
  `firstname` varchar(32) NOT NULL,
  `lastname` varchar(32) NOT NULL,
  `email` varchar(96) NOT NULL,
  `telephone` varchar(32) NOT NULL,
  `fax` varchar(32) NOT NULL,
  `password` varchar(255) NOT NULL,
  `salt` varchar(9) NOT NULL,
  `cart` text,
  `wishlist` text,
  `newsletter` tinyint(1) NOT NULL DEFAULT '0',
  `address_id` int(11) NOT NULL DEFAULT '0',
  `custom_field` text NOT NULL,
  `ip` varchar(40) NOT NULL,
  `status` tinyint(1) NOT NULL,
  `safe` tinyint(1) NOT NULL,
  `token` text NOT NULL,
  `code` varchar(40) NOT NULL,
  `date_added` datetime NOT NULL,
  PRIMARY KEY (`customer_id`)",
    ),
    (
        "address",
        "`address_id` int(11) NOT NULL AUTO_INCREMENT,
  `customer_id` int(11) NOT NULL,
  `firstname` varchar(32) NOT NULL,
  `lastname` varchar(32) NOT NULL,
  `company` varchar(40) NOT NULL,
  `address_1` varchar(128) NOT NULL,
  `address_2` varchar(128) NOT NULL,
  `city` varchar(128) NOT NULL,
  `postcode` varchar(10) NOT NULL,
  `country_id` int(11) NOT NULL DEFAULT '0',
  `zone_id` int(11) NOT NULL DEFAULT '0',
  `custom_field` text NOT NULL,
  PRIMARY KEY (`address_id`),
  KEY `customer_id` (`customer_id`)",
    ),
    (
        "country",
        "`country_id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(128) NOT NULL,
  `iso_code_2` varchar(2) NOT NULL,
  `iso_code_3` varchar(3) NOT NULL,
  `address_format` text NOT NULL,
  `postcode_required` tinyint(1) NOT NULL,
  `status` tinyint(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`country_id`)",
    ),
    (
        "order",
        "`order_id` int(11) NOT NULL AUTO_INCREMENT,
  `invoice_no` int(11) NOT NULL DEFAULT '0',
  `invoice_prefix` varchar(26) NOT NULL,
  `store_id` int(11) NOT NULL DEFAULT '0',
  `store_name` varchar(64) NOT NULL,
  `store_url` varchar(255) NOT NULL,
  `customer_id` int(11) NOT NULL DEFAULT '0',
  `customer_group_id` int(11) NOT NULL DEFAULT '0',
  `firstname` varchar(32) NOT NULL,
  `lastname` varchar(32) NOT NULL,
  `email` varchar(96) NOT NULL,
  `telephone` varchar(32) NOT NULL,
  `fax` varchar(32) NOT NULL,
  `custom_field` text NOT NULL,
  `payment_firstname` varchar(32) NOT NULL,
  `payment_lastname` varchar(32) NOT NULL,
  `payment_company` varchar(60) NOT NULL,
  `payment_address_1` varchar(128) NOT NULL,
  `payment_address_2` varchar(128) NOT NULL,
  `payment_city` varchar(128) NOT NULL,
  `payment_postcode` varchar(10) NOT NULL,
  `payment_country` varchar(128) NOT NULL,
  `payment_country_id` int(11) NOT NULL,
  `payment_zone` varchar(128) NOT NULL,
  `payment_zone_id` int(11) NOT NULL,
  `payment_address_format` text NOT NULL,
  `payment_custom_field` text NOT NULL,
  `payment_method` varchar(128) NOT NULL,
  `payment_code` varchar(128) NOT NULL,
  `shipping_firstname` varchar(32) NOT NULL,
  `shipping_lastname` varchar(32) NOT NULL,
  `shipping_company` varchar(40) NOT NULL,
  `shipping_address_1` varchar(128) NOT NULL,
  `shipping_address_2` varchar(128) NOT NULL,
  `shipping_city` varchar(128) NOT NULL,
  `shipping_postcode` varchar(10) NOT NULL,
  `shipping_country` varchar(128) NOT NULL,
  `shipping_country_id` int(11) NOT NULL,
  `shipping_zone` varchar(128) NOT NULL,
  `shipping_zone_id` int(11) NOT NULL,
  `shipping_address_format` text NOT NULL,
  `shipping_custom_field` text NOT NULL,
  `shipping_method` varchar(128) NOT NULL,
  `shipping_code` varchar(128) NOT NULL,
  `comment` text NOT NULL,
  `total` decimal(15,4) NOT NULL DEFAULT '0.0000',
  `order_status_id` int(11) NOT NULL DEFAULT '0',
  `affiliate_id` int(11) NOT NULL,
  `commission` decimal(15,4) NOT NULL,
  `marketing_id` int(11) NOT NULL,
  `tracking` varchar(64) NOT NULL,
  `language_id` int(11) NOT NULL,
  `currency_id` int(11) NOT NULL,
  `currency_code` varchar(3) NOT NULL,
  `currency_value` decimal(15,8) NOT NULL DEFAULT '1.00000000',
  `ip` varchar(40) NOT NULL,
  `forwarded_ip` varchar(40) NOT NULL,
  `user_agent` varchar(255) NOT NULL,
  `accept_language` varchar(255) NOT NULL,
  `date_added` datetime NOT NULL,
  `date_modified` datetime NOT NULL,
  PRIMARY KEY (`order_id`),
  KEY `tiltas_modified` (`date_modified`, `order_id`)",
    ),
    (
        "order_product",
        "`order_product_id` int(11) NOT NULL AUTO_INCREMENT,
  `order_id` int(11) NOT NULL,
  `product_id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `model` varchar(64) NOT NULL,
  `quantity` int(4) NOT NULL,
  `price` decimal(15,4) NOT NULL DEFAULT '0.0000',
  `total` decimal(15,4) NOT NULL DEFAULT '0.0000',
  `tax` decimal(15,4) NOT NULL DEFAULT '0.0000',
  `reward` int(8) NOT NULL,
  PRIMARY KEY (`order_product_id`),
  KEY `order_id` (`order_id`)",
    ),
    (
        "order_option",
        "`order_option_id` int(11) NOT NULL AUTO_INCREMENT,
  `order_id` int(11) NOT NULL,
  `order_product_id` int(11) NOT NULL,
  `product_option_id` int(11) NOT NULL,
  `product_option_value_id` int(11) NOT NULL DEFAULT '0',
  `name` varchar(255) NOT NULL,
  `value` text NOT NULL,
  `type` varchar(32) NOT NULL,
  PRIMARY KEY (`order_option_id`)",
    ),
    (
        "order_total",
        "`order_total_id` int(10) NOT NULL AUTO_INCREMENT,
  `order_id` int(11) NOT NULL,
  `code` varchar(32) NOT NULL,
  `title` varchar(255) NOT NULL,
  `value` decimal(15,4) NOT NULL DEFAULT '0.0000',
  `sort_order` int(3) NOT NULL,
  PRIMARY KEY (`order_total_id`),
  KEY `order_id` (`order_id`)",
    ),
    (
        "order_history",
        "`order_history_id` int(11) NOT NULL AUTO_INCREMENT,
  `order_id` int(11) NOT NULL,
  `order_status_id` int(11) NOT NULL,
  `notify` tinyint(1) NOT NULL DEFAULT '0',
  `comment` text NOT NULL,
  `date_added` datetime NOT NULL,
  PRIMARY KEY (`order_history_id`)",
    ),
    (
        "order_status",
        "`order_status_id` int(11) NOT NULL AUTO_INCREMENT,
  `language_id` int(11) NOT NULL,
  `name` varchar(32) NOT NULL,
  PRIMARY KEY (`order_status_id`,`language_id`)",
    ),
];

/// Tiltas's own table (OpenCart 3 only): which option values of which product make each
/// variant SKU of the ERP, and the variant's own quantity, because OpenCart 3 keeps stock per
/// option value and no code for it. Created by the connector on its first product with
/// variants; OpenCart never reads it.
pub const VARIANT_TABLE: (&str, &str) = (
    "tiltas_variant",
    "`sku` varchar(64) NOT NULL,
  `product_id` int(11) NOT NULL,
  `product_option_value_ids` varchar(255) NOT NULL,
  `quantity` int(11) NOT NULL DEFAULT '0',
  PRIMARY KEY (`sku`),
  KEY `product_id` (`product_id`)",
);

/// The OpenCart major versions whose tables this module builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 3.0.x: variants are options of one product.
    Three,
    /// 4.0.x: variants are products with a `master_id`.
    Four,
}

impl Version {
    /// `3` or `4` (the `version` setting); anything else is `None`.
    pub fn parse(text: &str) -> Option<Version> {
        match text.trim() {
            "3" => Some(Version::Three),
            "4" => Some(Version::Four),
            _ => None,
        }
    }

    /// The `product` columns that differ: 3.0 counts views in `viewed`; 4.0 moved views to a
    /// table of their own, added `rating`, and keeps variants as products with `master_id`,
    /// `variant` (the option values that make the variant, JSON) and `override` (JSON).
    fn product_columns(self) -> &'static str {
        match self {
            Version::Three => "`viewed` int(5) NOT NULL DEFAULT '0',",
            Version::Four => {
                "`master_id` int(11) NOT NULL DEFAULT '0',
  `variant` text NOT NULL,
  `override` text NOT NULL,
  `rating` int(1) NOT NULL DEFAULT '0',"
            }
        }
    }
}

/// OpenCart's order statuses as installed (`oc_order_status`, language 1).
pub const ORDER_STATUSES: &[(u32, &str)] = &[
    (1, "Pending"),
    (2, "Processing"),
    (3, "Shipped"),
    (5, "Complete"),
    (7, "Canceled"),
    (8, "Denied"),
    (9, "Canceled Reversal"),
    (10, "Failed"),
    (11, "Refunded"),
    (12, "Reversed"),
    (13, "Chargeback"),
    (14, "Expired"),
    (15, "Processed"),
    (16, "Voided"),
];

/// The names of the tables in [`create_statements`], without prefix (Tiltas's variant table
/// last).
pub fn table_names() -> impl Iterator<Item = &'static str> {
    TABLES.iter().map(|(name, _)| *name).chain([VARIANT_TABLE.0])
}

/// Whether `prefix` is a table prefix OpenCart's installer accepts (letters, digits, `_`): the
/// only text the connector puts into SQL unbound.
pub fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 32 && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The quoted name of OpenCart's table `name` under `prefix` (`` `oc_order` ``).
pub fn table(prefix: &str, name: &str) -> String {
    format!("`{prefix}{name}`")
}

/// `CREATE TABLE IF NOT EXISTS` for one table.
pub fn create_statement(prefix: &str, name: &str, columns: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  {columns}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        table(prefix, name)
    )
}

/// `CREATE TABLE IF NOT EXISTS` for every table of the subset of `version`, under `prefix`
/// (with Tiltas's variant table: the tests and the simulator build a shop the connector has
/// written to).
pub fn create_statements(prefix: &str, version: Version) -> Vec<String> {
    TABLES
        .iter()
        .chain([&VARIANT_TABLE])
        .map(|(name, columns)| {
            create_statement(
                prefix,
                name,
                &columns.replace("{VERSION_COLUMNS}", version.product_columns()),
            )
        })
        .collect()
}
