//! Variants of a canonical product (`variants`: each with its SKU, price and attributes such as
//! `Size = L`) in OpenCart's tables.
//!
//! Both versions: each attribute name is a `select` option (`option` + `option_description`,
//! found by name in the connection's language or created), each value an `option_value`
//! (+ description), and the product gets one `product_option` per attribute name and one
//! `product_option_value` per value.
//!
//! OpenCart 3 keeps stock per option value and no code for it: Tiltas's own table
//! ([`schema::VARIANT_TABLE`]) remembers which option values make each variant SKU and the
//! variant's quantity; an option value's `quantity` is the sum over the variants that have it
//! (one attribute: exactly the variant's). OpenCart 4 keeps each variant as a product of its
//! own (`master_id` = the product, `variant` = its option values as JSON), with its own code,
//! price and quantity.
use crate::db::ShopDb;
use crate::schema::{self, Version};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use sqlx::{MySql, Row, Transaction};
use std::collections::{BTreeMap, HashMap};

type Tx = Transaction<'static, MySql>;

/// OpenCart's column widths for what a variant writes.
const SKU_WIDTH: usize = 64;
const OPTION_NAME_WIDTH: usize = 128;

/// One variant of a product as the connector writes it.
#[derive(Debug, Clone)]
pub(crate) struct VariantSpec {
    pub sku: String,
    pub name: Option<String>,
    pub ean: Option<String>,
    /// Without tax: its own, else the product's.
    pub price: Option<Decimal>,
    pub attributes: BTreeMap<String, String>,
}

