//! Fault knobs: rate limits, latency, 5xx answers, stalls and resets.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Faults to inject, all off by default. Draws are seeded: the same seed and the same
/// sequence of requests give the same faults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// At most this many requests per second (fixed one-second windows); beyond it,
    /// 429 with `Retry-After` in whole seconds and Tallyfy's `RATE_LIMIT_EXCEEDED` body.
    pub rate_limit: Option<u32>,
    /// Added before every answer.
    pub latency: Duration,
    /// The fraction of requests answered 500, 502, 503 or 504 (code `SERVER_ERROR`). A
    /// 504 comes *after* the operation was applied (a gateway that gave up waiting); the
    /// others before.
    pub server_errors: f64,
    /// The fraction of requests that are never answered (not applied).
    pub stalls: f64,
    /// The fraction of requests whose connection is reset after the headers (not applied).
    pub resets: f64,
    /// Seeds the draws.
    pub seed: u64,
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Served normally.
    None,
    /// 429 with this `Retry-After`.
    RateLimited {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// A 5xx answer, sent before or after the operation is applied.
    ServerError {
        /// The status, 500 to 599.
        status: u16,
        /// Whether the operation is applied first (a gateway timing out on a server
        /// that did the work).
        after_applying: bool,
    },
    /// Never answered; not applied.
    Stall,
    /// The connection is reset after the headers; not applied.
    Reset,
}

/// The faults' running state: queued faults, the rate window and the random draws.
pub(crate) struct Injector {
    faults: Faults,
    queued: VecDeque<Fault>,
    rng: fastrand::Rng,
    window_start: Instant,
    window_count: u32,
}

impl Injector {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = fastrand::Rng::with_seed(faults.seed);
        Self {
            faults,
            queued: VecDeque::new(),
            rng,
            window_start: Instant::now(),
            window_count: 0,
        }
    }

    /// Queues `fault` for the next request that has none queued before it.
    pub(crate) fn queue(&mut self, fault: Fault) {
        self.queued.push_back(fault);
    }

    pub(crate) fn latency(&self) -> Duration {
        self.faults.latency
    }

    /// Draws the fault for a request arriving at `now`.
    pub(crate) fn draw(&mut self, now: Instant) -> Fault {
        if let Some(fault) = self.queued.pop_front() {
            return fault;
        }
        if let Some(limit) = self.faults.rate_limit {
            let elapsed = now.saturating_duration_since(self.window_start);
            if elapsed >= Duration::from_secs(1) {
                self.window_start = now;
                self.window_count = 0;
            }
            self.window_count += 1;
            if self.window_count > limit {
                return Fault::RateLimited {
                    retry_after_secs: 1,
                };
            }
        }
        let roll = self.rng.f64();
        let f = &self.faults;
        if roll < f.server_errors {
            let status = [500, 502, 503, 504][self.rng.usize(..4)];
            Fault::ServerError {
                status,
                after_applying: status == 504,
            }
        } else if roll < f.server_errors + f.stalls {
            Fault::Stall
        } else if roll < f.server_errors + f.stalls + f.resets {
            Fault::Reset
        } else {
            Fault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_opens_a_new_window_each_second() {
        let mut injector = Injector::new(Faults {
            rate_limit: Some(3),
            ..Faults::default()
        });
        let start = Instant::now();
        let draws: Vec<Fault> = (0..5).map(|_| injector.draw(start)).collect();
        assert_eq!(draws[..3], [Fault::None; 3]);
        assert_eq!(
            draws[3],
            Fault::RateLimited {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            injector.draw(start + Duration::from_millis(1001)),
            Fault::None
        );
    }

    #[test]
    fn queued_faults_come_first_in_order() {
        let mut injector = Injector::new(Faults::default());
        injector.queue(Fault::Stall);
        injector.queue(Fault::Reset);
        let now = Instant::now();
        let draws = [injector.draw(now), injector.draw(now), injector.draw(now)];
        assert_eq!(draws, [Fault::Stall, Fault::Reset, Fault::None]);
    }

    #[test]
    fn fractions_are_roughly_honoured_and_seeded() {
        let faults = Faults {
            server_errors: 0.2,
            stalls: 0.1,
            resets: 0.1,
            seed: 5,
            ..Faults::default()
        };
        let count = |faults: Faults| {
            let mut injector = Injector::new(faults);
            let draws: Vec<Fault> = (0..10_000).map(|_| injector.draw(Instant::now())).collect();
            draws
        };
        let draws = count(faults.clone());
        let errors = draws
            .iter()
            .filter(|f| matches!(f, Fault::ServerError { .. }))
            .count();
        let stalls = draws.iter().filter(|f| **f == Fault::Stall).count();
        assert!((1_800..2_200).contains(&errors), "{errors}");
        assert!((800..1_200).contains(&stalls), "{stalls}");
        assert_eq!(draws, count(faults), "the same seed, the same faults");
    }
}
