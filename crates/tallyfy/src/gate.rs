//! One gate for every request of a client (and its clones). Many workers sharing a
//! client thus learn a rate limit once, together:
//!
//! - a 429 holds every request back for as long as its `Retry-After` says;
//! - it also teaches the gate a pace: 98.5% of the requests the server accepted in the
//!   second before the 429, spread evenly, so that the limit is not hit again and again.
//!   A learned pace lapses after a minute without a 429;
//! - [`ClientBuilder::max_requests_per_second`](crate::ClientBuilder::max_requests_per_second)
//!   sets a pace from the start, which a learned one can only slow;
//! - [`ClientBuilder::learn_pace(false)`](crate::ClientBuilder::learn_pace) turns the
//!   learning off: a 429 still holds every request for its `Retry-After`, and nothing
//!   more.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How much of the observed accepted rate a learned pace uses.
const LEARNED_SHARE: f64 = 0.985;
/// How long a learned pace lasts without another 429.
const LEARNED_FOR: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Gate {
    /// The spacing set by the caller, if any.
    configured: Option<Duration>,
    /// Whether a 429 teaches a pace.
    learn: bool,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The earliest moment the next paced request may go.
    next_slot: Instant,
    /// No request goes before this moment (the last `Retry-After`).
    hold_until: Option<Instant>,
    /// When the answers of the last second that were not 429 came.
    accepted: VecDeque<Instant>,
    /// A spacing learned from a 429, and when.
    learned: Option<(Duration, Instant)>,
}

impl Gate {
    /// A gate that paces to `per_second` requests (none: unpaced until a 429), and
    /// learns a pace from a 429 if `learn`.
    pub(crate) fn new(per_second: Option<f64>, learn: bool) -> Self {
        let configured = per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| SECOND.div_f64(r));
        let state = State {
            next_slot: Instant::now(),
            hold_until: None,
            accepted: VecDeque::new(),
            learned: None,
        };
        Self {
            configured,
            learn,
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long a request must wait before it goes, reserving its slot. A request that
    /// has just waited out its own `Retry-After` passes the hold (`own_hold`).
    pub(crate) fn reserve(&self, now: Instant, own_hold: bool) -> Duration {
        let mut state = self.lock();
        let learned = state
            .learned
            .filter(|(_, at)| now.saturating_duration_since(*at) < LEARNED_FOR)
            .map(|(i, _)| i);
        let interval = match (self.configured, learned) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let held = state
            .hold_until
            .filter(|_| !own_hold)
            .map_or(now, |until| until.max(now));
        let at = match interval {
            Some(interval) => {
                let at = held.max(state.next_slot);
                state.next_slot = at + interval;
                at
            }
            None => held,
        };
        at - now
    }

    /// Notes an answer other than 429 (kept only to learn a pace from).
    pub(crate) fn accepted(&self, now: Instant) {
        if !self.learn {
            return;
        }
        let mut state = self.lock();
        state.accepted.push_back(now);
        while state
            .accepted
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) > SECOND)
        {
            state.accepted.pop_front();
        }
    }

    /// A 429 at `now`: holds every request back until `until`, and (if learning) learns a
    /// pace from what the server accepted in the second before.
    pub(crate) fn rate_limited(&self, now: Instant, until: Instant) {
        let mut state = self.lock();
        state.hold_until = Some(state.hold_until.map_or(until, |held| held.max(until)));
        if !self.learn {
            return;
        }
        let recent = state
            .accepted
            .iter()
            .filter(|at| now.saturating_duration_since(**at) <= SECOND)
            .count();
        if recent > 0 {
            let interval = SECOND.div_f64(recent as f64 * LEARNED_SHARE);
            let slower = state
                .learned
                .map_or(interval, |(current, _)| current.max(interval));
            state.learned = Some((slower, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_pace_only_a_hold_makes_requests_wait() {
        let gate = Gate::new(None, true);
        let now = Instant::now();
        assert_eq!(gate.reserve(now, false), Duration::ZERO);
        gate.rate_limited(now, now + Duration::from_secs(3));
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
    fn a_configured_pace_spaces_requests_evenly() {
        let gate = Gate::new(Some(10.0), true);
        let now = Instant::now();
        let waits: Vec<u128> = (0..4)
            .map(|_| gate.reserve(now, false).as_millis())
            .collect();
        assert_eq!(waits, [0, 100, 200, 300]);
    }

    #[test]
    fn a_429_teaches_a_pace_just_under_what_was_accepted() {
        let gate = Gate::new(None, true);
        let start = Instant::now();
        for n in 0..100 {
            gate.accepted(start + Duration::from_millis(n * 5));
        }
        let now = start + Duration::from_millis(500);
        gate.rate_limited(now, now + SECOND);
        let after = now + SECOND;
        let first = gate.reserve(after, false);
        let second = gate.reserve(after, false);
        assert_eq!(first, Duration::ZERO);
        // 100 accepted in the last second: paced at 98.5 a second.
        assert_eq!(second, SECOND.div_f64(98.5));
        // The lesson lapses after a quiet minute.
        let later = after + LEARNED_FOR + SECOND;
        assert_eq!(gate.reserve(later, false), Duration::ZERO);
        assert_eq!(gate.reserve(later, false), Duration::ZERO);
    }

    #[test]
    fn with_learning_off_a_429_holds_requests_but_teaches_no_pace() {
        let gate = Gate::new(None, false);
        let start = Instant::now();
        for n in 0..100 {
            gate.accepted(start + Duration::from_millis(n * 5));
        }
        let now = start + Duration::from_millis(500);
        gate.rate_limited(now, now + SECOND);
        // The hold still applies to everyone, for the whole Retry-After...
        assert_eq!(gate.reserve(now, false), SECOND);
        assert_eq!(gate.reserve(now, false), SECOND);
        assert_eq!(gate.reserve(now, true), Duration::ZERO, "its own hold");
        // ...but once it is over, requests go unpaced: nothing was learned.
        let after = now + SECOND;
        for _ in 0..5 {
            assert_eq!(gate.reserve(after, false), Duration::ZERO);
        }
        // A configured pace stays exactly the configured one.
        let paced = Gate::new(Some(10.0), false);
        for n in 0..100 {
            paced.accepted(start + Duration::from_millis(n * 5));
        }
        paced.rate_limited(now, now + SECOND);
        let waits: Vec<u128> = (0..3)
            .map(|_| paced.reserve(after, false).as_millis())
            .collect();
        assert_eq!(waits, [0, 100, 200]);
    }
}
