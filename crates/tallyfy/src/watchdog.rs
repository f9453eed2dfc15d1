//! Transfers are timed by their pace: an upload or a download fails when nothing moves
//! for the attempt's timeout, however long it takes in all.
//!
//! An [`Activity`] clock is touched by every chunk of an upload's body as it is sent
//! ([`Watched`]) and by every chunk of a download as it arrives; [`Activity::stalled`]
//! completes once it has stood still for the idle time. Sending races the watchdog, so
//! the wait for an answer after the last chunk is bounded the same way.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use crate::files::Progress;
use crate::transport::Broken;

/// When a transfer last moved.
#[derive(Clone, Debug)]
pub(crate) struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last movement.
    last: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Something moved now.
    pub(crate) fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last.fetch_max(now, Ordering::Relaxed);
    }

    /// Completes when nothing has moved for `idle`.
    pub(crate) async fn stalled(&self, idle: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let still = self.start.elapsed().saturating_sub(last);
            if still >= idle {
                return;
            }
            tokio::time::sleep(idle - still).await;
        }
    }
}

/// Told how much of a transfer has moved; see [`Customized::progress`](crate::Customized::progress).
#[derive(Clone)]
pub(crate) struct OnProgress(pub Arc<dyn Fn(Progress) + Send + Sync>);

impl std::fmt::Debug for OnProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnProgress(..)")
    }
}

/// A request body that touches `activity` with every chunk it gives, and reports the
/// bytes given so far.
pub(crate) struct Watched {
    inner: reqwest::Body,
    activity: Activity,
    progress: Option<OnProgress>,
    sent: u64,
    total: Option<u64>,
}

impl Watched {
    /// Watches `inner`, whose length is `length` if the request says it.
    pub(crate) fn new(
        inner: reqwest::Body,
        length: Option<u64>,
        activity: Activity,
        progress: Option<OnProgress>,
    ) -> Self {
        let total = length.or(inner.size_hint().exact());
        Self {
            inner,
            activity,
            progress,
            sent: 0,
            total,
        }
    }
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            self.activity.touch();
            let moved = frame.data_ref().map_or(0, |data| data.len() as u64);
            self.sent += moved;
            if let Some(OnProgress(report)) = &self.progress {
                report(Progress {
                    bytes: self.sent,
                    total: self.total,
                });
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Awaits one read of a transfer, giving up when it takes longer than `idle` (`None`:
/// as long as it takes).
pub(crate) async fn read_within<T>(
    idle: Option<Duration>,
    read: impl Future<Output = reqwest::Result<T>>,
) -> Result<T, Broken> {
    match idle {
        None => Ok(read.await?),
        Some(idle) => match tokio::time::timeout(idle, read).await {
            Ok(read) => Ok(read?),
            Err(_) => Err(Broken::stalled(idle)),
        },
    }
}

/// Why a transfer was given up: nothing moved for this long.
#[derive(Debug, thiserror::Error)]
#[error("nothing moved for {0:?}")]
pub(crate) struct Stalled(pub Duration);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_clock_that_moves_is_not_stalled() {
        let activity = Activity::new();
        let watched = activity.clone();
        let mover = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(60)).await;
                watched.touch();
            }
        });
        let started = tokio::time::Instant::now();
        activity.stalled(Duration::from_millis(100)).await;
        // Five movements 60 ms apart, then 100 ms of stillness.
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
        mover.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_that_stands_still_is_stalled_after_the_idle_time() {
        let activity = Activity::new();
        let started = tokio::time::Instant::now();
        activity.stalled(Duration::from_millis(250)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(250));
    }
}
