//! The memory budget for page text: pages in memory are bounded by bytes, not only by count.

use tokio::sync::OwnedSemaphorePermit;

use super::Client;

/// Page text downloaded and not yet done with, beyond what the downloads in flight may hold:
/// pages waiting for a parser.
pub(super) const TEXT_WAITING_BYTES: usize = 96 * 1024 * 1024;

/// Page text in memory, counted (in KiB) against the client's text budget until dropped. A
/// download reserves its `Content-Length` (else `max_page_bytes`) before reading the body, and
/// keeps what the text takes: pages in memory are bounded by bytes, not only by count.
#[derive(Debug)]
pub struct HeldText(pub(super) OwnedSemaphorePermit);

impl Client {
    /// Counts `bytes` of page text against the budget, waiting while it is spent.
    pub async fn hold_text(&self, bytes: usize) -> HeldText {
        let kib = kib(bytes).clamp(1, self.limits.text_budget_kib);
        HeldText(self.limits.text_budget.clone().acquire_many_owned(kib).await.expect("semaphore is never closed"))
    }

    /// Makes `held` count `bytes`: what a reservation did not use goes back at once.
    pub(super) async fn refit(&self, held: &mut HeldText, bytes: usize) {
        let (want, have) = (kib(bytes).clamp(1, self.limits.text_budget_kib) as usize, held.0.num_permits());
        if want < have {
            drop(held.0.split(have - want));
        } else if want > have {
            let more = self.hold_text((want - have) * 1024).await;
            held.0.merge(more.0);
        }
    }
}

/// Bytes in whole KiB, rounded up; at most `u32::MAX` KiB.
pub(super) fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::Http;

    #[tokio::test]
    async fn page_text_is_held_against_a_budget_by_size() {
        use futures::FutureExt;
        let client = Client::new(&Http { concurrency: 1, max_page_bytes: 1024 * 1024, ..Http::default() }).unwrap();
        let everything = client.hold_text(usize::MAX).await;
        assert!(client.hold_text(1).now_or_never().is_none(), "a spent budget makes the next page wait");
        drop(everything);
        let mut reserved = client.hold_text(1024 * 1024).await;
        client.refit(&mut reserved, 10 * 1024).await;
        assert_eq!(reserved.0.num_permits(), 10, "what a reservation did not use goes back");
        assert_eq!(client.limits.text_budget.available_permits() as u32, client.limits.text_budget_kib - 10);
    }
}
