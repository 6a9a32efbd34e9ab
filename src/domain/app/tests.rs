use super::*;
use crate::domain::expect::Expected;
use std::path::PathBuf;
use std::time::Duration;

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("spec folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no specs in {}", dir.display());
    files
}

fn parse(source: &str) -> Result<AppSpec, FileError> {
    AppSpec::from_toml(Path::new("app.toml"), source)
}

fn error(source: &str) -> FileError {
    parse(source).expect_err("should be rejected")
}

#[test]
fn valid_spec_files_parse_and_survive_json() {
    for file in files("valid") {
        let text = std::fs::read_to_string(&file).expect("readable");
        let spec = AppSpec::from_toml(&file, &text).unwrap_or_else(|e| panic!("{e}"));
        spec.validate()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let json = spec.to_json().expect("serializes");
        let back = AppSpec::from_json(json.as_bytes()).expect("reads back");
        assert_eq!(back, spec, "{}", file.display());
    }
}

/// Each invalid file says where its error is and what it names (`config::expect`).
#[test]
fn invalid_spec_files_name_line_and_column() {
    for file in files("invalid") {
        let bytes = std::fs::read(&file).expect("readable");
        let expected =
            Expected::of(&file, &String::from_utf8_lossy(&bytes)).unwrap_or_else(|e| panic!("{e}"));
        // Read as `ctl apply` reads it: invalid UTF-8 is an error of the file too.
        let err = crate::domain::decode(&file, bytes)
            .and_then(|text| AppSpec::from_toml(&file, &text))
            .expect_err(&file.display().to_string());
        let shown = err.to_string();
        // A spec's error always names the spec file, whatever its position.
        let named = format!("{}:", file.display());
        assert!(shown.starts_with(&named), "want {named} first in: {shown}");
        expected
            .check(&file, &shown)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn defaults_fill_what_the_file_leaves_out() {
    let spec = parse("name = \"hello\"\nimage = \"busybox:lab\"\n").expect("valid");
    assert_eq!(spec, AppSpec::new("hello", "busybox:lab"));
    assert_eq!(spec.instances, 1);
    assert_eq!(spec.restart, RestartPolicy::OnFailure);
    assert_eq!(spec.cpu_millis(), 100);
    assert_eq!(spec.nano_cpus(), 100_000_000);
    assert_eq!(spec.memory, 64 << 20);
}

#[test]
fn full_spec_reads_every_field() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/valid/full.toml");
    let text = std::fs::read_to_string(&path).expect("readable");
    let spec = AppSpec::from_toml(&path, &text).expect("valid");
    assert_eq!(
        spec.command.as_deref(),
        Some(&["/app".to_owned(), "--serve".to_owned()][..])
    );
    assert_eq!(spec.instances, 0);
    assert_eq!(spec.cpus, 2.0);
    assert_eq!(spec.memory, 3 << 29);
    assert_eq!(spec.restart, RestartPolicy::UnlessStopped);
    assert_eq!(spec.pin.as_deref(), Some("lab-1"));
    assert_eq!(spec.machine_metadata["arch"], vec!["amd64"]);
    assert_eq!(spec.machine_metadata["disk"], vec!["ssd", "nvme"]);
    let ops: Vec<&str> = spec.constraints.iter().map(|c| c.op.name()).collect();
    assert_eq!(
        ops,
        [
            "UNIQUE", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "CLUSTER", "CLUSTER"
        ]
    );
    assert_eq!(spec.constraints[6].op, ConstraintOp::Cluster(None));
    let health = spec.health.expect("health");
    assert!(matches!(health.probe, Probe::Command(ref c) if c[0] == "/bin/busybox"));
    assert_eq!(health.interval, HealthCheck::DEFAULT_INTERVAL);
}

#[test]
fn env_accepts_scalars_as_text() {
    let spec =
        parse("name = \"a\"\nimage = \"i\"\n[env]\nN = 4\nB = true\nS = \"x\"\n").expect("valid");
    assert_eq!(spec.env["N"], "4");
    assert_eq!(spec.env["B"], "true");
    assert_eq!(spec.env["S"], "x");
    let err = error("name = \"a\"\nimage = \"i\"\n[env]\nN = [1]\n");
    assert_eq!((err.line, err.col), (4, 5), "{err}");
}

#[test]
fn memory_sizes_use_binary_units_like_docker() {
    assert_eq!(parse_memory("128MiB"), Ok(128 << 20));
    assert_eq!(parse_memory("512M"), Ok(512 << 20));
    assert_eq!(parse_memory("512mb"), Ok(512 << 20));
    assert_eq!(parse_memory("1GiB"), Ok(1 << 30));
    assert_eq!(parse_memory("1.5g"), Ok(3 << 29));
    assert_eq!(parse_memory("8388608"), Ok(8 << 20));
    assert_eq!(parse_memory(" 7 MiB "), Ok(7 << 20));
    for bad in ["", "MiB", "12 parsecs", "1.2.3G", "-5M", "5M5"] {
        assert!(parse_memory(bad).is_err(), "{bad:?} accepted");
    }
    assert!(parse_memory("1k").unwrap_err().contains("6 MiB"));
    assert!(parse_memory("5TiB").unwrap_err().contains("4 TiB"));
    assert!(parse_memory("99999999999999999999T").is_err());
}

#[test]
fn memory_formats_for_people() {
    assert_eq!(format_memory(512 << 20), "512 MiB");
    assert_eq!(format_memory(3 << 29), "1.5 GiB");
    assert_eq!(format_memory(100), "100 B");
    assert_eq!(format_memory(4 << 40), "4 TiB");
}

#[test]
fn instance_counts_are_checked_in_one_place() {
    assert_eq!(validate_instances(0, 10), Ok(0));
    assert_eq!(validate_instances(10, 10), Ok(10));
    assert!(
        validate_instances(11, 10)
            .unwrap_err()
            .contains("maximum of 10")
    );
    assert!(validate_instances(-1, 10).unwrap_err().contains("negative"));
    assert!(
        validate_instances(i64::MAX, u32::MAX)
            .unwrap_err()
            .contains("maximum")
    );
    assert_eq!(parse_instances(" 32 ", DEFAULT_MAX_INSTANCES), Ok(32));
    assert_eq!(parse_instances("+3", 10), Ok(3));
    assert!(parse_instances("-2", 10).unwrap_err().contains("negative"));
    assert!(
        parse_instances("lots", 10)
            .unwrap_err()
            .contains("not a whole number")
    );
    assert!(
        parse_instances("2.5", 10)
            .unwrap_err()
            .contains("not a whole number")
    );
    assert!(
        parse_instances("", 10)
            .unwrap_err()
            .contains("not a whole number")
    );
    assert!(
        parse_instances("-", 10)
            .unwrap_err()
            .contains("not a whole number")
    );
    let huge = "9".repeat(40);
    assert!(parse_instances(&huge, 10).unwrap_err().contains("maximum"));
    assert!(
        parse_instances(&format!("-{huge}"), 10)
            .unwrap_err()
            .contains("negative")
    );
}

#[test]
fn configured_maximum_applies_to_files() {
    let text = "name = \"a\"\nimage = \"i\"\ninstances = 1500\n";
    assert!(parse(text).is_err());
    let spec = AppSpec::from_toml_max(Path::new("a.toml"), text, 2000).expect("within 2000");
    assert_eq!(spec.instances, 1500);
}

#[test]
fn constraints_parse_and_print_in_array_form() {
    let c = Constraint::parse(&["rack", "max_per", "2"]).expect("valid");
    assert_eq!(c.op, ConstraintOp::MaxPer(2));
    assert_eq!(c.to_parts(), ["rack", "MAX_PER", "2"]);
    assert_eq!(c.to_string(), "rack MAX_PER 2");
    let e = Constraint::parse(&["rack"]).expect_err("no operator");
    assert_eq!(e.part, 0);
    let e = Constraint::parse::<&str>(&[]).expect_err("empty");
    assert!(e.message.contains("needs a field"));
    let e = Constraint::parse(&["zone", "CLUSTER", "a", "b"]).expect_err("too many");
    assert_eq!(e.part, 2);
    let e = Constraint::parse(&["x", "GROUP_BY", "3"]).expect_err("value");
    assert!(e.message.contains("no value"));
    let e = Constraint::parse(&["x", "MAX_PER", "two"]).expect_err("not a number");
    assert_eq!(e.part, 2);
}

#[test]
fn like_patterns_match_whole_values() {
    let p = Pattern::new("ssd|nvme").expect("valid");
    assert!(p.is_match("ssd") && p.is_match("nvme"));
    assert!(!p.is_match("ssd2") && !p.is_match("hdd"));
    let p = Pattern::new("rack-[1-3]").expect("valid");
    assert!(p.is_match("rack-2") && !p.is_match("rack-4"));
    assert!(Pattern::new("(").is_err());
    assert!(Pattern::new(&"a".repeat(300)).is_err());
}

#[test]
fn globs_match_app_names() {
    assert!(glob_match("db*", "db"));
    assert!(glob_match("db*", "db-main"));
    assert!(!glob_match("db*", "web-db"));
    assert!(glob_match("*-db", "web-db"));
    assert!(glob_match("batch-?", "batch-1"));
    assert!(!glob_match("batch-?", "batch-12"));
    assert!(glob_match("a*b*c", "axxbyybzc"));
    assert!(!glob_match("a*b*c", "axxbyy"));
    assert!(glob_match("*", ""));
    assert!(!glob_match("", "a"));
}

#[test]
fn json_is_checked_like_toml() {
    let mut spec = AppSpec::new("web", "wh-demo:1");
    spec.cpus = 0.0;
    let json = serde_json::to_string(&spec).expect("serializes");
    let err = AppSpec::from_json(json.as_bytes()).expect_err("cpus 0");
    assert!(err.to_string().contains("cpus"), "{err}");
    assert!(AppSpec::from_json(b"{").is_err());
    let bad_constraint = br#"{"name":"a","image":"i","instances":1,"cpus":1,"memory":67108864,
        "constraints":[["rack","SOMETIMES"]]}"#;
    assert!(AppSpec::from_json(bad_constraint).is_err());
}

