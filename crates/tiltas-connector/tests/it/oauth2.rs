//! `TokenSource` against a fake OAuth2 provider with a protected API.
use crate::{serve, CountingGate};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tiltas_config::Secret;
use tiltas_connector::oauth2::{Authorization, ClientAuth, Grant, OAuth2Settings, TokenSource, TokenStore};
use tiltas_connector::{ConnectorError, ErrorKind};

/// base64("app:s3cret")
const BASIC_APP: &str = "Basic YXBwOnMzY3JldA==";

#[derive(Default)]
struct Provider {
    require_basic: bool,
    expires_in: Option<u64>,
    token_delay: Duration,
    token_calls: AtomicU32,
    api_calls: AtomicU32,
    issued: AtomicU32,
    valid: Mutex<HashSet<String>>,
    refuse_every_token: AtomicBool,
    /// The refresh token the provider accepts now; `None`: no refresh grant.
    refresh_token: Mutex<Option<String>>,
    /// Another worker's refresh, landing in the caller's store as this provider refuses a
    /// spent refresh token (the race of two token sources on one connection).
    rotated_elsewhere: Option<String>,
    /// Authorization codes not yet exchanged, with the redirect URI each was issued for.
    codes: Mutex<HashMap<String, String>>,
    last_form: Mutex<HashMap<String, String>>,
    /// The caller's store, checked at each API call: it must already hold the current
    /// refresh token when an access token issued with it is used.
    store: Option<Arc<MemoryStore>>,
    used_before_saved: AtomicBool,
}

impl Provider {
    fn token_calls(&self) -> u32 {
        self.token_calls.load(Ordering::SeqCst)
    }
    fn api_calls(&self) -> u32 {
        self.api_calls.load(Ordering::SeqCst)
    }
    fn revoke_access_tokens(&self) {
        self.valid.lock().unwrap().clear();
    }
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({"error": code, "error_description": description}))).into_response()
}

async fn token(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    provider.token_calls.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(provider.token_delay).await;
    *provider.last_form.lock().unwrap() = form.clone();
    let by_basic = headers.get("authorization").and_then(|value| value.to_str().ok()) == Some(BASIC_APP);
    let by_form = form.get("client_id").map(String::as_str) == Some("app")
        && form.get("client_secret").map(String::as_str) == Some("s3cret");
    if !(if provider.require_basic { by_basic } else { by_form }) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let number = provider.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let mut answer = json!({"access_token": format!("tok-{number}"), "token_type": "Bearer"});
    if let Some(expires_in) = provider.expires_in {
        answer["expires_in"] = json!(expires_in);
    }
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some("refresh_token") => {
            let mut current = provider.refresh_token.lock().unwrap();
            if current.is_none() || form.get("refresh_token") != current.as_ref() {
                if let (Some(store), Some(elsewhere)) = (&provider.store, &provider.rotated_elsewhere) {
                    *store.token.lock().unwrap() = Some(elsewhere.clone());
                }
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Refresh token is invalid");
            }
            let rotated = format!("refresh-{number}");
            answer["refresh_token"] = json!(rotated);
            *current = Some(rotated);
        }
        Some("authorization_code") => {
            let code = form.get("code").cloned().unwrap_or_default();
            let issued_for = provider.codes.lock().unwrap().remove(&code);
            if issued_for.is_none() || issued_for.as_ref() != form.get("redirect_uri") {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Code is invalid");
            }
            let first = format!("refresh-{number}");
            answer["refresh_token"] = json!(first);
            *provider.refresh_token.lock().unwrap() = Some(first);
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", ""),
    }
    provider.valid.lock().unwrap().insert(format!("tok-{number}"));
    Json(answer).into_response()
}

async fn api(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    provider.api_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(store) = &provider.store {
        if *store.token.lock().unwrap() != *provider.refresh_token.lock().unwrap() {
            provider.used_before_saved.store(true, Ordering::SeqCst);
        }
    }
    let bearer = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    if provider.refuse_every_token.load(Ordering::SeqCst) || !provider.valid.lock().unwrap().contains(&bearer) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    "ok".into_response()
}

