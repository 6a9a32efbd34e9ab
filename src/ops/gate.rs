//! The one gate: who asks (a `Principal`) and whether they may. `ops::execute` asks it for
//! every command, whatever it came from; a screen asks it too before a y/n or a prompt, so
//! a refused key is refused at once, and before it touches the server's files.

use super::command::Kind;
use crate::store;

/// What a principal may do on this screen or in this `ctl` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ReadWrite,
    /// `--readonly`: looks, changes nothing.
    ReadOnly,
    /// A wall screen: read-only whatever the flags say.
    Wallboard,
}

/// Who asks, as the audit names them, and in which mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// $USER, else $LOGNAME, else the uid's login name.
    pub who: String,
    /// The SSH client's address, or "local".
    pub from: String,
    pub mode: Mode,
}

impl Principal {
    /// The operator this process runs for.
    pub fn local(mode: Mode) -> Principal {
        let (who, from) = store::operator();
        Principal { who, from, mode }
    }

    /// `--readonly` and the wallboard: every change is refused.
    pub fn is_read_only(&self) -> bool {
        self.mode != Mode::ReadWrite
    }
}

/// What a principal asks to do; `what` is how the operator asked for it ("one more
/// instance", "scale", "export to /srv"), for the refusal's message.
#[derive(Debug, Clone, Copy)]
pub enum Ask<'a> {
    /// A command of this kind, or a key or prompt that leads to one.
    Change { kind: Kind, what: &'a str },
    /// Writing or reading a file on the server: an export directory, a theme file.
    ServerFiles { what: &'a str },
}

/// Err holds what the operator is told; nothing was tried.
pub fn authorize(principal: &Principal, ask: Ask<'_>) -> Result<(), String> {
    let (guarded, what) = match ask {
        Ask::Change { kind, what } => (kind.is_mutating(), what),
        Ask::ServerFiles { what } => (true, what),
    };
    if guarded && principal.is_read_only() {
        return Err(format!(
            "read-only: {what} is refused here, nothing was changed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(mode: Mode) -> Principal {
        Principal {
            who: "ana".into(),
            from: "local".into(),
            mode,
        }
    }

    #[test]
    fn read_only_modes_refuse_every_change_and_the_servers_files() {
        let files = Ask::ServerFiles {
            what: "export to /srv",
        };
        for mode in [Mode::ReadOnly, Mode::Wallboard] {
            let p = principal(mode);
            for &kind in Kind::ALL {
                let why = authorize(&p, Ask::Change { kind, what: "x" }).unwrap_err();
                assert_eq!(why, "read-only: x is refused here, nothing was changed");
            }
            assert!(authorize(&p, files).is_err());
        }
        let p = principal(Mode::ReadWrite);
        assert!(
            Kind::ALL
                .iter()
                .all(|&kind| { authorize(&p, Ask::Change { kind, what: "x" }).is_ok() })
        );
        assert!(authorize(&p, files).is_ok());
    }
}
