//! Webhooks as `WC_Webhook` delivers them: one topic each, the resource's REST JSON as the
//! body, `X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)), delivered in order
//! per webhook by a background task; a 2xx, 301 or 302 is a success, anything else a failure,
//! and more than 5 failures in a row disable the webhook.
use super::api::{invalid_id, Ctx, Resource};
use super::listing::{self, ListParams};
use super::{clock, input, lock, Event, Record, Shop, WcError};
use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// `woocommerce_max_webhook_delivery_failures`: the webhook is disabled after more than this
/// many failures in a row.
const MAX_CONSECUTIVE_FAILURES: u64 = 5;

/// WooCommerce's delivery timeout.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The `User-Agent` of deliveries (`WooCommerce/<version> Hookshot (WordPress/<version>)`).
const USER_AGENT: &str = "WooCommerce/9.8.0 Hookshot (WordPress/6.8.0)";

const RESOURCES: [&str; 4] = ["coupon", "customer", "order", "product"];
const EVENTS: [&str; 4] = ["created", "updated", "deleted", "restored"];
const STATUSES: [&str; 3] = ["active", "paused", "disabled"];

/// The topics `--webhook-url` subscribes to.
const SIMULATED_TOPICS: [&str; 9] = [
    "product.created",
    "product.updated",
    "product.deleted",
    "order.created",
    "order.updated",
    "order.deleted",
    "customer.created",
    "customer.updated",
    "customer.deleted",
];

/// A delivery URL and secret to subscribe to product, order and customer topics.
#[derive(Clone)]
pub struct WebhookTarget {
    /// Where deliveries are POSTed.
    pub delivery_url: String,
    /// The HMAC-SHA256 key of `X-WC-Webhook-Signature`.
    pub secret: String,
    /// The resources subscribed to (`order`, `customer`, `product`); empty for all of them.
    pub resources: Vec<String>,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebhookTarget")
            .field("delivery_url", &self.delivery_url)
            .field("secret", &"***")
            .finish()
    }
}

/// One webhook and its delivery record.
#[derive(Debug, Clone)]
pub(super) struct Webhook {
    id: u64,
    name: String,
    status: String,
    topic: String,
    delivery_url: String,
    secret: String,
    created: i64,
    modified: i64,
    /// Failures since the last success.
    failure_count: u64,
    deliveries: u64,
    failures: u64,
    last_response_code: Option<u16>,
}

impl Webhook {
    /// The REST representation (`GET webhooks/{id}`); the secret is never shown.
    pub(super) fn rest(&self, _site: &str) -> Value {
        let (resource, event) = self.topic.split_once('.').unwrap_or((self.topic.as_str(), ""));
        json!({
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "topic": self.topic,
            "resource": resource,
            "event": event,
            "hooks": hooks(&self.topic),
            "delivery_url": self.delivery_url,
            "date_created": clock::local(self.created),
            "date_created_gmt": clock::gmt(self.created),
            "date_modified": clock::local(self.modified),
            "date_modified_gmt": clock::gmt(self.modified),
        })
    }

    /// The `/__sim/records/webhook` view: the REST one plus the delivery counters.
    pub(super) fn record(&self, site: &str) -> Value {
        let mut value = self.rest(site);
        value["deliveries"] = json!(self.deliveries);
        value["failures"] = json!(self.failures);
        value["failure_count"] = json!(self.failure_count);
        value["last_response_code"] = json!(self.last_response_code);
        value
    }
}

/// The WordPress actions behind a topic (shown in the REST `hooks` field).
fn hooks(topic: &str) -> Vec<String> {
    match topic {
        "order.created" => vec!["woocommerce_new_order".into()],
        "order.updated" => vec!["woocommerce_update_order".into(), "woocommerce_order_refunded".into()],
        "order.deleted" => vec!["wp_trash_post".into()],
        "product.created" => vec![
            "woocommerce_new_product".into(),
            "woocommerce_new_product_variation".into(),
        ],
        "product.updated" => vec![
            "woocommerce_update_product".into(),
            "woocommerce_update_product_variation".into(),
        ],
        "product.deleted" => vec!["wp_trash_post".into()],
        "customer.created" => vec!["user_register".into(), "woocommerce_created_customer".into()],
        "customer.updated" => vec!["profile_update".into(), "woocommerce_update_customer".into()],
        "customer.deleted" => vec!["delete_user".into()],
        other => other
            .strip_prefix("action.")
            .map(|action| vec![action.to_owned()])
            .unwrap_or_default(),
    }
}

fn valid_topic(topic: &str) -> bool {
    if let Some(action) = topic.strip_prefix("action.") {
        return !action.is_empty();
    }
    topic
        .split_once('.')
        .is_some_and(|(resource, event)| RESOURCES.contains(&resource) && EVENTS.contains(&event))
}

