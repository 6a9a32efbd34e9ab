//! What `ctl` prints, on a real lab: hostile text from the cluster never reaches the
//! terminal raw, `-o json` parses and keeps the data exact, a closed pipe is no panic, and
//! refusals are audited with who refused them.

use bollard::models::ContainerCreateBody;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use wheelhouse::lab::TestLab;
use wheelhouse::store::{self, AuditEntry};

mod common;

use common::lab::{BIN, Run, ctl, ctl_command, ctl_with, spec_file};

const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}";
const PREFIX: &str = "/wheelhouse";

fn json(config: &Path, args: &[&str]) -> Value {
    let out = ctl(config, args);
    serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", out.stdout))
}

fn assert_harmless(what: &str, text: &str) {
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']),
        "{what}: {text:?}"
    );
}

fn path_arg(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
}

#[test]
fn hostile_cluster_text_is_cleaned_and_json_keeps_it_exact() {
    let lab = TestLab::up(1).expect("lab up");
    let config = lab.config_path();
    // A container whose app label would clear and retitle the operator's terminal.
    let labels = HashMap::from([("wheelhouse.app".to_owned(), format!("evil{HOSTILE}"))]);
    let body = ContainerCreateBody {
        image: Some("wheelhouse/demo:1".to_owned()),
        labels: Some(labels),
        ..Default::default()
    };
    lab.engine(0).run("hostile", body).expect("run container");
    // An audit record holding the same, written straight into etcd.
    let entry = AuditEntry::now("scale", format!("web{HOSTILE}"), HOSTILE, HOSTILE);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut client = common::etcd::client(&lab.etcd_endpoint()).await;
        store::record(&mut client, PREFIX, &entry)
            .await
            .expect("audit record");
        // A record from before the typed fields: prose only.
        let key = format!(
            "{}2020-01-01T00:00:00.000000000Z-0",
            store::audit_dir(PREFIX)
        );
        let old = r#"{"who":"ana","from":"local","action":"scale","target":"web",
            "detail":"instances 2 -> 5","result":"ok: web scaled to 5 (was 2, revision 12)",
            "time":"2020-01-01T00:00:00.000000000Z"}"#;
        client.put(key, old, None).await.expect("old record");
    });

    let status = ctl(&config, &["status"]);
    assert_harmless("status", &status.stdout);
    assert_harmless("status stderr", &status.stderr);
    assert!(
        status.ok().lines().any(|l| l.starts_with("evil ")),
        "{}",
        status.stdout
    );
    let audit = ctl(&config, &["audit"]);
    assert_harmless("audit", audit.ok());
    assert!(audit.stdout.contains("web "), "{}", audit.stdout);
    let old = (audit.stdout.lines())
        .find(|l| l.contains("2020-01-01"))
        .unwrap_or_else(|| panic!("the old record is listed: {}", audit.stdout));
    assert!(
        old.contains("ok: web scaled to 5 (was 2, revision 12)"),
        "{old}"
    );

    // JSON: the same text, exact, escaped so the terminal never acts on it.
    let status = ctl(&config, &["status", "-o", "json"]);
    assert_harmless("status json", status.ok());
    let status: Value = serde_json::from_str(&status.stdout).expect("status JSON");
    let names: Vec<&str> = status["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(
        names.contains(&format!("evil{HOSTILE}").as_str()),
        "{status}"
    );
    assert_eq!(status["hosts"][0]["name"], "lab-1", "{status}");
    assert_eq!(status["hosts"][0]["state"], "online", "{status}");
    assert_eq!(status["online"], 1, "{status}");
    assert!(status["etcd_error"].is_null(), "{status}");
    let audit = json(&config, &["audit", "-o", "json"]);
    assert_eq!(audit[0]["target"], format!("web{HOSTILE}"), "{audit}");
    assert_eq!(audit[0]["result"], HOSTILE, "{audit}");
    // The old record as it was: no typed fields, its prose untouched.
    assert_eq!(
        audit[1]["result"],
        "ok: web scaled to 5 (was 2, revision 12)"
    );
    assert!(
        audit[1]["revision"].is_null() && audit[1].get("outcome").is_none(),
        "{audit}"
    );

    // An error echoing the cluster's or the operator's text is cleaned too.
    let missing = ctl(&config, &["get", &format!("x{HOSTILE}")]);
    assert_eq!(missing.code, 2);
    assert_harmless("get error", &missing.stderr);

    // A reader that went away is no panic, for ctl's output nor the lab's own lines.
    let mut lab_status = Command::new(BIN);
    lab_status.args(["lab", "status", "--dir", path_arg(lab.dir())]);
    for mut command in [ctl_command(&config, &[], &["audit"]), lab_status] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = command.stdout(writer).output().expect("binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{command:?}: {stderr}");
    }
}