#[test]
fn json_keeps_marathon_arrays_and_millisecond_timings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/valid/web.toml");
    let text = std::fs::read_to_string(&path).expect("readable");
    let spec = AppSpec::from_toml(&path, &text).expect("valid");
    let json: serde_json::Value =
        serde_json::from_str(&spec.to_json().expect("json")).expect("parses");
    assert_eq!(
        json["constraints"][1],
        serde_json::json!(["hostname", "MAX_PER", "4"])
    );
    assert_eq!(json["health"]["interval"], 5000);
    assert_eq!(json["health"]["replace_after"], 120_000);
    assert_eq!(json["health"]["probe"]["http"], "/health");
    assert_eq!(json["restart"], "always");
    assert_eq!(json["memory"], 128 << 20);
}

#[test]
fn replace_after_defaults_and_is_left_out_of_the_json_at_its_default() {
    let spec =
        parse("name = \"a\"\nimage = \"i\"\n[health]\ncommand = [\"/bin/true\"]\n").expect("valid");
    let health = spec.health.as_ref().expect("health");
    assert_eq!(health.replace_after, HealthCheck::DEFAULT_REPLACE_AFTER);
    assert_eq!(
        HealthCheck::replace_after(Some(health)),
        Duration::from_secs(30)
    );
    assert_eq!(HealthCheck::replace_after(None), Duration::from_secs(30));
    let json = spec.to_json().expect("json");
    assert!(!json.contains("replace_after"), "{json}");
    // Specs stored before the setting existed read with the default.
    assert_eq!(AppSpec::from_json(json.as_bytes()).expect("reads"), spec);
    // JSON is checked like TOML.
    let short = json.replace("\"retries\":3", "\"retries\":3,\"replace_after\":10");
    let err = AppSpec::from_json(short.as_bytes()).expect_err("10ms");
    assert!(err.to_string().contains("replace_after"), "{err}");
}

