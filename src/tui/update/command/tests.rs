use super::*;
use crate::cluster::ClusterEvent;
use crate::cluster::{AppRecord, EtcdState};
use crate::cluster::{Host, HostSource};
use crate::domain::HostSpec;
use crate::domain::app::AppSpec;
use crate::ops::Command;
use crate::tui::screen::Dialog;
use crate::tui::update::hear;
use crate::tui::update::{Effect, Msg, update};
use std::time::Instant;

fn host(name: &str, zone: &str) -> Host {
    Host::new(
        HostSpec {
            name: name.into(),
            engine: format!("unix:///run/{name}.sock"),
            address: None,
            zone: Some(zone.into()),
            labels: [("disk".to_owned(), "ssd".to_owned())].into(),
            tls: None,
        },
        HostSource::Config,
    )
}

/// Hosts web-1..web-3 (zone a, a, b) and db-1 (zone b); apps web (rev 11) and worker.
fn cluster() -> Screen {
    let hosts = vec![
        host("web-1", "a"),
        host("web-2", "a"),
        host("web-3", "b"),
        host("db-1", "b"),
    ];
    let mut m = Screen::with_hosts(Instant::now(), hosts);
    m.ui.geometry = crate::tui::geometry(200, 50);
    m.cluster_mut().etcd = EtcdState::Connected { revision: 20 };
    for (name, revision) in [("web", 11), ("worker", 7)] {
        let spec = AppSpec::new(name, "wheelhouse/demo:1");
        m.cluster_mut()
            .apps
            .insert(name.to_owned(), AppRecord { spec, revision });
    }
    m
}

fn act(m: &mut Screen, a: Action) -> Vec<Effect> {
    update(m, Msg::Action(a))
}

fn typed(m: &mut Screen, text: &str) {
    for c in text.chars() {
        act(m, Action::Input(c));
    }
}

fn err(line: &str, m: &Screen) -> String {
    match parse_command(line, m) {
        Ok(a) => panic!("{line} parsed as {a:?}"),
        Err(e) => e,
    }
}