#[test]
fn every_data_verb_prints_json_and_refusals_are_audited_with_who() {
    let lab = TestLab::up(1).expect("lab up");
    let config = lab.config_path();
    let dir = lab.dir().to_owned();
    let spec = |memory: &str| {
        format!(
            "name = \"web\"\nimage = \"wheelhouse/demo:1\"\ninstances = 0\nmemory = \"{memory}\"\n\n[env]\nGREETING = \"hi\\u001b[2J\"\n"
        )
    };
    let first = spec_file(&dir, "web.toml", &spec("32MiB"));
    ctl(&config, &["apply", "-f", path_arg(&first)]).ok();
    let second = spec_file(&dir, "web2.toml", &spec("64MiB"));
    ctl(&config, &["apply", "-f", path_arg(&second)]).ok();

    let get = json(&config, &["get", "web", "-o", "json"]);
    assert_eq!(get["name"], "web");
    assert!(get["revision"].as_i64().is_some_and(|r| r > 0), "{get}");
    assert_eq!(get["spec"]["image"], "wheelhouse/demo:1", "{get}");
    assert_eq!(get["spec"]["env"]["GREETING"], "hi\u{1b}[2J", "{get}");
    // As TOML the env value is shown escaped, never sent raw.
    let toml = ctl(&config, &["get", "web"]);
    assert!(
        toml.ok().contains(r#"GREETING = "hi\u001B[2J""#),
        "{}",
        toml.stdout
    );

    let history = json(&config, &["history", "web", "-o", "json"]);
    let entries = history.as_array().expect("history is an array");
    assert!(!entries.is_empty(), "{history}");
    for entry in entries {
        assert!(
            entry["revision"].is_i64() && entry["image"].is_string(),
            "{entry}"
        );
        assert!(
            entry["instances"].is_u64() && entry["running"].is_boolean(),
            "{entry}"
        );
    }
    let rollout = json(&config, &["rollout-status", "web", "-o", "json"]);
    assert_eq!(rollout["app"], "web");
    assert_eq!(rollout["instances"], 0);
    assert!(rollout["rollout"].is_null(), "{rollout}");

    // Refusals are audited: read-only, a bad count, a bad file.
    ctl_with(&config, &["--readonly"], &["scale", "web", "3"]).fails(2, "read-only");
    ctl(&config, &["scale", "web", "lots"]).fails(2, "not a whole number");
    let bad = spec_file(&dir, "bad.toml", "name = \"web\"\nimage = \"a\\u0007b\"\n");
    ctl(&config, &["apply", "-f", path_arg(&bad)]).fails(2, &format!("{}:2:9:", bad.display()));
    // Without $USER or $LOGNAME the uid's name is who did it.
    let anonymous = Run::of(
        Command::new(BIN)
            .args([
                "--config",
                path_arg(&config),
                "ctl",
                "--readonly",
                "delete",
                "web",
            ])
            .env_remove("USER")
            .env_remove("LOGNAME"),
    );
    anonymous.fails(2, "read-only");

    let audit = json(&config, &["audit", "--limit", "50", "-o", "json"]);
    let audit = audit.as_array().expect("audit is an array");
    let find = |action: &str, needle: &str| {
        audit
            .iter()
            .find(|e| {
                e["action"] == action && e["result"].as_str().is_some_and(|r| r.contains(needle))
            })
            .unwrap_or_else(|| panic!("no {action} {needle:?} in {audit:#?}"))
    };
    let readonly = find("scale", "read-only");
    assert_eq!(readonly["outcome"], "refused");
    assert_eq!(readonly["target"], "web");
    assert_eq!(readonly["app"], "web");
    assert_eq!(readonly["reason"], "read_only");
    assert!(readonly["revision"].is_null(), "{readonly}");
    let count = find("scale", "not a whole number");
    assert_eq!(
        (&count["outcome"], &count["reason"]),
        (&"refused".into(), &"invalid".into())
    );
    let file = find("apply", "control character");
    assert_eq!(file["outcome"], "refused");
    assert_eq!(file["target"], path_arg(&bad));
    let id = Command::new("id").arg("-un").output().expect("id runs");
    let me = String::from_utf8_lossy(&id.stdout).trim().to_owned();
    assert_eq!(find("delete", "read-only")["who"], me.as_str());
    let created = find("apply", "created");
    assert_eq!(created["outcome"], "ok");
    assert!(
        created["revision"].as_i64().is_some_and(|r| r > 0),
        "{created}"
    );
    assert!(created["reason"].is_null(), "{created}");
}
