//! Each lab's own loopback block 127.X.Y.0/24, so two labs on one machine (and tests
//! running in parallel) never share a host address.
//!
//! A block is claimed by a file `CLAIMS/127.X.Y` naming the lab directory, written under
//! an exclusive lock on `CLAIMS/.lock`. A claim holds while that directory's state file
//! records the same block; a lab that went down (or whose directory is gone) frees it.

use super::LabError;
use super::state::State;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Where claims live: root-only runtime state, like the lab itself.
pub const CLAIMS: &str = "/run/wheelhouse/labs";

/// Blocks are taken from 127.X.Y with X in this range: 127.0.*.* stays free for whatever
/// else uses loopback (Debian maps the machine's name to 127.0.1.1).
const FIRST_X: u8 = 16;
const LAST_X: u8 = 254;

/// The block 127.x.y.0/24; host N (1..=254) gets 127.x.y.N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AddressBlock {
    pub x: u8,
    pub y: u8,
}

impl AddressBlock {
    pub fn host(&self, n: usize) -> String {
        format!("127.{}.{}.{n}", self.x, self.y)
    }

    fn claim_name(&self) -> String {
        format!("127.{}.{}", self.x, self.y)
    }
}

impl fmt::Display for AddressBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "127.{}.{}.0/24", self.x, self.y)
    }
}

impl From<AddressBlock> for String {
    fn from(b: AddressBlock) -> String {
        b.to_string()
    }
}

impl TryFrom<String> for AddressBlock {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a block 127.X.Y.0/24");
        let rest = text
            .strip_prefix("127.")
            .and_then(|r| r.strip_suffix(".0/24"))
            .ok_or_else(bad)?;
        let (x, y) = rest.split_once('.').ok_or_else(bad)?;
        Ok(AddressBlock {
            x: x.parse().map_err(|_| bad())?,
            y: y.parse().map_err(|_| bad())?,
        })
    }
}

/// Every candidate block, starting at one derived from `seed` so that labs in different
/// directories rarely look at the same blocks first.
fn candidates(seed: u64) -> impl Iterator<Item = AddressBlock> {
    let span = u64::from(LAST_X - FIRST_X + 1) * 256;
    (0..span).map(move |i| {
        let k = (seed % span + i) % span;
        AddressBlock {
            // Both fit: k / 256 < LAST_X - FIRST_X + 1 and k % 256 < 256.
            x: FIRST_X + u8::try_from(k / 256).unwrap_or(0),
            y: u8::try_from(k % 256).unwrap_or(0),
        }
    })
}

/// Whether the claim file `path` (if any) still holds its block for a lab other than
/// `lab_dir`.
fn taken_by_other(path: &Path, block: AddressBlock, lab_dir: &Path) -> bool {
    let Ok(owner) = std::fs::read_to_string(path) else {
        return false;
    };
    let owner = PathBuf::from(owner.trim_end());
    owner != lab_dir && State::read(&owner).is_ok_and(|state| state.addresses == Some(block))
}

/// Claims a free block for the lab in `lab_dir` and runs `record` with it while the lock
/// is held; `record` must write the lab's state file, which is what keeps the claim.
pub fn claim<T>(
    lab_dir: &Path,
    record: impl FnOnce(AddressBlock) -> Result<T, LabError>,
) -> Result<T, LabError> {
    claim_in(Path::new(CLAIMS), lab_dir, record)
}