#[derive(Default)]
struct MemoryStore {
    token: Mutex<Option<String>>,
    saves: Mutex<Vec<String>>,
    broken: bool,
}

#[async_trait::async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self) -> Result<Option<String>, ConnectorError> {
        Ok(self.token.lock().unwrap().clone())
    }
    async fn save(&self, refresh_token: &str) -> Result<(), ConnectorError> {
        if self.broken {
            return Err(ConnectorError::new(ErrorKind::Fatal, "disk full"));
        }
        *self.token.lock().unwrap() = Some(refresh_token.to_string());
        self.saves.lock().unwrap().push(refresh_token.to_string());
        Ok(())
    }
}

struct Setup {
    provider: Arc<Provider>,
    source: Arc<TokenSource>,
    gate: Arc<CountingGate>,
    base: String,
    http: reqwest::Client,
}

async fn setup(provider: Provider, configure: impl FnOnce(&mut OAuth2Settings), grant: Grant) -> Setup {
    let provider = Arc::new(provider);
    let app = Router::new()
        .route("/oauth2/token", post(token))
        .route("/api", get(api))
        .with_state(provider.clone());
    let base = serve(app).await;
    let token_url = format!("{base}/oauth2/token").parse().expect("url");
    let mut settings = OAuth2Settings::new("intercars", token_url, "app", Secret::literal("s3cret"));
    configure(&mut settings);
    let gate = Arc::new(CountingGate::default());
    let http = reqwest::Client::new();
    let source = Arc::new(TokenSource::new(http.clone(), gate.clone(), settings, grant));
    Setup {
        provider,
        source,
        gate,
        base,
        http,
    }
}

impl Setup {
    async fn call_api(&self) -> Result<StatusCode, ConnectorError> {
        let url = format!("{}/api", self.base);
        let answer = self
            .source
            .send("GET /api", |token| self.http.get(&url).bearer_auth(token.secret()))
            .await?;
        Ok(StatusCode::from_u16(answer.status.as_u16()).expect("status"))
    }
}

fn basic() -> Provider {
    Provider {
        require_basic: true,
        expires_in: Some(3600),
        ..Provider::default()
    }
}

#[tokio::test]
async fn many_api_calls_and_concurrent_callers_share_one_token_request() {
    let setup = setup(
        Provider {
            token_delay: Duration::from_millis(100),
            ..basic()
        },
        |_| {},
        Grant::ClientCredentials,
    )
    .await;
    let waiting: Vec<_> = (0..8)
        .map(|_| {
            let source = setup.source.clone();
            tokio::spawn(async move { source.token().await })
        })
        .collect();
    for caller in waiting {
        assert_eq!(caller.await.expect("joined").expect("token").secret(), "tok-1");
    }
    for _ in 0..10 {
        assert_eq!(setup.call_api().await.expect("call"), StatusCode::OK);
    }
    assert_eq!(setup.provider.token_calls(), 1);
    assert_eq!(setup.provider.api_calls(), 10);
    assert_eq!(
        setup.gate.admitted(),
        11,
        "the token request and every API call pass the gate"
    );
}

#[tokio::test]
async fn a_token_is_renewed_a_margin_before_it_expires() {
    let setup = setup(
        Provider {
            expires_in: Some(2),
            ..basic()
        },
        |settings| settings.expiry_margin = Duration::from_secs(1),
        Grant::ClientCredentials,
    )
    .await;
    assert_eq!(setup.source.token().await.expect("token").secret(), "tok-1");
    assert_eq!(setup.source.token().await.expect("token").secret(), "tok-1");
    // Two seconds of life, renewed one second early.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(setup.source.token().await.expect("token").secret(), "tok-2");
    assert_eq!(setup.provider.token_calls(), 2);
}

#[tokio::test]
async fn a_401_from_the_api_fetches_a_new_token_once_and_retries() {
    let setup = setup(basic(), |_| {}, Grant::ClientCredentials).await;
    assert_eq!(setup.call_api().await.expect("call"), StatusCode::OK);
    setup.provider.revoke_access_tokens();
    assert_eq!(setup.call_api().await.expect("call after revocation"), StatusCode::OK);
    assert_eq!(setup.provider.token_calls(), 2);
    assert_eq!(setup.provider.api_calls(), 3);
    assert_eq!(setup.gate.admitted(), 5);
}

