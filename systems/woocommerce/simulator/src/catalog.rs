//! Products, their variations and product categories, written the way the WooCommerce
//! controllers and data stores write them: unique SKUs, prices as strings, stock status
//! computed when stock is managed, variable products synced from their variations.
use super::api::{invalid_id, Ctx, Resource};
use super::input::{self, decimal};
use super::listing::{self, ListParams};
use super::{Event, Record, Shop, WcError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

const PRODUCT_TYPES: [&str; 4] = ["simple", "grouped", "external", "variable"];
const POST_STATUSES: [&str; 4] = ["draft", "pending", "private", "publish"];
const STOCK_STATUSES: [&str; 3] = ["instock", "outofstock", "onbackorder"];
const BACKORDERS: [&str; 3] = ["no", "notify", "yes"];

fn str_of<'a>(body: &'a Map<String, Value>, field: &str) -> &'a str {
    body.get(field).and_then(Value::as_str).unwrap_or("")
}

fn is_trashed(record: &Record) -> bool {
    record.str("status") == "trash"
}

/// The id of the live product or variation holding `sku`, other than `except`.
pub(super) fn sku_owner(shop: &Shop, sku: &str, except: u64) -> Option<u64> {
    shop.products
        .iter()
        .chain(shop.variations.iter())
        .find(|(id, record)| **id != except && !is_trashed(record) && record.str("sku") == sku)
        .map(|(id, _)| *id)
}

/// The live product or variation with `sku` (for order lines placed by SKU).
pub(super) fn find_by_sku(shop: &Shop, sku: &str) -> Option<u64> {
    sku_owner(shop, sku, 0)
}

fn set_sku(shop: &Shop, body: &mut Map<String, Value>, input: &Map<String, Value>, id: u64) -> Result<(), WcError> {
    let Some(sku) = input::string(input, "sku")? else {
        return Ok(());
    };
    let sku = sku.trim().to_owned();
    if !sku.is_empty() {
        if let Some(owner) = sku_owner(shop, &sku, id) {
            return Err(WcError::new(
                StatusCode::BAD_REQUEST,
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
            )
            .with_data("resource_id", json!(owner))
            .with_data("unique_sku", json!(format!("{sku}-1"))));
        }
    }
    body.insert("sku".into(), json!(sku));
    Ok(())
}

/// `regular_price`, `sale_price` and the derived `price`, `on_sale`, `purchasable`.
fn set_prices(body: &mut Map<String, Value>, input: &Map<String, Value>) -> Result<(), WcError> {
    if let Some(regular) = input::money(input, "regular_price")? {
        body.insert("regular_price".into(), json!(regular));
    }
    if let Some(sale) = input::money(input, "sale_price")? {
        body.insert("sale_price".into(), json!(sale));
    }
    let regular = str_of(body, "regular_price").to_owned();
    let sale = str_of(body, "sale_price").to_owned();
    let on_sale = !sale.is_empty() && decimal(&sale) < decimal(&regular);
    let price = if on_sale { sale } else { regular };
    body.insert("on_sale".into(), json!(on_sale));
    body.insert("purchasable".into(), json!(!price.is_empty()));
    body.insert("price".into(), json!(price));
    Ok(())
}

/// Stock fields. Without `manage_stock` the quantity is cleared and `stock_status` is taken
/// as given; with it the status follows the quantity and `backorders`.
fn set_stock(body: &mut Map<String, Value>, input: &Map<String, Value>) -> Result<(), WcError> {
    if let Some(manage) = input::boolean(input, "manage_stock")? {
        body.insert("manage_stock".into(), json!(manage));
    }
    if let Some(backorders) = input::one_of(input, "backorders", &BACKORDERS)? {
        body.insert("backorders".into(), json!(backorders));
    }
    let quantity = input::integer(input, "stock_quantity")?;
    let status = input::one_of(input, "stock_status", &STOCK_STATUSES)?;
    if body.get("manage_stock") == Some(&json!(true)) {
        if let Some(quantity) = quantity {
            body.insert("stock_quantity".into(), json!(quantity.unwrap_or(0)));
        }
        if body.get("stock_quantity").is_none_or(Value::is_null) {
            body.insert("stock_quantity".into(), json!(0));
        }
    } else {
        // WooCommerce ignores stock_quantity when the item does not manage stock.
        body.insert("stock_quantity".into(), Value::Null);
        if let Some(status) = status {
            body.insert("stock_status".into(), json!(status));
        }
    }
    refresh_stock_status(body);
    Ok(())
}

