use super::*;

fn parse(source: &str) -> Result<Config, FileError> {
    Config::parse(Path::new("w.toml"), source)
}

#[test]
fn full_file_parses() {
    let config = parse(
        r#"
refresh = "500ms"
theme = "light"
keymap = "arrows"
prefix = "/wh/"
[etcd]
endpoints = ["http://127.0.0.1:2379", "127.0.0.1:2380"]
user = "root"
password = "pw"
[[hosts]]
name = "web-1"
engine = "unix:///run/d.sock"
address = "127.0.1.1"
zone = "a"
labels = { disk = "ssd" }
[[hosts]]
name = "web-2"
engine = "tcp://10.0.0.2:2376"
tls = { ca = "/c/ca.pem", cert = "/c/cert.pem", key = "/c/key.pem" }
"#,
    )
    .expect("valid config");
    assert_eq!(config.refresh, Duration::from_millis(500));
    assert_eq!(config.theme, "light");
    assert_eq!(config.prefix, "/wh");
    let etcd = config.etcd.expect("etcd section");
    assert_eq!(etcd.endpoints.len(), 2);
    assert_eq!(etcd.user.as_deref(), Some("root"));
    assert_eq!(config.hosts.len(), 2);
    assert_eq!(config.hosts[0].labels["disk"], "ssd");
    assert_eq!(
        config.hosts[1].tls.as_ref().map(|t| t.ca.clone()),
        Some(PathBuf::from("/c/ca.pem"))
    );
}

#[test]
fn empty_file_gives_defaults() {
    let config = parse("").expect("empty is valid");
    assert_eq!(config.refresh, Duration::from_secs(2));
    assert_eq!(config.prefix, DEFAULT_PREFIX);
    assert!(config.etcd.is_none());
}

fn error_at(source: &str) -> (usize, usize, String) {
    let e = parse(source).expect_err("should be rejected");
    assert_eq!(e.path, Path::new("w.toml"));
    (e.line, e.col, e.message)
}

#[test]
fn syntax_error_names_line_and_column() {
    let (line, col, _) = error_at("theme = \"x\"\nrefresh = \n");
    assert_eq!((line, col), (2, 11));
}

#[test]
fn unknown_key_is_an_error_at_that_key() {
    let (line, _, msg) =
        error_at("theme = \"x\"\n\n[[hosts]]\nname = \"a\"\nengine = \"unix:///s\"\ncolour = 1\n");
    assert_eq!(line, 6);
    assert!(msg.contains("colour"), "{msg}");
}

#[test]
fn bad_engine_scheme_points_at_the_value() {
    let (line, col, msg) = error_at("[[hosts]]\nname = \"a\"\nengine = \"ftp://x\"\n");
    assert_eq!((line, col), (3, 10));
    assert!(msg.contains("ftp"), "{msg}");
}

#[test]
fn duplicate_host_is_an_error_at_the_second() {
    let (line, _, msg) = error_at(
        "[[hosts]]\nname = \"a\"\nengine = \"unix:///s\"\n[[hosts]]\nname = \"a\"\nengine = \"unix:///t\"\n",
    );
    assert_eq!(line, 5);
    assert!(msg.contains("twice"), "{msg}");
}

#[test]
fn bad_refresh_and_prefix_are_rejected() {
    assert_eq!(error_at("refresh = \"soon\"\n").0, 1);
    assert_eq!(error_at("refresh = \"1ms\"\n").0, 1);
    assert!(error_at("\nprefix = \"wh\"\n").2.contains("'/'"));
    assert!(
        error_at("[etcd]\nendpoints = []\n")
            .2
            .contains("at least one")
    );
    assert!(
        error_at("[etcd]\nendpoints = [\"a:1\"]\nuser = \"u\"\n")
            .2
            .contains("together")
    );
}

#[test]
fn host_names_are_checked() {
    assert!(
        error_at("[[hosts]]\nname = \"a b\"\nengine = \"unix:///s\"\n")
            .2
            .contains("letters")
    );
}

#[test]
fn missing_file_is_named() {
    let e = Config::load(Some(Path::new("/nonexistent/w.toml"))).expect_err("missing");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/w.toml:1:1: cannot read"),
        "{e}"
    );
}

#[test]
fn max_instances_defaults_to_1000_and_is_checked() {
    assert_eq!(parse("").map(|c| c.max_instances), Ok(1000));
    assert_eq!(
        parse("max_instances = 50\n").map(|c| c.max_instances),
        Ok(50)
    );
    for bad in ["0", "-3", "99999999999"] {
        let (line, col, msg) = error_at(&format!("\nmax_instances = {bad}\n"));
        assert_eq!((line, col), (2, 17), "{bad}");
        assert!(msg.contains("max_instances"), "{msg}");
    }
    let (_, _, msg) = error_at("max_instances = \"many\"\n");
    assert!(msg.contains("i64") || msg.contains("integer"), "{msg}");
}

