//! The Apps panel and the dialogs in front of every cluster change: focus, app selection,
//! the scale prompt, y/n confirmation, and asking the gate before any of them.

use super::{Effect, step};
use crate::cluster::{EtcdState, app_statuses};
use crate::domain::app::{parse_instances, validate_instances};
use crate::ops::Refusal;
use crate::ops::{Ask, Command, Kind, authorize};
use crate::store::AuditReason;
use crate::tui::action::Action;
use crate::tui::model::{Dialog, Focus, Model, View, selected_index};
use crate::tui::theme::Theme;

/// The longest text the scale prompt takes; more is a typo, not a count.
const PROMPT_MAX: usize = 12;

/// Asks the gate (`ops::authorize`) whether this screen's principal may go ahead with
/// `action`, before any prompt or y/n, so a refused key is refused at once (`ops::execute`
/// asks again for the command itself). Err is the refusal to show and audit.
pub fn gate(model: &Model, action: &Action) -> Result<(), Refusal> {
    let (verb, target, what, kind) = match action {
        Action::Run(command) => {
            let kind = command.kind();
            let target = command.target().name().to_owned();
            (kind.name(), target, kind.name().to_owned(), Some(kind))
        }
        Action::ExportTo(dir) => ("export", dir.clone(), format!("export to {dir}"), None),
        Action::SetTheme(path) if !Theme::builtin_names().contains(&path.as_str()) => {
            ("theme", path.clone(), format!("theme file {path}"), None)
        }
        key => match key.leads_to() {
            Some(kind) => {
                let what = key.description().to_owned();
                (kind.name(), aimed_at(model), what, Some(kind))
            }
            None => return Ok(()),
        },
    };
    let ask = match kind {
        Some(kind) => Ask::Change { kind, what: &what },
        None => Ask::ServerFiles { what: &what },
    };
    authorize(&model.principal, ask).map_err(|reason| Refusal {
        verb: verb.to_owned(),
        target,
        reason,
        cause: AuditReason::ReadOnly,
    })
}

/// What a key acts on: the selected app, else the host in view, else "-".
fn aimed_at(model: &Model) -> String {
    let in_view = match &model.ui.view {
        View::Host(host) => Some(host.clone()),
        View::Grid => None,
    };
    (model.ui.selected_app.clone().or(in_view)).unwrap_or_else(|| "-".to_owned())
}

/// Tab: grid -> apps -> grid, in the grid view only.
pub(super) fn focus_next(model: &mut Model) {
    if model.ui.view != View::Grid {
        return;
    }
    model.ui.focus = match model.ui.focus {
        Focus::Grid => Focus::Apps,
        Focus::Apps => Focus::Grid,
    };
    if model.ui.focus == Focus::Apps {
        // Pin the shown selection to a name, so rows coming and going do not move it.
        let statuses = app_statuses(&model.cluster);
        let i = selected_index(&statuses, model.ui.selected_app.as_deref());
        model.ui.selected_app = i.map(|i| statuses[i].name.clone());
    }
}

pub(super) fn move_app_selection(model: &mut Model, action: &Action) {
    let statuses = app_statuses(&model.cluster);
    let Some(current) = selected_index(&statuses, model.ui.selected_app.as_deref()) else {
        return;
    };
    let page = model.ui.geometry.apps_rows;
    let next = match action {
        // One column: left and right mean nothing here.
        Action::MoveLeft | Action::MoveRight => current,
        other => step(current, statuses.len(), 1, page, other),
    };
    model.ui.selected_app = Some(statuses[next].name.clone());
}

