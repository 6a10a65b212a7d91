//! Customers (WordPress users with the `customer` role): one account per e-mail address,
//! billing and shipping addresses, no date filter, deletion only with `force=true`.
use super::api::{invalid_id, Ctx, Resource};
use super::input;
use super::listing::{self, ListParams};
use super::{Event, Record, Shop, WcError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// The billing address fields (shipping has all but `email` and `phone`).
pub(super) const BILLING_FIELDS: [&str; 11] = [
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
];

/// An address object with every field present, `""` where not given.
pub(super) fn address(input: Option<&Map<String, Value>>, with_contact: bool) -> Map<String, Value> {
    BILLING_FIELDS
        .iter()
        .filter(|field| with_contact || (**field != "email" && **field != "phone"))
        .map(|field| {
            let value = input
                .and_then(|fields| fields.get(*field))
                .and_then(Value::as_str)
                .unwrap_or("");
            ((*field).to_owned(), json!(value))
        })
        .collect()
}

/// Overwrites the address fields `input` gives, keeping the others.
pub(super) fn merge_address(existing: &mut Value, input: &Map<String, Value>, with_contact: bool) {
    let Some(target) = existing.as_object_mut() else {
        *existing = Value::Object(address(Some(input), with_contact));
        return;
    };
    for field in BILLING_FIELDS {
        if !with_contact && (field == "email" || field == "phone") {
            continue;
        }
        if let Some(value) = input.get(field).and_then(Value::as_str) {
            target.insert(field.to_owned(), json!(value));
        }
    }
}

/// A plausible e-mail check (`is_email` is lenient too).
fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(' ')
}

/// The customer registered with `email` (case-insensitive), other than `except`.
pub(super) fn by_email(shop: &Shop, email: &str, except: u64) -> Option<u64> {
    let email = email.to_lowercase();
    shop.customers
        .iter()
        .find(|(id, record)| **id != except && record.str("email").to_lowercase() == email)
        .map(|(id, _)| *id)
}

