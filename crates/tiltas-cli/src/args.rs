//! Command-line arguments (clap). Precedence: flag > `TILTAS_*` environment > file > default.
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Tiltas keeps business systems in sync: ERP, point of sale, e-shops, suppliers, banks.
#[derive(Debug, Parser)]
#[command(name = "tiltas", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Store URL: sqlite://PATH or postgres://USER@HOST:PORT/DB [default: the config's `store`, else sqlite://tiltas.db]
    #[arg(long, global = true, env = "TILTAS_DB", value_name = "URL")]
    pub db: Option<String>,
    /// Log format on stderr.
    #[arg(long, global = true, env = "TILTAS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing syntax, e.g. `info` or `tiltas_engine=debug`).
    #[arg(
        long,
        global = true,
        env = "TILTAS_LOG",
        default_value = "warn",
        value_name = "FILTER"
    )]
    pub log: String,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a flow file; prints every problem as FILE:LINE:COL: message (exit 2 when any).
    Validate(ValidateArgs),
    /// List the flows of a flow file.
    Flows(ConfigArgs),
    /// Run one flow once.
    Sync(SyncArgs),
    /// Show recent runs with their counters.
    Runs(RunsArgs),
    /// Inspect, edit and resend records that could not be delivered.
    #[command(subcommand)]
    DeadLetters(DeadLetterCommand),
    /// Run a simulator of an external system on 127.0.0.1 until killed.
    Sim(SimArgs),
    /// Measure the engine: records per second, API calls, peak memory.
    Bench(BenchArgs),
    /// Serve the API, webhooks, metrics and dashboard, and run the flows on their schedules.
    Serve(ServeArgs),
    /// Run the flows on their schedules and deliver accepted webhooks, without HTTP (same as `worker`).
    Run(WorkerArgs),
    /// Join the store as one more worker: run the schedules and deliver webhooks, without HTTP.
    Worker(WorkerArgs),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Erase a person's personal data (GDPR) from activity payloads, dead letters and webhook
    /// bodies, found by e-mail; rows and counters stay.
    Forget(ForgetArgs),
    /// The ERP and shop simulators, the ERP ⇄ shop flows and the dashboard, all in one.
    Demo(DemoArgs),
    /// Print the settings every system accepts (Markdown, as in its README), or one system's.
    Docs(DocsArgs),
    /// Bank statement files (camt.052/053/054, MT940/MT942).
    #[command(subcommand)]
    Bank(BankCommand),
    /// Authorise a connection at its provider (OAuth2 sign-in) and keep its tokens, sealed, in
    /// the store.
    Connect(ConnectArgs),
    /// Ask the parts suppliers of a flow file who has a part, where, for how much, delivered
    /// when (exit 0 when at least one supplier answered).
    Quote(QuoteArgs),
    /// Place an order with one parts supplier, exactly once per idempotency key.
    Order(crate::commands::order::OrderArgs),
    /// Connection secrets sealed in the store: set (value from standard input), list, and
    /// re-seal everything under a new master key.
    #[command(subcommand)]
    Secrets(crate::commands::secrets::SecretsCommand),
}

impl Command {
    /// The trace export options of a command that runs flows (`serve`, `sync`, `run`, `worker`).
    pub fn telemetry(&self) -> Option<&TelemetryArgs> {
        match self {
            Command::Serve(args) => Some(&args.telemetry),
            Command::Sync(args) => Some(&args.telemetry),
            Command::Run(args) | Command::Worker(args) => Some(&args.telemetry),
            _ => None,
        }
    }
}

/// Trace export, shared by the commands that run flows.
#[derive(Debug, Args)]
pub struct TelemetryArgs {
    /// Send traces of runs, pages and connector calls over OTLP/HTTP (protobuf) to this
    /// collector, e.g. http://127.0.0.1:4318 (spans are posted to URL/v1/traces).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

/// `tiltas quote`.
#[derive(Debug, Args)]
pub struct QuoteArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The maker's article numbers, as written anywhere (`W 712/75`, `w71275`).
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<String>,
    /// The maker (`MANN-FILTER`): offers of other makers are left out.
    #[arg(long)]
    pub brand: Option<String>,
    /// The part's EAN: offers with another EAN are left out.
    #[arg(long)]
    pub ean: Option<String>,
    /// Pieces wanted: the best price is for this many, among offers with enough stock.
    #[arg(long, default_value = "1", value_name = "N")]
    pub qty: String,
    /// How long suppliers may take (`2s`); default: `[quote] budget`, else 3s.
    #[arg(long, value_name = "DURATION")]
    pub budget: Option<String>,
    /// Ask only this supplier connection (repeat for several); default: every one that quotes.
    #[arg(long = "supplier", value_name = "CONNECTION")]
    pub suppliers: Vec<String>,
    /// Print the full answer as JSON, one document per part, one per line.
    #[arg(long)]
    pub json: bool,
}

