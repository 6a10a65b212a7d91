//! The seeded shop in a MySQL/MariaDB database: OpenCart's tables ([`tiltas_opencart::schema`])
//! with countries, order statuses, products, customers and orders from the seed, written as
//! OpenCart's storefront and admin write them; and the mutations of `/__sim/mutate`.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::{Column, MySql, Row, Transaction};
use std::collections::BTreeMap;
use tiltas_opencart::schema;
use tokio::sync::Mutex;

/// How much seeded data the shop starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data and of mutations.
    pub seed: u64,
    /// Products.
    pub products: usize,
    /// Registered customers.
    pub customers: usize,
    /// Confirmed orders (besides one unconfirmed "missing order" per ten, status 0).
    pub orders: usize,
}

/// The countries installed, as OpenCart numbers them (`oc_country`).
const COUNTRIES: &[(u32, &str, &str, &str)] = &[
    (117, "Latvia", "LV", "LVA"),
    (123, "Lithuania", "LT", "LTU"),
    (67, "Estonia", "EE", "EST"),
    (170, "Poland", "PL", "POL"),
    (81, "Germany", "DE", "DEU"),
];
const THINGS: [&str; 8] = ["Lamp", "Chair", "Mug", "Kettle", "Scarf", "Candle", "Basket", "Vase"];
const ADJECTIVES: [&str; 6] = ["Linen", "Oak", "Amber", "Clay", "Wool", "Birch"];
const FIRST: [&str; 6] = ["Jonas", "Ona", "Petras", "Ruta", "Mantas", "Egle"];
const LAST: [&str; 6] = [
    "Kazlauskas",
    "Petraite",
    "Jankauskas",
    "Zukauskaite",
    "Stankevicius",
    "Vasiliauskas",
];
/// 2026-01-01 00:00:00: seeded rows are dated from here, a minute apart.
const SEEDED_FROM: &str = "2026-01-01 00:00:00";
/// Flat shipping without tax, as OpenCart's `flat` shipping method charges it.
const SHIPPING: Decimal = Decimal::from_parts(350, 0, 0, false, 2);
/// The VAT of the demo's tax class, in percent.
const VAT_PERCENT: Decimal = Decimal::from_parts(21, 0, 0, false, 0);

/// An OpenCart shop in a database: the tables under `prefix`, seeded from `seeding`.
pub struct OpenCartSim {
    pool: MySqlPool,
    prefix: String,
    seeding: Seeding,
    version: schema::Version,
    rng: Mutex<StdRng>,
}

type Tx = Transaction<'static, MySql>;

/// A line of a generated order: product id, code, name, net price, quantity, tax per unit, and
/// the option values chosen.
type OrderLine = (u64, String, String, Decimal, Decimal, Decimal, Vec<ChosenOption>);

/// An option value chosen at the checkout: `product_option_id`, `product_option_value_id`,
/// the option's name and the value's.
type ChosenOption = (u64, u64, String, String);

fn db_error(doing: &str) -> impl Fn(sqlx::Error) -> String + '_ {
    move |error| format!("opencart simulator: {doing}: {error}")
}

