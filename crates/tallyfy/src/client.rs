//! Building a [`Client`]: token, base URL, timeouts, user agent, retries.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use http::HeaderValue;
use url::{Host, Url};

use crate::auth::Token;
use crate::error::Error;
use crate::gate::Gate;
use crate::retry::RetryPolicy;
use crate::transport::{Sleeper, Transport, tokio_sleeper};

/// The documented production base URL.
pub const DEFAULT_BASE_URL: &str = "https://go.tallyfy.com/api";
/// How long connecting may take, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one attempt may take from sending to the end of the answer, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one upload or download may take in all, by default; it may not stay silent
/// longer than the [timeout](ClientBuilder::timeout) all the same.
pub const DEFAULT_TRANSFER_TIMEOUT: Duration = Duration::from_secs(3600);

/// A Tallyfy client: every operation of the spec, with authentication, retries and
/// typed errors. Cheap to clone; clones share one connection pool.
///
/// Every operation of the spec is a method that hands out its builder; finish each with
/// [`.execute()`](crate::Execute::execute), the one way to send.
///
/// ```no_run
/// use tallyfy::{Client, Execute};
///
/// # async fn demo() -> Result<(), tallyfy::Error> {
/// let client = Client::new(std::env::var("TALLYFY_TOKEN").unwrap_or_default())?;
/// client.archive_process().org_id("org").run_id("run").execute().await?;
/// client.permanently_delete_process().org_id("org").run_id("run").execute().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    api: tallyfy_api::Client,
}

impl Client {
    /// A client for the production API with every default.
    pub fn new(token: impl Into<Token>) -> Result<Self, Error> {
        Self::builder(token).build()
    }

    /// Starts configuring a client.
    pub fn builder(token: impl Into<Token>) -> ClientBuilder {
        ClientBuilder::new(token.into())
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        tallyfy_api::ClientInfo::baseurl(&self.api)
    }

    /// The generated client, which builds the requests; the operations hand out its
    /// builders (`operations.rs`, generated).
    pub(crate) fn api(&self) -> &tallyfy_api::Client {
        &self.api
    }
}

/// Configures a [`Client`]; every setting has a documented default.
///
/// ```
/// use std::time::Duration;
/// use tallyfy::{Client, RetryPolicy};
///
/// let client = Client::builder("token")
///     .base_url("https://api.tallyfy.com")
///     .timeout(Duration::from_secs(10))
///     .retry(RetryPolicy::default().with_max_retries(5))
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "https://api.tallyfy.com");
/// ```
pub struct ClientBuilder {
    token: Token,
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    transfer_timeout: Duration,
    user_agent: String,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    sleep: Sleeper,
    max_rate: Option<f64>,
    learn_pace: bool,
}

impl ClientBuilder {
    fn new(token: Token) -> Self {
        Self {
            token,
            base_url: DEFAULT_BASE_URL.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            transfer_timeout: DEFAULT_TRANSFER_TIMEOUT,
            user_agent: concat!("tallyfy-rs/", env!("CARGO_PKG_VERSION")).into(),
            http: None,
            retry: RetryPolicy::default(),
            sleep: tokio_sleeper(),
            max_rate: None,
            learn_pace: true,
        }
    }

