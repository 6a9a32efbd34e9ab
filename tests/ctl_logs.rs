//! `wheelhouse ctl logs` against a real lab: a container's lines in order with stderr
//! marked, --tail (counting lines, not the engine's messages) and --since, hostile bytes
//! made inert, a 90,000-byte line cut; an app's instances on two hosts merged in time
//! order; -f picking up new lines and a new instance; a closed pipe. (An engine killed
//! during -f: e2e_logs_resume.)

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use wheelhouse::domain::logs::parse_timestamp;
use wheelhouse::lab::TestLab;

mod common;

use common::follow::{AROUND_A_LONG_LINE, Follow, long_line, ticker, ticks};
use common::lab::{Run, ctl_command, shell, wait_until};

/// `ctl logs ARGS`: exit code, raw stdout, stderr.
fn logs(config: &Path, args: &[&str]) -> (i32, Vec<u8>, String) {
    let mut all = vec!["logs"];
    all.extend_from_slice(args);
    let out = ctl_command(config, &[], &all).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn logs_ok(config: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = logs(config, args);
    assert_eq!(code, 0, "ctl logs {args:?}: {stderr}");
    String::from_utf8(stdout).expect("UTF-8")
}

#[test]
fn container_and_app_logs_on_two_hosts() {
    let lab = TestLab::up(2).expect("lab up");
    let config = lab.config_path();

    // Known lines, stderr among them, a hostile line, a 90,000-byte line, then one more.
    let script = "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 0.1; \
        printf 'a\\033[2Jb\\033]52;c;aGk=\\007c\\342\\200\\256d\\re\\007f\\033]0;title\\007\\n'; \
        sleep 0.1; s=xxxxxxxxxx; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s; \
        t=; for i in 1 2 3 4 5 6 7 8 9; do t=$t$s$s$s$s$s$s$s$s$s$s; done; \
        echo \"$t\"; sleep 0.1; echo after; sleep 5; echo late; sleep 3600";
    lab.engine(0)
        .run("known", shell(script, &[], false))
        .expect("run");
    wait_until("the first lines", Duration::from_secs(20), || {
        let out = logs_ok(&config, &["known"]);
        (!out.contains("after")).then_some(out)
    });
    let out = logs_ok(&config, &["known"]);
    let lines: Vec<&str> = out.lines().collect();
    let short: Vec<&str> = lines.iter().map(|l| &l[..l.len().min(60)]).collect();
    assert_eq!(lines[..3], ["one", "[stderr] two", "three"], "{short:?}");
    assert_eq!(lines[3], "abc\u{fffd}d\u{fffd}e\u{fffd}f", "{short:?}");
    // The long line keeps 16 KiB and says how much went; the next line is whole.
    let want = format!("{} [… {} bytes cut]", "x".repeat(16_384), 90_000 - 16_384);
    let tail = &lines[4][lines[4].len().saturating_sub(40)..];
    assert!(
        lines[4] == want,
        "{} bytes, ending {tail:?}",
        lines[4].len()
    );
    assert_eq!(lines[5], "after");

    let (code, raw, stderr) = logs(&config, &["known", "--timestamps", "--no-prefix"]);
    assert_eq!(code, 0, "{stderr}");
    for hostile in [
        &b"\x1b"[..],
        b"\x07",
        b"\r",
        "\u{202e}".as_bytes(),
        "\u{9b}".as_bytes(),
    ] {
        assert!(
            !raw.windows(hostile.len()).any(|w| w == hostile),
            "{hostile:?} reached stdout"
        );
    }
    // --since: once `late` is there, the last 3 seconds hold it and nothing older.
    wait_until("the late line", Duration::from_secs(20), || {
        let out = logs_ok(&config, &["known"]);
        (!out.contains("late")).then_some(out)
    });
    assert_eq!(logs_ok(&config, &["known", "--since", "3s"]), "late\n");
    // --tail counts lines (the 90,000-byte one is several of the engine's messages).
    let json = logs_ok(&config, &["known", "--tail", "2", "-o", "json"]);
    let values: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(values.len(), 2, "{json}");
    assert_eq!(values[0]["text"], "after");
    assert_eq!(values[1]["text"], "late");
    assert_eq!(values[0]["stream"], "stdout");
    assert_eq!(values[0]["host"], "lab-1");
    assert!(values.iter().all(|v| v["unix_nanos"].as_i64().is_some()));
    let stderr_json = logs_ok(&config, &["known", "-o", "json"]);
    assert!(
        stderr_json.contains(r#""stream":"stderr","text":"two""#),
        "no stderr line among {} JSON lines",
        stderr_json.lines().count()
    );

    let (code, _, stderr) = logs(&config, &["known", "--since", "soon"]);
    assert_eq!(code, 2, "{stderr}");

    // Names: unknown, and one name on two hosts.
    let unknown = Run::of(&mut ctl_command(&config, &[], &["logs", "nothing-here"]));
    unknown.fails(2, "no container or app named \"nothing-here\"");
    for i in 0..2 {
        lab.engine(i)
            .run("twin", shell("echo hi; sleep 3600", &[], false))
            .expect("run");
    }
    let twins = Run::of(&mut ctl_command(&config, &[], &["logs", "twin"]));
    twins.fails(2, "\"twin\" names 2 containers: twin (");
    assert!(
        twins.stderr.contains("on lab-1") && twins.stderr.contains("on lab-2"),
        "{}",
        twins.stderr
    );

    // An app of two instances on two hosts, merged in time order with prefixes.
    for (i, instance) in [(0, "1"), (1, "2")] {
        let labels = [
            ("wheelhouse.app", "pair"),
            ("wheelhouse.instance", instance),
        ];
        let name = format!("pair-{instance}");
        lab.engine(i)
            .run(&name, shell(&ticker("0.3"), &labels, false))
            .expect("run");
    }
    wait_until("both instances print", Duration::from_secs(20), || {
        let out = logs_ok(&config, &["pair"]);
        (out.matches("pair.1 | tick").count() < 5 || out.matches("pair.2 | tick").count() < 5)
            .then_some(out)
    });
    let merged = logs_ok(&config, &["pair", "--timestamps"]);
    let times: Vec<i64> = merged
        .lines()
        .map(|l| parse_timestamp(l.split(' ').next().unwrap()).expect("a timestamp"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "not in time order:\n{merged}"
    );
    for tag in ["pair.1", "pair.2"] {
        let own: Vec<String> = merged
            .lines()
            .filter(|l| l.contains(&format!(" {tag} | ")))
            .map(str::to_owned)
            .collect();
        let n = ticks(&own);
        assert!(n.windows(2).all(|w| w[1] == w[0] + 1), "{tag}: {n:?}");
    }

    // -f: new lines within seconds, and an instance that starts while following joins.
    let printed = logs_ok(&config, &["pair"]);
    let seen = ticks(
        &printed
            .lines()
            .filter(|l| l.starts_with("pair.2 |"))
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    );
    let seen = seen.last().copied().unwrap_or(0);
    let follow = Follow::start(&config, &["pair", "--tail", "1"]);
    let started = Instant::now();
    follow.wait_line("a new pair.2 line", Duration::from_secs(10), |l| {
        l.starts_with("pair.2 | tick")
            && ticks(&[l.to_owned()])
                .first()
                .is_some_and(|&n| n > seen + 2)
    });
    let labels = [("wheelhouse.app", "pair"), ("wheelhouse.instance", "3")];
    let third = lab
        .engine(1)
        .run("pair-3", shell(&ticker("0.3"), &labels, false))
        .expect("run");
    follow.wait_line("the new instance", Duration::from_secs(15), |l| {
        l == "pair.3 | tick 1"
    });
    assert!(started.elapsed() < Duration::from_secs(25));
    assert!(follow.said("pair.3 joined (pair-3 on lab-2)"));
    // ... and leaves when it goes, while the others go on.
    lab.engine(1).remove_container(&third).expect("remove");
    wait_until("pair.3 leaves", Duration::from_secs(15), || {
        (!follow.said("pair.3 left (pair-3 on lab-2)"))
            .then(|| follow.err.lock().unwrap().join("\n"))
    });
    let count = follow.lines().len();
    follow.wait_line("the others go on", Duration::from_secs(10), |_| {
        follow.lines().len() > count + 4
    });
    drop(follow);

    // A reader that goes away ends `-f` quietly, exit 0.
    let mut head = ctl_command(&config, &[], &["logs", "-f", "pair"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(head.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    assert!(first.starts_with("pair."), "{first}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = head.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = head.kill();
            panic!("ctl logs -f still runs after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut head.stderr.take().expect("stderr"), &mut err).ok();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn tail_counts_lines_not_the_engines_messages() {
    let lab = TestLab::up(1).expect("lab up");
    let config = lab.config_path();
    lab.engine(0)
        .run("around", shell(AROUND_A_LONG_LINE, &[], false))
        .expect("run");
    wait_until("every line", Duration::from_secs(20), || {
        let out = logs_ok(&config, &["around"]);
        (!out.contains("s4")).then_some(out)
    });
    let long = long_line();
    let tail = |n: &str| logs_ok(&config, &["around", "--tail", n]);
    let lines = |out: &str| -> Vec<String> { out.lines().map(str::to_owned).collect() };
    assert_eq!(lines(&tail("1")), ["s4"]);
    assert_eq!(lines(&tail("3")), [long.as_str(), "s3", "s4"]);
    assert_eq!(lines(&tail("4")), ["s2", long.as_str(), "s3", "s4"]);
    assert_eq!(lines(&tail("100")), ["s1", "s2", long.as_str(), "s3", "s4"]);
    assert_eq!(tail("0"), "");
    // Following from a tail: the same lines first, then nothing twice.
    let follow = Follow::start(&config, &["around", "--tail", "3"]);
    follow.wait_line("s4", Duration::from_secs(10), |l| l == "s4");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(follow.lines(), [long.as_str(), "s3", "s4"]);
}