fn ok(line: &str, m: &Screen) -> Action {
    parse_command(line, m).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn every_command_parses_to_the_action_its_keys_make() {
    let m = cluster();
    assert_eq!(
        ok(":scale web 5", &m),
        Action::Run(Command::Scale {
            app: "web".into(),
            count: 5,
            seen: Some(11)
        })
    );
    assert_eq!(
        ok("rollout web wheelhouse/demo:2", &m),
        Action::Run(Command::Rollout {
            app: "web".into(),
            image: "wheelhouse/demo:2".into()
        })
    );
    assert_eq!(
        ok(":rollback web", &m),
        Action::Run(Command::Rollback {
            app: "web".into(),
            revision: None
        })
    );
    assert_eq!(
        ok(":rollback web 9", &m),
        Action::Run(Command::Rollback {
            app: "web".into(),
            revision: Some(9)
        })
    );
    assert_eq!(
        ok(":restart worker", &m),
        Action::Run(Command::Restart {
            app: "worker".into()
        })
    );
    assert_eq!(ok(":host web-3", &m), Action::OpenHost("web-3".into()));
    assert_eq!(ok(":theme light", &m), Action::SetTheme("light".into()));
    assert_eq!(
        ok(":filter zone=a  web", &m),
        Action::SetFilter("zone=a web".into())
    );
    assert_eq!(ok(":q", &m), Action::Quit);
    assert_eq!(ok("  :quit ", &m), Action::Quit);
}

#[test]
fn every_bindable_action_is_a_command_and_tab_lists_it() {
    let m = cluster();
    let (_, listed) = complete("", LineKind::Command, &m);
    for action in Action::ALL {
        let name = action.name().to_owned();
        assert_eq!(&ok(&format!(":{name}"), &m), action, ":{name}");
        assert!(
            listed.contains(&name),
            "tab does not list {name}: {listed:?}"
        );
    }
}

#[test]
fn the_rollout_keys_have_commands_on_the_selected_app_or_a_named_one() {
    let mut m = cluster();
    m.ui.selected_app = Some("worker".into());
    let app = |app: &str| app.to_owned();
    let run = Action::Run;
    assert_eq!(ok(":pause", &m), run(Command::Pause { app: app("worker") }));
    assert_eq!(
        ok(":resume web", &m),
        run(Command::Resume { app: app("web") })
    );
    assert_eq!(
        ok(":promote web", &m),
        run(Command::Promote { app: app("web") })
    );
    assert_eq!(ok(":history web", &m), Action::OpenHistory("web".into()));
    assert_eq!(
        ok(":restart web", &m),
        Action::Run(Command::Restart { app: "web".into() })
    );
    // Without an app: the Apps panel's keys, on its selected app.
    assert_eq!(ok(":promote", &m), Action::Promote);
    assert_eq!(ok(":history", &m), Action::ShowHistory);
    assert_eq!(ok(":restart", &m), Action::RollingRestart);
    assert_eq!(ok(":help", &m), Action::ToggleHelp);
    assert_eq!(ok(":rollout", &m), Action::RolloutPrompt);
    assert_eq!(ok(":export", &m), Action::ExportScreen);
}

#[test]
fn a_rollout_command_checks_the_image_before_asking() {
    let mut m = cluster();
    act(&mut m, Action::CommandLine);
    typed(&mut m, "rollout web nosuch:img");
    assert_eq!(act(&mut m, Action::Confirm), [Effect::ReadImages]);
    assert!(m.ui.dialog.is_none(), "no y/n before the check");
    let tags = vec![
        "wheelhouse/demo:1".to_owned(),
        "wheelhouse/demo:2".to_owned(),
    ];
    update(&mut m, Msg::Images(Ok(tags.clone())));
    assert!(m.ui.dialog.is_none(), "refused, not asked");
    let refused = m.ui.image_prompt.as_ref().and_then(|p| p.error.clone());
    assert_eq!(
        refused.as_deref(),
        Some("image nosuch:img is on no host: tab lists the ones they hold")
    );
    act(&mut m, Action::Cancel);
    act(&mut m, Action::CommandLine);
    typed(&mut m, "rollout web wheelhouse/demo:2");
    act(&mut m, Action::Confirm);
    update(&mut m, Msg::Images(Ok(tags)));
    assert!(m.ui.image_prompt.is_none());
    assert!(matches!(
        &m.ui.dialog,
        Some(Dialog::Confirm { action: Action::Run(Command::Rollout { image, .. }), .. }) if image == "wheelhouse/demo:2"
    ));
}

#[test]
fn mistakes_say_what_is_wrong() {
    let m = cluster();
    assert_eq!(
        err(":scal web 5", &m),
        "unknown command :scal — did you mean :scale?"
    );
    // The same reading of a count as `ctl scale` and the `s` prompt.
    assert_eq!(
        err(":scale web five", &m),
        "scale: \"five\" is not a whole number of instances"
    );
    assert_eq!(
        err(":scale web -3", &m),
        "scale: instances must not be negative (got -3)"
    );
    assert!(err(":scale web 99999", &m).contains("above the maximum"));
    assert_eq!(err(":scale web", &m), "usage: :scale APP COUNT");
    assert_eq!(
        err(":scale wbe 2", &m),
        "scale: no app named wbe — did you mean web?"
    );
    assert_eq!(err(":rollout nope x:1", &m), "rollout: no app named nope");
    assert_eq!(
        err(":rollback web x", &m),
        "rollback: revision must be a number"
    );
    assert_eq!(err(":host nowhere", &m), "host: no host named nowhere");
    assert!(err(":filter state=sleepy", &m).contains("unknown state"));
    assert!(err(":", &m).starts_with("empty command"));
    assert_eq!(
        err(":frobnicate", &m),
        "unknown command :frobnicate (tab lists them)"
    );
    assert_eq!(err(":q now", &m), "usage: :q ");
    assert_eq!(err(":pause nope", &m), "pause: no app named nope");
    assert_eq!(err(":promote web now", &m), "usage: :promote [APP]");
    assert_eq!(err(":scale_up 3", &m), "usage: :scale_up ");
}

#[test]
fn tab_completes_commands_apps_hosts_themes_images_and_filters() {
    let m = cluster();
    let c = |line: &str| complete(line, LineKind::Command, &m);
    let (line, choices) = c("sc");
    assert_eq!(line, "scale");
    assert_eq!(choices, ["scale", "scale_down", "scale_prompt", "scale_up"]);
    assert_eq!(c("he"), ("help ".to_owned(), vec![]));
    let (line, choices) = c("ro");
    assert_eq!(line, "roll");
    assert_eq!(
        choices,
        [
            "rollback",
            "rollback_previous",
            "rolling_restart",
            "rollout",
            "rollout_prompt"
        ]
    );
    assert_eq!(
        c("scale w"),
        ("scale w".to_owned(), vec!["web".into(), "worker".into()])
    );
    assert_eq!(c("scale wo").0, "scale worker ");
    assert_eq!(c("host web-").1, ["web-1", "web-2", "web-3"]);
    assert_eq!(c("host d").0, "host db-1 ");
    assert_eq!(c("theme li").0, "theme light ");
    assert_eq!(c("rollout web whe").0, "rollout web wheelhouse/demo:1 ");
    assert_eq!(c("filter zo").1, ["zone=a", "zone=b"]);
    assert_eq!(c("filter st").0, "filter state=");
    assert_eq!(
        complete("di", LineKind::Filter, &m).0,
        "disk=ssd ",
        "the / prompt completes filter words"
    );
    assert_eq!(c("xyz"), ("xyz".to_owned(), vec![]), "no choice: unchanged");
}

#[test]
fn enter_runs_the_command_through_confirm_and_errors_go_to_the_status_line() {
    let mut m = cluster();
    act(&mut m, Action::CommandLine);
    typed(&mut m, "scale web 5");
    assert!(act(&mut m, Action::Confirm).is_empty());
    assert!(m.ui.command.is_none());
    match &m.ui.dialog {
        Some(Dialog::Confirm { action, .. }) => assert_eq!(
            action,
            &Action::Run(Command::Scale {
                app: "web".into(),
                count: 5,
                seen: Some(11)
            })
        ),
        other => panic!("no confirm: {other:?}"),
    }
    let effects = act(&mut m, Action::Confirm);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Execute(Command::Scale { .. })]
    ));

    act(&mut m, Action::CommandLine);
    typed(&mut m, "scal web 5");
    act(&mut m, Action::Confirm);
    assert_eq!(
        m.ui.message.as_deref(),
        Some("unknown command :scal — did you mean :scale?")
    );
    assert!(m.ui.dialog.is_none());
}

