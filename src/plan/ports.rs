//! Host ports for instances: containers use the host network, so each instance gets the
//! lowest free ports of its host's range.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The host label that overrides the port range: `wheelhouse.ports=30000-30999`.
pub const HOST_LABEL: &str = "wheelhouse.ports";
pub const DEFAULT_RANGE: PortRange = PortRange {
    first: 20000,
    last: 29999,
};

/// An inclusive range of host ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl PortRange {
    /// Reads `first-last` (1 to 65535, first <= last).
    pub fn parse(text: &str) -> Option<PortRange> {
        let (a, b) = text.trim().split_once('-')?;
        let first: u16 = a.trim().parse().ok()?;
        let last: u16 = b.trim().parse().ok()?;
        (first >= 1 && first <= last).then_some(PortRange { first, last })
    }

    /// The host's range: its `wheelhouse.ports` label, else the default.
    pub fn for_host(labels: &BTreeMap<String, String>) -> Result<PortRange, String> {
        match labels.get(HOST_LABEL) {
            None => Ok(DEFAULT_RANGE),
            Some(text) => PortRange::parse(text).ok_or_else(|| {
                format!("label {HOST_LABEL}={text} is not a port range like 30000-30999")
            }),
        }
    }

    /// The `count` lowest ports of the range not in `used`, or None if there are fewer.
    pub fn allocate(&self, used: &BTreeSet<u16>, count: usize) -> Option<Vec<u16>> {
        let free: Vec<u16> = (self.first..=self.last)
            .filter(|p| !used.contains(p))
            .take(count)
            .collect();
        (free.len() == count).then_some(free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_from_labels() {
        assert_eq!(PortRange::for_host(&BTreeMap::new()), Ok(DEFAULT_RANGE));
        let labels = BTreeMap::from([(HOST_LABEL.to_owned(), "30000-30999".to_owned())]);
        assert_eq!(
            PortRange::for_host(&labels),
            Ok(PortRange {
                first: 30000,
                last: 30999
            })
        );
        for bad in ["30000", "2-1", "0-5", "a-b", "1-70000"] {
            let labels = BTreeMap::from([(HOST_LABEL.to_owned(), bad.to_owned())]);
            let err = PortRange::for_host(&labels).err().unwrap_or_default();
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn lowest_free_ports_first() {
        let range = PortRange {
            first: 100,
            last: 104,
        };
        let used = BTreeSet::from([100, 102]);
        assert_eq!(range.allocate(&used, 2), Some(vec![101, 103]));
        assert_eq!(range.allocate(&used, 3), Some(vec![101, 103, 104]));
        assert_eq!(range.allocate(&used, 4), None);
        assert_eq!(range.allocate(&used, 0), Some(vec![]));
    }
}
