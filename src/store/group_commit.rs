//! Group commit for the embedded store: concurrent write transactions are queued to one writer
//! thread, which runs every write waiting at that moment inside a single SQLite transaction
//! (each in its own savepoint) and commits once. With `synchronous=FULL` a commit costs one
//! fsync of the WAL — milliseconds on ordinary disks — so committing writes one by one caps the
//! store at a few hundred writes per second; a batch shares the fsync. No caller hears of
//! success before the COMMIT that holds its write is durable, and a write that fails rolls back
//! only its own savepoint.

use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::error::StoreError;

/// Most writes one COMMIT carries (bounds how long the first write of a batch waits for it).
const MAX_BATCH: usize = 256;

/// What the writer reports to a queued write once its batch has committed (or not).
type Completion = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;

/// One queued write transaction.
trait QueuedWrite: Send {
    /// Runs the write in its savepoint of the batch's transaction; the returned completion
    /// answers the caller once the batch's fate is known.
    fn run(self: Box<Self>, tx: &rusqlite::Transaction<'_>) -> Completion;
    /// The batch could not even begin: answer with the error, nothing ran.
    fn fail(self: Box<Self>, err: &rusqlite::Error);
}

struct Write<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
    classify: fn(rusqlite::Error) -> StoreError,
}

impl<T, F> QueuedWrite for Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    fn run(self: Box<Self>, tx: &rusqlite::Transaction<'_>) -> Completion {
        let Write {
            work,
            reply,
            classify,
        } = *self;
        let outcome = in_savepoint(tx, work).map_err(classify);
        Box::new(move |commit_error| {
            let answer = match (outcome, commit_error) {
                (Ok(_), Some(err)) => Err(StoreError::Backend(err.to_string())),
                (outcome, _) => outcome,
            };
            // The caller may have given up waiting; the write stands either way.
            let _ = reply.send(answer);
        })
    }

    fn fail(self: Box<Self>, err: &rusqlite::Error) {
        let _ = self.reply.send(Err(StoreError::Backend(err.to_string())));
    }
}

/// Runs `work` so that, if it fails, everything it did is undone and the batch goes on.
fn in_savepoint<T>(
    tx: &rusqlite::Transaction<'_>,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    // Cached statements: these run for every write, and parsing them each time showed up in
    // the REST write profile.
    let run = |sql: &str| tx.prepare_cached(sql)?.execute([]).map(drop);
    run("SAVEPOINT queued_write")?;
    match work(tx) {
        Ok(out) => {
            run("RELEASE queued_write")?;
            Ok(out)
        }
        Err(err) => {
            run("ROLLBACK TO queued_write")?;
            run("RELEASE queued_write")?;
            Err(err)
        }
    }
}

/// The queue in front of the writer thread. The thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Box<dyn QueuedWrite>>,
}

impl GroupCommit {
    /// Starts the writer thread, which owns `conn` from now on.
    pub fn start(mut conn: Connection) -> std::io::Result<GroupCommit> {
        let (queue, jobs) = mpsc::channel::<Box<dyn QueuedWrite>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_batches(&mut conn, &jobs))?;
        Ok(GroupCommit { queue })
    }

    /// Runs `work` in the next batch; resolves once that batch's COMMIT is durable.
    pub async fn write<T, F>(
        &self,
        work: F,
        classify: fn(rusqlite::Error) -> StoreError,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let write = Box::new(Write {
            work,
            reply,
            classify,
        });
        self.queue
            .send(write)
            .map_err(|_| StoreError::Backend("the store's writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the store's writer has stopped".into()))?
    }
}

/// The writer thread: waits for a write, takes every other write already queued, and commits
/// them together.
fn write_batches(conn: &mut Connection, jobs: &mpsc::Receiver<Box<dyn QueuedWrite>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (completions, committed) =
            match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
                Ok(tx) => {
                    let completions: Vec<Completion> =
                        batch.into_iter().map(|job| job.run(&tx)).collect();
                    (completions, tx.commit())
                }
                Err(err) => {
                    batch.into_iter().for_each(|job| job.fail(&err));
                    continue;
                }
            };
        let commit_error = committed.as_ref().err();
        for complete in completions {
            complete(commit_error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> GroupCommit {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .unwrap();
        GroupCommit::start(conn).unwrap()
    }

    fn backend(err: rusqlite::Error) -> StoreError {
        StoreError::Backend(err.to_string())
    }

    async fn count(writer: &GroupCommit) -> i64 {
        writer
            .write(
                |tx| tx.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)),
                backend,
            )
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn concurrent_writes_all_land_and_a_failing_one_undoes_only_itself() {
        let writer = store();
        let mut tasks = Vec::new();
        for n in 0..200i64 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                writer
                    .write(
                        move |tx| {
                            tx.execute("INSERT INTO t (id) VALUES (?1)", [n])?;
                            if n % 10 == 0 {
                                // a second row, then a conflict: both must disappear
                                tx.execute("INSERT INTO t (id) VALUES (?1)", [1000 + n])?;
                                tx.execute("INSERT INTO t (id) VALUES (?1)", [n])?;
                            }
                            Ok(n)
                        },
                        backend,
                    )
                    .await
            }));
        }
        let mut failed = 0;
        for (n, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(got) => assert_eq!(got, n as i64),
                Err(_) => {
                    assert_eq!(n % 10, 0);
                    failed += 1;
                }
            }
        }
        assert_eq!(failed, 20);
        assert_eq!(count(&writer).await, 180);
    }
}