    /// The API's base URL (default [`DEFAULT_BASE_URL`]). It must be `https://`, except
    /// on loopback addresses (tests, the fake server).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// How long connecting may take (default [`DEFAULT_CONNECT_TIMEOUT`]). Ignored with
    /// [`ClientBuilder::http_client`], whose own setting applies.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending to the end of the answer (default
    /// [`DEFAULT_TIMEOUT`]). Retries each get this long again. An upload or a download
    /// has [`transfer_timeout`](ClientBuilder::transfer_timeout) instead, but may not wait
    /// this long for a single read.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long one upload or download may take in all (default
    /// [`DEFAULT_TRANSFER_TIMEOUT`]): a file's size, not a stalled server, sets its
    /// pace. Nothing may stand still longer than the [`timeout`](ClientBuilder::timeout)
    /// all the same (no chunk sent or received, no answer after the last one): that
    /// fails the attempt as `timeout`, and a download resumes after it.
    pub fn transfer_timeout(mut self, timeout: Duration) -> Self {
        self.transfer_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `tallyfy-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sends through this `reqwest::Client` (its proxy, TLS and pool settings) instead
    /// of one built here; [`http_client_builder`] starts one with this crate's defaults.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// When and how long to retry (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Paces every request of the client (and its clones) to at most `per_second`, spread
    /// evenly (default: unpaced). Whatever the pace, a 429 holds every request of the
    /// client back for its `Retry-After`.
    pub fn max_requests_per_second(mut self, per_second: f64) -> Self {
        self.max_rate = Some(per_second);
        self
    }

    /// Whether a 429 teaches the client a pace (default `true`): 98.5% of the requests
    /// the server accepted in the second before it, spread evenly, for a minute after the
    /// last 429, so that the limit is not hit again and again. With `false`, a 429 still
    /// holds every request of the client (and its clones) back for its `Retry-After`, but
    /// no pace is kept afterwards: requests go as fast as
    /// [`max_requests_per_second`](Self::max_requests_per_second) allows (unpaced by
    /// default). For callers that pace themselves, or a server whose limit is not a rate.
    ///
    /// ```
    /// let client = tallyfy::Client::builder("token")
    ///     .max_requests_per_second(20.0)
    ///     .learn_pace(false)
    ///     .build();
    /// assert!(client.is_ok());
    /// ```
    pub fn learn_pace(mut self, learn: bool) -> Self {
        self.learn_pace = learn;
        self
    }

    /// Replaces the wait between attempts (default: `tokio::time::sleep`). For tests
    /// that check the waits without spending them.
    pub fn sleep_with<F, Fut>(mut self, sleep: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.sleep = std::sync::Arc::new(move |wait| Box::pin(sleep(wait)));
        self
    }

    /// Checks the settings and builds the client. Fails with `invalid_input` for a
    /// token that is not a legal header value, an unusable base URL or user agent.
    pub fn build(self) -> Result<Client, Error> {
        let authorization = self.token.header()?;
        let base = checked_base_url(&self.base_url)?;
        let user_agent = HeaderValue::try_from(self.user_agent.as_str()).map_err(|_| {
            Error::invalid_input(None, "the user agent is not a legal header value")
        })?;
        // A client built here carries the timeout itself; a caller's gets it per request.
        let (http, per_request_timeout) = match self.http {
            Some(http) => (http, Some(self.timeout)),
            None => (
                default_http_client(self.connect_timeout, self.timeout)?,
                None,
            ),
        };
        let base_url = base.as_str().trim_end_matches('/').to_string();
        let transport = Transport {
            http: http.clone(),
            authorization,
            user_agent,
            base_path: base.path().trim_end_matches('/').to_string(),
            per_request_timeout,
            timeout: self.timeout,
            transfer_timeout: self.transfer_timeout,
            retry: self.retry,
            sleep: self.sleep,
            gate: std::sync::Arc::new(Gate::new(self.max_rate, self.learn_pace)),
        };
        let api = tallyfy_api::Client::new_with_client(
            &base_url,
            http,
            tallyfy_api::Extension::new(transport),
        );
        Ok(Client { api })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("transfer_timeout", &self.transfer_timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("max_requests_per_second", &self.max_rate)
            .field("learn_pace", &self.learn_pace)
            .finish_non_exhaustive()
    }
}

/// Parses the base URL; plain `http://` only to loopback.
fn checked_base_url(raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        Error::invalid_input(None, format!("the base URL {raw:?} is not a URL: {e}"))
    })?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(Error::invalid_input(
            None,
            format!(
                "the base URL {raw:?} is plain http: the token would travel unencrypted; use https"
            ),
        )),
        _ => Err(Error::invalid_input(
            None,
            format!("the base URL {raw:?} is not an https URL"),
        )),
    }
}

fn default_http_client(
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, Error> {
    http_client_builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| {
            Error::invalid_input(None, "the HTTP client could not be built").with_source(e)
        })
}

/// A `reqwest::ClientBuilder` with this crate's defaults: its TLS provider ready and
/// redirects off. Start here to add a proxy or certificates, then pass the client to
/// [`ClientBuilder::http_client`].
///
/// With the default `rustls-ring` feature, this installs *ring* as the process's rustls
/// crypto provider if none is installed yet.
///
/// ```
/// let http = tallyfy::http_client_builder().pool_max_idle_per_host(4).build().unwrap();
/// let client = tallyfy::Client::builder("token").http_client(http).build().unwrap();
/// ```
pub fn http_client_builder() -> reqwest::ClientBuilder {
    #[cfg(feature = "rustls-ring")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either provider will do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        for ok in [
            "https://go.tallyfy.com/api",
            "http://127.0.0.1:8080",
            "http://[::1]:9/x",
            "http://localhost:1",
        ] {
            assert!(checked_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://go.tallyfy.com/api",
            "ftp://x",
            "not a url",
            "http://10.0.0.1",
        ] {
            assert!(
                checked_base_url(bad).unwrap_err().is_invalid_input(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_token_stays_out_of_debug_output() {
        let builder = Client::builder("tok-very-secret");
        assert!(!format!("{builder:?}").contains("very-secret"));
        let client = builder.base_url("http://127.0.0.1:1").build().unwrap();
        assert!(!format!("{client:?}").contains("very-secret"));
    }
}
