//! Models the update tests start from, and driving them with actions.

use crate::cluster::{Host, HostSource};
use crate::domain::{Container, Health, HostSpec};
use crate::tui::action::Action;
use crate::tui::screen::Screen;
use crate::tui::update::{Effect, Msg, update};
use std::time::Instant;

/// A host from the config file, its engine a unix socket named after it.
pub(crate) fn host_spec(name: &str) -> HostSpec {
    HostSpec {
        name: name.into(),
        engine: format!("unix:///run/{name}.sock"),
        address: None,
        zone: None,
        labels: Default::default(),
        tls: None,
    }
}

/// A host never yet seen.
pub(crate) fn host(name: &str) -> Host {
    Host::new(host_spec(name), HostSource::Config)
}

/// The hosts `names`, none seen yet, on a 200x50 screen.
pub(crate) fn screen(names: &[&str]) -> Screen {
    let hosts = names.iter().map(|n| host(n)).collect();
    let mut m = Screen::with_hosts(Instant::now(), hosts);
    m.ui.geometry = crate::tui::geometry(200, 50);
    m
}

/// The labels the controller gives an instance of `app` (number 1, revision 7).
pub(crate) fn owned_labels(app: &str) -> std::collections::BTreeMap<String, String> {
    use crate::plan::labels::{APP, INSTANCE, REVISION};
    [
        (APP.to_owned(), app.to_owned()),
        (INSTANCE.to_owned(), "1".to_owned()),
        (REVISION.to_owned(), "7".to_owned()),
    ]
    .into()
}

/// A running container of the app `web` (by its label), with this health.
pub(crate) fn web_container(id: &str, health: Health) -> Container {
    Container {
        id: id.into(),
        name: format!("web.{id}"),
        image: "wheelhouse/demo:1".into(),
        state: "running".into(),
        status: "Up".into(),
        health,
        labels: owned_labels("web"),
        cpu_percent: None,
        mem_bytes: None,
        ports: Vec::new(),
        restarts: None,
        last_check: None,
    }
}

pub(crate) fn act(m: &mut Screen, a: Action) -> Vec<Effect> {
    update(m, Msg::Action(a))
}

/// The status line's message, or "".
pub(crate) fn message(m: &Screen) -> &str {
    m.ui.message.as_deref().unwrap_or("")
}
