//! When a failed request is sent again, and how long to wait first.
//!
//! The rules are in the [crate docs](crate#retries); [`RetryPolicy`] sets the budget.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime};

use http::StatusCode;

/// How often and how patiently to retry. On by default with a small budget.
///
/// ```
/// use std::time::Duration;
/// use tallyfy::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .with_max_retries(5)
///     .with_backoff(Duration::from_millis(250), Duration::from_secs(4))
///     .with_max_retry_after(Duration::from_secs(120));
/// assert_eq!(patient.max_retries(), 5);
/// assert_eq!(RetryPolicy::none().max_retries(), 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base: Duration,
    cap: Duration,
    jitter: bool,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries; backoff from 0.5 s doubling to 8 s, with jitter; `Retry-After`
    /// honoured up to 60 s.
    fn default() -> Self {
        Self {
            max_retries: 3,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            jitter: true,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry: every failure is returned at once.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries after the first attempt (`0` turns retries off).
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Exponential backoff: `base` before the first retry, doubling up to `cap`.
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.base = base;
        self.cap = cap.max(base);
        self
    }

    /// With jitter (the default) each backoff is drawn between half and all of it, so
    /// that many clients do not retry in step.
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The longest `Retry-After` to wait for. A 429 asking for more is returned at once
    /// as `rate_limited`, carrying the value, rather than hanging the caller.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The longest `Retry-After` waited for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether to send again after `outcome` of attempt number `attempt` (1-based), for
    /// an operation that is `idempotent` (see [`Operation::is_idempotent`](tallyfy_api::Operation::is_idempotent)) or not.
    pub(crate) fn decide(&self, idempotent: bool, outcome: &Outcome, attempt: u32) -> Verdict {
        if attempt > self.max_retries {
            return Verdict::Stop;
        }
        let backoff = self.backoff(attempt);
        let retry = |reason| Verdict::Retry {
            wait: backoff,
            reason,
        };
        match *outcome {
            // Refused or never delivered: not applied, whatever the operation.
            Outcome::Answered {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after,
            } => match retry_after {
                Some(wait) if wait > self.max_retry_after => Verdict::Stop,
                Some(wait) => Verdict::Retry {
                    wait,
                    reason: "rate_limited",
                },
                None => retry("rate_limited"),
            },
            Outcome::Failed(Failure::NotDelivered) => retry("not_delivered"),
            // May have been applied: sent again only where that changes nothing.
            Outcome::Answered { status, .. } if idempotent => match status.as_u16() {
                500 | 502..=504 => retry("server_error"),
                _ => Verdict::Stop,
            },
            Outcome::Failed(Failure::Timeout) if idempotent => retry("timeout"),
            Outcome::Failed(Failure::Interrupted) if idempotent => retry("interrupted"),
            Outcome::Answered { .. } | Outcome::Failed(_) => Verdict::Stop,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1 << attempt.saturating_sub(1).min(20));
        let wait = doubled.min(self.cap);
        if !self.jitter {
            return wait;
        }
        let half = wait / 2;
        let random = RandomState::new().hash_one(attempt) % (half.as_millis() as u64 + 1);
        half + Duration::from_millis(random)
    }
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The server answered.
    Answered {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// No (complete) answer.
    Failed(Failure),
}

impl Outcome {
    /// Whether the server may have acted on this attempt.
    pub(crate) fn may_have_been_applied(&self) -> bool {
        match self {
            Outcome::Answered { status, .. } => status.is_server_error() || status.is_success(),
            Outcome::Failed(failure) => *failure != Failure::NotDelivered,
        }
    }
}

/// A transport failure, by what it tells of delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Provably never reached the server.
    NotDelivered,
    /// Sent, but no complete answer in time.
    Timeout,
    /// Sent, then the connection broke.
    Interrupted,
}

impl Failure {
    pub(crate) fn of(error: &reqwest::Error) -> Self {
        if error.is_connect() {
            Failure::NotDelivered
        } else if error.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Interrupted
        }
    }
}

/// The decision after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Wait, then send again; `reason` is the kind of the failure.
    Retry {
        wait: Duration,
        reason: &'static str,
    },
    /// Return what the attempt gave.
    Stop,
}