#[test]
fn read_only_refuses_the_servers_files_but_not_the_built_in_themes() {
    let mut m = cluster();
    m.principal.mode = crate::ops::Mode::Wallboard;
    let run = |m: &mut Screen, action: Action| update(m, Msg::Action(action));
    let effects = run(&mut m, Action::ExportTo("/srv".into()));
    assert!(
        matches!(effects.as_slice(), [Effect::AuditRefusal(r)] if r.verb == "export" && r.target == "/srv"),
        "{effects:?}"
    );
    assert_eq!(
        m.ui.message.as_deref(),
        Some("read-only: export to /srv is refused here, nothing was changed")
    );
    let effects = run(&mut m, Action::SetTheme("./mine.toml".into()));
    assert!(
        matches!(effects.as_slice(), [Effect::AuditRefusal(r)] if r.verb == "theme"),
        "{effects:?}"
    );
    // The data dir and the compiled-in themes are the cockpit's own: still fine.
    assert_eq!(
        run(&mut m, Action::ExportScreen),
        [Effect::ExportScreen(None)]
    );
    assert_eq!(
        run(&mut m, Action::SetTheme("light".into())),
        [Effect::SwitchTheme("light".into())]
    );
    m.principal.mode = crate::ops::Mode::ReadWrite;
    assert_eq!(
        run(&mut m, Action::ExportTo("/srv".into())),
        [Effect::ExportScreen(Some("/srv".into()))]
    );
}

#[test]
fn read_only_refuses_mutating_commands_but_not_the_others() {
    let mut m = cluster();
    m.principal.mode = crate::ops::Mode::ReadOnly;
    act(&mut m, Action::CommandLine);
    typed(&mut m, "restart web");
    act(&mut m, Action::Confirm);
    assert!(m.ui.dialog.is_none());
    assert!(
        m.ui.message
            .as_deref()
            .unwrap_or("")
            .starts_with("read-only"),
        "{:?}",
        m.ui.message
    );
    act(&mut m, Action::CommandLine);
    typed(&mut m, "host web-2");
    act(&mut m, Action::Confirm);
    assert_eq!(m.ui.view, View::Host("web-2".into()));
}

#[test]
fn host_theme_and_quit_commands_act() {
    let mut m = cluster();
    act(&mut m, Action::CommandLine);
    typed(&mut m, "host db-1");
    act(&mut m, Action::Confirm);
    assert_eq!(m.ui.view, View::Host("db-1".into()));
    assert_eq!(m.selected_host().map(Host::name), Some("db-1"));
    act(&mut m, Action::CommandLine);
    typed(&mut m, "theme mono");
    assert_eq!(
        act(&mut m, Action::Confirm),
        [Effect::SwitchTheme("mono".into())]
    );
    act(&mut m, Action::CommandLine);
    typed(&mut m, "q");
    act(&mut m, Action::Confirm);
    assert!(m.quit);
}