/// The text of a field, trimmed; numbers as text.
fn text_field(value: &Value, name: &str) -> Option<String> {
    match value.get(name)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn decimal_field(value: &Value, name: &str) -> Option<Decimal> {
    text_field(value, name)?.parse().ok()
}

/// The variants of a product payload, or why OpenCart cannot hold them (checked before
/// anything is written). `vat_rate` turns a gross-only price into OpenCart's net price.
pub(crate) fn variants_of(product: &Value) -> Result<Vec<VariantSpec>, String> {
    let Some(list) = product.get("variants").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let product_sku = text_field(product, "sku").unwrap_or_default();
    let vat_rate = decimal_field(product, "vat_rate").unwrap_or_default();
    let mut variants: Vec<VariantSpec> = Vec::with_capacity(list.len());
    for (index, variant) in list.iter().enumerate() {
        let Some(sku) = text_field(variant, "sku") else {
            return Err(format!(
                "variant {} of {product_sku} has no `sku`: give every variant its code",
                index + 1
            ));
        };
        if sku.chars().count() > SKU_WIDTH || sku == product_sku {
            return Err(format!(
                "variant `{sku}` of {product_sku}: a variant's SKU must differ from the product's and have at most {SKU_WIDTH} characters"
            ));
        }
        let attributes: BTreeMap<String, String> = variant
            .get("attributes")
            .and_then(Value::as_object)
            .map(|attributes| {
                attributes
                    .iter()
                    .filter_map(|(name, value)| {
                        let value = match value {
                            Value::String(text) => text.trim().to_owned(),
                            Value::Number(number) => number.to_string(),
                            _ => return None,
                        };
                        Some((name.trim().to_owned(), value))
                            .filter(|(name, value)| !name.is_empty() && !value.is_empty())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if attributes.is_empty() {
            return Err(format!(
                "variant `{sku}` of {product_sku} has no attributes: OpenCart tells variants apart by option values (e.g. Size = L)"
            ));
        }
        if let Some((name, value)) = attributes
            .iter()
            .find(|(name, value)| name.chars().count() > OPTION_NAME_WIDTH || value.chars().count() > OPTION_NAME_WIDTH)
        {
            return Err(format!(
                "variant `{sku}`: attribute {name} = {value} is longer than OpenCart's {OPTION_NAME_WIDTH} characters"
            ));
        }
        if let Some(twin) = variants
            .iter()
            .find(|known| known.sku == sku || known.attributes == attributes)
        {
            return Err(format!(
                "variants `{}` and `{sku}` of {product_sku} have the same SKU or the same attributes: OpenCart could not tell them apart",
                twin.sku
            ));
        }
        let price = decimal_field(variant, "price_net").or_else(|| {
            let gross = decimal_field(variant, "price_gross")?;
            Some((gross * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + vat_rate)).round_dp(4))
        });
        variants.push(VariantSpec {
            sku,
            name: text_field(variant, "name"),
            ean: text_field(variant, "ean"),
            price,
            attributes,
        });
    }
    Ok(variants)
}

/// The option values a product's variants use: per attribute name (sorted), its values in the
/// order the variants first name them.
fn options_of(variants: &[VariantSpec]) -> BTreeMap<&str, Vec<&str>> {
    let mut options: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for variant in variants {
        for (name, value) in &variant.attributes {
            let values = options.entry(name.as_str()).or_default();
            if !values.contains(&value.as_str()) {
                values.push(value.as_str());
            }
        }
    }
    options
}

/// The `product_option_value_id` of each (attribute name, value) of a written product.
pub(crate) type OptionValueIds = HashMap<(String, String), (u64, u64)>;

/// Writes the product's options and option values (both versions) and, on OpenCart 3, each
/// variant's identity in Tiltas's table and the option values' quantities. On OpenCart 4 the
/// variants become products of their own ([`write_variant_products`]).
pub(crate) async fn write_variants(
    db: &ShopDb,
    tx: &mut Tx,
    product: (u64, Option<Decimal>),
    variants: &[VariantSpec],
) -> Result<OptionValueIds, sqlx::Error> {
    let (product_id, product_price) = product;
    let first_name = variants
        .first()
        .and_then(|variant| variant.attributes.keys().next().cloned());
    let mut ids: OptionValueIds = HashMap::new();
    for (name, values) in options_of(variants) {
        let option_id = option_id(db, tx, name).await?;
        let product_option_id = product_option_id(db, tx, product_id, option_id).await?;
        for (sort_order, value) in values.into_iter().enumerate() {
            let option_value_id = option_value_id(db, tx, option_id, value, sort_order).await?;
            // OpenCart adds an option value's price to the product's: the difference is put on
            // the values of the first attribute (with several attributes, a price per
            // combination cannot be held).
            let difference = if first_name.as_deref() == Some(name) {
                variants
                    .iter()
                    .find(|variant| variant.attributes.get(name).map(String::as_str) == Some(value))
                    .and_then(|variant| Some(variant.price? - product_price?))
                    .unwrap_or_default()
            } else {
                Decimal::ZERO
            };
            let ids_here = (product_option_id, option_id, option_value_id);
            let id = product_option_value(db, tx, product_id, ids_here, difference).await?;
            ids.insert((name.to_owned(), value.to_owned()), (product_option_id, id));
        }
    }
    if db.version == Version::Three {
        for variant in variants {
            let pov_ids: Vec<String> = variant
                .attributes
                .iter()
                .filter_map(|(name, value)| ids.get(&(name.clone(), value.clone())))
                .map(|(_, id)| id.to_string())
                .collect();
            let sql = format!(
                "INSERT INTO {} (sku, product_id, product_option_value_ids, quantity) VALUES (?, ?, ?, 0) \
                 ON DUPLICATE KEY UPDATE product_id = VALUES(product_id), \
                 product_option_value_ids = VALUES(product_option_value_ids)",
                db.table(schema::VARIANT_TABLE.0)
            );
            sqlx::query(&sql)
                .bind(&variant.sku)
                .bind(product_id)
                .bind(pov_ids.join(","))
                .execute(&mut **tx)
                .await?;
        }
        settle_quantities(db, tx, &[product_id]).await?;
    }
    Ok(ids)
}

/// The `select` option named `name` in the connection's language, created when missing.
async fn option_id(db: &ShopDb, tx: &mut Tx, name: &str) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "SELECT o.option_id FROM {} o JOIN {} d ON d.option_id = o.option_id AND d.language_id = ? \
         WHERE d.name = ? AND o.type IN ('select', 'radio') ORDER BY o.option_id LIMIT 1",
        db.table("option"),
        db.table("option_description")
    );
    if let Some(row) = sqlx::query(&sql)
        .bind(db.language_id)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(row.try_get::<i64, _>(0)? as u64);
    }
    let sql = format!(
        "INSERT INTO {} (type, sort_order) VALUES ('select', 0)",
        db.table("option")
    );
    let id = sqlx::query(&sql).execute(&mut **tx).await?.last_insert_id();
    let sql = format!(
        "INSERT INTO {} (option_id, language_id, name) VALUES (?, ?, ?)",
        db.table("option_description")
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(db.language_id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// The value `name` of option `option_id`, created when missing.
async fn option_value_id(
    db: &ShopDb,
    tx: &mut Tx,
    option_id: u64,
    name: &str,
    sort_order: usize,
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "SELECT option_value_id FROM {} WHERE option_id = ? AND language_id = ? AND name = ? \
         ORDER BY option_value_id LIMIT 1",
        db.table("option_value_description")
    );
    if let Some(row) = sqlx::query(&sql)
        .bind(option_id)
        .bind(db.language_id)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(row.try_get::<i64, _>(0)? as u64);
    }
    let sql = format!(
        "INSERT INTO {} (option_id, image, sort_order) VALUES (?, '', ?)",
        db.table("option_value")
    );
    let id = sqlx::query(&sql)
        .bind(option_id)
        .bind(sort_order as u64)
        .execute(&mut **tx)
        .await?
        .last_insert_id();
    let sql = format!(
        "INSERT INTO {} (option_value_id, language_id, option_id, name) VALUES (?, ?, ?, ?)",
        db.table("option_value_description")
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(db.language_id)
        .bind(option_id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// The product's `product_option` for `option_id` (required: a variant must be chosen).
async fn product_option_id(db: &ShopDb, tx: &mut Tx, product_id: u64, option_id: u64) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "SELECT product_option_id FROM {} WHERE product_id = ? AND option_id = ? ORDER BY product_option_id LIMIT 1",
        db.table("product_option")
    );
    if let Some(row) = sqlx::query(&sql)
        .bind(product_id)
        .bind(option_id)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(row.try_get::<i64, _>(0)? as u64);
    }
    let sql = format!(
        "INSERT INTO {} (product_id, option_id, value, required) VALUES (?, ?, '', 1)",
        db.table("product_option")
    );
    Ok(sqlx::query(&sql)
        .bind(product_id)
        .bind(option_id)
        .execute(&mut **tx)
        .await?
        .last_insert_id())
}

/// The product's `product_option_value` for one option value, its price difference set (`+` or
/// `-` and the amount, as OpenCart keeps it); created with quantity 0 (the stock flow's) and
/// `subtract` on (OpenCart 3: the checkout takes sold units off the value's quantity; OpenCart 4
/// takes them off the variant product, so off here).
async fn product_option_value(
    db: &ShopDb,
    tx: &mut Tx,
    product_id: u64,
    ids: (u64, u64, u64),
    difference: Decimal,
) -> Result<u64, sqlx::Error> {
    let (product_option_id, option_id, option_value_id) = ids;
    let prefix = if difference.is_sign_negative() && !difference.is_zero() {
        "-"
    } else {
        "+"
    };
    let price = difference.abs().round_dp(4).to_string();
    let table = db.table("product_option_value");
    let sql = format!(
        "SELECT product_option_value_id, CAST(price AS CHAR), price_prefix FROM {table} \
         WHERE product_option_id = ? AND option_value_id = ? ORDER BY product_option_value_id LIMIT 1"
    );
    if let Some(row) = sqlx::query(&sql)
        .bind(product_option_id)
        .bind(option_value_id)
        .fetch_optional(&mut **tx)
        .await?
    {
        let id = row.try_get::<i64, _>(0)? as u64;
        let known: String = row.try_get(1)?;
        let known_prefix: String = row.try_get(2)?;
        let same = known.parse::<Decimal>().ok() == price.parse().ok() && known_prefix == prefix;
        if !same {
            let sql = format!("UPDATE {table} SET price = ?, price_prefix = ? WHERE product_option_value_id = ?");
            sqlx::query(&sql)
                .bind(&price)
                .bind(prefix)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        return Ok(id);
    }
    let sql = format!(
        "INSERT INTO {table} (product_option_id, product_id, option_id, option_value_id, quantity, subtract, price, \
         price_prefix, points, points_prefix, weight, weight_prefix) VALUES (?, ?, ?, ?, 0, ?, ?, ?, 0, '+', 0, '+')"
    );
    Ok(sqlx::query(&sql)
        .bind(product_option_id)
        .bind(product_id)
        .bind(option_id)
        .bind(option_value_id)
        .bind(i8::from(db.version == Version::Three))
        .bind(&price)
        .bind(prefix)
        .execute(&mut **tx)
        .await?
        .last_insert_id())
}

/// OpenCart 3: each option value's quantity is the sum of the quantities of the variants that
/// have it, and the product's the sum of its variants'; only changed rows are updated.
pub(crate) async fn settle_quantities(db: &ShopDb, tx: &mut Tx, product_ids: &[u64]) -> Result<(), sqlx::Error> {
    if product_ids.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; product_ids.len()].join(", ");
    let sql = format!(
        "SELECT product_id, product_option_value_ids, quantity FROM {} WHERE product_id IN ({marks})",
        db.table(schema::VARIANT_TABLE.0)
    );
    let mut query = sqlx::query(&sql);
    for id in product_ids {
        query = query.bind(*id);
    }
    let mut per_value: HashMap<u64, i64> = HashMap::new();
    let mut per_product: HashMap<u64, i64> = HashMap::new();
    for row in query.fetch_all(&mut **tx).await? {
        let product_id = row.try_get::<i64, _>(0)? as u64;
        let ids: String = row.try_get(1)?;
        let quantity: i64 = row.try_get::<i32, _>(2)?.into();
        *per_product.entry(product_id).or_default() += quantity;
        for id in ids.split(',').filter_map(|id| id.parse::<u64>().ok()) {
            *per_value.entry(id).or_default() += quantity;
        }
    }
    let table = db.table("product_option_value");
    let sql = format!("SELECT product_option_value_id, quantity FROM {table} WHERE product_id IN ({marks}) FOR UPDATE");
    let mut query = sqlx::query(&sql);
    for id in product_ids {
        query = query.bind(*id);
    }
    let mut changed_values: Vec<(u64, i64)> = Vec::new();
    for row in query.fetch_all(&mut **tx).await? {
        let id = row.try_get::<i64, _>(0)? as u64;
        let current: i64 = row.try_get::<i32, _>(1)?.into();
        if let Some(wanted) = per_value.get(&id).copied().filter(|wanted| *wanted != current) {
            changed_values.push((id, wanted));
        }
    }
    set_by_case(tx, (&table, "product_option_value_id"), &changed_values, "").await?;
    let sql = format!(
        "SELECT product_id, quantity FROM {} WHERE product_id IN ({marks})",
        db.table("product")
    );
    let mut query = sqlx::query(&sql);
    for id in product_ids {
        query = query.bind(*id);
    }
    let mut changed_products: Vec<(u64, i64)> = Vec::new();
    for row in query.fetch_all(&mut **tx).await? {
        let id = row.try_get::<i64, _>(0)? as u64;
        let current: i64 = row.try_get::<i32, _>(1)?.into();
        if let Some(wanted) = per_product.get(&id).copied().filter(|wanted| *wanted != current) {
            changed_products.push((id, wanted));
        }
    }
    let product = db.table("product");
    set_by_case(
        tx,
        (&product, "product_id"),
        &changed_products,
        ", date_modified = NOW()",
    )
    .await
}

/// Every changed `quantity` of `table` in one statement (`CASE key WHEN … THEN … END`): a
/// transaction of few statements is seldom cut short by a broken connection. `also` is added
/// to the SET list.
async fn set_by_case<K: ToString>(
    tx: &mut Tx,
    (table, key): (&str, &str),
    changes: &[(K, i64)],
    also: &str,
) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {table} SET quantity = CASE `{key}` {} END{also} WHERE `{key}` IN ({})",
        "WHEN ? THEN ? ".repeat(changes.len()),
        vec!["?"; changes.len()].join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (id, quantity) in changes {
        query = query.bind(id.to_string()).bind(*quantity);
    }
    for (id, _) in changes {
        query = query.bind(id.to_string());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// OpenCart 3: sets the quantities of the variants in `changes` (SKU, quantity) in Tiltas's
/// table, in one statement.
pub(crate) async fn set_variant_quantities(
    db: &ShopDb,
    tx: &mut Tx,
    changes: &[(String, i64)],
) -> Result<(), sqlx::Error> {
    set_by_case(tx, (&db.table(schema::VARIANT_TABLE.0), "sku"), changes, "").await
}

/// OpenCart 4: each variant as a product row of its own (`master_id` = the product, `variant` =
/// the master's `product_option_id` → `product_option_value_id` of its values, `override` = the
/// fields it keeps apart from the master), with its description and store. `known` holds the
/// ids of the batch's codes; quantity is left to the stock flow.
pub(crate) async fn write_variant_products(
    db: &ShopDb,
    tx: &mut Tx,
    master: (u64, &str),
    variants: &[VariantSpec],
    option_values: &OptionValueIds,
) -> Result<(), sqlx::Error> {
    let (master_id, master_name) = master;
    let product = db.table("product");
    for variant in variants {
        let mut chosen = Map::new();
        for (name, value) in &variant.attributes {
            if let Some((product_option_id, id)) = option_values.get(&(name.clone(), value.clone())) {
                chosen.insert(product_option_id.to_string(), json!(id.to_string()));
            }
        }
        let variant_json = Value::Object(chosen).to_string();
        let override_json = json!({"model": "1", "sku": "1", "ean": "1", "price": "1"}).to_string();
        let sql = format!(
            "SELECT product_id FROM {product} WHERE `{}` = ? ORDER BY product_id LIMIT 1",
            db.sku_column
        );
        let found = sqlx::query(&sql).bind(&variant.sku).fetch_optional(&mut **tx).await?;
        let price = variant.price.map(|price| price.round_dp(4).to_string());
        let id = match found {
            Some(row) => {
                let id = row.try_get::<i64, _>(0)? as u64;
                let sql = format!(
                    "UPDATE {product} SET master_id = ?, variant = ?, override = ?, price = COALESCE(?, price), \
                     ean = COALESCE(?, ean), date_modified = NOW() WHERE product_id = ?"
                );
                sqlx::query(&sql)
                    .bind(master_id)
                    .bind(&variant_json)
                    .bind(&override_json)
                    .bind(&price)
                    .bind(&variant.ean)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                id
            }
            None => {
                // A copy of the master's row (as OpenCart's "add variant" does) with its own
                // code, price and the variant columns.
                let sql = format!(
                    "INSERT INTO {product} (master_id, model, sku, upc, ean, jan, isbn, mpn, location, variant, override, \
                     quantity, stock_status_id, manufacturer_id, shipping, price, points, tax_class_id, date_available, \
                     weight, weight_class_id, length, width, height, length_class_id, subtract, minimum, sort_order, \
                     status, date_added, date_modified) \
                     SELECT product_id, ?, ?, '', COALESCE(?, ''), '', '', '', '', ?, ?, 0, stock_status_id, \
                     manufacturer_id, shipping, COALESCE(?, price), points, tax_class_id, date_available, weight, \
                     weight_class_id, length, width, height, length_class_id, subtract, minimum, sort_order, status, \
                     NOW(), NOW() FROM {product} WHERE product_id = ?"
                );
                let sku_value = if db.sku_column == "model" {
                    ""
                } else {
                    variant.sku.as_str()
                };
                sqlx::query(&sql)
                    .bind(&variant.sku)
                    .bind(sku_value)
                    .bind(&variant.ean)
                    .bind(&variant_json)
                    .bind(&override_json)
                    .bind(&price)
                    .bind(master_id)
                    .execute(&mut **tx)
                    .await?
                    .last_insert_id()
            }
        };
        let name = variant.name.clone().unwrap_or_else(|| {
            let values: Vec<&str> = variant.attributes.values().map(String::as_str).collect();
            format!("{master_name} ({})", values.join(", "))
        });
        let sql = format!(
            "INSERT INTO {} (product_id, language_id, name, description, tag, meta_title, meta_description, \
             meta_keyword) VALUES (?, ?, ?, '', '', ?, '', '') ON DUPLICATE KEY UPDATE name = VALUES(name), \
             meta_title = VALUES(meta_title)",
            db.table("product_description")
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(db.language_id)
            .bind(&name)
            .bind(&name)
            .execute(&mut **tx)
            .await?;
        let sql = format!(
            "INSERT IGNORE INTO {} (product_id, store_id) VALUES (?, ?)",
            db.table("product_to_store")
        );
        sqlx::query(&sql).bind(id).bind(db.store_id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// OpenCart 3: the variants among `skus` (Tiltas's table): SKU → (product id, option value ids,
/// quantity). A shop the connector never wrote variants to has no such table: no variants.
pub(crate) async fn known_variants(
    db: &ShopDb,
    executor: impl sqlx::Executor<'_, Database = MySql>,
    skus: &[&str],
) -> Result<HashMap<String, (u64, String, i64)>, sqlx::Error> {
    let mut found = HashMap::new();
    if skus.is_empty() || db.version != Version::Three {
        return Ok(found);
    }
    let sql = format!(
        "SELECT sku, product_id, product_option_value_ids, quantity FROM {} WHERE sku IN ({})",
        db.table(schema::VARIANT_TABLE.0),
        vec!["?"; skus.len()].join(", ")
    );
    let mut query = sqlx::query(&sql);
    for sku in skus {
        query = query.bind(*sku);
    }
    let rows = match query.fetch_all(executor).await {
        Ok(rows) => rows,
        Err(error) if is_missing_table(&error) => return Ok(found),
        Err(error) => return Err(error),
    };
    for row in rows {
        let sku: String = row.try_get(0)?;
        let product_id = row.try_get::<i64, _>(1)? as u64;
        let ids: String = row.try_get(2)?;
        let quantity: i64 = row.try_get::<i32, _>(3)?.into();
        found.insert(sku, (product_id, ids, quantity));
    }
    Ok(found)
}

/// The variant SKUs of products (OpenCart 3, Tiltas's table): product id → (SKU, option value
/// ids) for each of its variants.
pub(crate) async fn variants_of_products(
    db: &ShopDb,
    executor: impl sqlx::Executor<'_, Database = MySql>,
    product_ids: &[u64],
) -> Result<HashMap<u64, Vec<(String, Vec<u64>)>>, sqlx::Error> {
    let mut found: HashMap<u64, Vec<(String, Vec<u64>)>> = HashMap::new();
    if product_ids.is_empty() || db.version != Version::Three {
        return Ok(found);
    }
    let sql = format!(
        "SELECT sku, product_id, product_option_value_ids FROM {} WHERE product_id IN ({}) ORDER BY sku",
        db.table(schema::VARIANT_TABLE.0),
        vec!["?"; product_ids.len()].join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in product_ids {
        query = query.bind(*id);
    }
    let rows = match query.fetch_all(executor).await {
        Ok(rows) => rows,
        Err(error) if is_missing_table(&error) => return Ok(found),
        Err(error) => return Err(error),
    };
    for row in rows {
        let sku: String = row.try_get(0)?;
        let product_id = row.try_get::<i64, _>(1)? as u64;
        let ids: String = row.try_get(2)?;
        let ids = ids.split(',').filter_map(|id| id.parse().ok()).collect();
        found.entry(product_id).or_default().push((sku, ids));
    }
    Ok(found)
}

/// Whether a query failed because a table does not exist (MariaDB 1146).
fn is_missing_table(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database)
        if database.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().map(|mysql| mysql.number()) == Some(1146))
}

/// `CREATE TABLE IF NOT EXISTS` of Tiltas's variant table (OpenCart 3), outside any
/// transaction: MariaDB commits the open transaction before a DDL statement.
pub(crate) async fn ensure_variant_table(db: &ShopDb) -> Result<(), crate::ConnectorError> {
    let (name, columns) = schema::VARIANT_TABLE;
    let statement = schema::create_statement(db.prefix(), name, columns);
    sqlx::query(&statement)
        .execute(db.pool().await?)
        .await
        .map_err(|error| db.error(&format!("creating {}", db.table(name)), error))?;
    Ok(())
}