/// The stock status of an item that manages stock, from its quantity and backorders.
pub(super) fn refresh_stock_status(body: &mut Map<String, Value>) {
    let backorders = str_of(body, "backorders").to_owned();
    let backorders_allowed = backorders == "yes" || backorders == "notify";
    body.insert("backorders_allowed".into(), json!(backorders_allowed));
    if body.get("manage_stock") != Some(&json!(true)) {
        body.insert("backordered".into(), json!(false));
        return;
    }
    let quantity = body.get("stock_quantity").and_then(Value::as_i64).unwrap_or(0);
    let status = if quantity > 0 {
        "instock"
    } else if backorders_allowed {
        "onbackorder"
    } else {
        "outofstock"
    };
    body.insert("stock_status".into(), json!(status));
    body.insert("backordered".into(), json!(quantity < 0 && backorders_allowed));
}

fn set_plain_fields(body: &mut Map<String, Value>, input: &Map<String, Value>, fields: &[&str]) -> Result<(), WcError> {
    for field in fields {
        if let Some(value) = input::string(input, field)? {
            body.insert((*field).to_owned(), json!(value));
        }
    }
    Ok(())
}

fn set_meta_data(body: &mut Map<String, Value>, input: &Map<String, Value>) -> Result<(), WcError> {
    if let Some(items) = input::array(input, "meta_data")? {
        body.insert("meta_data".into(), Value::Array(items.clone()));
    }
    Ok(())
}

/// A slug not used by another record of `records` (WordPress appends `-2`, `-3`, …).
fn unique_slug<'a>(records: impl Iterator<Item = (&'a u64, &'a Record)> + Clone, wanted: &str, id: u64) -> String {
    let base = if wanted.is_empty() {
        "product".to_owned()
    } else {
        wanted.to_owned()
    };
    let taken = |slug: &str| {
        records
            .clone()
            .any(|(other, record)| *other != id && record.str("slug") == slug)
    };
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|slug| !taken(slug))
        .unwrap_or(base)
}

