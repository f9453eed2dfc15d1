//! The client a command works with: for the organization the flags name, or an
//! embedded fake with `--fake`.

use std::time::Duration;

use tallyfy::{Client, RetryPolicy};
use tallyfy_fake::FakeServer;

use crate::cli::Global;
use crate::report::Failure;

/// A client for the organization the command works on.
pub struct Session {
    pub client: Client,
    pub org: String,
    /// The embedded fake, kept alive for as long as the session.
    _fake: Option<FakeServer>,
}

impl Session {
    /// Connects as the flags say, or to an embedded fake with `--fake`.
    pub async fn open(global: &Global) -> Result<Self, Failure> {
        let (fake, base_url, token, org) = if global.fake {
            let fake = start_fake().await?;
            let (base, token, org) = (
                fake.base_url().to_owned(),
                fake.admin_token().to_owned(),
                fake.org_id().to_owned(),
            );
            (Some(fake), base, token, org)
        } else {
            let token = global
                .token
                .clone()
                .ok_or_else(|| missing("--token", "TALLYFY_TOKEN"))?;
            let org = global
                .org
                .clone()
                .ok_or_else(|| missing("--org", "TALLYFY_ORG"))?;
            (None, global.base_url.clone(), token, org)
        };
        let timeout = Duration::try_from_secs_f64(global.timeout)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "--timeout {} is not a positive number of seconds",
                    global.timeout
                ))
            })?;
        let client = Client::builder(token)
            .base_url(base_url)
            .timeout(timeout)
            .retry(RetryPolicy::default().with_max_retries(global.max_retries))
            .build()?;
        Ok(Self {
            client,
            org,
            _fake: fake,
        })
    }
}

async fn start_fake() -> Result<FakeServer, Failure> {
    FakeServer::start()
        .await
        .map_err(|e| Failure::Usage(format!("the embedded fake could not start: {e}")))
}

fn missing(flag: &str, variable: &str) -> Failure {
    Failure::Usage(format!(
        "missing {flag} (or the {variable} environment variable)"
    ))
}
