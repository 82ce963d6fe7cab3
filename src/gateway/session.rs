//! A gateway session as it outlives its sockets: identity, intents, sequence numbers and a
//! bounded replay buffer, so a client that lost its connection can RESUME and receive exactly
//! the dispatches it missed. A connection attaches to a session; when it goes away the session
//! is detached and stays resumable for the resume window.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::outlet::Outlet;

use crate::model::Snowflake;
use crate::service::Caller;

/// Dispatches kept for RESUME per session. Entries share the event's `d`, so the cost is a
/// few words per entry, not a copy of the payload.
pub const REPLAY_CAPACITY: usize = 1000;

/// One event as the fan-out hands it to every recipient: rendered once, shared by all of them
/// (their queues and replay buffers hold a pointer to it, not a copy).
#[derive(Debug)]
pub struct Dispatch {
    /// The event name (`t`).
    pub event: Box<str>,
    /// The leading part of `d` that other sessions' dispatches share (a guild's GUILD_CREATE
    /// snapshot), when `d` is built from one.
    shared: Option<Arc<str>>,
    /// The rest of the rendered `d` (all of it without `shared`).
    own: Box<str>,
}

impl Dispatch {
    /// A shared dispatch of `event` with the rendered `data`.
    pub fn new(event: &str, data: impl Into<Box<str>>) -> Arc<Dispatch> {
        Arc::new(Dispatch {
            event: event.into(),
            shared: None,
            own: data.into(),
        })
    }

    /// A dispatch whose `d` is `shared` followed by `own`: a session keeps only `own` (and a
    /// pointer) in its replay buffer.
    pub fn spliced(event: &str, shared: Arc<str>, own: impl Into<Box<str>>) -> Arc<Dispatch> {
        Arc::new(Dispatch {
            event: event.into(),
            shared: Some(shared),
            own: own.into(),
        })
    }

    /// The rendered `d`, in the order its parts are written.
    pub fn data_parts(&self) -> [&str; 2] {
        [self.shared.as_deref().unwrap_or(""), &self.own]
    }
}

/// What a connection writes to its socket.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A numbered dispatch; the connection renders `{"op":0,"t":…,"s":…,"d":…}` around its
    /// shared `d`.
    Dispatch { seq: u64, dispatch: Arc<Dispatch> },
    /// Op 7: the client should reconnect and resume (graceful shutdown).
    Reconnect,
}

/// Why a RESUME cannot continue the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeRefused {
    /// The client's `seq` is older than the replay buffer or newer than anything sent.
    SeqNotInBuffer,
}

/// One resumable session.
pub struct Session {
    /// Registry key.
    pub number: u64,
    /// The `session_id` clients send in RESUME (shared with the registry's index).
    pub key: Arc<str>,
    /// Whose session this is. Only the id and the bot flag are kept: the whole user would
    /// be a few hundred bytes in every idle session, and the rare requests that need it
    /// ([`crate::service::Service::caller`]) read it from the store.
    user_id: Snowflake,
    bot: bool,
    pub intents: u64,
    /// `[shard_id, num_shards]` from IDENTIFY.
    pub shard: Option<[u32; 2]>,
    state: Mutex<State>,
}

struct State {
    seq: u64,
    replay: VecDeque<Outbound>,
    /// Dispatches raised by the fan-out before READY was sent; flushed right after it.
    starting: Option<Vec<Arc<Dispatch>>>,
    connection: Option<Arc<Outlet>>,
    detached_since: Option<Instant>,
}

impl Session {
    /// A new session, attached to the identifying connection, holding fan-out events until
    /// its READY and GUILD_CREATEs are out.
    pub fn new(
        number: u64,
        key: String,
        caller: Caller,
        intents: u64,
        connection: Arc<Outlet>,
    ) -> Self {
        Session {
            number,
            key: key.into(),
            user_id: caller.id(),
            bot: caller.is_bot(),
            intents,
            shard: None,
            state: Mutex::new(State {
                seq: 0,
                replay: VecDeque::new(),
                starting: Some(Vec::new()),
                connection: Some(connection),
                detached_since: None,
            }),
        }
    }

    /// The shard this session was identified for.
    pub fn with_shard(mut self, shard: Option<[u32; 2]>) -> Self {
        self.shard = shard;
        self
    }

    /// Whether this session's shard carries `guild_id` (`(guild_id >> 22) % num_shards`).
    pub fn carries_guild(&self, guild_id: Snowflake) -> bool {
        self.shard.is_none_or(|[shard_id, count]| {
            (guild_id.0 >> 22) % u64::from(count.max(1)) == u64::from(shard_id)
        })
    }

    pub fn user_id(&self) -> Snowflake {
        self.user_id
    }

