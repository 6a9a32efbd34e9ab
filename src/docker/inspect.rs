//! What an inspect adds to a listed container (the list carries neither): how often the
//! engine restarted it, and its last health check (`State.Health.Log`, newest entry),
//! with when that check is next worth reading again.

use crate::domain::check::{LastCheck, first_line};
use crate::domain::logs::parse_timestamp;
use bollard::Docker;
use bollard::models::{ContainerInspectResponse, HealthcheckResult};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Inspects in flight at once on one engine: a first listing of 1,000 containers must not
/// open 1,000 requests together.
const INSPECTS_AT_ONCE: usize = 16;
const INSPECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The engine's own default when a check names no interval.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// Never re-read a check more often than this.
const RECHECK_MIN: Duration = Duration::from_secs(1);
/// A check's result lands in the log shortly after its end; read a little after.
const RECHECK_SLACK: Duration = Duration::from_millis(300);

/// One inspect's answer, as far as a listed container needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub restarts: Option<u32>,
    pub last_check: Option<LastCheck>,
    /// When a newer check result can be expected; None when no check runs (none is
    /// configured, or the container does not run).
    pub recheck: Option<Instant>,
}

/// `info` read at `wall` (the clock the engine's times are on) and `now` (the local
/// monotonic clock the check's age and `recheck` are on).
pub fn inspected(info: &ContainerInspectResponse, wall: SystemTime, now: Instant) -> Inspected {
    let state = info.state.as_ref();
    let last_check = (state.and_then(|s| s.health.as_ref()))
        .and_then(|h| h.log.as_ref())
        .and_then(|log| log.last())
        .map(|entry| last_check(entry, wall, now));
    let configured = (info.config.as_ref())
        .and_then(|c| c.healthcheck.as_ref())
        .filter(|h| {
            // ["NONE"] turns off a check the image declares.
            let test = h.test.as_deref().unwrap_or_default();
            !test.is_empty() && test[0] != "NONE"
        });
    let running = state.and_then(|s| s.running) == Some(true);
    let recheck = configured.filter(|_| running).map(|h| {
        let interval = (h.interval.and_then(|n| u64::try_from(n).ok()))
            .filter(|&n| n > 0)
            .map_or(DEFAULT_INTERVAL, Duration::from_nanos);
        // The next run ends about an interval after the last one did; without one yet,
        // or past that time already (a slow or stuck check), look again in a while.
        let soonest = now + (interval / 4).max(RECHECK_MIN);
        let expected = (last_check.as_ref())
            .and_then(|c| c.ended_at)
            .map(|at| at + interval + RECHECK_SLACK);
        expected.map_or(soonest, |at| at.max(soonest))
    });
    Inspected {
        restarts: info.restart_count.and_then(|n| u32::try_from(n).ok()),
        last_check,
        recheck,
    }
}

fn last_check(entry: &HealthcheckResult, wall: SystemTime, now: Instant) -> LastCheck {
    let time = |t: &Option<String>| t.as_deref().and_then(parse_timestamp);
    let ended = time(&entry.end);
    let wall_nanos = (wall.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0);
    // An end ahead of this clock (skew between hosts) counts as just now.
    let ended_at = ended.and_then(|end| {
        let ago = u64::try_from(wall_nanos.saturating_sub(end)).unwrap_or(0);
        now.checked_sub(Duration::from_nanos(ago))
    });
    LastCheck {
        started: time(&entry.start),
        ended,
        ended_at,
        exit_code: entry.exit_code.unwrap_or(-1),
        output: first_line(entry.output.as_deref().unwrap_or_default()),
    }
}

/// Inspects in flight in the whole process: at start every container is new, and 1,000
/// engines inspecting 16 each at once held 10,000 answers (about 140 MB) together.
static IN_FLIGHT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(64);

