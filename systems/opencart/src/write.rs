//! The OpenCart target: products (the `product` row, its description in the connection's
//! language, its store), stock (the product's `quantity`) and customers (the `customer` row
//! and its default `address`). Each product and customer is written in its own transaction, so
//! a refused record leaves nothing half-written and refuses nothing else; a batch of stock
//! levels is one transaction.
use crate::db::ShopDb;
use crate::read::{customer_from_row, money, row_object, select_list, text};
use crate::schema::Version;
use crate::variants;
use crate::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use async_trait::async_trait;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::{MySql, Row, Transaction};
use std::collections::HashMap;
use tiltas_model::EntityKind;

/// Products or customers per batch (each its own transaction).
const RECORDS_PER_BATCH: usize = 50;
/// Stock levels per batch (one transaction).
const STOCK_PER_BATCH: usize = 500;
/// Keys per look-up query.
const KEYS_PER_LOOKUP: usize = 500;
/// OpenCart's stock status "In Stock" (`oc_stock_status`, shown when the quantity is 0 and
/// subtracting is off); the installer's default for new products.
const STOCK_STATUS_IN_STOCK: u32 = 7;

/// Writes products, stock or customers into one OpenCart store.
pub(crate) struct OpenCartTarget {
    db: ShopDb,
    entity: EntityKind,
    /// Whether Tiltas's variant table (OpenCart 3) is known to exist.
    variant_table_ready: bool,
}

/// An item's failure (refused or transient: the engine verifies by look-up and retries it
/// alone), or the whole batch's when credentials or configuration are at fault.
fn item_or_batch(error: ConnectorError, what: &str) -> Result<WriteOutcome, ConnectorError> {
    match error.kind {
        ErrorKind::Invalid | ErrorKind::Transient | ErrorKind::RateLimited => {
            Ok(WriteOutcome::Failed(ConnectorError {
                message: format!("{what}: {}", error.message),
                ..error
            }))
        }
        _ => Err(error),
    }
}

fn refused(message: String, field: &str) -> WriteOutcome {
    WriteOutcome::Failed(ConnectorError::new(ErrorKind::Invalid, message).at_field(field))
}

/// The price OpenCart stores: without tax (its tax class adds tax on display).
fn net_price(product: &Value) -> Option<Decimal> {
    let amount = |field: &str| number(product.get(field));
    amount("price_net").or_else(|| {
        let gross = amount("price_gross")?;
        let rate = amount("vat_rate").unwrap_or_default();
        Some((gross * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + rate)).round_dp(4))
    })
}

/// A number or numeric string as a decimal.
fn number(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::String(text) => text.trim().parse().ok(),
        Value::Number(number) => number.to_string().parse().ok(),
        _ => None,
    }
}

