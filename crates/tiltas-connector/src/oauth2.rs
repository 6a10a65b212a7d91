//! OAuth2 access tokens for connectors (Inter Cars, AccountView): a [`TokenSource`] fetches a
//! token by the client-credentials grant or by a stored refresh token ([`Grant`]), caches it
//! until shortly before it expires, shares one fetch among concurrent callers, and fetches a
//! new one once when the API answers 401. A rotated refresh token is handed to the caller's
//! [`TokenStore`] before the access token that came with it is used, so a crash can never
//! leave only a spent refresh token behind.
//!
//! Every token request passes the connection's [`CallGate`], like any other request.
use crate::{http, CallGate, ConnectorError, ErrorKind};
use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tiltas_config::Secret;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)` — what the RFC prefers.
    Basic,
    /// `client_id` and `client_secret` as form fields (Inter Cars, AccountView).
    Form,
}

/// Where a connection's refresh token lives; the caller implements it (a file, the store).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The current refresh token; `None` when the connection was never authorised.
    async fn load(&self) -> Result<Option<String>, ConnectorError>;

    /// Keeps a new refresh token. Called before the access token issued with it is used: many
    /// providers invalidate the old one the moment they issue a new one.
    async fn save(&self, refresh_token: &str) -> Result<(), ConnectorError>;
}

/// How a [`TokenSource`] obtains access tokens.
#[derive(Clone)]
pub enum Grant {
    /// `grant_type=client_credentials`: the client's own id and secret (Inter Cars).
    ClientCredentials,
    /// `grant_type=refresh_token` with the token in the store, which receives rotated ones
    /// (AccountView, after the user authorised the connection once).
    RefreshToken(Arc<dyn TokenStore>),
    /// `grant_type=authorization_code`: the code the provider sent the person who authorised
    /// the connection back with, exchanged once; the refresh token goes to the store.
    AuthorizationCode {
        /// The code from the redirect.
        code: String,
        /// The redirect URI the authorization was asked with (the provider compares them).
        redirect_uri: String,
        /// Receives the refresh token.
        store: Arc<dyn TokenStore>,
    },
}

impl Grant {
    /// The store refresh tokens go to, for the grants that have one.
    fn store(&self) -> Option<&Arc<dyn TokenStore>> {
        match self {
            Grant::ClientCredentials => None,
            Grant::RefreshToken(store) | Grant::AuthorizationCode { store, .. } => Some(store),
        }
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Grant::ClientCredentials => "ClientCredentials",
            Grant::RefreshToken(_) => "RefreshToken",
            Grant::AuthorizationCode { .. } => "AuthorizationCode",
        })
    }
}

/// A connection's OAuth2 client: where tokens come from and how to ask for them.
#[derive(Debug, Clone)]
pub struct OAuth2Settings {
    /// The connection's name, for messages.
    pub connection: String,
    /// The token endpoint (`https://is.webapi.intercars.eu/oauth2/token`).
    pub token_url: reqwest::Url,
    /// The client's id.
    pub client_id: String,
    /// The client's secret.
    pub client_secret: Secret,
    /// How the id and secret are sent; default [`ClientAuth::Basic`].
    pub client_auth: ClientAuth,
    /// The `scope` asked for, when the provider wants one (`allinone`).
    pub scope: Option<String>,
    /// More form fields for every token request (`redirect_uri` for AccountView).
    pub extra_fields: Vec<(String, String)>,
    /// How long before `expires_in` runs out a token is renewed (clock skew, slow requests);
    /// default one minute.
    pub expiry_margin: Duration,
    /// The settings an auth failure tells the user to check; default
    /// ``"`client_id` and `client_secret`"``.
    pub credentials: String,
}

impl OAuth2Settings {
    /// Settings with the defaults: Basic client authentication, no scope, a one-minute margin.
    pub fn new(
        connection: impl Into<String>,
        token_url: reqwest::Url,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> OAuth2Settings {
        OAuth2Settings {
            connection: connection.into(),
            token_url,
            client_id: client_id.into(),
            client_secret,
            client_auth: ClientAuth::Basic,
            scope: None,
            extra_fields: Vec::new(),
            expiry_margin: Duration::from_secs(60),
            credentials: "`client_id` and `client_secret`".to_string(),
        }
    }
}

/// An access token; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// The token itself, for the `Authorization: Bearer` header.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("AccessToken(***)")
    }
}

struct Cached {
    token: AccessToken,
    /// When to fetch a new one; `None` when the provider gave no `expires_in` (until a 401).
    renew_at: Option<Instant>,
    /// Fetched because the API refused the previous token: if this one is refused too, the
    /// credentials are wrong, and fetching again would only loop.
    after_rejection: bool,
}