#[test]
fn port_env_names() {
    assert_eq!(AppSpec::port_env("admin"), "PORT_ADMIN");
    let err = error("name = \"a\"\nimage = \"i\"\nports = [\"http\"]\n[env]\nPORT = \"1\"\n");
    assert!(err.message.contains("PORT"), "{err}");
    // Without ports, PORT is the app's own business.
    assert!(parse("name = \"a\"\nimage = \"i\"\n[env]\nPORT = \"1\"\n").is_ok());
}

#[test]
fn update_policy_defaults_when_the_file_has_none() {
    let spec = parse("name = \"web\"\nimage = \"i\"\n").expect("valid");
    let p = &spec.update;
    assert_eq!(p, &UpdatePolicy::default());
    assert_eq!(p.max_surge, Amount::Percent(25));
    assert_eq!(p.max_unavailable, Amount::Percent(25));
    assert_eq!(p.min_ready, Duration::from_secs(10));
    assert_eq!(p.healthy_deadline, Duration::from_secs(300));
    assert_eq!(p.progress_deadline, Duration::from_secs(600));
    assert_eq!(p.failure_action, FailureAction::Pause);
    assert_eq!(p.max_failure_ratio, 0.0);
    assert_eq!(p.canary, 0);
    assert_eq!(p.history_limit, 10);
    // A partial table keeps the defaults of what it leaves out.
    let spec = parse("name = \"web\"\nimage = \"i\"\n[update]\ncanary = 2\n").expect("valid");
    assert_eq!(spec.update.canary, 2);
    assert_eq!(spec.update.max_surge, Amount::Percent(25));
}

