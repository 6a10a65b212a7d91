//! WooCommerce webhook deliveries: the signature check over the raw body
//! (`X-WC-Webhook-Signature` = base64 HMAC-SHA256 with the webhook's secret) and the records a
//! delivery carries. The server's `/hooks/{connection}` ingress calls these; nothing here
//! trusts a body before its signature has been checked.
use super::mapping;
use crate::SourceRecord;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use tiltas_model::EntityKind;

/// Why a delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No `X-WC-Webhook-Signature` header.
    #[error("the delivery has no X-WC-Webhook-Signature header: only signed WooCommerce webhooks are accepted")]
    MissingSignature,
    /// The signature does not match the body.
    #[error("X-WC-Webhook-Signature does not match the body: check the connection's `webhook_secret` against the webhook's secret in WooCommerce")]
    BadSignature,
    /// A topic Tiltas does not take.
    #[error("webhook topic {0:?} is not handled: subscribe to order.*, customer.* or product.* topics")]
    UnknownTopic(String),
    /// The body is not the resource JSON.
    #[error("the webhook body is not a WooCommerce resource: {0}")]
    Malformed(String),
}

/// Checks a delivery's signature over its exact bytes (in constant time).
pub fn verify_signature(secret: &str, signature: Option<&str>, body: &[u8]) -> Result<(), WebhookError> {
    let signature = signature
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::MissingSignature)?;
    let expected = BASE64.decode(signature).map_err(|_| WebhookError::BadSignature)?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| WebhookError::BadSignature)?;
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| WebhookError::BadSignature)
}

/// The signature WooCommerce sends for `body` (for simulators, tests and benchmarks).
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

/// The entity and record of a verified delivery of `topic` (`order.created`, …). `None` for
/// deliveries that carry no record: the ping sent when a webhook is created, and deletions.
pub fn record(topic: &str, body: &[u8]) -> Result<Option<(EntityKind, SourceRecord)>, WebhookError> {
    let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
    let entity = match resource {
        "order" => EntityKind::Order,
        "customer" => EntityKind::Customer,
        "product" => EntityKind::Product,
        _ if topic.is_empty() => return Ok(None),
        _ => return Err(WebhookError::UnknownTopic(topic.to_owned())),
    };
    if event == "deleted" {
        return Ok(None);
    }
    let resource: Value = serde_json::from_slice(body).map_err(|error| WebhookError::Malformed(error.to_string()))?;
    let key = mapping::id_of(&resource).ok_or_else(|| WebhookError::Malformed("no `id`".to_owned()))?;
    let data = match entity {
        EntityKind::Order => mapping::order_from_shop(&resource),
        EntityKind::Customer => mapping::customer_from_shop(&resource),
        _ => mapping::product_from_shop(&resource, &[]),
    };
    Ok(Some((
        entity,
        SourceRecord {
            key,
            updated_at: mapping::gmt(resource.get("date_modified_gmt")),
            data,
        },
    )))
}

/// WooCommerce's webhook ingress: signed deliveries with their topic in `X-WC-Webhook-Topic`.
pub struct WooReceiver;

impl crate::WebhookReceiver for WooReceiver {
    fn accept(
        &self,
        connection: &tiltas_config::Connection,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<crate::Delivery, crate::WebhookError> {
        let name = &connection.name;
        let settings: crate::ConnectionSettings = connection
            .settings
            .typed(crate::WOOCOMMERCE.connection_keys)
            .map_err(|mismatch| crate::WebhookError::NotConfigured(format!("connection \"{name}\": {mismatch}")))?;
        let secret = settings
            .webhook_secret
            .ok_or_else(|| {
                crate::WebhookError::NotConfigured(format!(
                    "connection \"{name}\" has no webhook_secret, so it takes no webhooks: set one"
                ))
            })?
            .resolve()
            .map_err(|message| crate::WebhookError::NotConfigured(format!("connection \"{name}\": {message}")))?;
        let topic = header("x-wc-webhook-topic").unwrap_or_default().trim().to_owned();
        // The ping WooCommerce sends when a webhook is created carries no topic and no
        // signature that matters; it must get a 200 or the webhook is not saved.
        if topic.is_empty() && body.starts_with(b"webhook_id=") {
            return Ok(crate::Delivery::Ignored);
        }
        verify_signature(&secret, header("x-wc-webhook-signature").as_deref(), body)
            .map_err(|error| crate::WebhookError::Unauthorized(error.to_string()))?;
        // Parsed now so a malformed delivery is refused to its sender, not discovered later.
        match record(&topic, body) {
            Ok(Some(_)) => Ok(crate::Delivery::Accepted { topic }),
            Ok(None) => Ok(crate::Delivery::Ignored),
            // A topic no flow takes (coupons…) is answered 200: refusing it would make the shop
            // count failures and disable the webhook.
            Err(WebhookError::UnknownTopic(_)) => Ok(crate::Delivery::Ignored),
            Err(error) => Err(crate::WebhookError::Invalid(error.to_string())),
        }
    }

    fn record(&self, topic: &str, body: &[u8]) -> Result<Option<(EntityKind, SourceRecord)>, String> {
        record(topic, body).map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_over_the_exact_body_is_accepted_and_anything_else_refused() {
        let body = br#"{"id":727,"number":"727","status":"processing","line_items":[]}"#;
        let signature = sign("s3cret", body);
        assert_eq!(verify_signature("s3cret", Some(&signature), body), Ok(()));
        assert_eq!(
            verify_signature("other", Some(&signature), body),
            Err(WebhookError::BadSignature)
        );
        let mut changed = body.to_vec();
        changed[7] = b'8';
        assert_eq!(
            verify_signature("s3cret", Some(&signature), &changed),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature("s3cret", None, body),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            verify_signature("s3cret", Some("%%%"), body),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn an_order_delivery_is_an_order_record_and_a_ping_is_nothing() {
        let body = br#"{"id":727,"number":"727","status":"processing","date_modified_gmt":"2026-11-20T10:00:00","line_items":[{"sku":"A1","quantity":1,"price":10,"total":"10.00","total_tax":"2.10"}]}"#;
        let (entity, order) = record("order.created", body).unwrap().unwrap();
        assert_eq!(entity, EntityKind::Order);
        assert_eq!(order.key, "727");
        assert_eq!(order.data["lines"][0]["vat_rate"], "21");
        assert!(record("", b"webhook_id=5").unwrap().is_none());
        assert!(matches!(
            record("coupon.created", body),
            Err(WebhookError::UnknownTopic(_))
        ));
        assert!(matches!(
            record("order.updated", b"{oops"),
            Err(WebhookError::Malformed(_))
        ));
    }
}