fn customer_defaults() -> Map<String, Value> {
    match json!({
        "email": "", "first_name": "", "last_name": "", "role": "customer", "username": "",
        "billing": address(None, true), "shipping": address(None, false),
        "is_paying_customer": false,
        "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g", "meta_data": []
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn apply(body: &mut Map<String, Value>, input: &Map<String, Value>) -> Result<(), WcError> {
    for field in ["first_name", "last_name"] {
        if let Some(value) = input::string(input, field)? {
            body.insert(field.to_owned(), json!(value));
        }
    }
    if let Some(billing) = input::object(input, "billing")? {
        let existing = body
            .entry("billing")
            .or_insert_with(|| Value::Object(address(None, true)));
        merge_address(existing, billing, true);
    }
    if let Some(shipping) = input::object(input, "shipping")? {
        let existing = body
            .entry("shipping")
            .or_insert_with(|| Value::Object(address(None, false)));
        merge_address(existing, shipping, false);
    }
    if let Some(items) = input::array(input, "meta_data")? {
        body.insert("meta_data".into(), Value::Array(items.clone()));
    }
    Ok(())
}

/// Stores a new customer (the REST create and the seeding share it).
pub(super) fn insert(shop: &mut Shop, body: Map<String, Value>, at: i64) -> u64 {
    shop.next_user_id += 1;
    let id = shop.next_user_id;
    shop.customers.insert(id, Record::new(body, at));
    id
}

/// `POST customers`: `email` is required and must not be registered yet.
pub(super) fn create(ctx: &mut Ctx<'_>, input: &Map<String, Value>) -> Result<u64, WcError> {
    let Some(email) = input::string(input, "email")?.filter(|email| !email.trim().is_empty()) else {
        return Err(WcError::missing_params(&["email"]));
    };
    let email = email.trim().to_owned();
    if !looks_like_email(&email) {
        return Err(WcError::new(
            StatusCode::BAD_REQUEST,
            "registration-error-invalid-email",
            "Please provide a valid email address.",
        ));
    }
    if by_email(ctx.shop, &email, 0).is_some() {
        return Err(WcError::new(
            StatusCode::BAD_REQUEST,
            "registration-error-email-exists",
            "An account is already registered with your email address. Please log in.",
        ));
    }
    let mut body = customer_defaults();
    let username = match input::string(input, "username")? {
        Some(username) if !username.is_empty() => username,
        _ => email.split('@').next().unwrap_or("").to_owned(),
    };
    body.insert("email".into(), json!(email));
    body.insert("username".into(), json!(username));
    apply(&mut body, input)?;
    let id = insert(ctx.shop, body, ctx.now);
    if let Some(rendered) = render(ctx.shop, id) {
        ctx.events.push(Event::new("customer.created", rendered));
    }
    Ok(id)
}

/// `PUT customers/{id}`.
pub(super) fn update(ctx: &mut Ctx<'_>, id: u64, input: &Map<String, Value>) -> Result<(), WcError> {
    let Some(mut body) = ctx.shop.customers.get(&id).map(|record| record.body.clone()) else {
        return Err(invalid_id(Resource::Customers, StatusCode::BAD_REQUEST));
    };
    if let Some(email) = input::string(input, "email")? {
        let email = email.trim().to_owned();
        if !looks_like_email(&email) || by_email(ctx.shop, &email, id).is_some() {
            return Err(WcError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_customer_invalid_email",
                "Email address is invalid.",
            ));
        }
        body.insert("email".into(), json!(email));
    }
    if input.contains_key("username")
        && input::string(input, "username")?.as_deref() != body.get("username").and_then(Value::as_str)
    {
        return Err(WcError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_customer_invalid_argument",
            "Username isn't editable.",
        ));
    }
    apply(&mut body, input)?;
    if let Some(record) = ctx.shop.customers.get_mut(&id) {
        record.body = body;
        record.modified = ctx.now;
    }
    if let Some(rendered) = render(ctx.shop, id) {
        ctx.events.push(Event::new("customer.updated", rendered));
    }
    Ok(())
}

/// `DELETE customers/{id}`: users cannot be trashed, so `force=true` is required.
pub(super) fn delete(ctx: &mut Ctx<'_>, id: u64, force: bool) -> Result<Value, WcError> {
    if !force {
        return Err(WcError::new(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "Customers do not support trashing.",
        ));
    }
    let before = render(ctx.shop, id).ok_or_else(|| invalid_id(Resource::Customers, StatusCode::NOT_FOUND))?;
    ctx.shop.customers.remove(&id);
    ctx.events.push(Event::new("customer.deleted", json!({ "id": id })));
    Ok(before)
}

/// A customer as `GET customers/{id}` returns it.
pub(super) fn render(shop: &Shop, id: u64) -> Option<Value> {
    let record = shop.customers.get(&id)?;
    Some(Value::Object(record.render(id)))
}

/// `GET customers` (ordered by name, i.e. the username, unless told otherwise).
pub(super) fn list(shop: &Shop, params: &ListParams) -> Vec<u64> {
    let role = params.get("role").unwrap_or("customer");
    let email = params.get("email").map(str::to_lowercase);
    let mut entries: Vec<(u64, &Record)> = shop
        .customers
        .iter()
        .filter(|(id, record)| {
            listing::common_filter(**id, record, params, &["email", "username", "first_name", "last_name"])
        })
        .filter(|(_, record)| role == "all" || record.str("role") == role)
        .filter(|(_, record)| {
            email
                .as_ref()
                .is_none_or(|email| record.str("email").to_lowercase() == *email)
        })
        .map(|(id, record)| (*id, record))
        .collect();
    listing::sort(&mut entries, params, "username");
    entries.into_iter().map(|(id, _)| id).collect()
}