impl OpenCartSim {
    /// Connects to `url` (`mysql://user:password@host:port/database`).
    pub async fn connect(url: &str, prefix: &str, seeding: Seeding) -> Result<OpenCartSim, String> {
        if !schema::valid_prefix(prefix) {
            return Err(format!("--table-prefix {prefix:?}: letters, digits and _ only"));
        }
        let options = tiltas_opencart::connect_options("--mysql", url).map_err(|error| error.message)?;
        let pool = MySqlPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|error| match error {
                sqlx::Error::Database(database) => format!("--mysql: the server refused: {}", database.message()),
                other => format!("--mysql: cannot connect: {other}"),
            })?;
        Ok(OpenCartSim {
            pool,
            prefix: prefix.to_owned(),
            seeding,
            version: schema::Version::Three,
            rng: Mutex::new(StdRng::seed_from_u64(seeding.seed)),
        })
    }

    /// The shop as OpenCart `version` builds it (3 unless told).
    pub fn with_version(mut self, version: schema::Version) -> OpenCartSim {
        self.version = version;
        self
    }

    /// The connection pool (tests read the tables through it).
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    fn table(&self, name: &str) -> String {
        schema::table(&self.prefix, name)
    }

    /// Creates the tables that are missing and, when the shop has no products, customers or
    /// orders yet, seeds it. Returns whether it seeded.
    pub async fn install(&self) -> Result<bool, String> {
        for statement in schema::create_statements(&self.prefix, self.version) {
            sqlx::query(&statement)
                .execute(&self.pool)
                .await
                .map_err(db_error("creating the tables"))?;
        }
        let counts = self.record_counts().await?;
        if counts.values().any(|count| *count > 0) {
            return Ok(false);
        }
        self.seed().await?;
        Ok(true)
    }

    /// Empties the shop's tables and seeds them again from the seed.
    pub async fn reset(&self) -> Result<(), String> {
        for name in schema::table_names() {
            sqlx::query(&format!("DELETE FROM {}", self.table(name)))
                .execute(&self.pool)
                .await
                .map_err(db_error("emptying the tables"))?;
        }
        *self.rng.lock().await = StdRng::seed_from_u64(self.seeding.seed);
        self.seed().await
    }

    async fn seed(&self) -> Result<(), String> {
        let mut tx = self.pool.begin().await.map_err(db_error("seeding"))?;
        for (id, name, iso2, iso3) in COUNTRIES {
            let sql = format!(
                "INSERT IGNORE INTO {} (country_id, name, iso_code_2, iso_code_3, address_format, postcode_required, status) \
                 VALUES (?, ?, ?, ?, '', 1, 1)",
                self.table("country")
            );
            sqlx::query(&sql)
                .bind(id)
                .bind(name)
                .bind(iso2)
                .bind(iso3)
                .execute(&mut *tx)
                .await
                .map_err(db_error("seeding countries"))?;
        }
        for (id, name) in schema::ORDER_STATUSES {
            let sql = format!(
                "INSERT IGNORE INTO {} (order_status_id, language_id, name) VALUES (?, 1, ?)",
                self.table("order_status")
            );
            sqlx::query(&sql)
                .bind(id)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(db_error("seeding order statuses"))?;
        }
        let mut rng = self.rng.lock().await;
        for index in 0..self.seeding.products {
            self.add_product(&mut tx, &mut rng, index).await?;
        }
        for index in 0..self.seeding.customers {
            self.add_customer(&mut tx, &mut rng, index).await?;
        }
        // One order in eleven is a checkout never confirmed: OpenCart's "missing order", status 0.
        let (mut confirmed, mut missing) = (self.seeding.orders, self.seeding.orders.div_ceil(10));
        for index in 0..confirmed + missing {
            let status = if missing > 0 && (index % 11 == 10 || confirmed == 0) {
                missing -= 1;
                0
            } else {
                confirmed -= 1;
                [1, 2, 3, 5][rng.gen_range(0..4)]
            };
            self.add_order(&mut tx, &mut rng, status, Some(index)).await?;
        }
        tx.commit().await.map_err(db_error("seeding"))
    }

    async fn add_product(&self, tx: &mut Tx, rng: &mut StdRng, index: usize) -> Result<(), String> {
        let sku = format!("OC-{:04}", index + 1);
        let name = format!(
            "{} {}",
            ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())],
            THINGS[rng.gen_range(0..THINGS.len())]
        );
        let price = Decimal::new(rng.gen_range(500..20_000), 2);
        let sql = format!(
            "INSERT INTO {} (model, sku, upc, ean, jan, isbn, mpn, location, quantity, stock_status_id, manufacturer_id, \
             shipping, price, points, tax_class_id, date_available, weight, weight_class_id, length, width, height, \
             length_class_id, subtract, minimum, sort_order, status, date_added, date_modified{}) \
             VALUES (?, ?, '', '', '', '', '', '', ?, 7, 0, 1, ?, 0, 9, '2026-01-01', ?, 1, 0, 0, 0, 1, 1, 1, 0, 1, \
             ? + INTERVAL ? MINUTE, ? + INTERVAL ? MINUTE{})",
            self.table("product"),
            if self.version == schema::Version::Four { ", variant, override" } else { "" },
            if self.version == schema::Version::Four { ", '', ''" } else { "" },
        );
        let done = sqlx::query(&sql)
            .bind(&sku)
            .bind(&sku)
            .bind(rng.gen_range(0..100))
            .bind(price.to_string())
            .bind(Decimal::new(rng.gen_range(100..5_000), 3).to_string())
            .bind(SEEDED_FROM)
            .bind(index as u64)
            .bind(SEEDED_FROM)
            .bind(index as u64)
            .execute(&mut **tx)
            .await
            .map_err(db_error("seeding products"))?;
        let id = done.last_insert_id();
        let sql = format!(
            "INSERT INTO {} (product_id, language_id, name, description, tag, meta_title, meta_description, meta_keyword) \
             VALUES (?, 1, ?, ?, '', ?, '', '')",
            self.table("product_description")
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(&name)
            .bind(format!("&lt;p&gt;{name}, handmade.&lt;/p&gt;"))
            .bind(&name)
            .execute(&mut **tx)
            .await
            .map_err(db_error("seeding products"))?;
        let sql = format!(
            "INSERT INTO {} (product_id, store_id) VALUES (?, 0)",
            self.table("product_to_store")
        );
        sqlx::query(&sql)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db_error("seeding products"))?;
        Ok(())
    }

    async fn add_customer(&self, tx: &mut Tx, rng: &mut StdRng, index: usize) -> Result<u64, String> {
        let (first, last) = (FIRST[rng.gen_range(0..FIRST.len())], LAST[rng.gen_range(0..LAST.len())]);
        let email = format!(
            "{}.{}{}@example.lt",
            first.to_lowercase(),
            last.to_lowercase(),
            index + 1
        );
        let sql = format!(
            "INSERT INTO {} (customer_group_id, store_id, language_id, firstname, lastname, email, telephone, fax, \
             password, salt, newsletter, address_id, custom_field, ip, status, safe, token, code, date_added) \
             VALUES (1, 0, 1, ?, ?, ?, ?, '', '', '', 0, 0, '', '127.0.0.1', 1, 0, '', '', NOW())",
            self.table("customer")
        );
        let phone = format!("+3706{:07}", rng.gen_range(0..10_000_000));
        let done = sqlx::query(&sql)
            .bind(first)
            .bind(last)
            .bind(&email)
            .bind(&phone)
            .execute(&mut **tx)
            .await
            .map_err(db_error("adding customers"))?;
        let id = done.last_insert_id();
        let company = if rng.gen_bool(0.3) {
            format!("UAB {last}")
        } else {
            String::new()
        };
        let sql = format!(
            "INSERT INTO {} (customer_id, firstname, lastname, company, address_1, address_2, city, postcode, country_id, \
             zone_id, custom_field) VALUES (?, ?, ?, ?, ?, '', 'Vilnius', ?, 123, 0, '')",
            self.table("address")
        );
        let address = sqlx::query(&sql)
            .bind(id)
            .bind(first)
            .bind(last)
            .bind(&company)
            .bind(format!("Gedimino pr. {}", rng.gen_range(1..99)))
            .bind(format!("LT-{:05}", rng.gen_range(1000..99999)))
            .execute(&mut **tx)
            .await
            .map_err(db_error("adding customers"))?;
        let sql = format!(
            "UPDATE {} SET address_id = ? WHERE customer_id = ?",
            self.table("customer")
        );
        sqlx::query(&sql)
            .bind(address.last_insert_id())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db_error("adding customers"))?;
        Ok(id)
    }

    /// The products an order can sell: (id, code, name, net price).
    async fn catalogue(&self, tx: &mut Tx) -> Result<Vec<(u64, String, String, Decimal)>, String> {
        let sql = format!(
            "SELECT p.product_id, CAST(IF(p.sku <> '', p.sku, p.model) AS CHAR), CAST(COALESCE(pd.name, p.model) AS CHAR), \
             CAST(p.price AS CHAR) FROM {} p LEFT JOIN {} pd ON pd.product_id = p.product_id AND pd.language_id = 1 \
             WHERE p.status = 1{} ORDER BY p.product_id",
            self.table("product"),
            self.table("product_description"),
            // OpenCart 4's storefront sells a master with variants as the variant chosen.
            if self.version == schema::Version::Four {
                format!(
                    " AND NOT EXISTS (SELECT 1 FROM {} v WHERE v.master_id = p.product_id)",
                    self.table("product")
                )
            } else {
                String::new()
            },
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_error("reading the catalogue"))?;
        rows.iter()
            .map(|row| {
                let price: String = row.try_get(3).map_err(db_error("reading the catalogue"))?;
                Ok((
                    row.try_get::<i64, _>(0).map_err(db_error("reading the catalogue"))? as u64,
                    row.try_get(1).map_err(db_error("reading the catalogue"))?,
                    row.try_get(2).map_err(db_error("reading the catalogue"))?,
                    price.parse().unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// One value of each of the product's options, as a buyer picks them (OpenCart 3: a
    /// product's variants are its option values), and the price they add.
    async fn choose_options(
        &self,
        tx: &mut Tx,
        rng: &mut StdRng,
        product_id: u64,
    ) -> Result<(Vec<ChosenOption>, Decimal), String> {
        let sql = format!(
            "SELECT pov.product_option_id, pov.product_option_value_id, CAST(od.name AS CHAR), CAST(ovd.name AS CHAR), \
             CAST(pov.price AS CHAR), pov.price_prefix FROM {} pov \
             JOIN {} od ON od.option_id = pov.option_id AND od.language_id = 1 \
             JOIN {} ovd ON ovd.option_value_id = pov.option_value_id AND ovd.language_id = 1 \
             WHERE pov.product_id = ? ORDER BY pov.product_option_id, pov.product_option_value_id",
            self.table("product_option_value"),
            self.table("option_description"),
            self.table("option_value_description"),
        );
        let rows = sqlx::query(&sql)
            .bind(product_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_error("reading a product's options"))?;
        let mut by_option: BTreeMap<i64, Vec<(ChosenOption, Decimal)>> = BTreeMap::new();
        for row in &rows {
            let get =
                |index: usize| -> Result<String, String> { row.try_get(index).map_err(db_error("reading options")) };
            let option_id: i64 = row.try_get(0).map_err(db_error("reading options"))?;
            let value_id: i64 = row.try_get(1).map_err(db_error("reading options"))?;
            let price: Decimal = get(4)?.parse().unwrap_or_default();
            let signed = if get(5)? == "-" { -price } else { price };
            by_option
                .entry(option_id)
                .or_default()
                .push(((option_id as u64, value_id as u64, get(2)?, get(3)?), signed));
        }
        let mut chosen = Vec::new();
        let mut difference = Decimal::ZERO;
        for values in by_option.into_values() {
            let (option, price) = values[rng.gen_range(0..values.len())].clone();
            chosen.push(option);
            difference += price;
        }
        Ok((chosen, difference))
    }

    /// An order as OpenCart's checkout writes it: the order row (guest or a registered
    /// customer), 1–3 lines with tax per unit, the totals (sub-total, flat shipping, VAT,
    /// total) and the first history entry. `seeded`: dated in the past, else now.
    async fn add_order(&self, tx: &mut Tx, rng: &mut StdRng, status: u32, seeded: Option<usize>) -> Result<(), String> {
        let catalogue = self.catalogue(tx).await?;
        if catalogue.is_empty() {
            return Err("an order needs products: the shop has no enabled product".to_owned());
        }
        let (first, last) = (FIRST[rng.gen_range(0..FIRST.len())], LAST[rng.gen_range(0..LAST.len())]);
        let email = format!("{}.{}@example.lt", first.to_lowercase(), last.to_lowercase());
        let company = if rng.gen_bool(0.3) {
            format!("UAB {last}")
        } else {
            String::new()
        };
        let rate = VAT_PERCENT / Decimal::ONE_HUNDRED;
        let mut lines = Vec::new();
        for _ in 0..rng.gen_range(1..=3) {
            let (id, code, name, price) = catalogue[rng.gen_range(0..catalogue.len())].clone();
            let quantity = Decimal::from(rng.gen_range(1..=3));
            let (options, difference) = self.choose_options(tx, rng, id).await?;
            let price = price + difference;
            let tax = (price * rate).round_dp(4);
            lines.push((id, code, name, price, quantity, tax, options));
        }
        let sub_total: Decimal = lines.iter().map(|line| line.3 * line.4).sum();
        let tax_total: Decimal =
            lines.iter().map(|line| line.5 * line.4).sum::<Decimal>() + (SHIPPING * rate).round_dp(4);
        let total = sub_total + SHIPPING + tax_total;
        let (when, minutes) = match seeded {
            Some(index) => (format!("'{SEEDED_FROM}' + INTERVAL ? MINUTE"), index as u64),
            None => ("NOW() + INTERVAL ? MINUTE".to_owned(), 0),
        };
        let address = (
            format!("Laisvės al. {}", rng.gen_range(1..99)),
            "Kaunas",
            format!("LT-{:05}", rng.gen_range(1000..99999)),
        );
        let sql = format!(
            "INSERT INTO {} (invoice_no, invoice_prefix, store_id, store_name, store_url, customer_id, customer_group_id, \
             firstname, lastname, email, telephone, fax, custom_field, \
             payment_firstname, payment_lastname, payment_company, payment_address_1, payment_address_2, payment_city, \
             payment_postcode, payment_country, payment_country_id, payment_zone, payment_zone_id, payment_address_format, \
             payment_custom_field, payment_method, payment_code, \
             shipping_firstname, shipping_lastname, shipping_company, shipping_address_1, shipping_address_2, shipping_city, \
             shipping_postcode, shipping_country, shipping_country_id, shipping_zone, shipping_zone_id, shipping_address_format, \
             shipping_custom_field, shipping_method, shipping_code, comment, total, order_status_id, affiliate_id, commission, \
             marketing_id, tracking, language_id, currency_id, currency_code, currency_value, ip, forwarded_ip, user_agent, \
             accept_language, date_added, date_modified) VALUES \
             (0, 'INV-2026-00', 0, 'Tiltas demo shop', 'http://127.0.0.1/', 0, 1, ?, ?, ?, '+37060000000', '', '', \
             ?, ?, ?, ?, '', ?, ?, 'Lithuania', 123, '', 0, '', '', 'Cash On Delivery', 'cod', \
             ?, ?, ?, ?, '', ?, ?, 'Lithuania', 123, '', 0, '', '', 'Flat Shipping Rate', 'flat.flat', '', ?, ?, 0, 0, \
             0, '', 1, 3, 'EUR', 1, '127.0.0.1', '', 'tiltas-sim', 'lt', {when}, {when})",
            self.table("order")
        );
        let done = sqlx::query(&sql)
            .bind(first)
            .bind(last)
            .bind(&email)
            .bind(first)
            .bind(last)
            .bind(&company)
            .bind(&address.0)
            .bind(address.1)
            .bind(&address.2)
            .bind(first)
            .bind(last)
            .bind(&company)
            .bind(&address.0)
            .bind(address.1)
            .bind(&address.2)
            .bind(total.to_string())
            .bind(status)
            .bind(minutes)
            .bind(minutes)
            .execute(&mut **tx)
            .await
            .map_err(db_error("adding orders"))?;
        let order_id = done.last_insert_id();
        let amounts = [sub_total, tax_total, total];
        self.add_order_details(tx, order_id, &lines, amounts, status).await
    }

    /// An order's lines, its totals (`amounts`: sub-total, tax, total; shipping is flat) and,
    /// for a confirmed order, its first history entry.
    async fn add_order_details(
        &self,
        tx: &mut Tx,
        order_id: u64,
        lines: &[OrderLine],
        amounts: [Decimal; 3],
        status: u32,
    ) -> Result<(), String> {
        let [sub_total, tax_total, total] = amounts;
        for (id, code, name, price, quantity, tax, options) in lines {
            let sql = format!(
                "INSERT INTO {} (order_id, product_id, name, model, quantity, price, total, tax, reward) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                self.table("order_product")
            );
            let line = sqlx::query(&sql)
                .bind(order_id)
                .bind(id)
                .bind(name)
                .bind(code)
                .bind(quantity.to_string())
                .bind(price.to_string())
                .bind((price * quantity).to_string())
                .bind(tax.to_string())
                .execute(&mut **tx)
                .await
                .map_err(db_error("adding order lines"))?;
            for (product_option_id, value_id, option, value) in options {
                let sql = format!(
                    "INSERT INTO {} (order_id, order_product_id, product_option_id, product_option_value_id, name, value, \
                     type) VALUES (?, ?, ?, ?, ?, ?, 'select')",
                    self.table("order_option")
                );
                sqlx::query(&sql)
                    .bind(order_id)
                    .bind(line.last_insert_id())
                    .bind(product_option_id)
                    .bind(value_id)
                    .bind(option)
                    .bind(value)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_error("adding order options"))?;
            }
        }
        let totals = [
            ("sub_total", "Sub-Total".to_owned(), sub_total, 1),
            ("shipping", "Flat Shipping Rate".to_owned(), SHIPPING, 3),
            ("tax", format!("VAT ({VAT_PERCENT}%)"), tax_total, 5),
            ("total", "Total".to_owned(), total, 9),
        ];
        for (code, title, value, sort_order) in totals {
            let sql = format!(
                "INSERT INTO {} (order_id, code, title, value, sort_order) VALUES (?, ?, ?, ?, ?)",
                self.table("order_total")
            );
            sqlx::query(&sql)
                .bind(order_id)
                .bind(code)
                .bind(title)
                .bind(value.to_string())
                .bind(sort_order)
                .execute(&mut **tx)
                .await
                .map_err(db_error("adding order totals"))?;
        }
        if status > 0 {
            let sql = format!(
                "INSERT INTO {} (order_id, order_status_id, notify, comment, date_added) VALUES (?, ?, 0, '', NOW())",
                self.table("order_history")
            );
            sqlx::query(&sql)
                .bind(order_id)
                .bind(status)
                .execute(&mut **tx)
                .await
                .map_err(db_error("adding order history"))?;
        }
        Ok(())
    }

    /// `/__sim/mutate`: `order` places new confirmed orders, `product` changes prices and names,
    /// `stock` quantities, `customer` registers new customers. Returns how many changed.
    pub async fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut tx = self.pool.begin().await.map_err(db_error("mutating"))?;
        let mut rng = self.rng.lock().await;
        let changed = match entity {
            "order" => {
                for _ in 0..count {
                    self.add_order(&mut tx, &mut rng, 1, None).await?;
                }
                count
            }
            "customer" => {
                let start = self.count(&mut tx, "customer", "").await?;
                for index in 0..count {
                    self.add_customer(&mut tx, &mut rng, start + index).await?;
                }
                count
            }
            "product" | "stock" => {
                let sql = format!("SELECT product_id FROM {} ORDER BY product_id", self.table("product"));
                let ids: Vec<i64> = sqlx::query_scalar(&sql)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_error("mutating"))?;
                let mut changed = 0;
                for id in ids.iter().take(count) {
                    let sql = if entity == "product" {
                        format!(
                            "UPDATE {} SET price = price + ?, date_modified = NOW() WHERE product_id = ?",
                            self.table("product")
                        )
                    } else {
                        format!(
                            "UPDATE {} SET quantity = quantity + ?, date_modified = NOW() WHERE product_id = ?",
                            self.table("product")
                        )
                    };
                    let step = if entity == "product" {
                        Decimal::new(rng.gen_range(1..500), 2).to_string()
                    } else {
                        rng.gen_range(1..20).to_string()
                    };
                    sqlx::query(&sql)
                        .bind(step)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error("mutating"))?;
                    changed += 1;
                }
                changed
            }
            other => {
                return Err(format!(
                    "mutate: no entity {other:?}; use order, product, stock or customer"
                ))
            }
        };
        tx.commit().await.map_err(db_error("mutating"))?;
        Ok(changed)
    }

    async fn count(&self, tx: &mut Tx, table: &str, condition: &str) -> Result<usize, String> {
        let sql = format!("SELECT COUNT(*) FROM {} {condition}", self.table(table));
        let count: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_error("counting"))?;
        Ok(count as usize)
    }

    /// Rows per entity: products, customers, confirmed orders and missing orders (status 0).
    pub async fn record_counts(&self) -> Result<BTreeMap<String, usize>, String> {
        let mut tx = self.pool.begin().await.map_err(db_error("counting"))?;
        let mut counts = BTreeMap::new();
        counts.insert("product".to_owned(), self.count(&mut tx, "product", "").await?);
        counts.insert("customer".to_owned(), self.count(&mut tx, "customer", "").await?);
        counts.insert(
            "order".to_owned(),
            self.count(&mut tx, "order", "WHERE order_status_id > 0").await?,
        );
        counts.insert(
            "missing_order".to_owned(),
            self.count(&mut tx, "order", "WHERE order_status_id = 0").await?,
        );
        tx.commit().await.map_err(db_error("counting"))?;
        Ok(counts)
    }

    /// Products sharing a code plus customers sharing an e-mail: what a connector that cannot
    /// find what it wrote before leaves behind.
    pub async fn duplicates(&self) -> Result<usize, String> {
        let sql = format!(
            "SELECT (SELECT COUNT(*) - COUNT(DISTINCT IF(sku <> '', sku, model)) FROM {}) + \
             (SELECT COUNT(*) - COUNT(DISTINCT LOWER(email)) FROM {})",
            self.table("product"),
            self.table("customer")
        );
        let count: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error("counting duplicates"))?;
        Ok(count as usize)
    }

    /// An entity's rows as JSON (every column as text): `product` (with its name), `stock`,
    /// `customer` (with its address) or `order`.
    pub async fn records(&self, entity: &str) -> Result<Option<Value>, String> {
        let (columns, from): (&[&str], String) = match entity {
            "product" => (
                &["p.product_id", "p.model", "p.sku", "pd.name", "p.price", "p.quantity", "p.status", "p.date_modified"],
                format!(
                    "{} p LEFT JOIN {} pd ON pd.product_id = p.product_id AND pd.language_id = 1 ORDER BY p.product_id",
                    self.table("product"),
                    self.table("product_description")
                ),
            ),
            "stock" => (
                &["p.sku", "p.model", "p.quantity"],
                format!("{} p ORDER BY p.product_id", self.table("product")),
            ),
            "customer" => (
                &["c.customer_id", "c.email", "c.firstname", "c.lastname", "c.telephone", "c.address_id", "a.company", "a.address_1", "a.city", "a.postcode", "a.country_id"],
                format!(
                    "{} c LEFT JOIN {} a ON a.address_id = c.address_id ORDER BY c.customer_id",
                    self.table("customer"),
                    self.table("address")
                ),
            ),
            "order" => (
                &["o.order_id", "o.email", "o.total", "t.tax", "o.order_status_id", "o.date_modified"],
                format!(
                    "{} o LEFT JOIN (SELECT order_id, SUM(value) AS tax FROM {} WHERE code = 'tax' GROUP BY order_id) t \
                     ON t.order_id = o.order_id WHERE o.order_status_id > 0 ORDER BY o.order_id",
                    self.table("order"),
                    self.table("order_total")
                ),
            ),
            _ => return Ok(None),
        };
        let list = columns
            .iter()
            .map(|column| {
                let name = column.split_once('.').map_or(*column, |(_, name)| name);
                format!("CAST({column} AS CHAR) AS `{name}`")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!("SELECT {list} FROM {from}"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error("reading records"))?;
        Ok(Some(Value::Array(rows.iter().map(text_row).collect())))
    }
}

/// A row of text columns as a JSON object.
fn text_row(row: &sqlx::mysql::MySqlRow) -> Value {
    let mut object = serde_json::Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let value = row
            .try_get::<Option<String>, _>(index)
            .ok()
            .flatten()
            .map_or(Value::Null, Value::String);
        object.insert(column.name().to_owned(), value);
    }
    json!(object)
}