#[tokio::test]
async fn callers_refused_together_share_one_new_token() {
    let setup = setup(basic(), |_| {}, Grant::ClientCredentials).await;
    let old = setup.source.token().await.expect("token");
    setup.provider.revoke_access_tokens();
    let first = setup.source.rejected(&old).await.expect("new token");
    let second = setup.source.rejected(&old).await.expect("the same new token");
    assert_eq!((first.secret(), second.secret()), ("tok-2", "tok-2"));
    assert_eq!(setup.provider.token_calls(), 2);
}

#[tokio::test]
async fn a_second_401_is_an_auth_error_naming_the_connection_and_credentials() {
    let setup = setup(
        basic(),
        |settings| settings.scope = Some("allinone".into()),
        Grant::ClientCredentials,
    )
    .await;
    setup.provider.refuse_every_token.store(true, Ordering::SeqCst);
    let error = setup.call_api().await.expect_err("refused twice");
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.starts_with("connection \"intercars\""), "{error}");
    assert!(error.message.contains("`client_id` and `client_secret`"), "{error}");
    assert!(error.message.contains("`allinone`"), "{error}");
    assert_eq!(setup.provider.token_calls(), 2, "one new token, not a loop");
    assert_eq!(setup.provider.api_calls(), 2);
    // The refused token is forgotten: the next call starts with a new one.
    setup.provider.refuse_every_token.store(false, Ordering::SeqCst);
    assert_eq!(setup.call_api().await.expect("call"), StatusCode::OK);
    assert_eq!(setup.provider.token_calls(), 3);
}

#[tokio::test]
async fn basic_client_auth_sends_the_header_and_form_auth_the_fields_with_the_scope() {
    let setup = setup(
        basic(),
        |settings| settings.scope = Some("allinone".into()),
        Grant::ClientCredentials,
    )
    .await;
    setup.source.token().await.expect("basic accepted");
    let form = setup.provider.last_form.lock().unwrap().clone();
    assert_eq!(form.get("grant_type").map(String::as_str), Some("client_credentials"));
    assert_eq!(form.get("scope").map(String::as_str), Some("allinone"));
    assert!(!form.contains_key("client_secret"), "the secret is not sent twice");

    let by_form = Provider {
        require_basic: false,
        ..basic()
    };
    let setup = setup_form(by_form).await;
    setup.source.token().await.expect("form accepted");
    let form = setup.provider.last_form.lock().unwrap().clone();
    assert_eq!(form.get("client_id").map(String::as_str), Some("app"));
    assert_eq!(form.get("client_secret").map(String::as_str), Some("s3cret"));
}

async fn setup_form(provider: Provider) -> Setup {
    setup(
        provider,
        |settings| settings.client_auth = ClientAuth::Form,
        Grant::ClientCredentials,
    )
    .await
}

#[tokio::test]
async fn invalid_client_is_an_auth_error_with_the_oauth2_code_and_the_fix() {
    // The provider wants Basic; the connection sends form fields.
    let setup = setup_form(basic()).await;
    let error = setup.source.token().await.expect_err("invalid_client");
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("connection \"intercars\""), "{error}");
    assert!(
        error
            .message
            .contains("invalid_client (\"Client authentication failed\")"),
        "{error}"
    );
    assert!(error.message.contains("`client_id` and `client_secret`"), "{error}");
    assert!(
        error.message.contains("in a Basic header rather than as form fields"),
        "{error}"
    );
    assert!(!error.message.contains("s3cret"), "{error}");
}