#[test]
fn low_bandwidth_raises_the_default_refresh_only() {
    let off = parse("").expect("valid");
    assert!(!off.low_bandwidth);
    let on = parse("low_bandwidth = true\n").expect("valid");
    assert!(on.low_bandwidth);
    assert_eq!(on.refresh, super::LOW_BANDWIDTH_REFRESH);
    let set = parse("low_bandwidth = true\nrefresh = \"3s\"\n").expect("valid");
    assert_eq!(
        (set.low_bandwidth, set.refresh),
        (true, Duration::from_secs(3))
    );
    let (line, col, _) = error_at("\nlow_bandwidth = \"yes\"\n");
    assert_eq!((line, col), (2, 17));
}

/// Issue 9 item 1: this panicked ("cannot convert float seconds to Duration").
#[test]
fn a_huge_refresh_is_an_error_at_its_value() {
    let err = parse("theme = \"x\"\nrefresh = \"99999999999999999999999h\"\n").expect_err("huge");
    err.assert_at("w.toml", 2, 11, "must be between 100ms and 1h");
    let err = parse("refresh = \"1e400\"\n").expect_err("not a duration");
    err.assert_at("w.toml", 1, 11, "is not a duration");
}

/// Issue 9 item 7: `check` took these, and `ctl` refused them when it connected.
#[test]
fn etcd_endpoints_are_checked_where_they_are_written() {
    let err = parse("[etcd]\nendpoints = [\"http://a:1\",\n  \"foo://127.0.0.1:2379\"]\n")
        .expect_err("bad scheme");
    err.assert_at("w.toml", 3, 3, "scheme \"foo\" is not supported");
    let err = parse("[etcd]\nendpoints = [\"999.1.1.1:2379\"]\n").expect_err("bad address");
    err.assert_at("w.toml", 2, 14, "\"999.1.1.1\" is not an IPv4 address");
    let err = parse("[etcd]\nendpoints = [\"http://a:1\", \"https://b:2\"]\n").expect_err("mix");
    err.assert_at("w.toml", 2, 28, "mix http:// and https://");
    let err = parse("[etcd]\nendpoints = [\"http://a:1\"]\nca_cert = \"/ca.pem\"\n")
        .expect_err("plain http with TLS");
    err.assert_at("w.toml", 2, 14, "use https://");
    let err = parse("[etcd]\nendpoints = [\"a:1\"]\ncert = \"/c.pem\"\n").expect_err("no key");
    err.assert_at("w.toml", 3, 8, "cert and key go together");
}

/// Issue 9 item 7: a megabyte key was echoed whole; invalid UTF-8 was placed at 1:1.
#[test]
fn errors_echo_little_and_place_bad_bytes() {
    let key = "k".repeat(1 << 20);
    let err = parse(&format!("theme = \"x\"\n{key} = 1\n")).expect_err("unknown key");
    assert_eq!((err.line, err.col), (2, 1), "{}", err.message);
    assert!(err.message.len() < 400, "{} bytes", err.message.len());
    assert!(err.message.contains("unknown field"), "{}", err.message);

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("w.toml");
    std::fs::write(&path, b"theme = \"x\"\n\nkeymap = \"a\xe9b\"\n").expect("write");
    let err = Config::load(Some(&path)).expect_err("invalid UTF-8");
    assert_eq!((err.line, err.col), (3, 12), "{err}");
    assert!(err.message.contains("invalid UTF-8"), "{err}");
}

/// Issue 9 item 3: host entries get the checks `/hosts/` records get, placed in the file.
#[test]
fn host_fields_are_checked_where_they_are_written() {
    let host =
        |line: &str| format!("[[hosts]]\nname = \"h1\"\nengine = \"unix:///d.sock\"\n{line}\n");
    let err = parse(&host("zone = \"a\\u0007\"")).expect_err("bell in zone");
    err.assert_at("w.toml", 4, 8, "zone holds the control character");
    let err = parse(&host("address = \"999.1.1.1\"")).expect_err("bad address");
    err.assert_at("w.toml", 4, 11, "is not an IPv4 address");
    let err = parse(&host("labels = { disk = \"\\u001b[2J\" }")).expect_err("escape in label");
    err.assert_at(
        "w.toml",
        4,
        10,
        "label \"disk\" holds the control character",
    );
    assert!(parse(&host("address = \"::1\"\nzone = \"a\"")).is_ok());
}

#[test]
fn the_logs_view_keeps_10000_lines_unless_told_and_the_count_is_checked() {
    assert_eq!(parse("").map(|c| c.log_lines), Ok(10_000));
    assert_eq!(parse("[logs]\nlines = 500\n").map(|c| c.log_lines), Ok(500));
    for bad in ["0", "-1", "1000001"] {
        let (line, col, msg) = error_at(&format!("[logs]\nlines = {bad}\n"));
        assert_eq!((line, col), (2, 9), "{bad}");
        assert!(msg.contains("logs.lines"), "{msg}");
    }
    let (_, _, msg) = error_at("[logs]\nkeep = 3\n");
    assert!(msg.contains("keep"), "{msg}");
}
