//! The cockpit's refusals on their way to the audit trail: one etcd client, made at the
//! first refusal and kept, and a held key (or a script repeating one) coalesced: the same
//! refusal again within `WINDOW` of the one written is counted, and the count written as
//! one record when the window closes.

use super::{Principal, audit};
use crate::store::{AuditEntry, AuditOutcome, EtcdLink};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A change refused on a screen, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Refusal {
    /// The command's name ("scale", "rollout", ...), or "export", "theme".
    pub verb: String,
    /// The app (or host, or file) it was aimed at, "-" when none was selected.
    pub target: String,
    /// What the operator was told.
    pub reason: String,
    /// Why, as the audit records it: read-only, or a bad count.
    pub cause: crate::store::AuditReason,
}

/// How long the same refusal again is counted rather than written.
pub const WINDOW: Duration = Duration::from_secs(5);

/// Refusals queued for the auditor; more are dropped (and logged) rather than waited for.
const QUEUE: usize = 64;

/// One audit record to write: a refusal as it came (`repeats` 0), or how many times it
/// came again within the window after it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub refusal: Refusal,
    pub repeats: u32,
}

impl Record {
    pub fn entry(&self, principal: &Principal) -> AuditEntry {
        let Refusal {
            verb,
            target,
            reason,
            cause,
        } = &self.refusal;
        let detail = if self.repeats > 0 {
            format!("repeated {}× within {}s", self.repeats, WINDOW.as_secs())
        } else {
            String::new()
        };
        let (who, from) = (&principal.who, &principal.from);
        let mut entry = AuditEntry::by(who, from, verb, target, detail, reason)
            .with_outcome(AuditOutcome::Refused);
        entry.reason = Some(*cause);
        entry
    }
}

/// Which refusals were written when, and how often each came again since.
#[derive(Debug, Default)]
pub struct Coalescer {
    open: HashMap<Refusal, Window>,
}

#[derive(Debug)]
struct Window {
    since: Instant,
    repeats: u32,
}

impl Coalescer {
    /// `refusal` came at `now`: the records to write (the counts of windows that closed
    /// meanwhile, then this one unless it repeats one written within `WINDOW`).
    pub fn refuse(&mut self, refusal: Refusal, now: Instant) -> Vec<Record> {
        let mut records = self.close(now);
        match self.open.get_mut(&refusal) {
            Some(window) => window.repeats += 1,
            None => {
                self.open.insert(
                    refusal.clone(),
                    Window {
                        since: now,
                        repeats: 0,
                    },
                );
                records.push(Record {
                    refusal,
                    repeats: 0,
                });
            }
        }
        records
    }

    /// Closes the windows `WINDOW` old at `now`: a record for each that counted repeats.
    pub fn close(&mut self, now: Instant) -> Vec<Record> {
        let closed: Vec<Refusal> = self
            .open
            .iter()
            .filter(|(_, w)| now.saturating_duration_since(w.since) >= WINDOW)
            .map(|(refusal, _)| refusal.clone())
            .collect();
        let mut records = Vec::new();
        for refusal in closed {
            if let Some(window) = self.open.remove(&refusal)
                && window.repeats > 0
            {
                records.push(Record {
                    refusal,
                    repeats: window.repeats,
                });
            }
        }
        records
    }

    /// When the next window with repeats closes.
    pub fn next_close(&self) -> Option<Instant> {
        self.open
            .values()
            .filter(|w| w.repeats > 0)
            .map(|w| w.since + WINDOW)
            .min()
    }
}

/// Starts the auditor of a screen's refusals; dropping every sender ends it.
pub fn spawn_auditor(
    etcd: EtcdLink,
    prefix: String,
    principal: Principal,
) -> mpsc::Sender<Refusal> {
    let (tx, mut rx) = mpsc::channel::<Refusal>(QUEUE);
    tokio::spawn(async move {
        let mut coalescer = Coalescer::default();
        loop {
            let wake = coalescer.next_close();
            let records = tokio::select! {
                got = rx.recv() => match got {
                    Some(refusal) => coalescer.refuse(refusal, Instant::now()),
                    None => break,
                },
                () = sleep_until(wake), if wake.is_some() => coalescer.close(Instant::now()),
            };
            for record in records {
                write(&etcd, &prefix, &record.entry(&principal)).await;
            }
        }
    });
    tx
}

async fn sleep_until(wake: Option<Instant>) {
    if let Some(wake) = wake {
        tokio::time::sleep_until(tokio::time::Instant::from_std(wake)).await;
    }
}

/// Writes one record on the process's client.
async fn write(etcd: &EtcdLink, prefix: &str, entry: &AuditEntry) {
    match etcd.client().await {
        Ok((_, mut client)) => audit(&mut client, prefix, entry).await,
        Err(e) => {
            let (verb, target) = (&entry.command, &entry.target);
            tracing::warn!(verb, target, "cannot record the refusal: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Mode;
    use crate::store::AuditReason;

    fn refusal(verb: &str) -> Refusal {
        Refusal {
            verb: verb.to_owned(),
            target: "web".to_owned(),
            reason: "read-only: nothing was changed".to_owned(),
            cause: AuditReason::ReadOnly,
        }
    }

    #[test]
    fn a_held_key_is_written_once_then_counted_once_its_window_closes() {
        let mut c = Coalescer::default();
        let t0 = Instant::now();
        let scale = refusal("scale_up");
        assert_eq!(
            c.refuse(scale.clone(), t0),
            [Record {
                refusal: scale.clone(),
                repeats: 0
            }]
        );
        // Thirty repeats of the key within the window: nothing written yet.
        for i in 1..=30 {
            assert!(c.refuse(scale.clone(), t0 + WINDOW * i / 31).is_empty());
        }
        assert_eq!(c.next_close(), Some(t0 + WINDOW));
        assert!(c.close(t0 + WINDOW / 2).is_empty());
        assert_eq!(
            c.close(t0 + WINDOW),
            [Record {
                refusal: scale.clone(),
                repeats: 30
            }]
        );
        assert_eq!(c.next_close(), None);
        // After the window, the same refusal is written again.
        assert_eq!(c.refuse(scale.clone(), t0 + WINDOW * 2).len(), 1);
    }

    #[test]
    fn different_refusals_are_each_written_and_a_late_one_flushes_the_count() {
        let mut c = Coalescer::default();
        let t0 = Instant::now();
        let (scale, delete) = (refusal("scale_up"), refusal("delete"));
        assert_eq!(c.refuse(scale.clone(), t0).len(), 1);
        assert!(c.refuse(scale.clone(), t0).is_empty());
        assert_eq!(c.refuse(delete.clone(), t0).len(), 1);
        // A refusal after the window brings the pending count with it.
        let records = c.refuse(scale.clone(), t0 + WINDOW);
        assert_eq!(
            records,
            [
                Record {
                    refusal: scale.clone(),
                    repeats: 1
                },
                Record {
                    refusal: scale.clone(),
                    repeats: 0
                }
            ]
        );
        let ana = Principal {
            who: "ana".into(),
            from: "local".into(),
            mode: Mode::ReadOnly,
        };
        assert_eq!(records[0].entry(&ana).detail, "repeated 1× within 5s");
        assert_eq!(records[1].entry(&ana).detail, "");
        let entry = records[0].entry(&ana);
        assert_eq!(entry.outcome, Some(AuditOutcome::Refused));
        assert_eq!(
            (entry.who.as_str(), entry.reason),
            ("ana", Some(AuditReason::ReadOnly))
        );
    }
}