#[test]
fn tab_erase_and_esc_edit_the_line() {
    let mut m = cluster();
    act(&mut m, Action::CommandLine);
    typed(&mut m, "ho");
    act(&mut m, Action::FocusNext);
    typed(&mut m, "web-");
    act(&mut m, Action::FocusNext);
    let line = m.ui.command.clone().unwrap_or_else(|| panic!("closed"));
    assert_eq!(line.input, "host web-");
    assert_eq!(line.choices, ["web-1", "web-2", "web-3"]);
    act(&mut m, Action::Erase);
    assert_eq!(
        m.ui.command.as_ref().map(|l| l.input.as_str()),
        Some("host web")
    );
    act(&mut m, Action::Cancel);
    assert!(m.ui.command.is_none());
    assert_eq!(m.ui.view, View::Grid);
}

#[test]
fn up_and_down_recall_this_sessions_lines() {
    let mut m = cluster();
    for line in ["host web-1", "filter zone=b", "host db-1"] {
        act(&mut m, Action::CommandLine);
        typed(&mut m, line);
        act(&mut m, Action::Confirm);
        act(&mut m, Action::Back);
    }
    let input = |m: &Screen| m.ui.command.as_ref().map(|l| l.input.clone());
    act(&mut m, Action::CommandLine);
    act(&mut m, Action::MoveUp);
    assert_eq!(input(&m).as_deref(), Some("host db-1"));
    act(&mut m, Action::MoveUp);
    assert_eq!(input(&m).as_deref(), Some("filter zone=b"));
    act(&mut m, Action::MoveUp);
    act(&mut m, Action::MoveUp);
    assert_eq!(
        input(&m).as_deref(),
        Some("host web-1"),
        "stops at the oldest"
    );
    act(&mut m, Action::MoveDown);
    assert_eq!(input(&m).as_deref(), Some("filter zone=b"));
    act(&mut m, Action::MoveDown);
    act(&mut m, Action::MoveDown);
    assert_eq!(input(&m).as_deref(), Some(""), "past the newest: empty");
}

#[test]
fn slash_filters_as_typed_and_esc_clears() {
    let mut m = cluster();
    act(&mut m, Action::FilterPrompt);
    typed(&mut m, "web-3");
    assert_eq!(m.grid_hosts().len(), 1);
    assert_eq!(m.selected_host().map(Host::name), Some("web-3"));
    act(&mut m, Action::Confirm);
    assert!(m.ui.command.is_none());
    assert_eq!(m.ui.filter.as_ref().map(|f| f.text()), Some("web-3"));
    // Reopening starts from the filter in force; esc there clears it.
    act(&mut m, Action::FilterPrompt);
    assert_eq!(
        m.ui.command.as_ref().map(|l| l.input.as_str()),
        Some("web-3")
    );
    act(&mut m, Action::Cancel);
    assert!(m.ui.filter.is_none());
    // Esc on the grid clears one set by :filter.
    act(&mut m, Action::SetFilter("zone=b".into()));
    assert_eq!(m.grid_hosts().len(), 2);
    act(&mut m, Action::Back);
    assert!(m.ui.filter.is_none());
    assert_eq!(m.grid_hosts().len(), 4);
}

#[test]
fn movement_runs_over_the_filtered_grid() {
    let mut m = cluster();
    // Sorted: db-1, web-1, web-2, web-3. Zone a is web-1 and web-2.
    act(&mut m, Action::SetFilter("zone=a".into()));
    assert_eq!(m.selected_host().map(Host::name), Some("web-1"));
    act(&mut m, Action::MoveRight);
    assert_eq!(m.selected_host().map(Host::name), Some("web-2"));
    act(&mut m, Action::MoveRight);
    assert_eq!(
        m.selected_host().map(Host::name),
        Some("web-2"),
        "stops at the edge"
    );
    act(&mut m, Action::First);
    assert_eq!(m.selected_host().map(Host::name), Some("web-1"));
    act(&mut m, Action::Last);
    act(&mut m, Action::Open);
    assert_eq!(m.ui.view, View::Host("web-2".into()));
    act(&mut m, Action::Back);
    // A filter nothing matches: nothing is selected, and moving does nothing.
    act(&mut m, Action::SetFilter("nothing".into()));
    assert!(m.selected_host().is_none());
    act(&mut m, Action::MoveRight);
    act(&mut m, Action::Open);
    assert_eq!(m.ui.view, View::Grid);
}