fn product_defaults() -> Map<String, Value> {
    let defaults = json!({
        "name": "", "slug": "", "permalink": "", "type": "simple", "status": "publish", "featured": false,
        "catalog_visibility": "visible", "description": "", "short_description": "", "sku": "",
        "price": "", "regular_price": "", "sale_price": "", "on_sale": false, "purchasable": false,
        "total_sales": 0, "virtual": false, "downloadable": false, "tax_status": "taxable", "tax_class": "",
        "manage_stock": false, "stock_quantity": null, "stock_status": "instock", "backorders": "no",
        "backorders_allowed": false, "backordered": false, "weight": "", "categories": [], "tags": [],
        "images": [], "attributes": [], "default_attributes": [], "variations": [], "menu_order": 0, "meta_data": []
    });
    match defaults {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn set_categories(shop: &Shop, body: &mut Map<String, Value>, input: &Map<String, Value>) -> Result<(), WcError> {
    let Some(items) = input::array(input, "categories")? else {
        return Ok(());
    };
    // Unknown term ids are dropped, as wp_set_object_terms drops them.
    let ids: Vec<Value> = items
        .iter()
        .filter_map(|item| item.get("id").and_then(super::api::id_value))
        .filter(|id| shop.categories.contains_key(id))
        .map(|id| json!({ "id": id }))
        .collect();
    body.insert("categories".into(), Value::Array(ids));
    Ok(())
}

fn set_product_attributes(body: &mut Map<String, Value>, input: &Map<String, Value>) -> Result<(), WcError> {
    let Some(items) = input::array(input, "attributes")? else {
        return Ok(());
    };
    let mut attributes = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let Some(fields) = item.as_object() else {
            return Err(WcError::invalid_param(
                "attributes",
                "attributes[0] is not of type object.",
            ));
        };
        let options: Vec<Value> = match fields.get("options") {
            Some(Value::Array(options)) => options.iter().filter(|option| option.is_string()).cloned().collect(),
            // A comma- or pipe-separated string is split, as the controller does.
            Some(Value::String(text)) => text
                .split(['|', ','])
                .map(str::trim)
                .filter(|option| !option.is_empty())
                .map(|option| json!(option))
                .collect(),
            _ => Vec::new(),
        };
        attributes.push(json!({
            "id": fields.get("id").and_then(super::api::id_value).unwrap_or(0),
            "name": input::string(fields, "name")?.unwrap_or_default(),
            "slug": input::slugify(&input::string(fields, "name")?.unwrap_or_default()),
            "position": fields.get("position").and_then(Value::as_i64).unwrap_or(position as i64),
            "visible": input::boolean(fields, "visible")?.unwrap_or(false),
            "variation": input::boolean(fields, "variation")?.unwrap_or(false),
            "options": options,
        }));
    }
    body.insert("attributes".into(), Value::Array(attributes));
    Ok(())
}

/// Applies the writable product fields of `input` to `body`.
fn apply_product(
    ctx: &Ctx<'_>,
    body: &mut Map<String, Value>,
    input: &Map<String, Value>,
    id: u64,
) -> Result<(), WcError> {
    set_plain_fields(
        body,
        input,
        &["name", "description", "short_description", "weight", "tax_class"],
    )?;
    if let Some(kind) = input::one_of(input, "type", &PRODUCT_TYPES)? {
        body.insert("type".into(), json!(kind));
    }
    if let Some(status) = input::one_of(input, "status", &POST_STATUSES)? {
        body.insert("status".into(), json!(status));
    }
    if let Some(featured) = input::boolean(input, "featured")? {
        body.insert("featured".into(), json!(featured));
    }
    if let Some(menu_order) = input::integer(input, "menu_order")? {
        body.insert("menu_order".into(), json!(menu_order.unwrap_or(0)));
    }
    set_sku(ctx.shop, body, input, id)?;
    set_prices(body, input)?;
    set_stock(body, input)?;
    set_categories(ctx.shop, body, input)?;
    set_product_attributes(body, input)?;
    if let Some(items) = input::array(input, "default_attributes")? {
        body.insert("default_attributes".into(), Value::Array(items.clone()));
    }
    set_meta_data(body, input)?;
    let wanted_slug = match input::string(input, "slug")? {
        Some(slug) if !slug.is_empty() => input::slugify(&slug),
        _ if str_of(body, "slug").is_empty() => input::slugify(str_of(body, "name")),
        _ => str_of(body, "slug").to_owned(),
    };
    let slug = unique_slug(ctx.shop.products.iter(), &wanted_slug, id);
    body.insert("permalink".into(), json!(format!("{}/produktas/{slug}/", ctx.site)));
    body.insert("slug".into(), json!(slug));
    Ok(())
}

/// `POST products`.
pub(super) fn create_product(ctx: &mut Ctx<'_>, input: &Map<String, Value>) -> Result<u64, WcError> {
    let mut body = product_defaults();
    apply_product(ctx, &mut body, input, 0)?;
    let id = ctx.shop.new_post_id();
    ctx.shop.products.insert(id, Record::new(body, ctx.now));
    if let Some(rendered) = render_product(ctx.shop, id) {
        ctx.events.push(Event::new("product.created", rendered));
    }
    Ok(id)
}

/// `PUT products/{id}`.
pub(super) fn update_product(ctx: &mut Ctx<'_>, id: u64, input: &Map<String, Value>) -> Result<(), WcError> {
    let Some(mut body) = ctx.shop.products.get(&id).map(|record| record.body.clone()) else {
        return Err(invalid_id(Resource::Products, StatusCode::BAD_REQUEST));
    };
    apply_product(ctx, &mut body, input, id)?;
    if let Some(record) = ctx.shop.products.get_mut(&id) {
        record.body = body;
        record.modified = ctx.now;
    }
    sync_variable(ctx.shop, id);
    if let Some(rendered) = render_product(ctx.shop, id) {
        ctx.events.push(Event::new("product.updated", rendered));
    }
    Ok(())
}

/// `DELETE products/{id}`: to the trash, or gone with its variations when forced.
pub(super) fn delete_product(ctx: &mut Ctx<'_>, id: u64, force: bool) -> Result<Value, WcError> {
    let before = render_product(ctx.shop, id).ok_or_else(|| invalid_id(Resource::Products, StatusCode::NOT_FOUND))?;
    if force {
        ctx.shop.products.remove(&id);
        ctx.shop
            .variations
            .retain(|_, variation| variation.body.get("parent_id") != Some(&json!(id)));
        ctx.events.push(Event::new("product.deleted", json!({ "id": id })));
        return Ok(before);
    }
    let Some(record) = ctx.shop.products.get_mut(&id) else {
        return Err(invalid_id(Resource::Products, StatusCode::NOT_FOUND));
    };
    if is_trashed(record) {
        return Err(WcError::new(
            StatusCode::GONE,
            "woocommerce_rest_already_trashed",
            "The product has already been deleted.",
        ));
    }
    record.body.insert("status".into(), json!("trash"));
    record.modified = ctx.now;
    ctx.events.push(Event::new("product.deleted", json!({ "id": id })));
    render_product(ctx.shop, id).ok_or_else(|| invalid_id(Resource::Products, StatusCode::NOT_FOUND))
}

/// The variation ids of a product, oldest first.
fn children(shop: &Shop, parent: u64) -> Vec<u64> {
    shop.variations
        .iter()
        .filter(|(_, variation)| variation.body.get("parent_id") == Some(&json!(parent)))
        .map(|(id, _)| *id)
        .collect()
}

/// A variable product shows the lowest price of its variations and is in stock while one is
/// (WooCommerce syncs these without touching the parent's modification date).
pub(super) fn sync_variable(shop: &mut Shop, parent: u64) {
    let variation_ids = children(shop, parent);
    let prices: Vec<String> = variation_ids
        .iter()
        .filter_map(|id| shop.variations.get(id))
        .map(|variation| variation.str("price").to_owned())
        .filter(|price| !price.is_empty())
        .collect();
    let in_stock = variation_ids
        .iter()
        .filter_map(|id| shop.variations.get(id))
        .any(|variation| variation.str("stock_status") != "outofstock");
    let Some(product) = shop.products.get_mut(&parent) else {
        return;
    };
    if product.str("type") != "variable" {
        return;
    }
    let lowest = prices
        .iter()
        .min_by_key(|price| decimal(price))
        .cloned()
        .unwrap_or_default();
    product.body.insert("price".into(), json!(lowest));
    product.body.insert("purchasable".into(), json!(!lowest.is_empty()));
    if product.body.get("manage_stock") != Some(&json!(true)) {
        let status = if in_stock || variation_ids.is_empty() {
            "instock"
        } else {
            "outofstock"
        };
        product.body.insert("stock_status".into(), json!(status));
    }
}

/// A product as `GET products/{id}` returns it.
pub(super) fn render_product(shop: &Shop, id: u64) -> Option<Value> {
    let record = shop.products.get(&id)?;
    let mut map = record.render(id);
    let categories: Vec<Value> = record
        .body
        .get("categories")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get("id").and_then(Value::as_u64))
                .filter_map(|category_id| {
                    let category = shop.categories.get(&category_id)?;
                    Some(json!({ "id": category_id, "name": category.str("name"), "slug": category.str("slug") }))
                })
                .collect()
        })
        .unwrap_or_default();
    map.insert("categories".into(), Value::Array(categories));
    let variations = if record.str("type") == "variable" {
        children(shop, id)
    } else {
        Vec::new()
    };
    map.insert("variations".into(), json!(variations));
    Some(Value::Object(map))
}