/// `s`, `+`, `-` on the selected app: a prompt, or straight to y/n.
pub(super) fn start_scale(model: &mut Model, action: &Action) {
    if let Err(why) = etcd_ready(model) {
        model.ui.message = Some(why);
        return;
    }
    let statuses = app_statuses(&model.cluster);
    let Some(i) = selected_index(&statuses, model.ui.selected_app.as_deref()) else {
        model.ui.message = Some("no apps yet: wheelhouse ctl apply -f app.toml".to_owned());
        return;
    };
    let name = statuses[i].name.clone();
    let Some(record) = model.cluster.apps.get(&name) else {
        model.ui.message = Some(format!(
            "{name} has containers but no spec in etcd: apply one first"
        ));
        return;
    };
    let (current, seen) = (record.spec.instances, record.revision);
    model.ui.selected_app = Some(name.clone());
    let count = match action {
        Action::ScaleUp => validate_instances(i64::from(current) + 1, model.max_instances)
            .map_err(|why| format!("cannot scale {name}: {why}")),
        Action::ScaleDown if current == 0 => Err(format!("{name} has 0 instances already")),
        Action::ScaleDown => Ok(current - 1),
        _ => {
            model.ui.dialog = Some(Dialog::ScalePrompt {
                app: name,
                current,
                seen,
                input: String::new(),
                error: None,
            });
            return;
        }
    };
    match count {
        Ok(count) => ask(
            model,
            Command::Scale {
                app: name,
                count,
                seen: Some(seen),
            },
        ),
        Err(why) => {
            model.ui.message = Some(why.clone());
            model.refused.push(Refusal {
                verb: Kind::Scale.name().to_owned(),
                target: name,
                reason: why,
                cause: AuditReason::Invalid,
            });
        }
    }
}

/// Shows why a change was refused and queues the refusal for the audit trail.
pub fn refuse(model: &mut Model, refusal: Refusal) {
    model.ui.message = Some(refusal.reason.clone());
    model.refused.push(refusal);
}

/// Every change asks y/n first.
pub(super) fn ask(model: &mut Model, command: Command) {
    let question = question(model, &command);
    ask_with(model, command, question);
}

/// `ask` with a question of the caller's (one that says more than the command can).
/// Dialogs (the history list, the image prompt) produce commands after the key was let
/// through, so they ask the gate here too.
pub(super) fn ask_with(model: &mut Model, command: Command, question: String) {
    let action = Action::Run(command);
    if let Err(refusal) = gate(model, &action) {
        refuse(model, refusal);
        return;
    }
    if let Err(why) = etcd_ready(model) {
        model.ui.message = Some(why);
        return;
    }
    model.ui.dialog = Some(Dialog::Confirm { question, action });
}

/// `q` (or `:q`): quits at once unless a change this screen asked for has not been
/// answered yet, or a rollout is under way; then it asks, saying what goes on without it.
pub(super) fn quit(model: &mut Model) {
    let rollouts: Vec<&str> = (model.cluster.rollouts.values())
        .filter(|r| !r.state.phase.is_done())
        .map(|r| r.app())
        .collect();
    let question = match (model.in_flight, rollouts.as_slice()) {
        _ if model.principal.is_read_only() => None,
        (0, []) => None,
        (0, [app]) => Some(format!(
            "the rollout of {app} keeps running in the controller: quit?"
        )),
        (0, apps) => Some(format!(
            "the rollouts of {} keep running in the controller: quit?",
            apps.join(", ")
        )),
        (n, _) => Some(format!(
            "{n} change(s) you confirmed not yet written to etcd; quitting now may lose them: \
             quit?"
        )),
    };
    match question {
        None => model.quit = true,
        Some(question) => {
            model.ui.dialog = Some(Dialog::Confirm {
                question,
                action: Action::Quit,
            })
        }
    }
}