#[test]
fn update_policy_reads_every_field() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/valid/rollout-policy.toml");
    let text = std::fs::read_to_string(&path).expect("readable");
    let p = AppSpec::from_toml(&path, &text).expect("valid").update;
    assert_eq!(p.max_surge, Amount::Count(1));
    assert_eq!(p.max_unavailable, Amount::Percent(0));
    assert_eq!(p.min_ready, Duration::from_secs(5));
    assert_eq!(p.healthy_deadline, Duration::from_secs(120));
    assert_eq!(p.progress_deadline, Duration::from_secs(300));
    assert_eq!(p.failure_action, FailureAction::Rollback);
    assert_eq!(p.max_failure_ratio, 0.25);
    assert_eq!(p.canary, 1);
    assert_eq!(p.history_limit, 20);
}

#[test]
fn budgets_round_surge_up_and_unavailability_down() {
    let p = UpdatePolicy::default();
    let table = [
        (0, 0, 0),
        (1, 1, 0),
        (2, 1, 0),
        (4, 1, 1),
        (6, 2, 1),
        (10, 3, 2),
    ];
    for (desired, surge, unavailable) in table {
        assert_eq!(
            p.resolve(desired),
            Resolved { surge, unavailable },
            "{desired} instances"
        );
    }
    let counts = UpdatePolicy {
        max_surge: Amount::Count(3),
        max_unavailable: Amount::Count(5),
        ..UpdatePolicy::default()
    };
    assert_eq!(
        counts.resolve(2),
        Resolved {
            surge: 3,
            unavailable: 2
        }
    );
    // Surge 0 and an unavailability that rounds to 0: one may go, or nothing ever could.
    let stuck = UpdatePolicy {
        max_surge: Amount::Count(0),
        max_unavailable: Amount::Percent(10),
        ..UpdatePolicy::default()
    };
    assert_eq!(
        stuck.resolve(5),
        Resolved {
            surge: 0,
            unavailable: 1
        }
    );
    assert_eq!(
        stuck.resolve(0),
        Resolved {
            surge: 0,
            unavailable: 0
        }
    );
}

