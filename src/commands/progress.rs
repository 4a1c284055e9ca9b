//! A run's progress as bars on an interactive stderr; nothing for cron, pipes and `--quiet`.

use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use podfeed::model::{Progress, Unwatched};

use super::Ui;

/// Listing pages read, and episode pages done of those found so far.
#[derive(Debug)]
struct Bars {
    listing: ProgressBar,
    episodes: ProgressBar,
}

impl Progress for Bars {
    fn listing_read(&self) {
        self.listing.inc(1);
    }
    fn pages_total(&self, total: u64) {
        self.episodes.set_length(total);
    }
    fn more_pages(&self, more: u64) {
        self.episodes.inc_length(more);
    }
    fn page_done(&self) {
        self.episodes.inc(1);
    }
    fn finished(&self) {
        self.listing.finish_and_clear();
        self.episodes.finish_and_clear();
    }
}

/// Bars on an interactive stderr; nothing for cron, pipes and `--quiet`.
pub fn progress(ui: Ui) -> Arc<dyn Progress> {
    if !ui.progress() {
        return Arc::new(Unwatched);
    }
    let bars = MultiProgress::new();
    let style =
        |template: &str| ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    let listing = bars.add(ProgressBar::new_spinner());
    listing.set_style(style("{spinner} {pos} listing pages"));
    listing.enable_steady_tick(std::time::Duration::from_millis(120));
    let episodes = bars.add(ProgressBar::new(0));
    episodes.set_style(style("{spinner} {pos}/{len} episode pages {wide_bar} ETA {eta}"));
    Arc::new(Bars { listing, episodes })
}
