//! Handing freed heap back to the operating system after connection churn.
//!
//! An IDENTIFY builds READY and GUILD_CREATE documents that are freed as soon as they are
//! sent; during a connection storm thousands of them are alive at once. glibc's allocator
//! keeps the freed pages resident in its arenas, so without a trim an idle node holds the
//! storm's high-water mark for good — measured at about half of the resident memory per idle
//! session (see docs/benchmarks.md, M1). `malloc_trim` returns whole free pages (madvise), so
//! resident memory follows the live sessions again. Other allocators and platforms: no-op.

use std::sync::atomic::{AtomicU64, Ordering};

/// Ticks of continuous churn after which the heap is trimmed anyway.
const MAX_TICKS_BETWEEN_TRIMS: u64 = 10;

/// Counts connections opened and closed, so the trim runs once churn has calmed down.
#[derive(Default)]
pub struct Churn {
    events: AtomicU64,
    at_last_tick: AtomicU64,
    at_last_trim: AtomicU64,
    ticks_since_trim: AtomicU64,
}

impl Churn {
    /// A connection opened or closed.
    pub fn record(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
    }

    /// Called once per tick: whether to trim now — connections came or went since the last
    /// trim and either none did during the last tick (a storm is over) or churn has gone on
    /// for [`MAX_TICKS_BETWEEN_TRIMS`] ticks.
    fn due(&self) -> bool {
        let now = self.events.load(Ordering::Relaxed);
        let last_tick = self.at_last_tick.swap(now, Ordering::Relaxed);
        if now == self.at_last_trim.load(Ordering::Relaxed) {
            self.ticks_since_trim.store(0, Ordering::Relaxed);
            return false;
        }
        let ticks = self.ticks_since_trim.fetch_add(1, Ordering::Relaxed) + 1;
        if now == last_tick || ticks >= MAX_TICKS_BETWEEN_TRIMS {
            self.at_last_trim.store(now, Ordering::Relaxed);
            self.ticks_since_trim.store(0, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Returns freed heap to the OS when [`Churn::due`]. Runs on the blocking pool: a trim
    /// walks the allocator's free lists.
    pub async fn tick(&self) {
        if self.due() {
            let _ = tokio::task::spawn_blocking(trim_heap).await;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    // SAFETY: malloc_trim only walks and releases the allocator's own free memory; it is
    // thread-safe and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_once_a_storm_is_over_or_after_long_churn() {
        let churn = Churn::default();
        assert!(!churn.due(), "nothing happened");
        churn.record();
        assert!(!churn.due(), "still churning");
        assert!(churn.due(), "a quiet tick after churn");
        assert!(!churn.due(), "nothing since the trim");
        for _ in 0..MAX_TICKS_BETWEEN_TRIMS - 1 {
            churn.record();
            assert!(!churn.due());
        }
        churn.record();
        assert!(churn.due(), "continuous churn still trims now and then");
    }
}
