//! A TCP relay between the connector and MariaDB that breaks connections as a flaky network or
//! a restarting server does, seeded: a statement cut before it reaches the server (the
//! transaction is rolled back when the connection drops — the database's 5xx), and a `COMMIT`
//! the server carries out whose answer never reaches the connector (commit-then-fail). The
//! MySQL protocol frames every packet with a 3-byte length and a sequence number; a command is
//! the packet with sequence 0, its first byte the command (`0x03` a text query such as
//! `COMMIT`, `0x17` a prepared statement's execution).
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const COM_QUERY: u8 = 0x03;
const COM_STMT_EXECUTE: u8 = 0x17;

/// What the relay breaks, and how often it did.
pub(super) struct Faults {
    state: AtomicU64,
    /// Share of executed statements cut before the server sees them.
    cut_rate: f64,
    /// Share of commits whose answer is lost after the server committed.
    lost_commit_rate: f64,
    /// Statements cut.
    pub cuts: AtomicU64,
    /// Commits carried out whose answer was lost.
    pub lost_commits: AtomicU64,
}

impl Faults {
    pub fn new(seed: u64, cut_rate: f64, lost_commit_rate: f64) -> Arc<Faults> {
        Arc::new(Faults {
            state: AtomicU64::new(seed),
            cut_rate,
            lost_commit_rate,
            cuts: AtomicU64::new(0),
            lost_commits: AtomicU64::new(0),
        })
    }

    /// The next number in [0, 1) of the seeded sequence (SplitMix64).
    fn roll(&self) -> f64 {
        let mut z = self.state.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Starts the relay to `server` on 127.0.0.1 (a free port) and returns its address.
pub(super) async fn relay(server: SocketAddr, faults: Arc<Faults>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
    let address = listener.local_addr().expect("the relay's address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(connection(client, server, faults.clone()));
        }
    });
    address
}

/// One client connection, relayed packet by packet towards the server and as bytes back.
async fn connection(client: TcpStream, server: SocketAddr, faults: Arc<Faults>) {
    let Ok(upstream) = TcpStream::connect(server).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = upstream.into_split();
    let swallow = Arc::new(AtomicBool::new(false));
    let swallowing = swallow.clone();
    let answers = tokio::spawn(async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            // The commit's answer: the server has committed, the client never hears it.
            if swallowing.load(Ordering::SeqCst) || client_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
    });
    loop {
        let mut header = [0u8; 4];
        if client_read.read_exact(&mut header).await.is_err() {
            break;
        }
        let length = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
        let mut payload = vec![0u8; length];
        if client_read.read_exact(&mut payload).await.is_err() {
            break;
        }
        let command = if header[3] == 0 { payload.first().copied() } else { None };
        let is_commit = command == Some(COM_QUERY) && payload[1..].to_ascii_uppercase().starts_with(b"COMMIT");
        if command == Some(COM_STMT_EXECUTE) && faults.roll() < faults.cut_rate {
            faults.cuts.fetch_add(1, Ordering::Relaxed);
            break;
        }
        let lose_answer = is_commit && faults.roll() < faults.lost_commit_rate;
        if lose_answer {
            swallow.store(true, Ordering::SeqCst);
        }
        if server_write.write_all(&header).await.is_err() || server_write.write_all(&payload).await.is_err() {
            break;
        }
        if lose_answer {
            faults.lost_commits.fetch_add(1, Ordering::Relaxed);
            // The answer task stops once the server's answer arrives, i.e. after the commit.
            let _ = tokio::time::timeout(Duration::from_secs(10), answers).await;
            return;
        }
    }
    answers.abort();
}