    pub fn is_bot(&self) -> bool {
        self.bot
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Numbers, buffers and forwards one dispatch from the fan-out. Returns false when the
    /// attached connection could not take it (too slow): it is detached and will close.
    pub fn dispatch(&self, dispatch: &Arc<Dispatch>) -> bool {
        let mut state = self.state();
        if let Some(pending) = state.starting.as_mut() {
            pending.push(Arc::clone(dispatch));
            return true;
        }
        state.push(Arc::clone(dispatch))
    }

    /// Sends a dispatch of the session's own (READY, its GUILD_CREATEs, answers to requests)
    /// ahead of any fan-out events held during start-up.
    pub fn dispatch_direct(&self, event: &str, data: String) -> bool {
        self.state().push(Dispatch::new(event, data))
    }

    /// [`Session::dispatch_direct`] for a `d` that starts with a part shared with other sessions.
    pub fn dispatch_spliced(&self, event: &str, shared: Arc<str>, own: String) -> bool {
        self.state().push(Dispatch::spliced(event, shared, own))
    }

    /// Sends READY. It is numbered but not kept for RESUME: a client that missed READY has no
    /// `session_id` to resume with, so keeping it would only hold its bytes for nothing.
    pub fn dispatch_ready(&self, data: String) -> bool {
        self.state().push_unkept(Dispatch::new("READY", data))
    }

    /// Start-up is over: the held fan-out events follow, in order.
    pub fn finish_startup(&self) -> bool {
        let mut state = self.state();
        let pending = state.starting.take().unwrap_or_default();
        pending.into_iter().all(|dispatch| state.push(dispatch))
    }

    /// Attaches a resuming connection: returns the dispatches after `seq` to replay (the
    /// connection writes them before anything it receives), and RESUMED is numbered after them.
    /// A connection still attached is closed: the session has moved on.
    pub fn resume(
        &self,
        seq: u64,
        connection: Arc<Outlet>,
    ) -> Result<Vec<Outbound>, ResumeRefused> {
        let mut state = self.state();
        let oldest_kept = match state.replay.front() {
            Some(Outbound::Dispatch { seq, .. }) => *seq,
            _ => state.seq + 1,
        };
        if seq > state.seq || seq + 1 < oldest_kept {
            return Err(ResumeRefused::SeqNotInBuffer);
        }
        let missed = state
            .replay
            .iter()
            .filter(|o| matches!(o, Outbound::Dispatch { seq: s, .. } if *s > seq))
            .cloned()
            .collect();
        if let Some(previous) = state.connection.replace(connection) {
            previous.close();
        }
        state.detached_since = None;
        Ok(missed)
    }

    /// Sends RESUMED after a successful resume.
    pub fn resumed(&self) -> bool {
        self.state().push(Dispatch::new("RESUMED", "{}"))
    }

    /// The client's heartbeat says it has received everything up to `seq`: those dispatches
    /// are no longer needed for a RESUME (a client resumes from its latest `seq`), so the
    /// replay buffer lets them go — above all the session's own READY and GUILD_CREATEs, the
    /// largest payloads an idle session would otherwise hold. A `seq` never sent is ignored.
    pub fn acknowledge(&self, seq: u64) {
        let mut state = self.state();
        if seq > state.seq {
            return;
        }
        while matches!(state.replay.front(), Some(Outbound::Dispatch { seq: s, .. }) if *s <= seq) {
            state.replay.pop_front();
        }
        if state.replay.is_empty() {
            state.replay = VecDeque::new();
        }
    }

    /// The connection `connection` went away; the session waits for a RESUME. A connection
    /// that was already replaced by a newer one detaches nothing.
    pub fn detach(&self, connection: &Arc<Outlet>) {
        let mut state = self.state();
        if state
            .connection
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, connection))
        {
            state.connection = None;
            state.detached_since = Some(Instant::now());
        }
    }

    /// Detached for longer than `window` (then the session can be forgotten).
    pub fn expired(&self, window: std::time::Duration) -> bool {
        self.state()
            .detached_since
            .is_some_and(|since| since.elapsed() > window)
    }

    /// Asks the attached connection to send op 7 (graceful shutdown).
    pub fn request_reconnect(&self) {
        if let Some(connection) = &self.state().connection {
            connection.push(Outbound::Reconnect);
        }
    }

    /// The last sequence number sent.
    #[cfg(test)]
    fn seq(&self) -> u64 {
        self.state().seq
    }
}

impl State {
    /// Numbers a dispatch, keeps it for RESUME and forwards it.
    fn push(&mut self, dispatch: Arc<Dispatch>) -> bool {
        if self.replay.len() == REPLAY_CAPACITY {
            self.replay.pop_front();
        }
        self.replay.push_back(Outbound::Dispatch {
            seq: self.seq + 1,
            dispatch: Arc::clone(&dispatch),
        });
        self.push_unkept(dispatch)
    }