impl Cached {
    fn is_fresh(&self) -> bool {
        self.renew_at.is_none_or(|renew_at| Instant::now() < renew_at)
    }
}

/// Access tokens of one connection, fetched once and shared by every request of it.
pub struct TokenSource {
    settings: OAuth2Settings,
    grant: Grant,
    http: reqwest::Client,
    gate: Arc<dyn CallGate>,
    // A tokio mutex, held across the fetch: concurrent callers wait for one token request
    // rather than each sending their own.
    cached: Mutex<Option<Cached>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TokenSource")
            .field("settings", &self.settings)
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source; token requests are sent with `http` after passing `gate`.
    pub fn new(http: reqwest::Client, gate: Arc<dyn CallGate>, settings: OAuth2Settings, grant: Grant) -> TokenSource {
        TokenSource {
            settings,
            grant,
            http,
            gate,
            cached: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, or a new one.
    pub async fn token(&self) -> Result<AccessToken, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref().filter(|current| current.is_fresh()) {
            return Ok(current.token.clone());
        }
        let fetched = self.fetch_current(false).await?;
        let token = fetched.token.clone();
        *cached = Some(fetched);
        Ok(token)
    }

    /// Reports that the API answered 401 to `rejected`: returns the token to retry with once
    /// (a new one, or one another caller already fetched). When the token was itself fetched
    /// after a 401, the credentials are refused: an auth error naming what to check.
    pub async fn rejected(&self, rejected: &AccessToken) -> Result<AccessToken, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref() {
            if current.token != *rejected && current.is_fresh() {
                return Ok(current.token.clone());
            }
            if current.token == *rejected && current.after_rejection {
                *cached = None;
                return Err(self.refused_twice());
            }
        }
        *cached = None;
        let fetched = self.fetch_current(true).await?;
        let token = fetched.token.clone();
        *cached = Some(fetched);
        Ok(token)
    }

    /// Sends the request `build` makes with a token (`bearer_auth(token.secret())`) through
    /// [`http::exchange`] (`what` names it in messages); on a 401, once more with a new token.
    /// Any other answer is returned as it is; a second 401 is an auth error naming the
    /// connection and the credentials to check.
    pub async fn send<Build>(&self, what: &str, build: Build) -> Result<http::Reply, ConnectorError>
    where
        Build: Fn(&AccessToken) -> reqwest::RequestBuilder,
    {
        let token = self.token().await?;
        let answer = self.send_once(what, &build, &token).await?;
        if answer.status != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        let token = self.rejected(&token).await?;
        let answer = self.send_once(what, &build, &token).await?;
        if answer.status != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        self.forget(&token).await;
        Err(self.refused_twice())
    }

    async fn send_once<Build>(
        &self,
        what: &str,
        build: &Build,
        token: &AccessToken,
    ) -> Result<http::Reply, ConnectorError>
    where
        Build: Fn(&AccessToken) -> reqwest::RequestBuilder,
    {
        let what = format!("connection \"{}\": {what}", self.settings.connection);
        http::exchange(self.gate.as_ref(), &what, build(token)).await
    }