fn new_webhook(shop: &mut Shop, name: String, topic: &str, delivery_url: &str, secret: &str, at: i64) -> u64 {
    shop.next_webhook_id += 1;
    let id = shop.next_webhook_id;
    shop.webhooks.insert(
        id,
        Webhook {
            id,
            name,
            status: "active".into(),
            topic: topic.to_owned(),
            delivery_url: delivery_url.to_owned(),
            secret: secret.to_owned(),
            created: at,
            modified: at,
            failure_count: 0,
            deliveries: 0,
            failures: 0,
            last_response_code: None,
        },
    );
    id
}

/// One active webhook per product, order and customer topic, all to `target`.
pub(super) fn subscribe_all_topics(shop: &mut Shop, target: &WebhookTarget, at: i64) {
    let wanted = |topic: &str| {
        let resource = topic.split('.').next().unwrap_or_default();
        target.resources.is_empty() || target.resources.iter().any(|wanted| wanted == resource)
    };
    for topic in SIMULATED_TOPICS.into_iter().filter(|topic| wanted(topic)) {
        new_webhook(
            shop,
            format!("Tiltas {topic}"),
            topic,
            &target.delivery_url,
            &target.secret,
            at,
        );
    }
}

fn check_delivery_url(url: &str) -> Result<(), WcError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(());
    }
    Err(WcError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_webhook_invalid_delivery_url",
        "Webhook delivery URL must be a valid URL starting with http:// or https://.",
    ))
}

fn invalid_topic() -> WcError {
    WcError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_webhook_invalid_topic",
        "Webhook topic is required and must be valid.",
    )
}

/// `POST webhooks`: `topic` and `delivery_url` are required.
pub(super) fn create(ctx: &mut Ctx<'_>, fields: &Map<String, Value>) -> Result<u64, WcError> {
    let topic = input::string(fields, "topic")?.unwrap_or_default();
    let delivery_url = input::string(fields, "delivery_url")?.unwrap_or_default();
    let missing: Vec<&str> = [("topic", &topic), ("delivery_url", &delivery_url)]
        .iter()
        .filter(|(_, value)| value.is_empty())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(WcError::missing_params(&missing));
    }
    if !valid_topic(&topic) {
        return Err(invalid_topic());
    }
    check_delivery_url(&delivery_url)?;
    let status = input::one_of(fields, "status", &STATUSES)?.unwrap_or_else(|| "active".into());
    let name = input::string(fields, "name")?
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| format!("Webhook created on {}", clock::local(ctx.now)));
    // WooCommerce generates a secret when none is given.
    let secret = input::string(fields, "secret")?
        .filter(|secret| !secret.is_empty())
        .unwrap_or_else(|| format!("whsec{:x}{:x}", ctx.now, ctx.shop.next_webhook_id + 1));
    let id = new_webhook(ctx.shop, name, &topic, &delivery_url, &secret, ctx.now);
    if let Some(hook) = ctx.shop.webhooks.get_mut(&id) {
        hook.status = status;
    }
    Ok(id)
}

/// `PUT webhooks/{id}`; making a webhook active again clears its failure count.
pub(super) fn update(ctx: &mut Ctx<'_>, id: u64, fields: &Map<String, Value>) -> Result<(), WcError> {
    let topic = input::string(fields, "topic")?;
    if topic.as_deref().is_some_and(|topic| !valid_topic(topic)) {
        return Err(invalid_topic());
    }
    let delivery_url = input::string(fields, "delivery_url")?;
    if let Some(url) = &delivery_url {
        check_delivery_url(url)?;
    }
    let status = input::one_of(fields, "status", &STATUSES)?;
    let name = input::string(fields, "name")?;
    let secret = input::string(fields, "secret")?;
    let Some(hook) = ctx.shop.webhooks.get_mut(&id) else {
        return Err(invalid_id(Resource::Webhooks, StatusCode::BAD_REQUEST));
    };
    if let Some(topic) = topic {
        hook.topic = topic;
    }
    if let Some(url) = delivery_url {
        hook.delivery_url = url;
    }
    if let Some(status) = status {
        if status == "active" {
            hook.failure_count = 0;
        }
        hook.status = status;
    }
    if let Some(name) = name {
        hook.name = name;
    }
    if let Some(secret) = secret.filter(|secret| !secret.is_empty()) {
        hook.secret = secret;
    }
    hook.modified = ctx.now;
    Ok(())
}

/// `DELETE webhooks/{id}`: webhooks cannot be trashed, so `force=true` is required.
pub(super) fn delete(ctx: &mut Ctx<'_>, id: u64, force: bool) -> Result<Value, WcError> {
    if !force {
        return Err(WcError::new(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        ));
    }
    let removed = ctx
        .shop
        .webhooks
        .remove(&id)
        .ok_or_else(|| invalid_id(Resource::Webhooks, StatusCode::NOT_FOUND))?;
    Ok(removed.rest(&ctx.site))
}

