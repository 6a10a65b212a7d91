//! The `/wp-json/wc/v3/` dispatcher: routing as WordPress matches it (ids are digits, an
//! unknown route or method is `rest_no_route`), authentication, the harness' admission, JSON
//! bodies, and the single, batch and list operations common to every resource.
use super::auth::{self, Attempt, Refusal};
use super::listing::{self, ListParams, Ordering};
use super::{catalog, clock, customers, lock, orders, query, webhooks, Event, Shop, WcError, WooSim};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tiltas_sim::{Harness, RequestKind};

/// The REST namespace every route lives under.
const NAMESPACE: &str = "/wp-json/wc/v3/";

/// Largest request body read (WordPress has no such limit of its own; PHP's is similar).
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// `woocommerce_rest_batch_items_limit`.
const MAX_BATCH_ITEMS: usize = 100;

/// What every handler shares.
#[derive(Clone)]
pub(super) struct AppState {
    pub sim: Arc<WooSim>,
    pub harness: Arc<Harness>,
}

/// A write in progress: the shop, the time, the site URL and the webhook events it caused.
pub(super) struct Ctx<'a> {
    pub shop: &'a mut Shop,
    pub now: i64,
    pub site: String,
    pub events: Vec<Event>,
}

/// The REST resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource {
    Products,
    /// The variations of one product.
    Variations(u64),
    Categories,
    Customers,
    Orders,
    Webhooks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Collection,
    Batch,
    Item(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    List,
    Create,
    Get,
    Update,
    Delete,
    Batch,
}

