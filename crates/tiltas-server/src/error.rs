//! The API's one error shape: `{"code": "...", "message": "..."}` with a fitting status.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// An API failure: a stable machine `code` and a message naming the thing and the fix.
#[derive(Debug, Clone, thiserror::Error, Serialize, ToSchema)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Stable, e.g. `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid`.
    pub code: String,
    /// For people: what, where, and the fix.
    pub message: String,
    /// The HTTP status (not serialized).
    #[serde(skip)]
    pub status: u16,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: code.to_owned(),
            message: message.into(),
            status: status.as_u16(),
        }
    }

    /// 404 for a named thing.
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// 400 for a request that cannot be served as sent.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 500 for a failure of the server's own parts (the store).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<tiltas_store::StoreError> for ApiError {
    fn from(error: tiltas_store::StoreError) -> ApiError {
        ApiError::internal(format!("the store failed: {error}"))
    }
}

impl From<tiltas_engine::EngineError> for ApiError {
    fn from(error: tiltas_engine::EngineError) -> ApiError {
        use tiltas_engine::EngineError;
        let (status, code) = match &error {
            EngineError::UnknownFlow { .. } => (StatusCode::NOT_FOUND, "not_found"),
            EngineError::Disabled(_) | EngineError::Busy { .. } => (StatusCode::CONFLICT, "conflict"),
            EngineError::Mapping { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_flow"),
            EngineError::Connector { .. } => (StatusCode::BAD_GATEWAY, "connector_failed"),
            EngineError::Store(_) | EngineError::Interrupted(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, error.to_string())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::invalid(format!("the path does not fit: {}", rejection.body_text()))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
        ApiError::invalid(format!("the query does not fit: {}", rejection.body_text()))
    }
}

/// `Path`, answering a bad path with the API's error body.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Query`, answering a bad query with the API's error body.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A JSON body that may be left out: empty, or `null` (as the document's optional, nullable
/// body allows), means the defaults.
pub fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| ApiError::invalid(format!("the body does not fit: {error}")))?;
    if value.is_null() {
        return Ok(T::default());
    }
    from_object(value)
}

/// A JSON body that must be sent, as a JSON object.
pub fn required_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| ApiError::invalid(format!("the body does not fit: {error}")))?;
    from_object(value)
}

/// A body's fields, from a JSON object only: serde would also read a struct from an array of
/// its fields in order, which the document does not allow and no client means.
fn from_object<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid(
            "the body must be a JSON object (`{\"field\": value, …}`); the OpenAPI document at /api/v1/openapi.json names the fields",
        ));
    }
    serde_json::from_value(value).map_err(|error| ApiError::invalid(format!("the body does not fit: {error}")))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(&self)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"tiltas\""),
            );
        }
        response
    }
}