fn field(payload: &Value, name: &str) -> Option<String> {
    match payload.get(name)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

impl OpenCartTarget {
    pub fn new(db: ShopDb, entity: EntityKind) -> OpenCartTarget {
        OpenCartTarget {
            db,
            entity,
            variant_table_ready: false,
        }
    }

    async fn begin(&self, what: &str) -> Result<Transaction<'static, MySql>, ConnectorError> {
        self.db
            .pool()
            .await?
            .begin()
            .await
            .map_err(|error| self.db.error(what, error))
    }

    /// The ids of the products with these codes (the oldest when a code is held twice), in one
    /// query per batch: OpenCart has no index on the code, so each look-up scans the catalogue.
    /// A plain (consistent) read: a locking read would lock every row it scans, where the
    /// update by `product_id` that follows locks only the product's own row.
    async fn product_ids(&self, codes: &[String]) -> Result<HashMap<String, u64>, ConnectorError> {
        let mut ids = HashMap::new();
        if codes.is_empty() {
            return Ok(ids);
        }
        let sql = format!(
            "SELECT CAST(`{column}` AS CHAR), product_id FROM {} WHERE `{column}` IN ({}) ORDER BY product_id",
            self.db.table("product"),
            vec!["?"; codes.len()].join(", "),
            column = self.db.sku_column,
        );
        let mut query = sqlx::query(&sql);
        for code in codes {
            query = query.bind(code);
        }
        let rows = query
            .fetch_all(self.db.pool().await?)
            .await
            .map_err(|error| self.db.error("finding products by code", error))?;
        for row in rows {
            let code: String = row
                .try_get(0)
                .map_err(|error| self.db.error("finding products by code", error))?;
            let id: i64 = row
                .try_get(1)
                .map_err(|error| self.db.error("finding products by code", error))?;
            ids.entry(code).or_insert(id as u64);
        }
        Ok(ids)
    }

    /// Creates or updates one product by its code, with its description and store, in one
    /// transaction.
    async fn write_product(&self, item: &WriteItem, known: Option<u64>) -> Result<WriteOutcome, ConnectorError> {
        let payload = &item.payload;
        let Some(sku) = field(payload, "sku") else {
            return Ok(refused(
                "a product without `sku`: OpenCart products are matched by code".to_owned(),
                "sku",
            ));
        };
        let variants = match variants::variants_of(payload) {
            Ok(variants) => variants,
            Err(message) => return Ok(refused(message, "variants")),
        };
        let what = format!("product {sku}");
        let mut tx = self.begin(&what).await?;
        let written = match self.product_rows(&mut tx, &sku, known, payload).await {
            Ok(id) if !variants.is_empty() => self.variant_rows(&mut tx, id, payload, &variants).await.map(|()| id),
            other => other,
        };
        let outcome = match written {
            Ok(id) => match tx.commit().await {
                Ok(()) => WriteOutcome::Written {
                    target_id: id.to_string(),
                },
                Err(error) => item_or_batch(self.db.error(&what, error), &what)?,
            },
            Err(error) => item_or_batch(self.db.error(&format!("writing {what}"), error), &what)?,
        };
        Ok(outcome)
    }

    async fn product_rows(
        &self,
        tx: &mut Transaction<'static, MySql>,
        sku: &str,
        known: Option<u64>,
        payload: &Value,
    ) -> Result<u64, sqlx::Error> {
        let name = field(payload, "name").unwrap_or_else(|| sku.to_owned());
        let description = field(payload, "description").or_else(|| field(payload, "long_description"));
        let price = net_price(payload).map(|price| price.round_dp(4).to_string());
        let status = payload.get("active").and_then(Value::as_bool).map(i8::from);
        let ean = field(payload, "ean");
        let weight = number(payload.get("weight")).map(|weight| weight.to_string());
        let product = self.db.table("product");
        let id = match known {
            Some(id) => {
                let sql = format!(
                    "UPDATE {product} SET price = COALESCE(?, price), status = COALESCE(?, status), \
                     ean = COALESCE(?, ean), weight = COALESCE(?, weight), date_modified = NOW() WHERE product_id = ?"
                );
                sqlx::query(&sql)
                    .bind(&price)
                    .bind(status)
                    .bind(&ean)
                    .bind(&weight)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                id
            }
            None => self.insert_product(tx, sku, (&price, status, &ean, &weight)).await?,
        };
        let sql = format!(
            "INSERT INTO {} (product_id, language_id, name, description, tag, meta_title, meta_description, \
             meta_keyword) VALUES (?, ?, ?, ?, '', ?, '', '') ON DUPLICATE KEY UPDATE name = VALUES(name), \
             meta_title = VALUES(meta_title), description = IF(? IS NULL, description, VALUES(description))",
            self.db.table("product_description")
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(self.db.language_id)
            .bind(&name)
            .bind(description.as_deref().unwrap_or(""))
            .bind(&name)
            .bind(&description)
            .execute(&mut **tx)
            .await?;
        let sql = format!(
            "INSERT IGNORE INTO {} (product_id, store_id) VALUES (?, ?)",
            self.db.table("product_to_store")
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(self.db.store_id)
            .execute(&mut **tx)
            .await?;
        Ok(id)
    }

    /// The product's options and its variants (OpenCart 3: option values with their stock;
    /// OpenCart 4: products of their own).
    async fn variant_rows(
        &self,
        tx: &mut Transaction<'static, MySql>,
        id: u64,
        payload: &Value,
        variants: &[variants::VariantSpec],
    ) -> Result<(), sqlx::Error> {
        let price = net_price(payload);
        let option_values = variants::write_variants(&self.db, tx, (id, price), variants).await?;
        if self.db.version == Version::Four {
            let name = field(payload, "name")
                .or_else(|| field(payload, "sku"))
                .unwrap_or_default();
            variants::write_variant_products(&self.db, tx, (id, &name), variants, &option_values).await?;
        }
        Ok(())
    }

    /// A new `product` row with every NOT NULL column without a default filled as OpenCart's
    /// admin fills it; `fields` are price, status, EAN and weight. Returns its id.
    async fn insert_product(
        &self,
        tx: &mut Transaction<'static, MySql>,
        sku: &str,
        fields: (&Option<String>, Option<i8>, &Option<String>, &Option<String>),
    ) -> Result<u64, sqlx::Error> {
        let (price, status, ean, weight) = fields;
        let (model, sku_value) = if self.db.sku_column == "model" {
            (sku, "")
        } else {
            (sku, sku)
        };
        let sql = format!(
            "INSERT INTO {} (model, sku, upc, ean, jan, isbn, mpn, location, quantity, \
             stock_status_id, manufacturer_id, shipping, price, points, tax_class_id, date_available, \
             weight, weight_class_id, length, width, height, length_class_id, subtract, minimum, \
             sort_order, status, date_added, date_modified{}) \
             VALUES (?, ?, '', ?, '', '', '', '', 0, ?, 0, 1, ?, 0, ?, CURDATE(), ?, 1, 0, 0, 0, 1, 1, 1, \
             0, ?, NOW(), NOW(){})",
            self.db.table("product"),
            // OpenCart 4's variant columns are NOT NULL without a default.
            if self.db.version == Version::Four {
                ", variant, override"
            } else {
                ""
            },
            if self.db.version == Version::Four {
                ", '', ''"
            } else {
                ""
            },
        );
        let done = sqlx::query(&sql)
            .bind(model)
            .bind(sku_value)
            .bind(ean.as_deref().unwrap_or(""))
            .bind(STOCK_STATUS_IN_STOCK)
            .bind(price.as_deref().unwrap_or("0"))
            .bind(self.db.tax_class_id)
            .bind(weight.as_deref().unwrap_or("0"))
            .bind(status.unwrap_or(1))
            .execute(&mut **tx)
            .await?;
        Ok(done.last_insert_id())
    }

    /// Sets the quantity of each product named by a stock level's SKU, in one transaction.
    async fn write_stock(&self, items: &[WriteItem]) -> Result<BatchResult, ConnectorError> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        let mut wanted: Vec<(usize, String, i64)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match stock_quantity(&item.payload) {
                Ok((sku, quantity)) => wanted.push((index, sku, quantity)),
                Err(outcome) => outcomes[index] = Some(outcome),
            }
        }
        if !wanted.is_empty() {
            let mut tx = self.begin("writing stock").await?;
            let settled = self.stock_rows(&mut tx, &wanted, &mut outcomes).await;
            let settled = match settled {
                Ok(()) => tx.commit().await,
                Err(error) => Err(error),
            };
            if let Err(error) = settled {
                let error = self.db.error("writing stock", error);
                for (index, sku, _) in &wanted {
                    outcomes[*index] = Some(item_or_batch(error.clone(), &format!("stock of {sku}"))?);
                }
            }
        }
        Ok(BatchResult {
            outcomes: outcomes
                .into_iter()
                .map(|outcome| {
                    outcome.unwrap_or_else(|| {
                        WriteOutcome::Failed(ConnectorError::new(ErrorKind::Transient, "not written"))
                    })
                })
                .collect(),
            api_calls: 1,
        })
    }

    async fn stock_rows(
        &self,
        tx: &mut Transaction<'static, MySql>,
        wanted: &[(usize, String, i64)],
        outcomes: &mut [Option<WriteOutcome>],
    ) -> Result<(), sqlx::Error> {
        let product = self.db.table("product");
        let column = self.db.sku_column;
        let marks = vec!["?"; wanted.len()].join(", ");
        let sql = format!(
            "SELECT CAST(`{column}` AS CHAR), product_id, quantity FROM {product} WHERE `{column}` IN ({marks}) \
             ORDER BY product_id"
        );
        let mut query = sqlx::query(&sql);
        for (_, sku, _) in wanted {
            query = query.bind(sku);
        }
        let mut found: HashMap<String, (i64, i64)> = HashMap::new();
        for row in query.fetch_all(&mut **tx).await? {
            let sku: String = row.try_get(0)?;
            let id: i64 = row.try_get(1)?;
            let quantity: i64 = row.try_get(2)?;
            found.entry(sku).or_insert((id, quantity));
        }
        // OpenCart 3: codes that are no product may be variants (Tiltas's table).
        let missing: Vec<&str> = wanted
            .iter()
            .map(|(_, sku, _)| sku.as_str())
            .filter(|sku| !found.contains_key(*sku))
            .collect();
        let mut variants = variants::known_variants(&self.db, &mut **tx, &missing).await?;
        let mut settle: Vec<u64> = Vec::new();
        let mut variant_changes: Vec<(String, i64)> = Vec::new();
        // Every changed quantity in one statement (`CASE product_id WHEN … THEN …`); the last
        // level of a code given twice wins.
        let mut changed: Vec<(i64, i64)> = Vec::new();
        for (index, sku, quantity) in wanted {
            if let Some((product_id, ids, current)) = variants.get_mut(sku) {
                if *current != *quantity {
                    *current = *quantity;
                    variant_changes.retain(|(known, _)| known != sku);
                    variant_changes.push((sku.clone(), *quantity));
                    if !settle.contains(product_id) {
                        settle.push(*product_id);
                    }
                }
                outcomes[*index] = Some(WriteOutcome::Written {
                    target_id: variant_target_id(ids),
                });
                continue;
            }
            let Some((id, current)) = found.get_mut(sku) else {
                outcomes[*index] = Some(refused(
                    format!("stock of {sku}: the shop has no product with {column} {sku}; write the product first"),
                    "sku",
                ));
                continue;
            };
            if *current != *quantity {
                *current = *quantity;
                changed.retain(|(known, _)| known != id);
                changed.push((*id, *quantity));
            }
            outcomes[*index] = Some(WriteOutcome::Written {
                target_id: id.to_string(),
            });
        }
        if !changed.is_empty() {
            let sql = format!(
                "UPDATE {product} SET quantity = CASE product_id {} END, date_modified = NOW() \
                 WHERE product_id IN ({})",
                "WHEN ? THEN ? ".repeat(changed.len()),
                vec!["?"; changed.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (id, quantity) in &changed {
                query = query.bind(*id).bind(*quantity);
            }
            for (id, _) in &changed {
                query = query.bind(*id);
            }
            query.execute(&mut **tx).await?;
        }
        variants::set_variant_quantities(&self.db, tx, &variant_changes).await?;
        variants::settle_quantities(&self.db, tx, &settle).await
    }

    /// Creates or updates one customer (by e-mail) and its default address, in one transaction.
    async fn write_customer(&self, item: &WriteItem) -> Result<WriteOutcome, ConnectorError> {
        let Some(email) = field(&item.payload, "email").map(|email| email.to_lowercase()) else {
            return Ok(refused(
                "a customer without `email`: OpenCart customers sign in by e-mail".to_owned(),
                "email",
            ));
        };
        let what = format!("customer {email}");
        let mut tx = self.begin(&what).await?;
        let written = self.customer_rows(&mut tx, &email, &item.payload).await;
        Ok(match written {
            Ok(id) => match tx.commit().await {
                Ok(()) => WriteOutcome::Written {
                    target_id: id.to_string(),
                },
                Err(error) => item_or_batch(self.db.error(&what, error), &what)?,
            },
            Err(error) => item_or_batch(self.db.error(&format!("writing {what}"), error), &what)?,
        })
    }

    async fn customer_rows(
        &self,
        tx: &mut Transaction<'static, MySql>,
        email: &str,
        payload: &Value,
    ) -> Result<u64, sqlx::Error> {
        let customer = self.db.table("customer");
        let (first, last) = names(payload);
        let phone = field(payload, "phone").unwrap_or_default();
        let sql = format!(
            "SELECT customer_id, address_id FROM {customer} WHERE LOWER(email) = ? ORDER BY customer_id LIMIT 1"
        );
        let existing = sqlx::query(&sql).bind(email).fetch_optional(&mut **tx).await?;
        let (id, address_id) = match existing {
            Some(row) => {
                let id = row.try_get::<i64, _>(0)? as u64;
                let sql =
                    format!("UPDATE {customer} SET firstname = ?, lastname = ?, telephone = ? WHERE customer_id = ?");
                sqlx::query(&sql)
                    .bind(&first)
                    .bind(&last)
                    .bind(&phone)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                (id, row.try_get::<i64, _>(1)?)
            }
            None => {
                // No password: the customer sets one with "Forgotten Password" before signing in.
                let sql = format!(
                    "INSERT INTO {customer} (customer_group_id, store_id, language_id, firstname, lastname, email, \
                     telephone, fax, password, salt, newsletter, address_id, custom_field, ip, status, safe, token, \
                     code, date_added) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', 0, 0, '', '', 1, 0, '', '', NOW())"
                );
                let done = sqlx::query(&sql)
                    .bind(self.db.customer_group_id)
                    .bind(self.db.store_id)
                    .bind(self.db.language_id)
                    .bind(&first)
                    .bind(&last)
                    .bind(email)
                    .bind(&phone)
                    .execute(&mut **tx)
                    .await?;
                (done.last_insert_id(), 0)
            }
        };
        if let Some(address) = payload
            .get("billing")
            .or_else(|| payload.get("shipping"))
            .filter(|address| address.is_object())
        {
            self.address_rows(tx, (id, address_id), (&first, &last), address, payload)
                .await?;
        }
        Ok(id)
    }

    /// The customer's default address (`customer.address_id`): updated, or added and made the
    /// default. `ids` are the customer's and its address's (0: none yet).
    async fn address_rows(
        &self,
        tx: &mut Transaction<'static, MySql>,
        ids: (u64, i64),
        names: (&str, &str),
        address: &Value,
        payload: &Value,
    ) -> Result<(), sqlx::Error> {
        let ((id, address_id), (first, last)) = (ids, names);
        let company = field(address, "company")
            .or_else(|| field(payload, "company_name"))
            .unwrap_or_default();
        let country = field(address, "country").unwrap_or_default().to_uppercase();
        let sql = format!(
            "SELECT country_id FROM {} WHERE iso_code_2 = ? LIMIT 1",
            self.db.table("country")
        );
        let country_id: i64 = match sqlx::query(&sql).bind(&country).fetch_optional(&mut **tx).await? {
            Some(row) => row.try_get::<i64, _>(0)?,
            None => 0,
        };
        let values = [
            company,
            field(address, "line1").unwrap_or_default(),
            field(address, "line2").unwrap_or_default(),
            field(address, "city").unwrap_or_default(),
            field(address, "postcode").unwrap_or_default(),
        ];
        let table = self.db.table("address");
        let (sql, key) = if address_id > 0 {
            (
                format!(
                    "UPDATE {table} SET firstname = ?, lastname = ?, company = ?, address_1 = ?, address_2 = ?, \
                     city = ?, postcode = ?, country_id = ? WHERE address_id = ?"
                ),
                address_id as u64,
            )
        } else {
            (
                format!(
                    "INSERT INTO {table} (firstname, lastname, company, address_1, address_2, city, postcode, \
                     country_id, customer_id, zone_id, custom_field) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '')"
                ),
                id,
            )
        };
        let mut query = sqlx::query(&sql).bind(first).bind(last);
        for value in &values {
            query = query.bind(value);
        }
        let done = query.bind(country_id).bind(key).execute(&mut **tx).await?;
        if address_id == 0 {
            let sql = format!(
                "UPDATE {} SET address_id = ? WHERE customer_id = ?",
                self.db.table("customer")
            );
            sqlx::query(&sql)
                .bind(done.last_insert_id())
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn lookup_products(&self, keys: &[String], stock: bool) -> Result<Lookup, ConnectorError> {
        let mut lookup = Lookup::default();
        let column = self.db.sku_column;
        // Stock keys are `sku@warehouse` (the natural key) or a bare SKU (`match_on = "sku"`).
        let skus: Vec<(String, String)> = keys
            .iter()
            .map(|key| {
                let sku = if stock {
                    key.rsplit_once('@').map_or(key.as_str(), |(sku, _)| sku)
                } else {
                    key
                };
                (key.clone(), sku.to_owned())
            })
            .collect();
        for chunk in skus.chunks(KEYS_PER_LOOKUP) {
            if stock {
                self.lookup_variants(chunk, &mut lookup).await?;
            }
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT {}, pd.name AS name, pd.description AS description FROM {} p LEFT JOIN {} pd \
                 ON pd.product_id = p.product_id AND pd.language_id = ? WHERE p.`{column}` IN ({marks}) ORDER BY p.product_id",
                select_list("p", &["product_id", "model", "sku", "ean", "price", "weight", "status", "quantity", "date_modified"]),
                self.db.table("product"),
                self.db.table("product_description"),
            );
            let mut query = sqlx::query(&sql).bind(self.db.language_id);
            for (_, sku) in chunk {
                query = query.bind(sku);
            }
            let rows = query
                .fetch_all(self.db.pool().await?)
                .await
                .map_err(|error| self.db.error("looking up products", error))?;
            lookup.api_calls += 1;
            for row in rows.iter().map(row_object) {
                let Some(code) = text(&row, column) else { continue };
                for (key, _) in chunk.iter().filter(|(_, sku)| *sku == code) {
                    // The oldest product wins when the shop holds a code twice.
                    lookup.found.entry(key.clone()).or_insert(FoundRecord {
                        target_id: text(&row, "product_id").unwrap_or_default(),
                        data: (!stock).then(|| product_data(&row, &code)),
                    });
                }
            }
        }
        Ok(lookup)
    }

    /// OpenCart 3: the stock keys whose SKU is a variant's (Tiltas's table), as `pov:` ids.
    async fn lookup_variants(&self, chunk: &[(String, String)], lookup: &mut Lookup) -> Result<(), ConnectorError> {
        if self.db.version != Version::Three {
            return Ok(());
        }
        let skus: Vec<&str> = chunk.iter().map(|(_, sku)| sku.as_str()).collect();
        let found = variants::known_variants(&self.db, self.db.pool().await?, &skus)
            .await
            .map_err(|error| self.db.error("looking up variants", error))?;
        lookup.api_calls += 1;
        for (key, sku) in chunk {
            if let Some((_, ids, _)) = found.get(sku) {
                lookup.found.insert(
                    key.clone(),
                    FoundRecord {
                        target_id: variant_target_id(ids),
                        data: None,
                    },
                );
            }
        }
        Ok(())
    }

    async fn lookup_customers(&self, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut lookup = Lookup::default();
        for chunk in keys.chunks(KEYS_PER_LOOKUP) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT {}, {}, co.iso_code_2 AS country FROM {} c LEFT JOIN {} a ON a.address_id = c.address_id \
                 LEFT JOIN {} co ON co.country_id = a.country_id WHERE LOWER(c.email) IN ({marks}) ORDER BY c.customer_id",
                select_list("c", &["customer_id", "customer_group_id", "firstname", "lastname", "email", "telephone", "status", "date_added"]),
                select_list("a", &["company", "address_1", "address_2", "city", "postcode"]),
                self.db.table("customer"),
                self.db.table("address"),
                self.db.table("country"),
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(key.to_lowercase());
            }
            let rows = query
                .fetch_all(self.db.pool().await?)
                .await
                .map_err(|error| self.db.error("looking up customers", error))?;
            lookup.api_calls += 1;
            for row in rows.iter().map(row_object) {
                let email = text(&row, "email").unwrap_or_default().to_lowercase();
                for key in chunk.iter().filter(|key| key.to_lowercase() == email) {
                    lookup.found.entry(key.clone()).or_insert(FoundRecord {
                        target_id: text(&row, "customer_id").unwrap_or_default(),
                        data: Some(customer_from_row(&row)),
                    });
                }
            }
        }
        Ok(lookup)
    }
}

/// The target id of an OpenCart 3 variant's stock: its option values (`pov:12`, `pov:12+15`).
fn variant_target_id(ids: &str) -> String {
    format!("pov:{}", ids.replace(',', "+"))
}

/// A looked-up product as the canonical fields the connector writes.
fn product_data(row: &Value, code: &str) -> Value {
    let mut data = serde_json::Map::new();
    data.insert("sku".to_owned(), json!(code));
    crate::read::put(&mut data, "name", text(row, "name"));
    crate::read::put(&mut data, "description", text(row, "description"));
    crate::read::put(&mut data, "price_net", money(row, "price"));
    data.insert("active".to_owned(), json!(text(row, "status").as_deref() == Some("1")));
    Value::Object(data)
}

/// The SKU and whole quantity OpenCart keeps for a stock level: available (on hand less
/// reserved), never below zero, fractions dropped (`quantity` is an integer).
fn stock_quantity(payload: &Value) -> Result<(String, i64), WriteOutcome> {
    let Some(sku) = field(payload, "sku") else {
        return Err(refused("a stock level without `sku`".to_owned(), "sku"));
    };
    let available = number(payload.get("available"))
        .or_else(|| Some(number(payload.get("on_hand"))? - number(payload.get("reserved")).unwrap_or_default()));
    let Some(available) = available else {
        return Err(refused(
            format!("stock of {sku}: neither `available` nor `on_hand` is a number"),
            "on_hand",
        ));
    };
    let quantity = available
        .max(Decimal::ZERO)
        .trunc()
        .to_i64()
        .unwrap_or(i64::from(i32::MAX));
    Ok((sku, quantity.min(i64::from(i32::MAX))))
}

/// First and last name of a canonical customer: its own, else split from `name`.
fn names(customer: &Value) -> (String, String) {
    let name = field(customer, "name")
        .or_else(|| field(customer, "company_name"))
        .unwrap_or_default();
    let mut words = name.splitn(2, ' ');
    let first_guess = words.next().unwrap_or_default().to_owned();
    let last_guess = words.next().map(str::to_owned).unwrap_or_default();
    (
        field(customer, "first_name").unwrap_or(first_guess),
        field(customer, "last_name").unwrap_or(last_guess),
    )
}

#[async_trait]
impl Target for OpenCartTarget {
    fn max_batch(&self) -> usize {
        match self.entity {
            EntityKind::Stock => STOCK_PER_BATCH,
            _ => RECORDS_PER_BATCH,
        }
    }

    fn can_lookup(&self) -> bool {
        true
    }

    fn precheck(&self, payload: &Value) -> Result<(), String> {
        // OpenCart's own limits (its columns' lengths), checked before anything is written:
        // a server not in strict mode would cut the value instead of refusing it.
        let limits: &[(&str, usize)] = match self.entity {
            EntityKind::Product => &[("sku", 64), ("name", 255), ("ean", 14)],
            EntityKind::Customer => &[("email", 96), ("first_name", 32), ("last_name", 32), ("phone", 32)],
            _ => &[],
        };
        if self.entity == EntityKind::Product {
            variants::variants_of(payload)?;
        }
        for (name, limit) in limits {
            if let Some(value) = field(payload, name) {
                if value.chars().count() > *limit {
                    return Err(format!(
                        "`{name}` is {} characters; OpenCart keeps at most {limit}: shorten it in the source",
                        value.chars().count()
                    ));
                }
            }
        }
        Ok(())
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        match (self.entity, match_on) {
            (EntityKind::Product, None | Some("sku")) => self.lookup_products(keys, false).await,
            (EntityKind::Stock, None | Some("sku")) => self.lookup_products(keys, true).await,
            (EntityKind::Customer, None | Some("email")) => self.lookup_customers(keys).await,
            (entity, field) => Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "OpenCart cannot find {entity} by {}: use match_on = \"{}\"",
                    field.unwrap_or("its key"),
                    if entity == EntityKind::Customer { "email" } else { "sku" }
                ),
            )),
        }
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        if self.entity == EntityKind::Stock {
            return self.write_stock(&items).await;
        }
        let has_variants = |item: &WriteItem| {
            item.payload
                .get("variants")
                .and_then(Value::as_array)
                .is_some_and(|variants| !variants.is_empty())
        };
        if self.entity == EntityKind::Product
            && self.db.version == Version::Three
            && !self.variant_table_ready
            && items.iter().any(has_variants)
        {
            variants::ensure_variant_table(&self.db).await?;
            self.variant_table_ready = true;
        }
        let mut known = match self.entity {
            EntityKind::Product => {
                let codes: Vec<String> = items.iter().filter_map(|item| field(&item.payload, "sku")).collect();
                self.product_ids(&codes).await?
            }
            _ => HashMap::new(),
        };
        let mut outcomes = Vec::with_capacity(items.len());
        for item in &items {
            outcomes.push(match self.entity {
                EntityKind::Product => {
                    let code = field(&item.payload, "sku").unwrap_or_default();
                    let outcome = self.write_product(item, known.get(&code).copied()).await?;
                    // A code twice in one batch: the second write updates what the first created.
                    if let WriteOutcome::Written { target_id } = &outcome {
                        known.extend(target_id.parse().ok().map(|id| (code, id)));
                    }
                    outcome
                }
                EntityKind::Customer => self.write_customer(item).await?,
                other => {
                    return Err(ConnectorError::new(
                        ErrorKind::Fatal,
                        format!("the opencart connector does not write {other}"),
                    ))
                }
            });
        }
        let api_calls = outcomes.len() as u64 + u64::from(self.entity == EntityKind::Product);
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