/// `tiltas bank …`.
#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Read statement files and print what they say (nothing is imported); exit 1 when any
    /// file is refused.
    Parse(BankParseArgs),
}

/// `tiltas bank parse`.
#[derive(Debug, Args)]
pub struct BankParseArgs {
    /// Statement files: camt XML or MT940/MT942, told apart by content.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON document per file, one per line.
    #[arg(long)]
    pub json: bool,
}

/// `tiltas connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The connection to authorise, as named in the flow file.
    #[arg(long)]
    pub connection: String,
    /// Its system (`accountview`), checked against the connection's; optional.
    pub system: Option<String>,
    /// The code the provider sent you back with, when you already have one: exchanged without
    /// a browser step (needs the redirect URI it was issued for).
    #[arg(long)]
    pub code: Option<String>,
    /// The redirect URI registered for the client [default: the connection's `redirect_uri`,
    /// else a listener on 127.0.0.1 at a free port].
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// Seconds to wait for the provider to send the browser back.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub wait: u64,
}

/// `tiltas docs`.
#[derive(Debug, Args)]
pub struct DocsArgs {
    /// Only this system (`csv`, `reference`, … as `tiltas docs` lists them).
    pub system: Option<String>,
}

/// `tiltas demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address of the dashboard and API (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Run one round of every flow, print the counters and exit.
    #[arg(long)]
    pub once: bool,
    /// With --once: print one JSON line.
    #[arg(long)]
    pub json: bool,
    /// Seconds between the world's changes (new shop orders, ERP stock moves).
    #[arg(long, default_value_t = 5)]
    pub every: u64,
}

/// `tiltas serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, env = "TILTAS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub worker: WorkerOptions,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    /// Serve HTTPS with this certificate chain (PEM; needs --tls-key). A reverse proxy in front
    /// stays the recommended set-up for production.
    #[arg(long, env = "TILTAS_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "TILTAS_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// `tiltas worker` and `tiltas run`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub worker: WorkerOptions,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// How this process works beside other workers on the same store.
#[derive(Debug, Args)]
pub struct WorkerOptions {
    /// Seconds a claim on webhook deliveries holds without a heartbeat (a live worker renews
    /// its claims every 3 s): a killed worker's deliveries are taken by another after it.
    #[arg(long, env = "TILTAS_CLAIM_TTL", default_value_t = 30, value_name = "SECONDS")]
    pub claim_ttl: u64,
}

/// `tiltas keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once (only its hash is stored).
    Create(KeysCreateArgs),
    /// List the keys (never their secrets).
    List(KeysListArgs),
    /// Revoke a key by id.
    Revoke(KeysRevokeArgs),
}

/// `tiltas keys create`.
#[derive(Debug, Args)]
pub struct KeysCreateArgs {
    /// What the key may do.
    #[arg(long, value_enum)]
    pub scope: KeyScope,
    /// A label for people.
    #[arg(long, default_value = "api")]
    pub name: String,
    /// Make the key stop working after this long (`90d`, `12h`, `1d12h`); it never expires
    /// without it.
    #[arg(long, value_name = "DURATION", value_parser = key_lifetime)]
    pub expires: Option<std::time::Duration>,
    /// The flow file whose `store` to use (else --db / TILTAS_DB / sqlite://tiltas.db).
    #[arg(long, short, env = "TILTAS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON line.
    #[arg(long)]
    pub json: bool,
}

