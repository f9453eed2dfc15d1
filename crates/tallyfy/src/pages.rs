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
//!   it, so it reads that page again first, unless it saw that page end with seen items
//!   while the list's total (`meta.pagination.total`) was what it is now; so nothing is
//!   skipped. (Without a total in the answers, exactness needs the list to hold still
//!   between two reads.)
//!
//! The set may shrink at any time (by this caller or anyone else); the stream holds one
//! page at a time whatever the size of the list. Processes created while it runs are
//! not promised. Each page is read about twice while everything on it is being deleted.

use std::num::NonZeroU32;

use futures_util::{Stream, TryStreamExt, stream};
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

    /// Only processes with this status (`active`, `complete`, `problem`, ...). For
    /// archived processes use [`archived("only")`](Self::archived): `status=archived` is
    /// unreliable (an archived process keeps the status it had).
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
        self.batches()
            .map_ok(|batch| stream::iter(batch.into_iter().map(Ok)))
            .try_flatten()
    }

    /// The same processes a batch at a time: the unseen part of one page per request.
    pub fn batches(self) -> impl Stream<Item = Result<Vec<Run>, Error>> + Send + 'static {
        self.cursor(false)
    }

    /// Batches for a caller that deletes what it reads (a purge): after each batch the
    /// next is sought from page 1, where the items read but not yet deleted are few, so
    /// that each request brings mostly new items. Items that stay (failed deletes) push
    /// the search a page further per hundred of them.
    pub fn batches_from_front(
        self,
    ) -> impl Stream<Item = Result<Vec<Run>, Error>> + Send + 'static {
        self.cursor(true)
    }

    fn cursor(
        self,
        from_front: bool,
    ) -> impl Stream<Item = Result<Vec<Run>, Error>> + Send + 'static {
        let cursor = Cursor {
            query: self,
            from_front,
            page: 1,
            last: None,
            trusted: None,
            set_aside: None,
            done: false,
        };
        stream::try_unfold(cursor, |mut cursor| async move {
            Ok(cursor.next_batch().await?.map(|batch| (batch, cursor)))
        })
    }

    async fn fetch(&self, page: u32) -> Result<Page, Error> {
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
        let page = request.execute().await?;
        let total = page.meta.and_then(|m| m.pagination).and_then(|p| p.total);
        Ok(Page {
            items: page.data,
            total,
        })
    }
}

/// One page as read, with the list's total at that moment.
struct Page {
    items: Vec<Run>,
    total: Option<u64>,
}

/// The sort key: creation time, then ID.
type Key = (Option<String>, String);

fn key(run: &Run) -> Key {
    (run.created_at.clone(), run.id.clone())
}

struct Cursor {
    query: ProcessQuery,
    /// Seek each batch from page 1 (see [`ProcessQuery::batches_from_front`]).
    from_front: bool,
    /// The page to read next.
    page: u32,
    /// The key of the last item handed out.
    last: Option<Key>,
    /// The page before `page` was seen to end with seen items when the list's total was
    /// this: while the total stays the same, nothing can hide there.
    trusted: Option<Option<u64>>,
    /// The page stepped back from, reused if the list's total has not changed since.
    set_aside: Option<(u32, Page)>,
    done: bool,
}

impl Cursor {
    /// The next unseen items, in order; they count as seen once handed out.
    async fn next_batch(&mut self) -> Result<Option<Vec<Run>>, Error> {
        while !self.done {
            let page = match self.set_aside.take() {
                Some((number, page)) if number == self.page && self.trusted == Some(page.total) => {
                    page
                }
                _ => self.query.fetch(self.page).await?,
            };
            let full = page.items.len() >= self.query.per_page.get() as usize;
            let unseen = page
                .items
                .iter()
                .position(|run| self.last.as_ref().is_none_or(|last| key(run) > *last));
            let may_have_skipped = self.page > 1 && self.trusted != Some(page.total);
            match unseen {
                // The page starts with something new: items may have moved back a page.
                Some(0) | None
                    if may_have_skipped && (unseen.is_some() || page.items.is_empty()) =>
                {
                    self.set_aside = Some((self.page, page));
                    self.page -= 1;
                }
                Some(first) => {
                    let batch: Vec<Run> = page.items.into_iter().skip(first).collect();
                    self.last = batch.last().map(key);
                    self.page = if self.from_front { 1 } else { self.page + 1 };
                    self.trusted = None;
                    self.done = !full;
                    return Ok(Some(batch));
                }
                // A full page of seen items: the next page follows them directly.
                None if full => {
                    self.page += 1;
                    self.trusted = Some(page.total);
                }
                None => self.done = true,
            }
        }
        Ok(None)
    }
}