fn digits(segment: &str) -> Option<u64> {
    if segment.is_empty() || !segment.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

fn route(path: &str) -> Option<(Resource, Target)> {
    let rest = path.strip_prefix(NAMESPACE)?.trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    let target = |tail: &[&str]| match tail {
        [] => Some(Target::Collection),
        ["batch"] => Some(Target::Batch),
        [id] => digits(id).map(Target::Item),
        _ => None,
    };
    match segments.as_slice() {
        ["products", "categories", tail @ ..] => Some((Resource::Categories, target(tail)?)),
        ["products", parent, "variations", tail @ ..] => Some((Resource::Variations(digits(parent)?), target(tail)?)),
        ["products", tail @ ..] => Some((Resource::Products, target(tail)?)),
        ["customers", tail @ ..] => Some((Resource::Customers, target(tail)?)),
        ["orders", tail @ ..] => Some((Resource::Orders, target(tail)?)),
        ["webhooks", tail @ ..] => Some((Resource::Webhooks, target(tail)?)),
        _ => None,
    }
}

fn operation(method: &Method, target: Target) -> Option<Operation> {
    // WordPress' EDITABLE is POST, PUT and PATCH.
    let editable = *method == Method::POST || *method == Method::PUT || *method == Method::PATCH;
    match target {
        Target::Collection if *method == Method::GET => Some(Operation::List),
        Target::Collection if *method == Method::POST => Some(Operation::Create),
        Target::Batch if editable => Some(Operation::Batch),
        Target::Item(_) if *method == Method::GET => Some(Operation::Get),
        Target::Item(_) if editable => Some(Operation::Update),
        Target::Item(_) if *method == Method::DELETE => Some(Operation::Delete),
        _ => None,
    }
}

fn no_route() -> WcError {
    WcError::new(
        StatusCode::NOT_FOUND,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}

/// The permission error of an unauthenticated request (`rest_authorization_required_code`).
fn anonymous(operation: Operation) -> WcError {
    let (code, message) = match operation {
        Operation::List => ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
        Operation::Get => ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
        Operation::Create => (
            "woocommerce_rest_cannot_create",
            "Sorry, you are not allowed to create resources.",
        ),
        Operation::Update => (
            "woocommerce_rest_cannot_edit",
            "Sorry, you are not allowed to edit this resource.",
        ),
        Operation::Delete => (
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
        ),
        Operation::Batch => (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        ),
    };
    WcError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Learns the site URL from the first request's `Host` (middleware on every route).
pub(super) async fn learn_site_url(State(sim): State<Arc<WooSim>>, request: Request, next: Next) -> Response {
    if let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
    {
        sim.learn_host(host);
    }
    next.run(request).await
}

/// Every `/wp-json/…` request (and anything else no other route took).
pub(super) async fn handle(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let AppState { sim, harness } = app;
    let query = query::php_query_pairs(parts.uri.query());
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let now = clock::now();
    let routed = route(parts.uri.path())
        .and_then(|(resource, target)| operation(&parts.method, target).map(|operation| (resource, target, operation)));
    let authenticated = {
        let mut shop = lock(&sim.shop);
        auth::authenticate(
            &sim,
            &mut shop,
            &Attempt {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                host: &host,
                query: &query,
                headers: &parts.headers,
                now,
            },
        )
    };
    match authenticated {
        Ok(()) => {}
        Err(Refusal::Failed { error, basic_challenge }) => {
            harness.count_rejected();
            let mut response = error.into_response();
            if basic_challenge {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Basic realm=\"WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field.\"",
                    ),
                );
            }
            return response;
        }
        Err(Refusal::Anonymous) => {
            harness.count_rejected();
            return match routed {
                Some((_, _, operation)) => anonymous(operation).into_response(),
                None => no_route().into_response(),
            };
        }
    }
    let Some((resource, target, operation)) = routed else {
        harness.count_rejected();
        return no_route().into_response();
    };
    let kind = match operation {
        Operation::List | Operation::Get => RequestKind::Read,
        _ => RequestKind::Write,
    };
    let admission = match harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let input = match operation {
        Operation::Create | Operation::Update | Operation::Batch => match read_json(body).await {
            Ok(input) => input,
            Err(error) => {
                harness.count_rejected();
                return error.into_response();
            }
        },
        _ => Map::new(),
    };
    let site = sim.site_url();
    let (result, events) = {
        let mut shop = lock(&sim.shop);
        let mut ctx = Ctx {
            shop: &mut shop,
            now,
            site,
            events: Vec::new(),
        };
        let result = execute(&mut ctx, &harness, resource, target, operation, &query, &input);
        (result, ctx.events)
    };
    sim.publish(events);
    match result {
        Ok(response) => {
            if admission.fail_after_commit {
                return harness.commit_then_fail();
            }
            response
        }
        Err(error) => {
            harness.count_rejected();
            error.into_response()
        }
    }
}

/// The JSON object of a body; an empty body is an empty object, as WordPress reads it.
async fn read_json(body: Body) -> Result<Map<String, Value>, WcError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        WcError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "rest_request_too_large",
            "Request body too large.",
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        // WordPress takes a non-object JSON body as no body parameters at all.
        Ok(_) => Ok(Map::new()),
        Err(problem) => Err(WcError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )
        .with_data("json_error_code", json!(4))
        .with_data("json_error_message", json!(problem.to_string()))),
    }
}

/// The collection URL of a resource, as `rest_url` gives it.
fn collection_url(site: &str, resource: Resource) -> String {
    let route = match resource {
        Resource::Products => "products".to_owned(),
        Resource::Variations(parent) => format!("products/{parent}/variations"),
        Resource::Categories => "products/categories".to_owned(),
        Resource::Customers => "customers".to_owned(),
        Resource::Orders => "orders".to_owned(),
        Resource::Webhooks => "webhooks".to_owned(),
    };
    format!("{site}{NAMESPACE}{route}")
}

fn ordering(resource: Resource) -> Ordering {
    match resource {
        Resource::Products => Ordering {
            allowed: &[
                "date",
                "modified",
                "id",
                "include",
                "title",
                "slug",
                "price",
                "popularity",
                "rating",
                "menu_order",
            ],
            default: "date",
            default_desc: true,
        },
        Resource::Variations(_) => Ordering {
            allowed: &[
                "date",
                "modified",
                "id",
                "include",
                "title",
                "slug",
                "price",
                "menu_order",
            ],
            default: "date",
            default_desc: true,
        },
        Resource::Orders | Resource::Webhooks => Ordering {
            allowed: &["date", "modified", "id", "include", "title", "slug"],
            default: "date",
            default_desc: true,
        },
        Resource::Categories => Ordering {
            allowed: &["id", "include", "name", "slug", "term_group", "description", "count"],
            default: "name",
            default_desc: false,
        },
        Resource::Customers => Ordering {
            allowed: &["id", "include", "name", "registered_date"],
            default: "name",
            default_desc: false,
        },
    }
}