/// `tiltas keys list`.
#[derive(Debug, Args)]
pub struct KeysListArgs {
    /// The flow file whose `store` to use.
    #[arg(long, short, env = "TILTAS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `tiltas keys revoke`.
#[derive(Debug, Args)]
pub struct KeysRevokeArgs {
    /// The key's id (`tiltas keys list`).
    pub id: i64,
    /// The flow file whose `store` to use.
    #[arg(long, short, env = "TILTAS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// A key's lifetime: a duration of at least one second.
fn key_lifetime(text: &str) -> Result<std::time::Duration, String> {
    let lifetime = tiltas_config::parse_duration(text)?;
    if lifetime.is_zero() {
        return Err(format!(
            "\"{text}\" would expire the key at once: give a lifetime such as 90d"
        ));
    }
    Ok(lifetime)
}

/// `tiltas forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The person's e-mail address: every stored document mentioning it (ignoring case) loses
    /// their e-mail, names, phone numbers and addresses.
    #[arg(long, value_name = "ADDRESS")]
    pub email: String,
    /// Report what would be erased; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The flow file whose `store` to use (else --db / TILTAS_DB / sqlite://tiltas.db).
    #[arg(long, short, env = "TILTAS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON line.
    #[arg(long)]
    pub json: bool,
}

/// An API key's scope.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyScope {
    /// Read state.
    Read,
    /// Also run flows and retry dead letters.
    Write,
    /// Also switch connections.
    Admin,
}

/// `tiltas bench engine|http`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// `engine`: in-process connectors, no HTTP; `http`: two reference simulators over loopback.
    #[arg(value_enum)]
    pub kind: BenchKind,
    /// Records in the catalogue.
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,
    /// Records per page.
    #[arg(long, default_value_t = 1000)]
    pub page_size: usize,
    /// `sustained`: the inbox backlog past which webhooks are answered 503.
    #[arg(long, default_value_t = 20_000)]
    pub max_inbox_backlog: usize,
    /// Print one JSON line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `tiltas bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchKind {
    /// The engine with in-memory connectors and the SQLite store.
    Engine,
    /// The engine against reference simulators over loopback HTTP.
    Http,
    /// Signed order webhooks into the server, delivered to the ERP simulator.
    Webhook,
    /// A sync read from a rate-limited ERP simulator: how close it comes to the documented limit.
    Remote,
    /// Sustained webhooks with the target off past the inbox limit (503s), then on: the
    /// write-ahead log's peak, the drain time, every order written once.
    Sustained,
    /// The store alone writing a first sync's rows, page by page: the ceiling of `engine`'s
    /// first sync, and what each kind of row costs it.
    Store,
}

/// `tiltas sim SYSTEM`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The system to simulate, with its own flags (`tiltas sim SYSTEM --help`).
    #[command(subcommand)]
    pub simulator: tiltas_systems::Simulator,
}

/// `tiltas dead-letters …`.
#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// List dead letters, newest first (open ones unless --all).
    List(DeadLetterListArgs),
    /// Show one dead letter with its payload.
    Show(DeadLetterIdArgs),
    /// Send one dead letter again through its flow's current mapping (optionally with an edited payload).
    Retry(DeadLetterRetryArgs),
    /// Send every open dead letter of a flow (or of all flows) again through the current mapping.
    Replay(DeadLetterReplayArgs),
}

/// `tiltas dead-letters list`.
#[derive(Debug, Args)]
pub struct DeadLetterListArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Only this flow.
    #[arg(long)]
    pub flow: Option<String>,
    /// Include resolved dead letters.
    #[arg(long)]
    pub all: bool,
    /// How many to show.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// A command on one dead letter.
#[derive(Debug, Args)]
pub struct DeadLetterIdArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The dead letter's id (see `list`).
    pub id: i64,
}

/// `tiltas dead-letters retry`.
#[derive(Debug, Args)]
pub struct DeadLetterRetryArgs {
    #[command(flatten)]
    pub letter: DeadLetterIdArgs,
    /// Replace the payload with this JSON file before sending (the fix for a bad value).
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// Print exactly one JSON line with the counters.
    #[arg(long)]
    pub json: bool,
}

/// `tiltas dead-letters replay`.
#[derive(Debug, Args)]
pub struct DeadLetterReplayArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Only this flow (default: every flow with open dead letters).
    #[arg(long)]
    pub flow: Option<String>,
    /// Print one JSON line per flow with the counters.
    #[arg(long)]
    pub json: bool,
}

/// `tiltas validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The flow file.
    pub config: PathBuf,
}

/// A command that reads a flow file.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The flow file.
    #[arg(long, short, env = "TILTAS_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
}

/// `tiltas sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The flow to run.
    pub flow: String,
    /// Show what would be created, updated or skipped; write nothing anywhere.
    #[arg(long)]
    pub dry_run: bool,
    /// Ignore the cursor and delivered hashes: send every record again.
    #[arg(long)]
    pub full: bool,
    /// Print exactly one JSON line with the counters.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// `tiltas runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Only this flow.
    #[arg(long)]
    pub flow: Option<String>,
    /// How many runs to show.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}