    /// Numbers a dispatch and forwards it without keeping it for RESUME.
    fn push_unkept(&mut self, dispatch: Arc<Dispatch>) -> bool {
        self.seq += 1;
        let outbound = Outbound::Dispatch {
            seq: self.seq,
            dispatch,
        };
        match &self.connection {
            Some(connection) if !connection.push(outbound) => {
                // Too slow (the outlet closed itself) or replaced: keep the session resumable.
                self.connection = None;
                self.detached_since = Some(Instant::now());
                false
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::outlet::OUTBOUND_QUEUE;
    use crate::model::{CurrentUser, User};

    fn session() -> (Session, Arc<Outlet>) {
        let outlet = Arc::new(Outlet::default());
        let caller = Caller {
            user: CurrentUser::new(User::new(Snowflake(1), "u".into(), false), None),
        };
        (
            Session::new(1, "k".into(), caller, 0, Arc::clone(&outlet)),
            outlet,
        )
    }

    fn new_outlet() -> Arc<Outlet> {
        Arc::new(Outlet::default())
    }

    fn drain(outlet: &Outlet) -> Vec<Outbound> {
        outlet.take(usize::MAX).unwrap().into()
    }

    fn seqs(items: &[Outbound]) -> Vec<u64> {
        items
            .iter()
            .filter_map(|o| match o {
                Outbound::Dispatch { seq, .. } => Some(*seq),
                Outbound::Reconnect => None,
            })
            .collect()
    }

    fn d(n: u32) -> Arc<Dispatch> {
        Dispatch::new("MESSAGE_CREATE", format!("{{\"n\":{n}}}"))
    }

    #[test]
    fn fanout_events_wait_for_ready_and_follow_it_in_order() {
        let (session, outlet) = session();
        session.dispatch(&d(1));
        session.dispatch_direct("READY", "{}".into());
        session.dispatch_direct("GUILD_CREATE", "{}".into());
        session.finish_startup();
        let got = drain(&outlet);
        assert_eq!(seqs(&got), vec![1, 2, 3]);
        assert!(
            matches!(&got[0], Outbound::Dispatch { dispatch, .. } if &*dispatch.event == "READY")
        );
        assert!(
            matches!(&got[2], Outbound::Dispatch { dispatch, .. } if &*dispatch.event == "MESSAGE_CREATE")
        );
    }

    #[test]
    fn resume_replays_exactly_what_was_missed() {
        let (session, first) = session();
        session.finish_startup();
        for n in 0..5 {
            session.dispatch(&d(n));
        }
        session.detach(&new_outlet()); // not the attached connection: ignored
        assert!(!session.expired(std::time::Duration::ZERO));
        let missed = session.resume(2, new_outlet()).unwrap();
        assert_eq!(seqs(&missed), vec![3, 4, 5]);
        assert!(
            first.is_closed(),
            "the connection resumed elsewhere is closed"
        );
        assert!(session.resumed());
        assert_eq!(session.seq(), 6);
        assert_eq!(
            session.resume(7, new_outlet()).unwrap_err(),
            ResumeRefused::SeqNotInBuffer
        );
    }

    #[test]
    fn ready_is_numbered_but_never_replayed() {
        let (session, outlet) = session();
        session.dispatch_ready("{}".into());
        session.dispatch_direct("GUILD_CREATE", "{}".into());
        session.finish_startup();
        let sent = drain(&outlet);
        assert_eq!(seqs(&sent), vec![1, 2]);
        assert_eq!(seqs(&session.resume(1, new_outlet()).unwrap()), vec![2]);
        assert_eq!(
            session.resume(0, new_outlet()).unwrap_err(),
            ResumeRefused::SeqNotInBuffer
        );
    }

    #[test]
    fn acknowledged_dispatches_leave_the_replay_buffer() {
        let (session, _outlet) = session();
        session.dispatch_direct("READY", "{}".into());
        session.finish_startup();
        for n in 0..4 {
            session.dispatch(&d(n));
        }
        session.acknowledge(99); // never sent: ignored
        assert_eq!(
            seqs(&session.resume(0, new_outlet()).unwrap()),
            vec![1, 2, 3, 4, 5]
        );
        session.acknowledge(3);
        assert_eq!(
            session.resume(2, new_outlet()).unwrap_err(),
            ResumeRefused::SeqNotInBuffer
        );
        assert_eq!(seqs(&session.resume(3, new_outlet()).unwrap()), vec![4, 5]);
        session.acknowledge(5);
        assert!(session.resume(5, new_outlet()).unwrap().is_empty());
    }

    #[test]
    fn slow_connection_is_detached_and_old_seqs_fall_out_of_the_buffer() {
        let (session, outlet) = session();
        session.finish_startup();
        let sent = (OUTBOUND_QUEUE + 10) as u64;
        for n in 0..sent {
            session.dispatch(&d(n as u32));
        }
        assert!(outlet.is_closed(), "the slow connection is told to close");
        assert!(session.expired(std::time::Duration::ZERO));
        assert_eq!(
            session.resume(1, new_outlet()).unwrap_err(),
            ResumeRefused::SeqNotInBuffer
        );
        let missed = session
            .resume(sent - REPLAY_CAPACITY as u64, new_outlet())
            .unwrap();
        assert_eq!(missed.len(), REPLAY_CAPACITY);
    }
}