#[test]
fn amounts_are_counts_or_percentages() {
    assert_eq!(Amount::parse("3"), Ok(Amount::Count(3)));
    assert_eq!(Amount::parse(" 25% "), Ok(Amount::Percent(25)));
    assert_eq!(Amount::parse("100%"), Ok(Amount::Percent(100)));
    for bad in ["", "%", "-1", "2.5", "25 %x", "x%", "1e3"] {
        assert!(Amount::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert!(Amount::parse("101%").unwrap_err().contains("above 100%"));
    assert_eq!(Amount::Percent(25).to_string(), "25%");
    assert!(Amount::Count(0).is_zero() && Amount::Percent(0).is_zero());
    assert!(!Amount::Percent(1).is_zero());
}

#[test]
fn update_policy_json_round_trips_and_old_specs_still_load() {
    let old = br#"{"name":"web","image":"wh-demo:1","instances":2,"cpus":0.1,"memory":67108864}"#;
    let spec = AppSpec::from_json(old).expect("a spec from before the update policy");
    assert_eq!(spec.update, UpdatePolicy::default());
    let mut spec = AppSpec::new("web", "wh-demo:2");
    spec.update.max_surge = Amount::Count(1);
    spec.update.max_unavailable = Amount::Percent(0);
    spec.update.failure_action = FailureAction::Continue;
    let json: serde_json::Value =
        serde_json::from_str(&spec.to_json().expect("json")).expect("parses");
    assert_eq!(json["update"]["max_surge"], 1);
    assert_eq!(json["update"]["max_unavailable"], "0%");
    assert_eq!(json["update"]["min_ready"], 10_000);
    assert_eq!(json["update"]["failure_action"], "continue");
    let back = AppSpec::from_json(json.to_string().as_bytes()).expect("reads back");
    assert_eq!(back, spec);
    let partial = br#"{"name":"web","image":"i","instances":1,"cpus":0.1,"memory":67108864,
        "update":{"canary":2}}"#;
    let spec = AppSpec::from_json(partial).expect("partial table");
    assert_eq!(spec.update.canary, 2);
    assert_eq!(spec.update.history_limit, 10);
    for bad in [
        r#"{"max_surge":"150%"}"#,
        r#"{"max_surge":0,"max_unavailable":0}"#,
        r#"{"max_failure_ratio":2.0}"#,
        r#"{"history_limit":0}"#,
        r#"{"min_ready":60000,"progress_deadline":30000}"#,
    ] {
        let text = format!(
            r#"{{"name":"web","image":"i","instances":1,"cpus":0.1,"memory":67108864,"update":{bad}}}"#
        );
        assert!(
            AppSpec::from_json(text.as_bytes()).is_err(),
            "{bad} accepted"
        );
    }
}

#[test]
fn a_health_table_without_a_probe_keeps_the_images_own_check() {
    let spec =
        parse("name = \"w\"\nimage = \"x:1\"\n[health]\nreplace_after = \"45s\"\n").expect("valid");
    let health = spec.health.expect("health");
    assert_eq!(health.probe, Probe::Image);
    assert_eq!(health.replace_after, Duration::from_secs(45));
    let json = AppSpec::new("w", "x:1");
    assert!(
        json.health.is_none(),
        "no [health] at all is still no check of ours"
    );
}

fn with_ports(count: usize) -> String {
    let ports: Vec<String> = (0..count).map(|i| format!("\"p{i}\"")).collect();
    format!(
        "name = \"web\"\nimage = \"wh-demo:1\"\nports = [{}]\nenv = {{ A = \"1\" }}\n",
        ports.join(", ")
    )
}

/// Issue 9 item 6: validation was cubic in ports (10,000 did not finish in a minute); it
/// is one pass now, and more than `MAX_PORTS` is refused at the first port too many.
#[test]
fn ports_are_bounded_and_checked_in_one_pass() {
    let spec = parse(&with_ports(MAX_PORTS)).expect("the maximum is allowed");
    assert_eq!(spec.ports.len(), MAX_PORTS);
    let err = error(&with_ports(10_000));
    // `ports = [` and p0..p9, p10..p99 before "p100".
    let col = 9 + 10 * "\"p0\", ".len() + 90 * "\"p10\", ".len() + 1;
    err.assert_at(
        "app.toml",
        3,
        col,
        "at most 100 ports; this one lists 10000",
    );

    let mut json = AppSpec::new("web", "wh-demo:1");
    json.ports = (0..10_000).map(|i| format!("p{i}")).collect();
    let err = json.validate().expect_err("too many ports");
    assert!(err.contains("at most 100 ports"), "{err}");
    json.ports.truncate(MAX_PORTS);
    json.validate().expect("the maximum is allowed");
    json.ports[MAX_PORTS - 1] = "p0".into();
    let err = json.validate().expect_err("repeat");
    assert!(err.contains("\"p0\" is listed twice"), "{err}");
}

#[test]
fn env_may_not_set_the_port_variables() {
    let source = "name = \"web\"\nimage = \"i\"\nports = [\"http\", \"admin\"]\n\
                  [env]\nPORT_ADMIN = \"1\"\n";
    error(source).assert_at("app.toml", 5, 1, "PORT_ADMIN is set by wheelhouse");
    let source = "name = \"web\"\nimage = \"i\"\n[env]\nPORT = \"1\"\n";
    assert_eq!(parse(source).map(|s| s.env["PORT"].clone()), Ok("1".into()));
}

/// Found by fuzzing (etcd_record): cpus written with many digits read back as another
/// number once saved again, so a spec read from etcd and written back changed.
#[test]
fn a_record_from_etcd_keeps_its_exact_cpus_through_a_save() {
    let json = br#"{"name":"web","image":"i","instances":3,"cpus":0.244444444444444045,"memory":33554432}"#;
    let spec = AppSpec::from_json(json).expect("valid record");
    let saved = spec.to_json().expect("serializes");
    assert_eq!(
        AppSpec::from_json(saved.as_bytes()).expect("reads back"),
        spec
    );
}