    /// Drops `token` if it is still the cached one, so the next call fetches anew.
    async fn forget(&self, token: &AccessToken) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|current| current.token == *token) {
            *cached = None;
        }
    }

    fn refused_twice(&self) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::Auth,
            format!(
                "connection \"{}\": the API refused a freshly issued access token (401 twice): check the \
                 connection's {} and that the client is granted this API{}",
                self.settings.connection,
                self.settings.credentials,
                match &self.settings.scope {
                    Some(scope) => format!(" (scope `{scope}`)"),
                    None => String::new(),
                }
            ),
        )
    }

    /// The token endpoint without its query, for messages.
    fn endpoint(&self) -> String {
        let mut shown = self.settings.token_url.clone();
        shown.set_query(None);
        shown.to_string()
    }

    /// A token request; when the refresh token is refused but the store meanwhile holds
    /// another one — another flow or worker on this connection refreshed first, and the provider
    /// rotated the token we read — once more with that one.
    async fn fetch_current(&self, after_rejection: bool) -> Result<Cached, ConnectorError> {
        let Grant::RefreshToken(store) = &self.grant else {
            return self.fetch(after_rejection).await;
        };
        let read = store.load().await?;
        match self.fetch(after_rejection).await {
            Err(error) if error.kind == ErrorKind::Auth && error.message.contains("invalid_grant") => {
                let now = store.load().await?;
                if now.is_some() && now != read {
                    tracing::debug!(connection = %self.settings.connection, "refresh token rotated meanwhile; retrying with it");
                    return self.fetch(after_rejection).await;
                }
                Err(error)
            }
            other => other,
        }
    }

    /// One token request.
    async fn fetch(&self, after_rejection: bool) -> Result<Cached, ConnectorError> {
        let settings = &self.settings;
        let place = format!(
            "connection \"{}\": token endpoint {}",
            settings.connection,
            self.endpoint()
        );
        let client_secret = settings.client_secret.resolve().map_err(|message| {
            ConnectorError::new(
                ErrorKind::Auth,
                format!("connection \"{}\": {message}", settings.connection),
            )
        })?;
        let mut form: Vec<(String, String)> = Vec::new();
        let spent_refresh_token = match &self.grant {
            Grant::ClientCredentials => {
                form.push(("grant_type".into(), "client_credentials".into()));
                None
            }
            Grant::RefreshToken(store) => {
                let Some(refresh_token) = store.load().await? else {
                    return Err(ConnectorError::new(
                        ErrorKind::Auth,
                        format!(
                            "connection \"{}\" has no refresh token: it was never authorised",
                            settings.connection
                        ),
                    )
                    .with_fix(connect_again(&settings.connection)));
                };
                form.push(("grant_type".into(), "refresh_token".into()));
                form.push(("refresh_token".into(), refresh_token.clone()));
                Some(refresh_token)
            }
            Grant::AuthorizationCode { code, redirect_uri, .. } => {
                form.push(("grant_type".into(), "authorization_code".into()));
                form.push(("code".into(), code.clone()));
                if !settings.extra_fields.iter().any(|(name, _)| name == "redirect_uri") {
                    form.push(("redirect_uri".into(), redirect_uri.clone()));
                }
                None
            }
        };
        if let Some(scope) = &settings.scope {
            form.push(("scope".into(), scope.clone()));
        }
        form.extend(settings.extra_fields.iter().cloned());
        let mut request = self
            .http
            .post(settings.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        match settings.client_auth {
            ClientAuth::Basic => request = request.basic_auth(&settings.client_id, Some(&client_secret)),
            ClientAuth::Form => {
                form.push(("client_id".into(), settings.client_id.clone()));
                form.push(("client_secret".into(), client_secret));
            }
        }
        let reply = http::exchange(self.gate.as_ref(), &place, request.form(&form)).await?;
        let (status, retry_after, body) = (reply.status, reply.retry_after(), reply.text);
        let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
        if !status.is_success() {
            return Err(self.refusal(&place, status, retry_after, parsed.as_ref(), &body));
        }
        let issued = parsed.as_ref().and_then(Issued::read).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "{place} answered {status} without an `access_token`: \"{}\": check the connection's token URL",
                    body.chars().take(160).collect::<String>()
                ),
            )
        })?;
        if let (None, Grant::AuthorizationCode { .. }) = (&issued.refresh_token, &self.grant) {
            return Err(ConnectorError::new(
                ErrorKind::Auth,
                format!("{place} issued no refresh token for the code, so the connection could not stay authorised"),
            )
            .with_fix("ask the provider for offline access (a refresh token) for this client, then connect again"));
        }
        if let (Some(new), Some(store)) = (&issued.refresh_token, self.grant.store()) {
            if spent_refresh_token.as_ref() != Some(new) {
                store.save(new).await.map_err(|error| {
                    ConnectorError::new(
                        ErrorKind::Fatal,
                        format!(
                            "connection \"{}\": the provider rotated the refresh token but the new one could not \
                             be saved ({error}); the old one may no longer work: fix the token store, then \
                             authorise the connection again",
                            settings.connection
                        ),
                    )
                })?;
            }
        }
        let renew_at = issued.expires_in.map(|lifetime| {
            // Renew `expiry_margin` early, but never sooner than half the lifetime: a
            // provider that issues short tokens would otherwise be asked on every call.
            Instant::now() + lifetime.saturating_sub(settings.expiry_margin).max(lifetime / 2)
        });
        Ok(Cached {
            token: AccessToken(issued.access_token.into()),
            renew_at,
            after_rejection,
        })
    }

    /// The failure of a token request the endpoint refused.
    fn refusal(
        &self,
        place: &str,
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
        parsed: Option<&serde_json::Value>,
        body: &str,
    ) -> ConnectorError {
        let settings = &self.settings;
        let code = parsed
            .and_then(|value| value.get("error"))
            .and_then(serde_json::Value::as_str);
        let Some(code) = code.filter(|_| status.as_u16() != 429) else {
            let quoted = body.chars().take(160).collect::<String>();
            return http::failure(
                status,
                place,
                &format!("\"{quoted}\""),
                &settings.credentials,
                retry_after,
            );
        };
        let description = parsed
            .and_then(|value| value.get("error_description"))
            .and_then(serde_json::Value::as_str)
            .map(|text| format!(" (\"{text}\")"))
            .unwrap_or_default();
        let credentials = &settings.credentials;
        let (kind, fix) = match code {
            "invalid_client" => (
                ErrorKind::Auth,
                format!(
                    "the client was not recognised: check the connection's {credentials}, and whether the \
                     provider expects them {}",
                    match settings.client_auth {
                        ClientAuth::Basic => "as form fields rather than in a Basic header",
                        ClientAuth::Form => "in a Basic header rather than as form fields",
                    }
                ),
            ),
            "invalid_grant" => match self.grant {
                Grant::RefreshToken(_) => (
                    ErrorKind::Auth,
                    format!(
                        "the refresh token is expired, revoked or already used: {}",
                        connect_again(&settings.connection)
                    ),
                ),
                Grant::AuthorizationCode { .. } => (
                    ErrorKind::Auth,
                    format!(
                        "the code is expired, already used, or was issued for another redirect URI: {}",
                        connect_again(&settings.connection)
                    ),
                ),
                Grant::ClientCredentials => (
                    ErrorKind::Auth,
                    format!("the grant was refused: check the connection's {credentials}"),
                ),
            },
            "unauthorized_client" => (
                ErrorKind::Auth,
                "the client may not use this grant type: enable it for the client at the provider".to_string(),
            ),
            "invalid_scope" => (
                ErrorKind::Auth,
                format!(
                    "the scope {} is not granted to this client: check the connection's scope",
                    settings
                        .scope
                        .as_deref()
                        .map_or("asked for".to_string(), |scope| format!("`{scope}`"))
                ),
            ),
            "unsupported_grant_type" | "invalid_request" => (
                ErrorKind::Auth,
                "the endpoint does not take this request: check the connection's token URL".to_string(),
            ),
            "temporarily_unavailable" | "server_error" => (ErrorKind::Transient, "it is retried".to_string()),
            _ => (ErrorKind::Auth, format!("check the connection's {credentials}")),
        };
        let mut error = ConnectorError::new(
            kind,
            format!("{place} refused the token request: {code}{description}: {fix}"),
        );
        error.retry_after = retry_after;
        error
    }
}