#[tokio::test]
async fn a_rotated_refresh_token_is_saved_before_its_access_token_is_used() {
    let store = Arc::new(MemoryStore {
        token: Mutex::new(Some("refresh-0".into())),
        ..MemoryStore::default()
    });
    let provider = Provider {
        require_basic: false,
        refresh_token: Mutex::new(Some("refresh-0".into())),
        store: Some(store.clone()),
        ..basic()
    };
    let setup = setup(
        provider,
        |settings| {
            settings.client_auth = ClientAuth::Form;
            settings.extra_fields = vec![("redirect_uri".into(), "http://127.0.0.1/callback".into())];
        },
        Grant::RefreshToken(store.clone()),
    )
    .await;
    assert_eq!(setup.call_api().await.expect("call"), StatusCode::OK);
    let form = setup.provider.last_form.lock().unwrap().clone();
    assert_eq!(form.get("grant_type").map(String::as_str), Some("refresh_token"));
    assert_eq!(form.get("refresh_token").map(String::as_str), Some("refresh-0"));
    assert_eq!(
        form.get("redirect_uri").map(String::as_str),
        Some("http://127.0.0.1/callback")
    );
    // The access token expires early (revoked): the rotated refresh token is spent next.
    setup.provider.revoke_access_tokens();
    assert_eq!(setup.call_api().await.expect("call"), StatusCode::OK);
    assert_eq!(*store.saves.lock().unwrap(), ["refresh-1", "refresh-2"]);
    assert!(!setup.provider.used_before_saved.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_refused_refresh_token_asks_to_authorise_again() {
    let store = Arc::new(MemoryStore {
        token: Mutex::new(Some("refresh-spent".into())),
        ..MemoryStore::default()
    });
    let provider = Provider {
        refresh_token: Mutex::new(Some("refresh-7".into())),
        ..basic()
    };
    let setup = setup(provider, |_| {}, Grant::RefreshToken(store.clone())).await;
    let error = setup.source.token().await.expect_err("invalid_grant");
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("invalid_grant"), "{error}");
    assert!(
        error.message.contains("tiltas connect --connection intercars"),
        "{error}"
    );

    let never_authorised = setup_with_store(Arc::new(MemoryStore::default())).await;
    let error = never_authorised.source.token().await.expect_err("no refresh token");
    assert!(error.message.contains("has no refresh token"), "{error}");
    assert!(
        error.fix.as_deref().unwrap_or_default().contains("tiltas connect"),
        "{error:?}"
    );
    assert_eq!(never_authorised.provider.token_calls(), 0);
}

async fn setup_with_store(store: Arc<MemoryStore>) -> Setup {
    setup(basic(), |_| {}, Grant::RefreshToken(store)).await
}

#[tokio::test]
async fn a_rotated_refresh_token_that_cannot_be_saved_is_not_used() {
    let store = Arc::new(MemoryStore {
        token: Mutex::new(Some("refresh-0".into())),
        broken: true,
        ..MemoryStore::default()
    });
    let provider = Provider {
        refresh_token: Mutex::new(Some("refresh-0".into())),
        ..basic()
    };
    let setup = setup(provider, |_| {}, Grant::RefreshToken(store)).await;
    let error = setup.call_api().await.expect_err("not saved");
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(error.message.contains("could not be saved (disk full)"), "{error}");
    assert_eq!(setup.provider.api_calls(), 0);
}

#[tokio::test]
async fn a_wrong_token_url_and_an_unset_secret_are_named_in_the_error() {
    let setup = setup(basic(), |_| {}, Grant::ClientCredentials).await;
    let gone = format!("{}/nowhere", setup.base).parse().expect("url");
    let settings = OAuth2Settings::new("intercars", gone, "app", Secret::literal("s3cret"));
    let lost = TokenSource::new(
        setup.http.clone(),
        setup.gate.clone(),
        settings,
        Grant::ClientCredentials,
    );
    let error = lost.token().await.expect_err("404");
    assert_eq!(error.kind, ErrorKind::Invalid, "{error}");
    assert!(error.message.contains("/nowhere"), "{error}");

    let token_url = format!("{}/oauth2/token", setup.base).parse().expect("url");
    let unset = Secret::from_env("TILTAS_TEST_UNSET_OAUTH2_SECRET");
    let settings = OAuth2Settings::new("intercars", token_url, "app", unset);
    let unset = TokenSource::new(
        setup.http.clone(),
        setup.gate.clone(),
        settings,
        Grant::ClientCredentials,
    );
    let error = unset.token().await.expect_err("unset");
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("TILTAS_TEST_UNSET_OAUTH2_SECRET"), "{error}");
}