fn claim_in<T>(
    claims: &Path,
    lab_dir: &Path,
    record: impl FnOnce(AddressBlock) -> Result<T, LabError>,
) -> Result<T, LabError> {
    std::fs::create_dir_all(claims)
        .map_err(|e| LabError::io(format!("create {}", claims.display()), e))?;
    let lock_path = claims.join(".lock");
    let lock: File = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| LabError::io(format!("open {}", lock_path.display()), e))?;
    lock.lock()
        .map_err(|e| LabError::io(format!("lock {}", lock_path.display()), e))?;
    let seed = super::fnv1a(lab_dir.as_os_str().as_encoded_bytes());
    let block = candidates(seed)
        .find(|b| !taken_by_other(&claims.join(b.claim_name()), *b, lab_dir))
        .ok_or_else(|| {
            LabError::Invalid(format!(
                "every loopback block 127.{FIRST_X}-{LAST_X}.*.0/24 is claimed by a lab (see {})",
                claims.display()
            ))
        })?;
    let path = claims.join(block.claim_name());
    std::fs::write(&path, lab_dir.as_os_str().as_encoded_bytes())
        .map_err(|e| LabError::io(format!("write {}", path.display()), e))?;
    let recorded = record(block);
    // The lock goes with the file handle.
    drop(lock);
    recorded
}

/// Drops the claim of `block` if it is `lab_dir`'s (after `lab down`).
pub fn release(block: AddressBlock, lab_dir: &Path) {
    let path = Path::new(CLAIMS).join(block.claim_name());
    if std::fs::read_to_string(&path).is_ok_and(|owner| Path::new(owner.trim_end()) == lab_dir) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_read_back_what_they_write() {
        let b = AddressBlock { x: 16, y: 255 };
        assert_eq!(b.to_string(), "127.16.255.0/24");
        assert_eq!(b.host(3), "127.16.255.3");
        assert_eq!(AddressBlock::try_from(b.to_string()), Ok(b));
        for bad in [
            "127.1.2.0/23",
            "10.1.2.0/24",
            "127.300.1.0/24",
            "127.1.0/24",
        ] {
            assert!(AddressBlock::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn candidates_cover_every_block_once_and_never_127_0() {
        let all: std::collections::BTreeSet<(u8, u8)> =
            candidates(u64::MAX).map(|b| (b.x, b.y)).collect();
        assert_eq!(all.len(), usize::from(LAST_X - FIRST_X + 1) * 256);
        assert!(all.iter().all(|(x, _)| (FIRST_X..=LAST_X).contains(x)));
    }

    /// A lab dir whose state file records `block`, as a running lab's does.
    fn lab_with(root: &Path, name: &str, block: Option<AddressBlock>) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut state: State =
            serde_json::from_str(r#"{"etcd":[],"hosts":[],"dockerd":[]}"#).unwrap();
        state.addresses = block;
        state.write(&dir).unwrap();
        dir
    }

    #[test]
    fn a_live_claim_is_skipped_and_a_stale_one_reused() {
        let root = tempfile::tempdir().unwrap();
        let claims = root.path().join("claims");
        let b_dir = root.path().join("b");
        let seed = super::super::fnv1a(b_dir.as_os_str().as_encoded_bytes());
        let mut order = candidates(seed);
        let (first, second) = (order.next().unwrap(), order.next().unwrap());
        // Lab a holds the block b would try first.
        let a_dir = lab_with(root.path(), "a", Some(first));
        std::fs::create_dir_all(&claims).unwrap();
        std::fs::write(claims.join(first.claim_name()), a_dir.to_str().unwrap()).unwrap();
        let record = |b| {
            lab_with(root.path(), "b", Some(b));
            Ok(b)
        };
        assert_eq!(claim_in(&claims, &b_dir, record).unwrap(), second);
        // Once a's state no longer records it (lab down), b gets it.
        lab_with(root.path(), "a", None);
        assert_eq!(claim_in(&claims, &b_dir, record).unwrap(), first);
    }

    #[test]
    fn a_failed_record_reports_its_error() {
        let root = tempfile::tempdir().unwrap();
        let got: Result<(), _> = claim_in(&root.path().join("c"), &root.path().join("x"), |_| {
            Err(LabError::Invalid("no".into()))
        });
        assert!(matches!(got, Err(LabError::Invalid(m)) if m == "no"));
    }
}