/// The useful part of a token response.
struct Issued {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<Duration>,
}

impl Issued {
    fn read(value: &serde_json::Value) -> Option<Issued> {
        let access_token = value.get("access_token")?.as_str()?.to_string();
        // Some providers send `expires_in` as a string ("3600").
        let expires_in = value.get("expires_in").and_then(|expires| match expires {
            serde_json::Value::Number(number) => number.as_u64(),
            serde_json::Value::String(text) => text.trim().parse().ok(),
            _ => None,
        });
        Some(Issued {
            access_token,
            refresh_token: value
                .get("refresh_token")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            expires_in: expires_in.map(Duration::from_secs),
        })
    }
}

/// The fix for a connection whose authorisation is gone.
pub fn connect_again(connection: &str) -> String {
    format!("authorise it again with `tiltas connect --connection {connection}`")
}

/// How a person authorises a connection at its provider (`tiltas connect`): the provider's
/// sign-in page, and the token endpoint the code is exchanged at. A system whose connections
/// need it returns one from `System::authorization`.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The provider's authorization page (`https://…/authorize`), without the query Tiltas adds.
    pub authorize_url: reqwest::Url,
    /// The connection's client and token endpoint.
    pub settings: OAuth2Settings,
    /// The redirect URI registered with the provider for this client, when the connection
    /// names one; otherwise `tiltas connect` listens on 127.0.0.1 and uses its own.
    pub redirect_uri: Option<String>,
    /// The vault entry the refresh token is kept under (the one the connector reads).
    pub token_name: &'static str,
}

impl Authorization {
    /// The address the person opens: `response_type=code`, the client, the redirect URI,
    /// `state` (checked when the person comes back) and the scope.
    pub fn url(&self, redirect_uri: &str, state: &str) -> reqwest::Url {
        let mut url = self.authorize_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("state", state);
            if let Some(scope) = &self.settings.scope {
                query.append_pair("scope", scope);
            }
        }
        url
    }

    /// Exchanges the code the person came back with for tokens, and keeps the refresh token
    /// in `store` (for the connector: `ConnectionVault` on the connection and `token_name`).
    pub async fn complete(
        &self,
        http: reqwest::Client,
        gate: Arc<dyn CallGate>,
        store: Arc<dyn TokenStore>,
        code: &str,
        redirect_uri: &str,
    ) -> Result<(), ConnectorError> {
        let grant = Grant::AuthorizationCode {
            code: code.to_string(),
            redirect_uri: redirect_uri.to_string(),
            store,
        };
        TokenSource::new(http, gate, self.settings.clone(), grant)
            .token()
            .await
            .map(drop)
    }
}
