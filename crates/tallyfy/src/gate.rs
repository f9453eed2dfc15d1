//! One gate for every request of a client (and its clones): it holds all of them back
//! after any 429, for as long as the server's `Retry-After` says, and can pace them to a
//! steady rate. Many workers sharing a client thus learn a rate limit once, together.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct Gate {
    /// The spacing between requests, when pacing to a rate.
    interval: Option<Duration>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The earliest moment the next paced request may go.
    next_slot: Instant,
    /// No request goes before this moment (the last `Retry-After`).
    hold_until: Option<Instant>,
}

impl Gate {
    /// A gate that paces to `per_second` requests (none: only 429s hold it).
    pub(crate) fn new(per_second: Option<f64>) -> Self {
        let interval = per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Self {
            interval,
            state: Mutex::new(State {
                next_slot: Instant::now(),
                hold_until: None,
            }),
        }
    }

    /// How long a request must wait before it goes, reserving its slot. A request that
    /// has just waited out its own `Retry-After` passes the hold (`own_hold`).
    pub(crate) fn reserve(&self, now: Instant, own_hold: bool) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let held = state
            .hold_until
            .filter(|_| !own_hold)
            .map_or(now, |until| until.max(now));
        let at = match self.interval {
            Some(interval) => {
                let at = held.max(state.next_slot);
                state.next_slot = at + interval;
                at
            }
            None => held,
        };
        at - now
    }

    /// Holds every request back until `until`.
    pub(crate) fn hold(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.hold_until = Some(state.hold_until.map_or(until, |held| held.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_rate_only_a_hold_makes_requests_wait() {
        let gate = Gate::new(None);
        let now = Instant::now();
        assert_eq!(gate.reserve(now, false), Duration::ZERO);
        gate.hold(now + Duration::from_secs(3));
        assert_eq!(gate.reserve(now, false), Duration::from_secs(3));
        assert_eq!(
            gate.reserve(now, true),
            Duration::ZERO,
            "its own hold, already waited"
        );
        assert_eq!(
            gate.reserve(now + Duration::from_secs(4), false),
            Duration::ZERO
        );
    }

    #[test]
    fn a_rate_spaces_requests_evenly() {
        let gate = Gate::new(Some(10.0));
        let now = Instant::now();
        let waits: Vec<u128> = (0..4)
            .map(|_| gate.reserve(now, false).as_millis())
            .collect();
        assert_eq!(waits, [0, 100, 200, 300]);
        gate.hold(now + Duration::from_secs(1));
        assert_eq!(gate.reserve(now, false).as_millis(), 1000);
    }
}
