//! The real binary in tmux against a real lab: grid, selection, host view, help, clean exit.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tmux::{Tmux, quote};
use std::time::Duration;
use wheelhouse::lab::TestLab;

const BIN: &str = env!("CARGO_BIN_EXE_wheelhouse");

#[test]
fn cockpit_shows_the_lab_and_opens_a_host() {
    let lab = TestLab::up(3).expect("lab up");
    wheelhouse::lab::demo::start_demo_containers(&lab).expect("demo containers");
    let log = lab.config_path().with_file_name("e2e.log");
    let tmux = Tmux::start("grid", 120, 30);
    tmux.run_line(&format!(
        "{} --config {} --log-file {}; echo EX''IT=$?; stty -a | grep -o -- '-\\?ican''on'",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
        quote(&log),
    ));

    // Every host comes online, with CPU and memory figures in its cell.
    let screen = tmux.wait_for("3/3 hosts online", Duration::from_secs(20), |s| {
        s.contains("3/3") && s.contains("lab-1") && s.contains("lab-3")
    });
    assert!(screen.contains("CPU"), "large cells show CPU:\n{screen}");
    assert!(screen.contains("etcd"), "status bar shows etcd:\n{screen}");

    // Move right and open: the second host's view lists its containers.
    tmux.keys(&["Right", "Enter"]);
    let host = &lab.hosts()[1];
    let screen = tmux.wait_text(&host.address, Duration::from_secs(5));
    assert!(
        screen.contains("lab-2"),
        "host view names the host:\n{screen}"
    );
    assert!(
        screen.contains("wheelhouse/demo"),
        "host view lists demo containers:\n{screen}"
    );
    // Running containers read "up" and how long; restarts, ports and short ids have columns.
    assert!(screen.contains(" up "), "{screen}");
    assert!(
        screen.contains("RST") && screen.contains("PORTS") && screen.contains(" ID "),
        "{screen}"
    );

    // Esc goes back to the grid; ? shows help made from the keymap.
    tmux.keys(&["Escape"]);
    tmux.wait_for("back on the grid", Duration::from_secs(5), |s| {
        s.contains("lab-1") && s.contains("lab-3") && !s.contains(&host.address)
    });
    tmux.keys(&["?"]);
    let screen = tmux.wait_text("open the selected host", Duration::from_secs(5));
    assert!(
        screen.contains("quit") && screen.contains("crit ≥90%"),
        "{screen}"
    );
    tmux.keys(&["Escape", "q"]);

    // The process exits 0 and leaves the terminal in cooked mode.
    // The typed line splits both markers with '' so only the output matches them.
    let screen = tmux.wait_for("exit status and stty", Duration::from_secs(5), |s| {
        s.split("EXIT=")
            .nth(1)
            .is_some_and(|after| after.contains("icanon"))
    });
    assert!(screen.contains("EXIT=0"), "{screen}");
    let after = screen.split("EXIT=0").nth(1).unwrap_or_default();
    assert!(
        after.contains("icanon") && !after.contains("-icanon"),
        "terminal left raw:\n{screen}"
    );
}

#[test]
fn a_killed_engine_or_etcd_is_shown_and_recovers() {
    let mut lab = TestLab::up(2).expect("lab up");
    let tmux = Tmux::start("offline", 100, 25);
    tmux.run_line(&format!(
        "{} --config {} --refresh 1s --log-file /dev/null",
        quote(BIN.as_ref()),
        quote(&lab.config_path())
    ));
    tmux.wait_text("2/2", Duration::from_secs(20));
    lab.kill_host(0).expect("kill dockerd");
    let screen = tmux.wait_text("1/2", Duration::from_secs(8));
    assert!(
        screen.to_lowercase().contains("down") || screen.contains("offline"),
        "{screen}"
    );
    lab.start_host(0).expect("restart dockerd");
    tmux.wait_text("2/2", Duration::from_secs(10));

    // etcd going away is shown, the engines' data stays, and it recovers.
    tmux.wait_text("etcd connected", Duration::from_secs(10));
    lab.stop_etcd().expect("stop etcd");
    let screen = tmux.wait_text("etcd unreachable", Duration::from_secs(8));
    assert!(
        screen.contains("2/2"),
        "engines still shown while etcd is down:\n{screen}"
    );
    lab.start_etcd().expect("start etcd");
    tmux.wait_text("etcd connected", Duration::from_secs(10));
    tmux.keys(&["q"]);
}

