//! The Apps panel and the dialogs in front of every cluster change: focus, app selection,
//! the scale prompt, y/n confirmation, and the read-only gate.

use super::{Effect, step};
use crate::cluster::{EtcdState, app_statuses};
use crate::domain::app::{parse_instances, validate_instances};
use crate::ops::Refusal;
use crate::tui::action::Action;
use crate::tui::model::{Dialog, Focus, Model, View, selected_index};

/// The longest text the scale prompt takes; more is a typo, not a count.
const PROMPT_MAX: usize = 12;

/// The one place mutating actions are checked against read-only mode (the cockpit's keys,
/// macros and `ctl` all come through here). Err holds what the operator is told.
pub fn authorize(readonly: bool, action: &Action) -> Result<(), String> {
    if readonly && action.is_mutating() {
        return Err(format!(
            "read-only: {} is refused here, nothing was changed",
            action.description()
        ));
    }
    Ok(())
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
    let page = crate::tui::apps_rows(model.ui.width, model.ui.height);
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
            Action::Scale {
                app: name,
                count,
                seen: Some(seen),
            },
        ),
        Err(why) => {
            model.ui.message = Some(why.clone());
            model.refused.push(Refusal {
                verb: "scale".to_owned(),
                target: name,
                reason: why,
            });
        }
    }
}

/// Shows why `action` was refused and queues the refusal for the audit trail, aimed at
/// what the action names, else at the selected app or the host in view.
pub fn refuse(model: &mut Model, action: Action, reason: String) {
    let (verb, target) = match crate::ops::describe(&action) {
        Some((verb, target)) => (verb.to_owned(), target.to_owned()),
        None => {
            let in_view = match &model.ui.view {
                View::Host(host) => Some(host.clone()),
                View::Grid => None,
            };
            let target = model.ui.selected_app.clone().or(in_view);
            let verb = match action {
                Action::ScalePrompt | Action::ScaleUp | Action::ScaleDown => "scale".to_owned(),
                Action::RolloutPrompt => "rollout".to_owned(),
                Action::RollbackPrevious => "rollback".to_owned(),
                Action::RollingRestart => "restart".to_owned(),
                Action::RestartOne => "restart-container".to_owned(),
                _ => action.name(),
            };
            (verb, target.unwrap_or_else(|| "-".to_owned()))
        }
    };
    model.ui.message = Some(reason.clone());
    model.refused.push(Refusal {
        verb,
        target,
        reason,
    });
}

/// Every mutating action asks y/n first. Dialogs (the history list, the image prompt)
/// produce actions after the key was let through, so they pass the gate here too.
pub(super) fn ask(model: &mut Model, action: Action) {
    let question = question(model, &action);
    ask_with(model, action, question);
}

/// `ask` with a question of the caller's (one that says more than the action can).
pub(super) fn ask_with(model: &mut Model, action: Action, question: String) {
    if let Err(refused) = authorize(model.readonly, &action) {
        refuse(model, action, refused);
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
        _ if model.readonly => None,
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
        (Dialog::Confirm { action, .. }, Action::Confirm) => {
            model.in_flight += 1;
            model.ui.message = Some(progress(&action));
            return vec![Effect::Execute(action)];
        }
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
                Action::Scale {
                    app,
                    count,
                    seen: Some(seen),
                },
            ),
            Err(why) => {
                // A bad count is refused input: audited, and the prompt stays to fix it.
                model.refused.push(Refusal {
                    verb: "scale".to_owned(),
                    target: app.clone(),
                    reason: format!("cannot scale {app}: {why}"),
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
fn question(model: &Model, action: &Action) -> String {
    match action {
        Action::Scale { app, count, .. } => match model.cluster.apps.get(app) {
            Some(r) => format!("scale {app} {} → {count}?", r.spec.instances),
            None => format!("scale {app} to {count}?"),
        },
        Action::Apply { spec } => format!(
            "apply {} ({}, {} instances)?",
            spec.name, spec.image, spec.instances
        ),
        Action::Delete { app } => format!("delete {app} and stop its containers?"),
        other => super::rollout::question(model, other)
            .unwrap_or_else(|| format!("{}?", other.description())),
    }
}

/// What the status line says while an action runs.
fn progress(action: &Action) -> String {
    match action {
        Action::Scale { app, count, .. } => format!("scaling {app} to {count} …"),
        Action::Apply { spec } => format!("applying {} …", spec.name),
        Action::Delete { app } => format!("deleting {app} …"),
        other => {
            super::rollout::progress(other).unwrap_or_else(|| format!("{} …", other.description()))
        }
    }
}

#[cfg(test)]
mod tests;