/// `GET webhooks`.
pub(super) fn list(shop: &Shop, params: &ListParams) -> Result<Vec<u64>, WcError> {
    let status = params.get("status").unwrap_or("all");
    if status != "all" && !STATUSES.contains(&status) {
        return Err(WcError::invalid_param(
            "status",
            "status is not one of all, active, paused, disabled.",
        ));
    }
    // The listing helpers work on records; a webhook's name and dates are all they need.
    let records: Vec<(u64, Record)> = shop
        .webhooks
        .values()
        .filter(|hook| status == "all" || hook.status == status)
        .map(|hook| {
            let mut body = Map::new();
            body.insert("name".into(), json!(hook.name));
            let mut record = Record::new(body, hook.created);
            record.modified = hook.modified;
            (hook.id, record)
        })
        .collect();
    let mut entries: Vec<(u64, &Record)> = records
        .iter()
        .filter(|(id, record)| listing::common_filter(*id, record, params, &["name"]))
        .map(|(id, record)| (*id, record))
        .collect();
    listing::sort(&mut entries, params, "name");
    Ok(entries.into_iter().map(|(id, _)| id).collect())
}

/// One delivery waiting in a webhook's queue.
struct Delivery {
    webhook_id: u64,
    topic: String,
    body: Value,
    source: String,
    delivery_id: u64,
}

/// The per-webhook delivery queues; each is drained by its own task, so one webhook's
/// deliveries arrive in the order the events happened.
#[derive(Default)]
pub(super) struct Dispatcher {
    queues: Mutex<HashMap<u64, mpsc::UnboundedSender<Delivery>>>,
    next_delivery_id: std::sync::atomic::AtomicU64,
}

impl Dispatcher {
    /// Queues each event for the active webhooks subscribed to its topic.
    pub(super) fn publish(&self, shop: &Arc<Mutex<Shop>>, events: Vec<Event>, source: &str) {
        let subscribed: Vec<(u64, String)> = {
            let shop = lock(shop);
            shop.webhooks
                .values()
                .filter(|hook| hook.status == "active")
                .map(|hook| (hook.id, hook.topic.clone()))
                .collect()
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("webhook events dropped: no async runtime to deliver them");
            return;
        };
        let mut queues = lock(&self.queues);
        for event in events {
            for (webhook_id, topic) in subscribed.iter().filter(|(_, topic)| *topic == event.topic) {
                let delivery = Delivery {
                    webhook_id: *webhook_id,
                    topic: topic.clone(),
                    body: event.body.clone(),
                    source: source.to_owned(),
                    delivery_id: self.next_delivery_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                };
                let queue = queues.entry(*webhook_id).or_insert_with(|| {
                    let (sender, receiver) = mpsc::unbounded_channel();
                    runtime.spawn(deliver_queue(shop.clone(), receiver));
                    sender
                });
                if let Err(mpsc::error::SendError(delivery)) = queue.send(delivery) {
                    // The task ended (its runtime went away): start a new one for this webhook.
                    let (sender, receiver) = mpsc::unbounded_channel();
                    runtime.spawn(deliver_queue(shop.clone(), receiver));
                    let _ = sender.send(delivery);
                    *queue = sender;
                }
            }
        }
    }
}

/// base64(HMAC-SHA256(secret, body)), WooCommerce's `X-WC-Webhook-Signature`.
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

async fn deliver_queue(shop: Arc<Mutex<Shop>>, mut receiver: mpsc::UnboundedReceiver<Delivery>) {
    // Redirects are not followed: a 301 or 302 itself counts as delivered.
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DELIVERY_TIMEOUT)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot build the webhook HTTP client");
            return;
        }
    };
    while let Some(delivery) = receiver.recv().await {
        let target = {
            let shop = lock(&shop);
            shop.webhooks
                .get(&delivery.webhook_id)
                .filter(|hook| hook.status == "active" && hook.topic == delivery.topic)
                .map(|hook| (hook.delivery_url.clone(), hook.secret.clone()))
        };
        let Some((url, secret)) = target else {
            continue;
        };
        let body = serde_json::to_vec(&delivery.body).unwrap_or_default();
        let (resource, event) = delivery.topic.split_once('.').unwrap_or((delivery.topic.as_str(), ""));
        let result = client
            .post(&url)
            .header("content-type", "application/json")
            .header("user-agent", USER_AGENT)
            .header("x-wc-webhook-source", &delivery.source)
            .header("x-wc-webhook-topic", &delivery.topic)
            .header("x-wc-webhook-resource", resource)
            .header("x-wc-webhook-event", event)
            .header("x-wc-webhook-signature", webhook_signature(&secret, &body))
            .header("x-wc-webhook-id", delivery.webhook_id.to_string())
            .header("x-wc-webhook-delivery-id", delivery.delivery_id.to_string())
            .body(body)
            .send()
            .await;
        let code = result.as_ref().ok().map(|response| response.status().as_u16());
        // `WC_Webhook::deliver`: 200–302 is a success.
        let delivered = code.is_some_and(|code| (200..303).contains(&code));
        let mut shop = lock(&shop);
        let Some(hook) = shop.webhooks.get_mut(&delivery.webhook_id) else {
            continue;
        };
        hook.last_response_code = code;
        if delivered {
            hook.deliveries += 1;
            hook.failure_count = 0;
        } else {
            hook.failures += 1;
            hook.failure_count += 1;
            if hook.failure_count > MAX_CONSECUTIVE_FAILURES {
                hook.status = "disabled".into();
            }
        }
    }
}
