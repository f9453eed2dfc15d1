//! `tallyfy-fake`: the fake Tallyfy API as a standalone server.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tallyfy_fake::{FakeServer, Faults};

/// Serves a fake Tallyfy API with seeded data until Ctrl-C.
///
/// Requests need Authorization: Bearer TOKEN (the admin or member token) and a non-empty
/// X-Tallyfy-Client header (APIClient as documented; any other name too, such as
/// TallyfySDK or n8n); without them the answer is 401. Answers have the shapes of
/// Tallyfy's documented examples: integer user IDs, null for unset archived_at,
/// completed_at and parent_id, and Tallyfy's error bodies (RESOURCE_NOT_FOUND,
/// ENDPOINT_NOT_FOUND, {"error": true, "errors": {...}} for 422,
/// RATE_LIMIT_EXCEEDED for 429).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// How many processes to create (10 to 100,000).
    #[arg(long, default_value_t = 100)]
    processes: usize,
    /// The fixtures' seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The organization ID.
    #[arg(long, default_value = tallyfy_fake::ORG_ID)]
    org: String,
    /// The administrator's token.
    #[arg(long, default_value = tallyfy_fake::ADMIN_TOKEN)]
    admin_token: String,
    /// A member's token, refused on permanent deletes.
    #[arg(long, default_value = tallyfy_fake::MEMBER_TOKEN)]
    member_token: String,
    /// Requests per second before answering 429.
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Milliseconds added before every answer.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of requests answered 5xx.
    #[arg(long, default_value_t = 0.0)]
    server_errors: f64,
    /// Fraction of requests never answered.
    #[arg(long, default_value_t = 0.0)]
    stalls: f64,
    /// Fraction of requests whose connection is reset.
    #[arg(long, default_value_t = 0.0)]
    resets: f64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let faults = Faults {
        rate_limit: args.rate_limit,
        latency: Duration::from_millis(args.latency_ms),
        server_errors: args.server_errors,
        stalls: args.stalls,
        resets: args.resets,
        seed: args.seed,
    };
    let fake = FakeServer::builder()
        .address(args.addr)
        .processes(args.processes)
        .seed(args.seed)
        .org_id(args.org)
        .admin_token(args.admin_token)
        .member_token(args.member_token)
        .faults(faults)
        .start()
        .await?;
    println!(
        "fake Tallyfy API at {} (organization {}, admin token {}, member token {}); Ctrl-C stops it",
        fake.base_url(),
        fake.org_id(),
        fake.admin_token(),
        fake.member_token()
    );
    tokio::signal::ctrl_c().await
}
