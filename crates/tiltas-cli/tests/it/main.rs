//! End-to-end tests of the `tiltas` binary: real processes, real files, a real SQLite store.
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

mod audit;
mod connect;
mod crash;
mod dead_letters;
mod erp_shop;
mod files_flow;
mod keys_api;
mod order_crash;
mod payments;
mod quote;
mod rivile_flow;
mod secrets;
mod serve;
mod supplier_order;
mod sustained_load;
mod systems;
mod traces;
mod validate;
mod workers;

/// The workspace's `examples/` directory.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A scratch copy of `examples/` with its own store.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn with_examples() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&examples_dir(), dir.path());
        Workspace { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.path("tiltas.db").display())
    }

    /// Runs `tiltas ARGS` with this workspace's store.
    pub fn tiltas(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tiltas"))
            .args(args)
            .env("TILTAS_DB", self.db_url())
            .env_remove("TILTAS_CONFIG")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "out" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The single JSON line a `--json` sync prints.
pub fn json_line(output: &Output) -> Value {
    let text = stdout(output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one line on stdout, got {text:?}; stderr: {}",
        stderr(output)
    );
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn version_prints_the_binary_name_and_version() {
    let output = Command::new(env!("CARGO_BIN_EXE_tiltas"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(stdout(&output).trim(), format!("tiltas {}", env!("CARGO_PKG_VERSION")));
}

/// A child process killed and reaped when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `tiltas` binary with no store or flow file from the environment.
pub fn tiltas() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tiltas"));
    command.env_remove("TILTAS_DB").env_remove("TILTAS_CONFIG");
    command
}

/// Spawns `command` (a simulator or `tiltas serve`) and waits for its first line of output,
/// `listening on URL`: the process (killed when dropped) and the URL.
pub fn started(command: &mut Command) -> (Process, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let child = Process(child);
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}

/// Starts `tiltas ARGS` (a simulator) and waits for its `listening on URL` line.
pub fn simulator(args: &[&str]) -> (Process, String) {
    started(tiltas().args(args))
}

/// An example flow file copied to a temporary directory with `replacements` applied (the
/// simulators' addresses), and a store URL beside it.
pub struct ExampleRun {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The copied flow file.
    pub flows: PathBuf,
    /// `sqlite://…/tiltas.db` in the directory.
    pub db: String,
    /// Environment variables every command gets (the example's secrets).
    pub env: Vec<(String, String)>,
}

impl ExampleRun {
    pub fn new(example: &str, replacements: &[(&str, &str)], env: &[(&str, &str)]) -> ExampleRun {
        let dir = tempfile::tempdir().unwrap();
        let flows = dir.path().join("flows.toml");
        let mut text = std::fs::read_to_string(examples_dir().join(example)).unwrap();
        for (from, to) in replacements {
            text = text.replace(from, to);
        }
        std::fs::write(&flows, text).unwrap();
        let db = format!("sqlite://{}", dir.path().join("tiltas.db").display());
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        ExampleRun { dir, flows, db, env }
    }

    /// `tiltas --db DB ARGS… --config FLOWS` with the example's environment, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = tiltas();
        command
            .args(["--db", &self.db])
            .args(args)
            .arg("--config")
            .arg(&self.flows)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }

    /// `tiltas --db DB ARGS… --config FLOWS` with the example's environment, run to its end.
    pub fn tiltas(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `tiltas serve` on a free loopback port: the process and its URL.
    pub fn serve(&self) -> (Process, String) {
        started(&mut self.command(&["serve", "--listen", "127.0.0.1:0"]))
    }

    /// `sync FLOW --json`: the exit code, the report, stderr.
    pub fn sync(&self, flow: &str) -> (Option<i32>, Value, String) {
        let output = self.tiltas(&["sync", flow, "--json"]);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{flow}: {stderr}"));
        (output.status.code(), report, stderr)
    }

    /// `sync FLOW --json`, which must succeed.
    pub fn sync_ok(&self, flow: &str) -> Value {
        let (code, report, stderr) = self.sync(flow);
        assert_eq!(code, Some(0), "{flow}: {stderr}");
        report
    }
}
