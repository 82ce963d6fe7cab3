//! The queue between a session and the connection that writes its dispatches.
//!
//! The session fills it under its own lock (numbering, replay buffer and queueing are one
//! step); the connection's task drains it in batches. It is bounded: a connection that falls
//! [`OUTBOUND_QUEUE`] dispatches behind is closed (resumably — the session keeps numbering and
//! buffering), and so is one whose session was resumed on another connection. An idle outlet
//! holds no buffer, only a few words, where a tokio channel keeps a block of slots per
//! connection for good; and the connection polls it directly, with no future of its own that
//! every connection's task would carry.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::session::Outbound;

/// Dispatches that may wait for a slow socket before the connection is closed (the session
/// stays resumable).
pub const OUTBOUND_QUEUE: usize = 1024;

/// One connection's queue of items to write.
#[derive(Default)]
pub struct Outlet {
    state: Mutex<OutletState>,
}

#[derive(Default)]
struct OutletState {
    items: VecDeque<Outbound>,
    closed: bool,
    /// The connection's task, waiting for the queue to stop being empty or the outlet to close.
    waiting: Option<Waker>,
}

/// The outlet was closed: the connection should end, resumably.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl Outlet {
    fn state(&self) -> MutexGuard<'_, OutletState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues one item; false when the outlet is closed or was full (it closes then).
    pub fn push(&self, item: Outbound) -> bool {
        let mut state = self.state();
        if state.closed {
            return false;
        }
        if state.items.len() >= OUTBOUND_QUEUE {
            drop(state);
            self.close();
            return false;
        }
        state.items.push_back(item);
        let waiting = state.waiting.take();
        drop(state);
        if let Some(waker) = waiting {
            waker.wake();
        }
        true
    }

    /// Closes the outlet: what is queued is dropped and the connection ends.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        state.items = VecDeque::new();
        let waiting = state.waiting.take();
        drop(state);
        if let Some(waker) = waiting {
            waker.wake();
        }
    }

    /// [`Outlet::poll_batch`] as a future.
    #[cfg(test)]
    pub async fn next_batch(&self, max: usize) -> Result<VecDeque<Outbound>, Closed> {
        std::future::poll_fn(|cx| self.poll_batch(cx, max)).await
    }

    /// Up to `max` queued items, in order; while there are none, the task's waker is kept
    /// (under the same lock a push takes). The batch is the queue's own buffer when it holds
    /// no more than `max` (the usual case): a buffer kept by the connection would hold its
    /// largest size for good.
    pub fn poll_batch(
        &self,
        cx: &mut Context<'_>,
        max: usize,
    ) -> Poll<Result<VecDeque<Outbound>, Closed>> {
        let mut state = self.state();
        let batch = state.take(max)?;
        if !batch.is_empty() {
            return Poll::Ready(Ok(batch));
        }
        match &mut state.waiting {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waiting => *waiting = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Up to `max` queued items, in order, without waiting (none: an empty vector).
    #[cfg(test)]
    pub fn take(&self, max: usize) -> Result<VecDeque<Outbound>, Closed> {
        self.state().take(max)
    }

    /// Whether the outlet was closed (the session dropped or replaced this connection).
    #[cfg(test)]
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }
}

impl OutletState {
    fn take(&mut self, max: usize) -> Result<VecDeque<Outbound>, Closed> {
        if self.closed {
            return Err(Closed);
        }
        if self.items.len() <= max {
            // The whole queue is the batch, and an idle connection keeps no buffer.
            return Ok(std::mem::take(&mut self.items));
        }
        Ok(self.items.drain(..max).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_full_outlet_closes_and_refuses_more() {
        let outlet = Outlet::default();
        for _ in 0..OUTBOUND_QUEUE {
            assert!(outlet.push(Outbound::Reconnect));
        }
        assert!(!outlet.is_closed());
        assert!(!outlet.push(Outbound::Reconnect), "one too many");
        assert!(outlet.is_closed());
        assert!(!outlet.push(Outbound::Reconnect));
        assert_eq!(outlet.take(1).unwrap_err(), Closed);
    }

    #[test]
    fn batches_come_out_in_order_and_bounded() {
        let outlet = Outlet::default();
        for seq in 1..=5 {
            let dispatch = crate::gateway::session::Dispatch::new("X", "{}");
            assert!(outlet.push(Outbound::Dispatch { seq, dispatch }));
        }
        let batch = outlet.take(3).unwrap();
        assert_eq!(outlet.take(usize::MAX).unwrap().len(), 2);
        assert!(outlet.take(3).unwrap().is_empty());
        let seqs: Vec<u64> = batch
            .iter()
            .map(|item| match item {
                Outbound::Dispatch { seq, .. } => *seq,
                Outbound::Reconnect => 0,
            })
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_waiting_connection_wakes_for_a_push_and_for_a_close() {
        let outlet = Arc::new(Outlet::default());
        let waiter = {
            let outlet = Arc::clone(&outlet);
            tokio::spawn(async move { outlet.next_batch(8).await.map(|batch| batch.len()) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(outlet.push(Outbound::Reconnect));
        let woke = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert_eq!(woke.unwrap().unwrap(), Ok(1));

        let waiter = {
            let outlet = Arc::clone(&outlet);
            tokio::spawn(async move { outlet.next_batch(8).await.map(|batch| batch.len()) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        outlet.close();
        let woke = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert_eq!(woke.unwrap().unwrap(), Err(Closed));
    }
}
