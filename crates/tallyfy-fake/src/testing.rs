//! What the fake's unit tests share: a moment and an administrator to act as, and a
//! seeded store.

use crate::fixtures::Fixtures;
use crate::store::{ADMIN_USER_ID, Ctx, Store};

/// The moment the tests act at.
pub(crate) const NOW: &str = "2026-03-01T09:00:00.000Z";

/// The administrator, acting at [`NOW`].
pub(crate) fn ctx() -> Ctx<'static> {
    Ctx {
        now: NOW,
        user: ADMIN_USER_ID,
    }
}

/// A store seeded with `processes` processes from `seed`.
pub(crate) fn store(processes: usize, seed: u64) -> Store {
    Fixtures { processes, seed }.build()
}
