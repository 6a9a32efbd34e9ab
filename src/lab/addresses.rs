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
    let _lock = lock(claims)?;
    let seed = super::fnv1a(lab_dir.as_os_str().as_encoded_bytes());
    let block = candidates(seed)
        .find(|b| !taken_by_other(&claims.join(b.claim_name()), *b, lab_dir))
        .ok_or_else(|| {
            LabError::Invalid(format!(
                "every loopback block 127.{FIRST_X}-{LAST_X}.*.0/24 is claimed by a lab (see {})",
                claims.display()
            ))
        })?;
    write_claim(claims, block, lab_dir)?;
    record(block)
}

/// Claims `block` again for the lab in `lab_dir` that already records it (its claim may
/// be gone, e.g. /run is emptied at boot); refused if another live lab holds it now.
pub fn reclaim(block: AddressBlock, lab_dir: &Path) -> Result<(), LabError> {
    reclaim_in(Path::new(CLAIMS), block, lab_dir)
}

fn reclaim_in(claims: &Path, block: AddressBlock, lab_dir: &Path) -> Result<(), LabError> {
    let _lock = lock(claims)?;
    let path = claims.join(block.claim_name());
    if taken_by_other(&path, block, lab_dir) {
        let owner = std::fs::read_to_string(&path).unwrap_or_default();
        return Err(LabError::Invalid(format!(
            "this lab's addresses {block} are now the lab's in {}; stop this one with \
             `wheelhouse lab down` and start it afresh",
            owner.trim_end()
        )));
    }
    write_claim(claims, block, lab_dir)
}

/// The exclusive lock on the claims directory, held until the file is dropped.
fn lock(claims: &Path) -> Result<File, LabError> {
    std::fs::create_dir_all(claims)
        .map_err(|e| LabError::io(format!("create {}", claims.display()), e))?;
    let path = claims.join(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LabError::io(format!("open {}", path.display()), e))?;
    file.lock()
        .map_err(|e| LabError::io(format!("lock {}", path.display()), e))?;
    Ok(file)
}

fn write_claim(claims: &Path, block: AddressBlock, lab_dir: &Path) -> Result<(), LabError> {
    let path = claims.join(block.claim_name());
    std::fs::write(&path, lab_dir.as_os_str().as_encoded_bytes())
        .map_err(|e| LabError::io(format!("write {}", path.display()), e))
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
    fn a_lab_takes_its_block_back_unless_another_lab_holds_it() {
        let root = tempfile::tempdir().unwrap();
        let claims = root.path().join("claims");
        let block = AddressBlock { x: 20, y: 1 };
        let mine = lab_with(root.path(), "mine", Some(block));
        // The claim file is gone (a reboot emptied /run): it is written again.
        reclaim_in(&claims, block, &mine).unwrap();
        let owner = std::fs::read_to_string(claims.join(block.claim_name())).unwrap();
        assert_eq!(Path::new(&owner), mine);
        // Another live lab holds it: refused, naming that lab.
        let other = lab_with(root.path(), "other", Some(block));
        write_claim(&claims, block, &other).unwrap();
        let err = reclaim_in(&claims, block, &mine).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "this lab's addresses 127.20.1.0/24 are now the lab's in {}",
                other.display()
            )),
            "{err}"
        );
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
