//! The leader's `/placement/<app>` records: what it has written under its lease, written
//! one change after another by one task at a time, and only what etcd took counted as
//! written (a failed put or clear is tried again the next round).

use crate::sched::Unplaceable;
use crate::store;
use etcd_client::Client;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::task::JoinHandle;

type Written = Arc<Mutex<BTreeMap<String, Unplaceable>>>;

#[derive(Default)]
pub(super) struct Placement {
    /// Problems etcd has taken under this leadership's lease.
    written: Written,
    /// The task writing the last round's changes, while it runs.
    writer: Option<JoinHandle<()>>,
}

impl Placement {
    /// A new leadership: nothing written under its lease yet.
    pub fn reset(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.abort();
        }
        // A writer still finishing records into the old map, not the new leadership's.
        self.written = Written::default();
    }

    /// Writes each new or changed problem and clears each solved one. While the last
    /// round's writer runs, this round leaves its changes to the next (so a clear never
    /// overtakes the put before it).
    pub fn publish(&mut self, client: &Client, prefix: &str, lease: i64, unplaced: &[Unplaceable]) {
        if self.writer.as_ref().is_some_and(|w| !w.is_finished()) {
            return;
        }
        let (puts, clears) = changes(&lock(&self.written), unplaced);
        if puts.is_empty() && clears.is_empty() {
            self.writer = None;
            return;
        }
        let (mut client, prefix, written) =
            (client.clone(), prefix.to_owned(), self.written.clone());
        self.writer = Some(tokio::spawn(async move {
            for u in puts {
                match store::put_placement(&mut client, &prefix, lease, &u).await {
                    Ok(()) => drop(lock(&written).insert(u.app.clone(), u)),
                    Err(e) => {
                        tracing::warn!(app = u.app, error = %e, "cannot write the placement problem")
                    }
                }
            }
            for app in clears {
                match store::clear_placement(&mut client, &prefix, &app).await {
                    Ok(()) => drop(lock(&written).remove(&app)),
                    Err(e) => tracing::warn!(app, error = %e, "cannot clear the placement problem"),
                }
            }
        }));
    }
}

fn lock(written: &Written) -> std::sync::MutexGuard<'_, BTreeMap<String, Unplaceable>> {
    written.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The problems to put (new or changed since written) and the apps to clear (written,
/// placed now).
fn changes(
    written: &BTreeMap<String, Unplaceable>,
    unplaced: &[Unplaceable],
) -> (Vec<Unplaceable>, Vec<String>) {
    let puts = (unplaced.iter())
        .filter(|u| written.get(&u.app) != Some(*u))
        .cloned()
        .collect();
    let clears = (written.keys())
        .filter(|app| !unplaced.iter().any(|u| &u.app == *app))
        .cloned()
        .collect();
    (puts, clears)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(app: &str, placed: u32) -> Unplaceable {
        Unplaceable {
            app: app.to_owned(),
            wanted: 3,
            placed,
            reasons: vec![("h1".to_owned(), "memory full".to_owned())],
        }
    }

    #[tokio::test]
    async fn only_what_etcd_took_counts_as_written_so_a_failed_write_is_tried_again() {
        // No etcd answers on this address: every write fails.
        let client = Client::connect(["http://127.0.0.1:1"], None).await;
        let client = client.expect("etcd-client connects lazily");
        let mut placement = Placement::default();
        placement.publish(&client, "/wh", 1, &[problem("web", 1)]);
        if let Some(writer) = placement.writer.take() {
            assert!(writer.await.is_ok());
        }
        assert!(
            lock(&placement.written).is_empty(),
            "a failed put is not recorded"
        );
        let (puts, _) = changes(&lock(&placement.written), &[problem("web", 1)]);
        assert_eq!(
            puts,
            vec![problem("web", 1)],
            "the next round puts it again"
        );
    }

    #[test]
    fn changed_problems_are_put_and_solved_ones_cleared() {
        let written: BTreeMap<_, _> = [("web", 1), ("db", 0)]
            .into_iter()
            .map(|(a, p)| (a.to_owned(), problem(a, p)))
            .collect();
        let (puts, clears) = changes(&written, &[problem("web", 2), problem("db", 0)]);
        assert_eq!(puts, vec![problem("web", 2)]);
        assert!(clears.is_empty());
        let (puts, clears) = changes(&written, &[problem("db", 0)]);
        assert!(puts.is_empty());
        assert_eq!(clears, vec!["web".to_owned()]);
    }
}