/// Inspects `ids` on `docker`, a few at a time; an id whose inspect fails or times out is
/// left out.
pub async fn inspect_all(docker: &Docker, ids: &[String]) -> HashMap<String, Inspected> {
    // Collected first: a lazy map's closure would make the stream not provably Send.
    let reads: Vec<_> = (ids.iter())
        .map(|id| async move {
            let _permit = IN_FLIGHT.acquire().await.ok()?;
            // Boxed once it may run: a waiting read stays small (the inspect's own state is
            // about 1.7 KB, and a first round waits with 10,000 of them at 1,000 engines).
            let answer = Box::pin(tokio::time::timeout(
                INSPECT_TIMEOUT,
                docker.inspect_container(id, None),
            ));
            match answer.await {
                Ok(Ok(info)) => Some((
                    id.clone(),
                    inspected(&info, SystemTime::now(), Instant::now()),
                )),
                _ => None,
            }
        })
        .collect();
    at_most(INSPECTS_AT_ONCE, reads)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Runs `work` with at most `limit` of it in flight at once; results come in the order
/// they finish.
async fn at_most<T>(
    limit: usize,
    work: impl IntoIterator<Item = impl Future<Output = T>>,
) -> Vec<T> {
    futures::stream::iter(work)
        .buffer_unordered(limit)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, ContainerState, Health, HealthConfig};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn answer(
        log: Vec<HealthcheckResult>,
        interval_s: i64,
        running: bool,
    ) -> ContainerInspectResponse {
        ContainerInspectResponse {
            restart_count: Some(2),
            state: Some(ContainerState {
                running: Some(running),
                health: Some(Health {
                    log: Some(log),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            config: Some(ContainerConfig {
                healthcheck: Some(HealthConfig {
                    test: Some(vec!["CMD".into(), "/bin/true".into()]),
                    interval: Some(interval_s * 1_000_000_000),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn entry(end: &str, exit_code: i64, output: &str) -> HealthcheckResult {
        HealthcheckResult {
            start: Some("2026-12-02T05:00:00.5Z".into()),
            end: Some(end.into()),
            exit_code: Some(exit_code),
            output: Some(output.into()),
        }
    }

    #[test]
    fn the_newest_entry_is_the_last_check_aged_on_the_local_clock() {
        let wall = UNIX_EPOCH
            + Duration::from_secs(
                parse_timestamp("2026-12-02T05:00:13Z").map_or(0, |n| n as u64 / 1_000_000_000),
            );
        let now = Instant::now();
        let log = vec![
            entry("2026-12-02T04:59:51Z", 0, "old"),
            entry("2026-12-02T05:00:01Z", 1, "\u{1b}]0;x\u{7}refused\nmore"),
        ];
        let got = inspected(&answer(log, 20, true), wall, now);
        assert_eq!(got.restarts, Some(2));
        let check = got.last_check.expect("a check");
        assert_eq!(check.exit_code, 1);
        assert_eq!(check.output, "refused");
        assert_eq!(check.started, parse_timestamp("2026-12-02T05:00:00.5Z"));
        assert_eq!(check.age(now), Some(Duration::from_secs(12)));
        // The next run ends twenty seconds after this one: 8 s from now, and a little.
        assert_eq!(
            got.recheck,
            Some(now + Duration::from_secs(8) + RECHECK_SLACK)
        );
    }

    #[test]
    fn overdue_missing_or_switched_off_checks() {
        let now = Instant::now();
        let wall = SystemTime::now();
        // No result yet: look again in a quarter interval.
        let got = inspected(&answer(Vec::new(), 20, true), wall, now);
        assert_eq!(got.last_check, None);
        assert_eq!(got.recheck, Some(now + Duration::from_secs(5)));
        // A result long overdue: not sooner than a second from now.
        let got = inspected(
            &answer(vec![entry("2000-01-01T00:00:00Z", 0, "")], 2, true),
            wall,
            now,
        );
        assert_eq!(got.recheck, Some(now + RECHECK_MIN));
        // A stopped container, or a check turned off, is not read again for it.
        assert_eq!(
            inspected(&answer(Vec::new(), 2, false), wall, now).recheck,
            None
        );
        let mut off = answer(Vec::new(), 2, true);
        if let Some(h) = off.config.as_mut().and_then(|c| c.healthcheck.as_mut()) {
            h.test = Some(vec!["NONE".into()]);
        }
        assert_eq!(inspected(&off, wall, now).recheck, None);
        // Nothing at all: no panic, nothing known.
        let bare = inspected(&ContainerInspectResponse::default(), wall, now);
        assert_eq!(
            (bare.restarts, bare.last_check, bare.recheck),
            (None, None, None)
        );
    }

    #[test]
    fn an_end_ahead_of_the_clock_reads_as_now_and_bad_times_as_unknown() {
        let now = Instant::now();
        let c = last_check(
            &entry("2200-01-01T00:00:00Z", 0, "ok"),
            SystemTime::now(),
            now,
        );
        assert_eq!(c.ended_at, Some(now));
        let c = last_check(&entry("yesterday", 0, "ok"), SystemTime::now(), now);
        assert_eq!((c.ended, c.ended_at), (None, None));
    }

    #[tokio::test]
    async fn no_more_than_the_limit_runs_at_once_and_all_finish() {
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let work = (0..1000).map(|n| {
            let (running, most) = (&running, &most);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, Ordering::SeqCst);
                n
            }
        });
        let mut done = at_most(16, work).await;
        done.sort_unstable();
        assert_eq!(done, (0..1000).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 16);
    }
}
