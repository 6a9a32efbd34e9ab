//! The etcd indicator's one writer: every watcher says Connected or Unreachable on its
//! own; the feed folds those into one word about etcd, so the screen does not show
//! whichever watcher spoke last.

use crate::cluster::EtcdEvent;

/// What each watcher last said, and what was last told to the cluster picture.
#[derive(Debug)]
pub(super) struct EtcdHealth {
    /// Per watcher: Ok(revision) once connected, Err(why) while it cannot reach etcd.
    watchers: Vec<Option<Result<i64, String>>>,
    told: Option<EtcdEvent>,
}

impl EtcdHealth {
    pub(super) fn new(watchers: usize) -> EtcdHealth {
        EtcdHealth {
            watchers: vec![None; watchers],
            told: None,
        }
    }

    /// Records watcher `which`'s news; returns the event to apply when the whole changed.
    /// etcd is unreachable while any watcher cannot reach it (the first one's reason), and
    /// connected once those that spoke all are.
    pub(super) fn report(&mut self, which: usize, news: Result<i64, String>) -> Option<EtcdEvent> {
        *self.watchers.get_mut(which)? = Some(news);
        let said = self.watchers.iter().flatten();
        let whole = match said.clone().find_map(|n| n.as_ref().err()) {
            Some(error) => EtcdEvent::Unreachable {
                error: error.clone(),
            },
            None => EtcdEvent::Connected {
                revision: said.filter_map(|n| n.as_ref().ok()).copied().max()?,
            },
        };
        if self.told.as_ref() == Some(&whole) {
            return None;
        }
        self.told = Some(whole.clone());
        Some(whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down(why: &str) -> Option<EtcdEvent> {
        Some(EtcdEvent::Unreachable { error: why.into() })
    }

    #[test]
    fn one_watcher_down_keeps_etcd_down_until_all_are_back() {
        let mut etcd = EtcdHealth::new(2);
        assert_eq!(
            etcd.report(0, Ok(5)),
            Some(EtcdEvent::Connected { revision: 5 })
        );
        assert_eq!(etcd.report(1, Err("refused".into())), down("refused"));
        assert_eq!(etcd.report(0, Err("timeout".into())), down("timeout"));
        assert_eq!(
            etcd.report(0, Ok(7)),
            down("refused"),
            "watcher 1 is still away"
        );
        assert_eq!(etcd.report(1, Err("refused".into())), None, "said already");
        assert_eq!(
            etcd.report(1, Ok(8)),
            Some(EtcdEvent::Connected { revision: 8 })
        );
        assert_eq!(etcd.report(2, Ok(9)), None, "no such watcher");
    }
}