/// Keys while a dialog is open: it takes them all.
pub(super) fn on_dialog(model: &mut Model, action: Action) -> Vec<Effect> {
    let Some(dialog) = model.ui.dialog.take() else {
        return Vec::new();
    };
    match (dialog, action) {
        (Dialog::Confirm { question, .. }, Action::Cancel) => {
            model.ui.message = Some(format!("cancelled: {}", question.trim_end_matches('?')));
        }
        (
            Dialog::Confirm {
                action: Action::Quit,
                ..
            },
            Action::Confirm,
        ) => model.quit = true,
        (
            Dialog::Confirm {
                action: Action::Run(command),
                ..
            },
            Action::Confirm,
        ) => {
            model.in_flight += 1;
            model.ui.message = Some(progress(&command));
            return vec![Effect::Execute(command)];
        }
        // Only a quit or a command is ever asked.
        (Dialog::Confirm { .. }, Action::Confirm) => {}
        (Dialog::ScalePrompt { .. }, Action::Cancel) => {
            model.ui.message = Some("scale cancelled".to_owned());
        }
        (
            Dialog::ScalePrompt {
                app,
                current,
                seen,
                input,
                ..
            },
            Action::Confirm,
        ) => match parse_instances(&input, model.max_instances) {
            Ok(count) if count == current => {
                model.ui.message = Some(format!("{app} has {count} instances already"));
            }
            Ok(count) => ask(
                model,
                Command::Scale {
                    app,
                    count,
                    seen: Some(seen),
                },
            ),
            Err(why) => {
                // A bad count is refused input: audited, and the prompt stays to fix it.
                model.refused.push(Refusal {
                    verb: Kind::Scale.name().to_owned(),
                    target: app.clone(),
                    reason: format!("cannot scale {app}: {why}"),
                    cause: AuditReason::Invalid,
                });
                model.ui.dialog = Some(Dialog::ScalePrompt {
                    app,
                    current,
                    seen,
                    input,
                    error: Some(why),
                });
            }
        },
        (mut dialog, edit) => {
            if let Dialog::ScalePrompt { input, error, .. } = &mut dialog {
                match edit {
                    Action::Input(c) if !c.is_control() && input.chars().count() < PROMPT_MAX => {
                        input.push(c);
                        *error = None;
                    }
                    Action::Erase => {
                        input.pop();
                        *error = None;
                    }
                    _ => {}
                }
            }
            // Anything else leaves the dialog as it was.
            model.ui.dialog = Some(dialog);
        }
    }
    Vec::new()
}

/// Mutations need etcd; refuse early rather than after a y/n.
pub(super) fn etcd_ready(model: &Model) -> Result<(), String> {
    match &model.cluster.etcd {
        EtcdState::Disabled => {
            Err("etcd is not configured: apps live in etcd ([etcd] in wheelhouse.toml)".to_owned())
        }
        EtcdState::Unreachable { error, .. } => Err(format!(
            "{} ({error}): changes are refused until it is back",
            super::ETCD_UNREACHABLE
        )),
        EtcdState::Connecting | EtcdState::Connected { .. } => Ok(()),
    }
}

/// "scale web 4 → 32?"
fn question(model: &Model, command: &Command) -> String {
    match command {
        Command::Scale { app, count, .. } => match model.cluster.apps.get(app) {
            Some(r) => format!("scale {app} {} → {count}?", r.spec.instances),
            None => format!("scale {app} to {count}?"),
        },
        Command::Apply { spec } => format!(
            "apply {} ({}, {} instances)?",
            spec.name, spec.image, spec.instances
        ),
        Command::Delete { app } => format!("delete {app} and stop its containers?"),
        other => super::rollout::question(model, other)
            .unwrap_or_else(|| format!("{}?", other.kind().help())),
    }
}

/// What the status line says while a command runs.
fn progress(command: &Command) -> String {
    match command {
        Command::Scale { app, count, .. } => format!("scaling {app} to {count} …"),
        Command::Apply { spec } => format!("applying {} …", spec.name),
        Command::Delete { app } => format!("deleting {app} …"),
        other => {
            super::rollout::progress(other).unwrap_or_else(|| format!("{} …", other.kind().help()))
        }
    }
}

#[cfg(test)]
mod tests;