/// Parses a `Retry-After` value: delta seconds or an HTTP-date. A date in the past means
/// no wait; anything else (negative, garbage) is `None`, so backoff applies.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, retry_after: Option<u64>) -> Outcome {
        Outcome::Answered {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy::default().with_jitter(false)
    }

    /// The retry table of the crate docs, row by row: (outcome, retried on an idempotent
    /// operation (GET, PUT, any DELETE), retried on one that creates (POST)).
    #[test]
    fn the_retry_table() {
        let rows: &[(Outcome, [bool; 2])] = &[
            (answered(429, Some(1)), [true, true]),
            (answered(429, None), [true, true]),
            (Outcome::Failed(Failure::NotDelivered), [true, true]),
            (answered(500, None), [true, false]),
            (answered(502, None), [true, false]),
            (answered(503, None), [true, false]),
            (answered(504, None), [true, false]),
            (Outcome::Failed(Failure::Timeout), [true, false]),
            (Outcome::Failed(Failure::Interrupted), [true, false]),
            (answered(501, None), [false; 2]),
            (answered(400, None), [false; 2]),
            (answered(401, None), [false; 2]),
            (answered(403, None), [false; 2]),
            (answered(404, None), [false; 2]),
            (answered(422, None), [false; 2]),
        ];
        for (outcome, expected) in rows {
            for (idempotent, retried) in [true, false].into_iter().zip(expected) {
                let verdict = policy().decide(idempotent, outcome, 1);
                assert_eq!(
                    matches!(verdict, Verdict::Retry { .. }),
                    *retried,
                    "{outcome:?}, idempotent: {idempotent}"
                );
            }
        }
        // Every operation of the spec: every delete is idempotent, irreversible or not.
        for op in tallyfy_api::OPERATIONS {
            assert_eq!(
                op.is_idempotent(),
                op.method != "POST" && op.method != "PATCH",
                "{}",
                op.id
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let p = policy().with_max_retry_after(Duration::from_secs(30));
        assert_eq!(
            p.decide(false, &answered(429, Some(30)), 1),
            Verdict::Retry {
                wait: Duration::from_secs(30),
                reason: "rate_limited"
            }
        );
        assert_eq!(
            p.decide(true, &answered(429, Some(86_400)), 1),
            Verdict::Stop
        );
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_the_budget_ends() {
        let p = policy().with_max_retries(6);
        let waits: Vec<_> = (1..=7)
            .map(|n| match p.decide(true, &answered(503, None), n) {
                Verdict::Retry { wait, .. } => wait.as_millis(),
                Verdict::Stop => 0,
            })
            .collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 8000, 0]);
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_backoff() {
        let p = RetryPolicy::default();
        for attempt in 1..=3 {
            for _ in 0..50 {
                let full = policy().backoff(attempt);
                let wait = p.backoff(attempt);
                assert!(wait >= full / 2 && wait <= full, "{wait:?} vs {full:?}");
            }
        }
    }

    #[test]
    fn retry_after_values() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let secs = |v| parse_retry_after(v, now).map(|d| d.as_secs());
        assert_eq!(secs("120"), Some(120));
        assert_eq!(secs(" 7 "), Some(7));
        assert_eq!(secs("Sun, 06 Nov 1994 08:50:37 GMT"), Some(60));
        assert_eq!(secs("Sun, 06 Nov 1994 08:00:00 GMT"), Some(0));
        assert_eq!(secs("-5"), None);
        assert_eq!(secs("soon"), None);
        assert_eq!(secs(""), None);
        assert_eq!(secs("1.5"), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn retry_after_never_panics(value in ".{0,64}", offset in any::<u32>()) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(offset));
            let _ = parse_retry_after(&value, now);
        }

        #[test]
        fn delta_seconds_always_parse(secs in any::<u64>()) {
            prop_assert_eq!(parse_retry_after(&secs.to_string(), SystemTime::now()), Some(Duration::from_secs(secs)));
        }

        #[test]
        fn http_dates_never_panic(day in 0u32..40, hour in 0u32..30, year in 0u32..10000) {
            let value = format!("Sun, {day:02} Nov {year} {hour:02}:49:37 GMT");
            let _ = parse_retry_after(&value, SystemTime::now());
        }
    }
}