fn variation_defaults(parent: u64) -> Map<String, Value> {
    let defaults = json!({
        "type": "variation", "parent_id": parent, "name": "", "description": "", "permalink": "", "sku": "",
        "price": "", "regular_price": "", "sale_price": "", "on_sale": false, "status": "publish",
        "purchasable": false, "virtual": false, "downloadable": false, "tax_status": "taxable",
        "tax_class": "", "manage_stock": false, "stock_quantity": null, "stock_status": "instock",
        "backorders": "no", "backorders_allowed": false, "backordered": false, "weight": "",
        "image": null, "attributes": [], "menu_order": 0, "meta_data": []
    });
    match defaults {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn apply_variation(
    ctx: &Ctx<'_>,
    body: &mut Map<String, Value>,
    input: &Map<String, Value>,
    id: u64,
) -> Result<(), WcError> {
    set_plain_fields(body, input, &["description", "weight", "tax_class"])?;
    if let Some(status) = input::one_of(input, "status", &POST_STATUSES)? {
        body.insert("status".into(), json!(status));
    }
    if let Some(menu_order) = input::integer(input, "menu_order")? {
        body.insert("menu_order".into(), json!(menu_order.unwrap_or(0)));
    }
    set_sku(ctx.shop, body, input, id)?;
    set_prices(body, input)?;
    set_stock(body, input)?;
    if let Some(items) = input::array(input, "attributes")? {
        let mut attributes = Vec::new();
        for item in items {
            let Some(fields) = item.as_object() else {
                return Err(WcError::invalid_param(
                    "attributes",
                    "attributes[0] is not of type object.",
                ));
            };
            attributes.push(json!({
                "id": fields.get("id").and_then(super::api::id_value).unwrap_or(0),
                "name": input::string(fields, "name")?.unwrap_or_default(),
                "option": input::string(fields, "option")?.unwrap_or_default(),
            }));
        }
        body.insert("attributes".into(), Value::Array(attributes));
    }
    set_meta_data(body, input)?;
    Ok(())
}

fn variation_name(shop: &Shop, body: &Map<String, Value>) -> String {
    let parent_name = body
        .get("parent_id")
        .and_then(Value::as_u64)
        .and_then(|parent| shop.products.get(&parent))
        .map(|parent| parent.str("name").to_owned())
        .unwrap_or_default();
    let options: Vec<&str> = body
        .get("attributes")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.get("option").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if options.is_empty() {
        parent_name
    } else {
        format!("{parent_name} - {}", options.join(", "))
    }
}

/// `POST products/{parent}/variations`.
pub(super) fn create_variation(ctx: &mut Ctx<'_>, parent: u64, input: &Map<String, Value>) -> Result<u64, WcError> {
    if !ctx.shop.products.contains_key(&parent) {
        return Err(invalid_id(Resource::Products, StatusCode::NOT_FOUND));
    }
    let mut body = variation_defaults(parent);
    apply_variation(ctx, &mut body, input, 0)?;
    let id = ctx.shop.new_post_id();
    body.insert("permalink".into(), json!(format!("{}/?p={id}", ctx.site)));
    ctx.shop.variations.insert(id, Record::new(body, ctx.now));
    sync_variable(ctx.shop, parent);
    if let Some(rendered) = render_variation(ctx.shop, id) {
        ctx.events.push(Event::new("product.created", rendered));
    }
    Ok(id)
}

/// `PUT products/{parent}/variations/{id}`.
pub(super) fn update_variation(ctx: &mut Ctx<'_>, id: u64, input: &Map<String, Value>) -> Result<(), WcError> {
    let Some(mut body) = ctx.shop.variations.get(&id).map(|record| record.body.clone()) else {
        return Err(invalid_id(Resource::Variations(0), StatusCode::BAD_REQUEST));
    };
    apply_variation(ctx, &mut body, input, id)?;
    let parent = body.get("parent_id").and_then(Value::as_u64).unwrap_or(0);
    if let Some(record) = ctx.shop.variations.get_mut(&id) {
        record.body = body;
        record.modified = ctx.now;
    }
    sync_variable(ctx.shop, parent);
    if let Some(rendered) = render_variation(ctx.shop, id) {
        ctx.events.push(Event::new("product.updated", rendered));
    }
    Ok(())
}

/// `DELETE products/{parent}/variations/{id}`: variations are deleted outright or trashed.
pub(super) fn delete_variation(ctx: &mut Ctx<'_>, id: u64, force: bool) -> Result<Value, WcError> {
    let before =
        render_variation(ctx.shop, id).ok_or_else(|| invalid_id(Resource::Variations(0), StatusCode::NOT_FOUND))?;
    let parent = before["parent_id"].as_u64().unwrap_or(0);
    if force {
        ctx.shop.variations.remove(&id);
    } else if let Some(record) = ctx.shop.variations.get_mut(&id) {
        if is_trashed(record) {
            return Err(WcError::new(
                StatusCode::GONE,
                "woocommerce_rest_already_trashed",
                "The product_variation has already been deleted.",
            ));
        }
        record.body.insert("status".into(), json!("trash"));
        record.modified = ctx.now;
    }
    sync_variable(ctx.shop, parent);
    ctx.events.push(Event::new("product.deleted", json!({ "id": id })));
    Ok(if force {
        before
    } else {
        render_variation(ctx.shop, id).unwrap_or(before)
    })
}

/// A variation as `GET products/{parent}/variations/{id}` returns it. Its `manage_stock`
/// reads `"parent"` when the parent manages the stock for it.
pub(super) fn render_variation(shop: &Shop, id: u64) -> Option<Value> {
    let record = shop.variations.get(&id)?;
    let mut map = record.render(id);
    map.insert("name".into(), json!(variation_name(shop, &record.body)));
    let parent_manages = record
        .body
        .get("parent_id")
        .and_then(Value::as_u64)
        .and_then(|parent| shop.products.get(&parent))
        .is_some_and(|parent| parent.body.get("manage_stock") == Some(&json!(true)));
    if record.body.get("manage_stock") != Some(&json!(true)) && parent_manages {
        map.insert("manage_stock".into(), json!("parent"));
    }
    Some(Value::Object(map))
}

/// A variation found by `GET products?sku=…`, which looks at variations too.
pub(super) fn render_variation_as_product(shop: &Shop, id: u64) -> Option<Value> {
    render_variation(shop, id)
}

fn product_matches(shop: &Shop, id: u64, record: &Record, params: &ListParams) -> Result<bool, WcError> {
    if !listing::common_filter(id, record, params, &["name", "sku", "description", "short_description"]) {
        return Ok(false);
    }
    let statuses = params.list("status");
    let status = record.str("status");
    let status_ok = if statuses.is_empty() || statuses.iter().any(|wanted| wanted == "any") {
        status != "trash"
    } else {
        statuses.iter().any(|wanted| wanted == status)
    };
    if !status_ok {
        return Ok(false);
    }
    if let Some(kind) = params.get("type") {
        if record.str("type") != kind {
            return Ok(false);
        }
    }
    if let Some(stock_status) = params.get("stock_status") {
        if record.str("stock_status") != stock_status {
            return Ok(false);
        }
    }
    let skus = params.list("sku");
    if !skus.is_empty() && !skus.iter().any(|sku| sku == record.str("sku")) {
        return Ok(false);
    }
    if let Some(category) = params.get("category") {
        let wanted: Vec<u64> = category.split(',').filter_map(|id| id.trim().parse().ok()).collect();
        let in_category = record
            .body
            .get("categories")
            .and_then(Value::as_array)
            .is_some_and(|items| {
                items.iter().any(|item| {
                    item.get("id")
                        .and_then(Value::as_u64)
                        .is_some_and(|id| wanted.contains(&id))
                })
            });
        if !in_category {
            return Ok(false);
        }
    }
    if let Some(parent) = params.get("parent") {
        let parent_id = record.body.get("parent_id").and_then(Value::as_u64).unwrap_or(0);
        if parent.parse::<u64>().ok() != Some(parent_id) {
            return Ok(false);
        }
    }
    let _ = shop;
    Ok(true)
}

/// `GET products`: products, and variations too when filtering by `sku`.
pub(super) fn list_products(shop: &Shop, params: &ListParams) -> Result<Vec<u64>, WcError> {
    const STATUSES: [&str; 7] = ["any", "future", "trash", "draft", "pending", "private", "publish"];
    if let Some(bad) = params
        .list("status")
        .iter()
        .find(|status| !STATUSES.contains(&status.as_str()))
    {
        return Err(WcError::invalid_param(
            "status",
            format!("status is not one of {}; found {bad}.", STATUSES.join(", ")),
        ));
    }
    if let Some(kind) = params.get("type") {
        if !PRODUCT_TYPES.contains(&kind) {
            return Err(WcError::invalid_param(
                "type",
                format!("type is not one of {}.", PRODUCT_TYPES.join(", ")),
            ));
        }
    }
    let with_variations = params.get("sku").is_some();
    let mut entries: Vec<(u64, &Record)> = Vec::new();
    let candidates = shop
        .products
        .iter()
        .chain(shop.variations.iter().filter(|_| with_variations));
    for (id, record) in candidates {
        if product_matches(shop, *id, record, params)? {
            entries.push((*id, record));
        }
    }
    listing::sort(&mut entries, params, "name");
    Ok(entries.into_iter().map(|(id, _)| id).collect())
}

/// `GET products/{parent}/variations`.
pub(super) fn list_variations(shop: &Shop, parent: u64, params: &ListParams) -> Vec<u64> {
    let mut entries: Vec<(u64, &Record)> = shop
        .variations
        .iter()
        .filter(|(_, record)| record.body.get("parent_id") == Some(&json!(parent)))
        .filter(|(id, record)| listing::common_filter(**id, record, params, &["sku", "description"]))
        .filter(|(_, record)| {
            let statuses = params.list("status");
            statuses.is_empty()
                || statuses
                    .iter()
                    .any(|status| status == "any" || status == record.str("status"))
        })
        .filter(|(_, record)| {
            params.list("sku").is_empty() || params.list("sku").iter().any(|sku| sku == record.str("sku"))
        })
        .map(|(id, record)| (*id, record))
        .collect();
    listing::sort(&mut entries, params, "sku");
    entries.into_iter().map(|(id, _)| id).collect()
}

/// How many live products are in a category (`count`).
fn category_count(shop: &Shop, category: u64) -> usize {
    shop.products
        .values()
        .filter(|product| !is_trashed(product))
        .filter(|product| {
            product
                .body
                .get("categories")
                .and_then(Value::as_array)
                .is_some_and(|items| {
                    items
                        .iter()
                        .any(|item| item.get("id").and_then(Value::as_u64) == Some(category))
                })
        })
        .count()
}

/// A category as `GET products/categories/{id}` returns it (terms have no dates).
pub(super) fn render_category(shop: &Shop, id: u64) -> Option<Value> {
    let record = shop.categories.get(&id)?;
    let mut map = Map::new();
    map.insert("id".into(), json!(id));
    for (key, value) in &record.body {
        map.insert(key.clone(), value.clone());
    }
    map.insert("count".into(), json!(category_count(shop, id)));
    Some(Value::Object(map))
}

fn apply_category(
    ctx: &Ctx<'_>,
    body: &mut Map<String, Value>,
    input: &Map<String, Value>,
    id: u64,
) -> Result<(), WcError> {
    set_plain_fields(body, input, &["name", "description"])?;
    if let Some(display) = input::one_of(input, "display", &["default", "products", "subcategories", "both"])? {
        body.insert("display".into(), json!(display));
    }
    if let Some(menu_order) = input::integer(input, "menu_order")? {
        body.insert("menu_order".into(), json!(menu_order.unwrap_or(0)));
    }
    if let Some(parent) = input::integer(input, "parent")? {
        let parent = parent.unwrap_or(0).max(0) as u64;
        if parent != 0 && !ctx.shop.categories.contains_key(&parent) {
            return Err(WcError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_term_invalid",
                "Parent resource does not exist.",
            ));
        }
        body.insert("parent".into(), json!(parent));
    }
    let name = str_of(body, "name").to_owned();
    let parent = body.get("parent").and_then(Value::as_u64).unwrap_or(0);
    let clash = ctx.shop.categories.iter().find(|(other, record)| {
        **other != id
            && record.str("name").to_lowercase() == name.to_lowercase()
            && record.body.get("parent").and_then(Value::as_u64).unwrap_or(0) == parent
    });
    if let Some((existing, _)) = clash {
        return Err(WcError::new(
            StatusCode::BAD_REQUEST,
            "term_exists",
            "A term with the name provided already exists with this parent.",
        )
        .with_data("resource_id", json!(existing)));
    }
    let wanted = match input::string(input, "slug")? {
        Some(slug) if !slug.is_empty() => input::slugify(&slug),
        _ if str_of(body, "slug").is_empty() => input::slugify(&name),
        _ => str_of(body, "slug").to_owned(),
    };
    body.insert(
        "slug".into(),
        json!(unique_slug(ctx.shop.categories.iter(), &wanted, id)),
    );
    Ok(())
}

/// `POST products/categories`: `name` is required; the slug comes from the name.
pub(super) fn create_category(ctx: &mut Ctx<'_>, input: &Map<String, Value>) -> Result<u64, WcError> {
    if input::string(input, "name")?.is_none_or(|name| name.trim().is_empty()) {
        return Err(WcError::missing_params(&["name"]));
    }
    let mut body = category_defaults();
    apply_category(ctx, &mut body, input, 0)?;
    ctx.shop.next_term_id += 1;
    let id = ctx.shop.next_term_id;
    ctx.shop.categories.insert(id, Record::new(body, ctx.now));
    Ok(id)
}

/// A category's stored fields before anything is written to them.
pub(super) fn category_defaults() -> Map<String, Value> {
    match json!({ "name": "", "slug": "", "parent": 0, "description": "", "display": "default", "image": null, "menu_order": 0 })
    {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `PUT products/categories/{id}`.
pub(super) fn update_category(ctx: &mut Ctx<'_>, id: u64, input: &Map<String, Value>) -> Result<(), WcError> {
    let Some(mut body) = ctx.shop.categories.get(&id).map(|record| record.body.clone()) else {
        return Err(invalid_id(Resource::Categories, StatusCode::NOT_FOUND));
    };
    apply_category(ctx, &mut body, input, id)?;
    if let Some(record) = ctx.shop.categories.get_mut(&id) {
        record.body = body;
        record.modified = ctx.now;
    }
    Ok(())
}

/// `DELETE products/categories/{id}`: terms cannot be trashed, so `force=true` is required.
pub(super) fn delete_category(ctx: &mut Ctx<'_>, id: u64, force: bool) -> Result<Value, WcError> {
    if !force {
        return Err(WcError::new(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "Resource does not support trashing.",
        ));
    }
    let before =
        render_category(ctx.shop, id).ok_or_else(|| invalid_id(Resource::Categories, StatusCode::NOT_FOUND))?;
    ctx.shop.categories.remove(&id);
    for product in ctx.shop.products.values_mut() {
        if let Some(Value::Array(items)) = product.body.get_mut("categories") {
            items.retain(|item| item.get("id").and_then(Value::as_u64) != Some(id));
        }
    }
    Ok(before)
}

/// `GET products/categories`.
pub(super) fn list_categories(shop: &Shop, params: &ListParams) -> Vec<u64> {
    let hide_empty = params
        .get("hide_empty")
        .and_then(listing::boolean_text)
        .unwrap_or(false);
    let mut entries: Vec<(u64, &Record)> = shop
        .categories
        .iter()
        .filter(|(id, record)| listing::common_filter(**id, record, params, &["name", "slug", "description"]))
        .filter(|(_, record)| {
            params
                .get("parent")
                .is_none_or(|parent| parent.parse::<u64>().ok() == record.body.get("parent").and_then(Value::as_u64))
        })
        .filter(|(_, record)| params.get("slug").is_none_or(|slug| slug == record.str("slug")))
        .filter(|(id, _)| !hide_empty || category_count(shop, **id) > 0)
        .map(|(id, record)| (*id, record))
        .collect();
    listing::sort(&mut entries, params, "name");
    entries.into_iter().map(|(id, _)| id).collect()
}