/// The error for an id the resource does not have: GET/DELETE 404, update 400.
pub(super) fn invalid_id(resource: Resource, status: StatusCode) -> WcError {
    match resource {
        Resource::Products => WcError::new(status, "woocommerce_rest_product_invalid_id", "Invalid ID."),
        Resource::Variations(_) => WcError::new(status, "woocommerce_rest_product_variation_invalid_id", "Invalid ID."),
        Resource::Orders => WcError::new(status, "woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
        Resource::Customers => WcError::new(status, "woocommerce_rest_invalid_id", "Invalid resource ID."),
        // Terms answer 404 whatever the method.
        Resource::Categories => WcError::new(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_term_invalid",
            "Resource does not exist.",
        ),
        Resource::Webhooks => WcError::new(status, "woocommerce_rest_shop_webhook_invalid_id", "Invalid ID."),
    }
}

fn render(shop: &Shop, resource: Resource, id: u64, site: &str) -> Option<Value> {
    match resource {
        Resource::Products => catalog::render_product(shop, id),
        Resource::Variations(parent) => {
            catalog::render_variation(shop, id).filter(|variation| variation["parent_id"] == json!(parent))
        }
        Resource::Categories => catalog::render_category(shop, id),
        Resource::Customers => customers::render(shop, id),
        Resource::Orders => orders::render(shop, id),
        Resource::Webhooks => shop.webhooks.get(&id).map(|hook| hook.rest(site)),
    }
}

fn list_ids(shop: &Shop, resource: Resource, params: &ListParams) -> Result<Vec<u64>, WcError> {
    match resource {
        Resource::Products => catalog::list_products(shop, params),
        Resource::Variations(parent) => {
            if !shop.products.contains_key(&parent) {
                return Err(invalid_id(Resource::Products, StatusCode::NOT_FOUND));
            }
            Ok(catalog::list_variations(shop, parent, params))
        }
        Resource::Categories => Ok(catalog::list_categories(shop, params)),
        Resource::Customers => Ok(customers::list(shop, params)),
        Resource::Orders => orders::list(shop, params),
        Resource::Webhooks => webhooks::list(shop, params),
    }
}

fn create(
    ctx: &mut Ctx<'_>,
    harness: &Harness,
    resource: Resource,
    input: &Map<String, Value>,
) -> Result<u64, WcError> {
    refuse_chosen_item(ctx.shop, harness, resource, 0, input)?;
    match resource {
        Resource::Products => catalog::create_product(ctx, input),
        Resource::Variations(parent) => catalog::create_variation(ctx, parent, input),
        Resource::Categories => catalog::create_category(ctx, input),
        Resource::Customers => customers::create(ctx, input),
        Resource::Orders => orders::create(ctx, input, "rest-api"),
        Resource::Webhooks => webhooks::create(ctx, input),
    }
}

fn exists(shop: &Shop, resource: Resource, id: u64) -> bool {
    match resource {
        Resource::Products => shop.products.contains_key(&id),
        Resource::Variations(parent) => shop
            .variations
            .get(&id)
            .is_some_and(|variation| variation.body.get("parent_id") == Some(&json!(parent))),
        Resource::Categories => shop.categories.contains_key(&id),
        Resource::Customers => shop.customers.contains_key(&id),
        Resource::Orders => shop.orders.contains_key(&id),
        Resource::Webhooks => shop.webhooks.contains_key(&id),
    }
}

fn update(
    ctx: &mut Ctx<'_>,
    harness: &Harness,
    resource: Resource,
    id: u64,
    input: &Map<String, Value>,
) -> Result<(), WcError> {
    if !exists(ctx.shop, resource, id) {
        return Err(invalid_id(resource, StatusCode::BAD_REQUEST));
    }
    refuse_chosen_item(ctx.shop, harness, resource, id, input)?;
    match resource {
        Resource::Products => catalog::update_product(ctx, id, input),
        Resource::Variations(_) => catalog::update_variation(ctx, id, input),
        Resource::Categories => catalog::update_category(ctx, id, input),
        Resource::Customers => customers::update(ctx, id, input),
        Resource::Orders => orders::update(ctx, id, input),
        Resource::Webhooks => webhooks::update(ctx, id, input),
    }
}

/// The natural key of a product, variation or customer being written: its SKU or e-mail as
/// sent, else as stored (an update may leave it out). Other resources have none.
fn item_key(shop: &Shop, resource: Resource, id: u64, input: &Map<String, Value>) -> Option<(&'static str, String)> {
    let (field, stored) = match resource {
        Resource::Products => ("sku", shop.products.get(&id)),
        Resource::Variations(_) => ("sku", shop.variations.get(&id)),
        Resource::Customers => ("email", shop.customers.get(&id)),
        _ => return None,
    };
    let sent = input.get(field).and_then(Value::as_str);
    let key = sent
        .or_else(|| stored.map(|record| record.str(field)))?
        .trim()
        .to_lowercase();
    (!key.is_empty()).then_some((field, key))
}

/// The harness' `invalid_item_rate`: a chosen record is refused as WordPress refuses an
/// argument that fails its schema, `400 rest_invalid_param` naming the parameter (inside a
/// 200 for a batch item), before the controller writes anything.
fn refuse_chosen_item(
    shop: &Shop,
    harness: &Harness,
    resource: Resource,
    id: u64,
    input: &Map<String, Value>,
) -> Result<(), WcError> {
    match item_key(shop, resource, id, input) {
        Some((field, key)) if harness.refuses_item(&key) => Err(WcError::invalid_param(
            field,
            format!("{field} refused by the simulator's invalid_item_rate (POST /__sim/faults)."),
        )),
        _ => Ok(()),
    }
}

/// Deletes (or trashes) and answers with the resource as it was.
fn delete(ctx: &mut Ctx<'_>, resource: Resource, id: u64, force: bool) -> Result<Value, WcError> {
    if !exists(ctx.shop, resource, id) {
        return Err(invalid_id(resource, StatusCode::NOT_FOUND));
    }
    match resource {
        Resource::Products => catalog::delete_product(ctx, id, force),
        Resource::Variations(_) => catalog::delete_variation(ctx, id, force),
        Resource::Categories => catalog::delete_category(ctx, id, force),
        Resource::Customers => customers::delete(ctx, id, force),
        Resource::Orders => orders::delete(ctx, id, force),
        Resource::Webhooks => webhooks::delete(ctx, id, force),
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn rendered(ctx: &Ctx<'_>, resource: Resource, id: u64, site: &str) -> Result<Value, WcError> {
    render(ctx.shop, resource, id, site).ok_or_else(|| invalid_id(resource, StatusCode::NOT_FOUND))
}

fn execute(
    ctx: &mut Ctx<'_>,
    harness: &Harness,
    resource: Resource,
    target: Target,
    operation: Operation,
    query: &[(String, String)],
    input: &Map<String, Value>,
) -> Result<Response, WcError> {
    // Owned: `ctx` is borrowed mutably below while the site is still needed.
    let site = ctx.site.clone();
    let site = site.as_str();
    let force = query
        .iter()
        .find(|(key, _)| key == "force")
        .and_then(|(_, value)| listing::boolean_text(value))
        .unwrap_or(false);
    let item_id = match target {
        Target::Item(id) => id,
        _ => 0,
    };
    match operation {
        Operation::List => {
            let params = listing::parse(query, &ordering(resource))?;
            let ids = list_ids(ctx.shop, resource, &params)?;
            let page = listing::paginate(ids, &params, &collection_url(site, resource));
            let items: Vec<Value> = page
                .ids
                .iter()
                .filter_map(|id| match resource {
                    // A `sku` look-up on products also finds variations.
                    Resource::Products if ctx.shop.variations.contains_key(id) => {
                        catalog::render_variation_as_product(ctx.shop, *id)
                    }
                    _ => render(ctx.shop, resource, *id, site),
                })
                .collect();
            let mut response = json_response(StatusCode::OK, Value::Array(items));
            let headers = response.headers_mut();
            headers.insert("x-wp-total", HeaderValue::from(page.total));
            headers.insert("x-wp-totalpages", HeaderValue::from(page.total_pages));
            if let Some(link) = page.link.and_then(|link| HeaderValue::from_str(&link).ok()) {
                headers.insert(header::LINK, link);
            }
            Ok(response)
        }
        Operation::Get => {
            let body =
                render(ctx.shop, resource, item_id, site).ok_or_else(|| invalid_id(resource, StatusCode::NOT_FOUND))?;
            Ok(json_response(StatusCode::OK, body))
        }
        Operation::Create => {
            if let Resource::Variations(parent) = resource {
                if !ctx.shop.products.contains_key(&parent) {
                    return Err(invalid_id(Resource::Products, StatusCode::NOT_FOUND));
                }
            }
            let id = create(ctx, harness, resource, input)?;
            let body = rendered(ctx, resource, id, site)?;
            let mut response = json_response(StatusCode::CREATED, body);
            if let Ok(value) = HeaderValue::from_str(&format!("{}/{id}", collection_url(site, resource))) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Ok(response)
        }
        Operation::Update => {
            update(ctx, harness, resource, item_id, input)?;
            Ok(json_response(StatusCode::OK, rendered(ctx, resource, item_id, site)?))
        }
        Operation::Delete => Ok(json_response(StatusCode::OK, delete(ctx, resource, item_id, force)?)),
        Operation::Batch => batch(ctx, harness, resource, input, site),
    }
}

/// `{"create":[…],"update":[…],"delete":[…]}`, each item done on its own; deletes are forced.
fn batch(
    ctx: &mut Ctx<'_>,
    harness: &Harness,
    resource: Resource,
    input: &Map<String, Value>,
    site: &str,
) -> Result<Response, WcError> {
    let section = |name: &str| -> Result<Vec<Value>, WcError> {
        match input.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(WcError::invalid_param(name, format!("{name} is not of type array."))),
        }
    };
    let (creates, updates, deletes) = (section("create")?, section("update")?, section("delete")?);
    let total = creates.len() + updates.len() + deletes.len();
    if total > MAX_BATCH_ITEMS {
        return Err(WcError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "woocommerce_rest_request_entity_too_large",
            format!("Unable to accept more than {MAX_BATCH_ITEMS} items for this request."),
        ));
    }
    if let Resource::Variations(parent) = resource {
        if !ctx.shop.products.contains_key(&parent) {
            return Err(invalid_id(Resource::Products, StatusCode::NOT_FOUND));
        }
    }
    let failed = |id: u64, error: WcError| json!({ "id": id, "error": error.body() });
    let mut reply = Map::new();
    if input.contains_key("create") {
        let mut results = Vec::new();
        for item in creates {
            let result = match item.as_object() {
                Some(fields) => create(ctx, harness, resource, fields).and_then(|id| rendered(ctx, resource, id, site)),
                None => Err(WcError::new(
                    StatusCode::BAD_REQUEST,
                    "rest_invalid_param",
                    "Invalid parameter(s): create",
                )),
            };
            results.push(result.unwrap_or_else(|error| failed(0, error)));
        }
        reply.insert("create".into(), Value::Array(results));
    }
    if input.contains_key("update") {
        let mut results = Vec::new();
        for item in updates {
            let id = item.get("id").and_then(id_value).unwrap_or(0);
            let result = match item.as_object() {
                Some(fields) => {
                    update(ctx, harness, resource, id, fields).and_then(|()| rendered(ctx, resource, id, site))
                }
                None => Err(invalid_id(resource, StatusCode::BAD_REQUEST)),
            };
            results.push(result.unwrap_or_else(|error| failed(id, error)));
        }
        reply.insert("update".into(), Value::Array(results));
    }
    if input.contains_key("delete") {
        let mut results = Vec::new();
        for item in deletes {
            let id = id_value(&item).unwrap_or(0);
            results.push(delete(ctx, resource, id, true).unwrap_or_else(|error| failed(id, error)));
        }
        reply.insert("delete".into(), Value::Array(results));
    }
    Ok(json_response(StatusCode::OK, Value::Object(reply)))
}

/// An id given as a number or a numeric string.
pub(super) fn id_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}