/// What `./scripts/demo` runs: a lab (with its agents), a controller, the demo app, the
/// cockpit on it all.
#[test]
fn demo_brings_up_lab_controller_and_app_and_lab_down_stops_them() {
    let dir = tempfile::Builder::new()
        .prefix("whd-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let tmux = Tmux::start("demo", 140, 35);
    tmux.run_line(&format!(
        "{} demo --hosts 3 --dir {} --log-file {}",
        quote(BIN.as_ref()),
        quote(dir.path()),
        quote(&dir.path().join("cockpit.log")),
    ));
    // The controller places the app's 6 instances; the panel counts them running and healthy.
    let screen = tmux.wait_for("web 6/6/6", Duration::from_secs(60), |s| {
        s.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .windows(4)
                .any(|w| w[0] == "wheelhouse/demo:1" && w[1..] == ["6", "6", "6"])
        })
    });
    assert!(screen.contains("3/3"), "{screen}");
    tmux.keys(&["q"]);

    let lab = wheelhouse::lab::Lab::open(dir.path()).expect("lab state");
    let pids = lab.pids();
    assert_eq!(
        pids.len(),
        8,
        "etcd, 3 dockerd, the controller and 3 agents: {pids:?}"
    );
    lab.down().expect("lab down");
    for pid in pids {
        assert!(
            !wheelhouse::lab::pid_running(pid),
            "pid {pid} still running after lab down"
        );
    }
}

/// A theme file is reloaded when it changes; a broken edit keeps the old one and says why.
#[test]
fn a_theme_file_is_reloaded_live_and_a_broken_edit_is_named() {
    let lab = TestLab::up(1).expect("lab up");
    let theme = lab.config_path().with_file_name("mine.toml");
    std::fs::write(&theme, "[glyphs]\nok = \"o\"\n").expect("write theme");
    // Wide enough for the counters and the whole message naming the file and line.
    let tmux = Tmux::start("theme", 180, 25);
    tmux.run_line(&format!(
        "{} --config {} --theme {} --log-file /dev/null",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
        quote(&theme),
    ));
    tmux.wait_text("o lab-1", Duration::from_secs(20));

    // mtimes have a coarse grain on some filesystems: make each edit visibly later.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(
        &theme,
        "[glyphs]\nok = \"o\"\n\n[palette]\nok = \"greenish\"\n",
    )
    .expect("write");
    let screen = tmux.wait_text("theme not reloaded", Duration::from_secs(5));
    assert!(screen.contains(":5:"), "the error names line 5:\n{screen}");
    assert!(screen.contains("o lab-1"), "the old theme stays:\n{screen}");

    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&theme, "[glyphs]\nok = \"+\"\n").expect("write");
    tmux.wait_text("+ lab-1", Duration::from_secs(5));

    // `:theme NAME` switches to a built-in; an unknown name keeps the theme and says why.
    tmux.keys(&[":"]);
    tmux.run_line("theme mono");
    let screen = tmux.wait_text("theme mono", Duration::from_secs(5));
    assert!(screen.contains("✓ lab-1"), "mono's own glyphs:\n{screen}");
    tmux.keys(&[":"]);
    tmux.run_line("theme sparkly");
    let screen = tmux.wait_text("theme not changed", Duration::from_secs(5));
    assert!(screen.contains("✓ lab-1"), "{screen}");
    tmux.keys(&["q"]);
}

/// `:export DIR` writes what is on screen as text, SVG and PNG.
#[test]
fn the_screen_is_exported_as_text_svg_and_png() {
    let lab = TestLab::up(1).expect("lab up");
    let out = lab.config_path().with_file_name("shots");
    let tmux = Tmux::start("export", 100, 25);
    tmux.run_line(&format!(
        "{} --config {} --log-file /dev/null",
        quote(BIN.as_ref()),
        quote(&lab.config_path()),
    ));
    tmux.wait_text("1/1", Duration::from_secs(20));
    tmux.keys(&[":"]);
    tmux.run_line(&format!("export {}", out.display()));
    tmux.wait_text("screen saved", Duration::from_secs(5));
    let files: Vec<_> = std::fs::read_dir(&out)
        .expect("export dir")
        .map(|e| e.expect("entry").path())
        .collect();
    let with = |ext: &str| {
        files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .unwrap_or_else(|| panic!("no .{ext} in {files:?}"))
    };
    let text = std::fs::read_to_string(with("txt")).expect("text");
    assert!(
        text.contains("lab-1") && text.contains("1/1 online"),
        "{text}"
    );
    let svg = std::fs::read_to_string(with("svg")).expect("svg");
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..80.min(svg.len())]
    );
    assert!(svg.contains("lab-1"));
    let png = std::fs::read(with("png")).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    tmux.keys(&["q"]);
}