#[tokio::test]
async fn an_authorization_code_is_exchanged_once_and_its_refresh_token_kept_for_the_refresh_grant() {
    let provider = basic();
    provider
        .codes
        .lock()
        .unwrap()
        .insert("code-1".into(), "http://127.0.0.1:9/callback".into());
    let setup = setup(provider, |_| {}, Grant::ClientCredentials).await;
    let mut settings = OAuth2Settings::new(
        "books",
        format!("{}/oauth2/token", setup.base).parse().unwrap(),
        "app",
        Secret::literal("s3cret"),
    );
    settings.scope = Some("read write".into());
    let authorization = Authorization {
        authorize_url: "https://login.example/authorize".parse().unwrap(),
        settings,
        redirect_uri: None,
        token_name: "refresh_token",
    };
    let url = authorization.url("http://127.0.0.1:9/callback", "st4te");
    let query: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "app");
    assert_eq!(query["redirect_uri"], "http://127.0.0.1:9/callback");
    assert_eq!(query["state"], "st4te");
    assert_eq!(query["scope"], "read write");

    let store = Arc::new(MemoryStore::default());
    let complete = |code: &'static str| {
        let (store, gate, http) = (store.clone(), setup.gate.clone(), setup.http.clone());
        let authorization = authorization.clone();
        async move {
            authorization
                .complete(http, gate, store, code, "http://127.0.0.1:9/callback")
                .await
        }
    };
    complete("code-1").await.expect("the code is exchanged");
    let kept = store.token.lock().unwrap().clone();
    assert_eq!(kept, setup.provider.refresh_token.lock().unwrap().clone());
    assert!(kept.is_some());
    let form = setup.provider.last_form.lock().unwrap().clone();
    assert_eq!(form["grant_type"], "authorization_code");

    let again = complete("code-1").await.expect_err("a code is good once");
    assert_eq!(again.kind, ErrorKind::Auth);
    assert!(again.message.contains("tiltas connect --connection books"), "{again}");

    // The kept refresh token now drives the refresh grant, which rotates it.
    let refreshing = TokenSource::new(
        setup.http.clone(),
        setup.gate.clone(),
        authorization.settings.clone(),
        Grant::RefreshToken(store.clone()),
    );
    refreshing.token().await.expect("refreshed with the kept token");
    assert_ne!(*store.token.lock().unwrap(), kept, "rotated and kept");
}

#[tokio::test]
async fn a_refresh_token_rotated_by_another_flow_meanwhile_is_used_instead_of_failing() {
    let store = Arc::new(MemoryStore {
        token: Mutex::new(Some("refresh-read-before".into())),
        ..MemoryStore::default()
    });
    let provider = Provider {
        refresh_token: Mutex::new(Some("refresh-by-other".into())),
        rotated_elsewhere: Some("refresh-by-other".into()),
        store: Some(store.clone()),
        ..basic()
    };
    let setup = setup(provider, |_| {}, Grant::RefreshToken(store.clone())).await;
    assert_eq!(setup.call_api().await.unwrap(), StatusCode::OK);
    assert_eq!(
        setup.provider.token_calls(),
        2,
        "refused once, then refreshed with the other's token"
    );
    let kept = store.token.lock().unwrap().clone();
    assert_eq!(kept, setup.provider.refresh_token.lock().unwrap().clone());
    assert_ne!(kept.as_deref(), Some("refresh-by-other"));

    // Refused with nothing newer in the store: one request, an error, no loop.
    let spent = Arc::new(MemoryStore {
        token: Mutex::new(Some("refresh-spent".into())),
        ..MemoryStore::default()
    });
    let lone = setup_with_store(spent).await;
    *lone.provider.refresh_token.lock().unwrap() = Some("refresh-live".into());
    let error = lone.source.token().await.expect_err("spent");
    assert!(error.message.contains("invalid_grant"), "{error}");
    assert_eq!(lone.provider.token_calls(), 1);
}