#[test]
fn the_apps_panel_lists_and_moves_over_matching_names() {
    let mut m = cluster();
    act(&mut m, Action::SetFilter("work".into()));
    assert_eq!(m.ui.selected_app.as_deref(), Some("worker"));
    act(&mut m, Action::FocusNext);
    act(&mut m, Action::MoveUp);
    assert_eq!(
        m.ui.selected_app.as_deref(),
        Some("worker"),
        "web is hidden"
    );
    assert!(m.shows_app("worker") && !m.shows_app("web"));
}

#[test]
fn in_a_host_view_slash_filters_its_containers_and_esc_clears_then_leaves() {
    use crate::domain::Health;
    use crate::tui::update::tests::support::web_container;
    let mut m = cluster();
    let mut other = web_container("c3", Health::None);
    other.name = "db.c3".into();
    other.image = "postgres:16".into();
    other.state = "exited".into();
    std::sync::Arc::make_mut(&mut m.cluster_mut().hosts[0]).containers = vec![
        web_container("c1", Health::Healthy),
        web_container("c2", Health::Unhealthy),
        other,
    ];
    act(&mut m, Action::Open);
    act(&mut m, Action::FilterPrompt);
    typed(&mut m, "health=unhealthy");
    act(&mut m, Action::Confirm);
    let names = |m: &Screen| -> Vec<String> {
        m.shown_containers(&m.cluster.hosts[0])
            .iter()
            .map(|c| c.name.clone())
            .collect()
    };
    assert_eq!(names(&m), ["web.c2"]);
    assert!(m.ui.filter.is_none(), "the grid's filter is untouched");
    // R restarts the container the filtered list shows, not the first of all.
    act(&mut m, Action::RestartOne);
    let Some(Dialog::Confirm { action, .. }) = &m.ui.dialog else {
        panic!("no confirmation: {:?}", m.ui.dialog);
    };
    assert!(
        matches!(action, Action::Run(Command::RestartContainer { container, .. }) if container == "web.c2"),
        "{action:?}"
    );
    act(&mut m, Action::Cancel);
    // A grid-only term is refused with the reason; the filter in force stays.
    act(&mut m, Action::SetFilter("zone=a".into()));
    let why = m.ui.message.clone().unwrap_or_default();
    assert!(why.contains("zone= narrows the grid"), "{why}");
    assert_eq!(names(&m), ["web.c2"]);
    act(&mut m, Action::Back);
    assert_eq!(names(&m).len(), 3, "esc clears the filter first");
    assert!(matches!(m.ui.view, View::Host(_)));
    act(&mut m, Action::Back);
    assert_eq!(m.ui.view, View::Grid);
}

#[test]
fn a_host_filter_keeps_the_selection_in_its_list_and_goes_with_the_view() {
    use crate::cluster::DataEvent;
    use crate::domain::Health;
    use crate::tui::update::tests::support::web_container;
    let mut m = cluster();
    let sick = |id| web_container(id, Health::Unhealthy);
    std::sync::Arc::make_mut(&mut m.cluster_mut().hosts[0]).containers =
        vec![sick("c1"), sick("c2")];
    act(&mut m, Action::Open);
    act(&mut m, Action::SetFilter("health=unhealthy".into()));
    act(&mut m, Action::MoveDown);
    assert_eq!(m.ui.selected_row, 1);
    // c2 turns healthy: the filtered list has one row, and the selection stays on it.
    let containers = vec![sick("c1"), web_container("c2", Health::Healthy)];
    let host = m.cluster.hosts[0].name().to_owned();
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Containers { host, containers }),
    );
    assert_eq!(m.ui.selected_row, 0);
    // `:host` to another host starts it unfiltered; so does coming back.
    act(&mut m, Action::OpenHost("web-2".into()));
    assert_eq!(m.ui.view, View::Host("web-2".into()));
    assert!(m.ui.container_filter.is_none());
    act(&mut m, Action::SetFilter("web".into()));
    act(&mut m, Action::Back);
    act(&mut m, Action::Back);
    assert_eq!(m.ui.view, View::Grid);
    assert!(m.ui.container_filter.is_none());
}
