//! `tallyfy-fake`: the fake Tallyfy API as a standalone server.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tallyfy_fake::{FakeServer, Faults};

/// Serves a fake Tallyfy API with seeded data until Ctrl-C.
///
/// It serves every operation of the spec, at / and under /api. Seeded (the same seed,
/// the same data): ten templates with steps and kick-off fields (the first with a
/// required one, the last archived), processes launched from them with one task per
/// step, one-off tasks, tags (titles and colors), six members (admin, standard, light;
/// integer IDs, the tokens' users among them), four guests known by email (two with `+`),
/// three groups and one uploaded file.
///
/// It runs the workflow: a launch makes a process with one task per step and refuses
/// (422) a missing required kick-off value, naming prerun.<timeline id>; completing tasks
/// advances the process's progress and the last completes it; reopening reverts;
/// archiving a template hides it from lists and its permanent delete needs it archived
/// first (422), then answers 404; one-off tasks live beside processes; the activity feed
/// records what happens. Members are invited (422 for a member's email), updated,
/// given a role (admin, standard or light) and removed (status disabled); guests are
/// addressed by their email exactly as sent, once percent-decoded (get_guest and
/// update_guest answer 201, delete_guest 422 for an unknown email, as documented);
/// groups are deleted for good (204, then 404); tags are listed, created, read, updated.
/// Files are uploaded as multipart forms (413 past --upload-limit, 422 for a missing
/// field or an unknown subject), kept in memory, viewed and downloaded (Range: bytes=N-
/// answers 206), their asset read and archived (the file stays), and deleted for good
/// (administrators only); one small file is seeded (welcome.txt).
///
/// Requests need Authorization: Bearer TOKEN (the admin or member token) and a non-empty
/// X-Tallyfy-Client header (APIClient as documented; any other name too, such as
/// TallyfySDK or n8n); without them the answer is 401. The member token is refused (403)
/// on permanent deletes and on reading or changing a member. Answers have the shapes of Tallyfy's documented examples:
/// integer user IDs, null for unset fields where the examples show null, and Tallyfy's
/// error bodies (RESOURCE_NOT_FOUND, ENDPOINT_NOT_FOUND, {"error": true, "errors":
/// {...}} for 422, RATE_LIMIT_EXCEEDED for 429).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// How many processes to create (10 to 100,000); the ten templates come whatever
    /// the number.
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
    /// The largest file an upload may carry, in bytes (Tallyfy's 100 MB by default); a
    /// larger one is refused with 413.
    #[arg(long, default_value_t = tallyfy_fake::DEFAULT_UPLOAD_LIMIT)]
    upload_limit: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Serves the fault table (tests/conformance/faults.json) to an SDK in any language:
    /// arm a row for an operation, call your SDK against the base URL it answers with,
    /// post what your SDK returned, read the verdict. See tests/conformance/README.md.
    Conformance(tallyfy_fake::conformance::ConformanceArgs),
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    if let Some(Command::Conformance(conformance)) = args.command {
        let code = tallyfy_fake::conformance::run(conformance).await?;
        std::process::exit(code);
    }
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
        .upload_limit(args.upload_limit)
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
