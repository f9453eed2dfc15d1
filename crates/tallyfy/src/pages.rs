//! Every process a list query matches, as one stream, safe to delete from as it goes.
//!
//! # Strategy
//! Tallyfy pages by number, so deleting the items of page 1 moves page 2's items onto
//! page 1: a reader that simply asks for page 2 next skips them. The stream therefore
//! sorts by creation (`sort=created_at`, ties broken by ID) and remembers only the key
//! `(created_at, id)` of the last item it yielded:
//!
//! - it yields only items whose key is above that key, so nothing is repeated;
//! - when a page starts with an unseen item, items may have shifted onto the page before
//!   it, so it reads that page again first, unless it has just seen that page end with
//!   seen items; so nothing is skipped.
//!
//! The set may shrink at any time (by this caller or anyone else); the stream holds one
//! page at a time whatever the size of the list. Processes created while it runs are
//! not promised. Each page is read about twice while everything on it is being deleted.

use std::collections::VecDeque;
use std::num::NonZeroU32;

use futures_util::Stream;
use tallyfy_api::types::Run;

use crate::{Client, Error, Execute};

/// The largest page Tallyfy serves.
pub const MAX_PER_PAGE: u32 = 100;

/// Which processes to stream; see [`Client::processes`].
#[derive(Clone, Debug)]
pub struct ProcessQuery {
    client: Client,
    org_id: String,
    archived: Option<String>,
    status: Option<String>,
    q: Option<String>,
    per_page: NonZeroU32,
}

impl Client {
    /// Streams the processes of `org_id`, page after page, oldest first. See
    /// [the strategy](crate::pages) that keeps it exact while the list shrinks.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn demo(client: tallyfy::Client) -> Result<(), tallyfy::Error> {
    /// let archived: Vec<_> = client.processes("org").archived("only").stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn processes(&self, org_id: impl Into<String>) -> ProcessQuery {
        ProcessQuery {
            client: self.clone(),
            org_id: org_id.into(),
            archived: None,
            status: None,
            q: None,
            per_page: NonZeroU32::new(MAX_PER_PAGE).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl ProcessQuery {
    /// `only`: archived processes alone; `true`: archived and active together.
    pub fn archived(mut self, archived: impl Into<String>) -> Self {
        self.archived = Some(archived.into());
        self
    }

    /// Only processes with this status (`archived` lists the archived ones).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// Only processes whose name contains this.
    pub fn q(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }

    /// Items per request, 1 to [`MAX_PER_PAGE`] (the default).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = NonZeroU32::new(per_page.min(MAX_PER_PAGE)).unwrap_or(NonZeroU32::MIN);
        self
    }

    /// The stream. It ends after the last process, or after the first error.
    pub fn stream(self) -> impl Stream<Item = Result<Run, Error>> + Send + 'static {
        let cursor = Cursor {
            query: self,
            page: 1,
            last: None,
            trusted: false,
            buffer: VecDeque::new(),
            done: false,
        };
        futures_util::stream::try_unfold(cursor, |mut cursor| async move {
            Ok(cursor.next().await?.map(|run| (run, cursor)))
        })
    }

    async fn fetch(&self, page: u32) -> Result<Vec<Run>, Error> {
        let mut request = self
            .client
            .list_processes()
            .org_id(self.org_id.as_str())
            .sort("created_at")
            .per_page(self.per_page)
            .page(NonZeroU32::new(page).unwrap_or(NonZeroU32::MIN));
        if let Some(archived) = &self.archived {
            request = request.archived(archived.as_str());
        }
        if let Some(status) = &self.status {
            request = request.status(status.as_str());
        }
        if let Some(q) = &self.q {
            request = request.q(q.as_str());
        }
        Ok(request.execute().await?.data)
    }
}

/// The sort key: creation time, then ID.
type Key = (Option<String>, String);

fn key(run: &Run) -> Key {
    (run.created_at.clone(), run.id.clone())
}

struct Cursor {
    query: ProcessQuery,
    /// The page to read next.
    page: u32,
    /// The key of the last item yielded.
    last: Option<Key>,
    /// The page before `page` was just seen to end with seen items: nothing can hide there.
    trusted: bool,
    buffer: VecDeque<Run>,
    done: bool,
}

impl Cursor {
    async fn next(&mut self) -> Result<Option<Run>, Error> {
        loop {
            if let Some(run) = self.buffer.pop_front() {
                self.last = Some(key(&run));
                return Ok(Some(run));
            }
            if self.done {
                return Ok(None);
            }
            let items = self.query.fetch(self.page).await?;
            let full = items.len() >= self.query.per_page.get() as usize;
            let unseen = items
                .iter()
                .position(|run| self.last.as_ref().is_none_or(|last| key(run) > *last));
            let may_have_skipped = self.page > 1 && !self.trusted;
            match unseen {
                // The page starts with something new: items may have moved back a page.
                Some(0) | None if may_have_skipped && (unseen.is_some() || items.is_empty()) => {
                    self.page -= 1;
                }
                Some(first) => {
                    self.buffer.extend(items.into_iter().skip(first));
                    self.page += 1;
                    self.trusted = false;
                    self.done = !full;
                }
                // A full page of seen items: the next page follows them directly.
                None if full => {
                    self.page += 1;
                    self.trusted = true;
                }
                None => self.done = true,
            }
        }
    }
}
