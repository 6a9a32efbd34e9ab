//! Load figures from the engines' own numbers, and the compressed history of metric series.

mod bits;
pub mod gorilla;
pub mod history;
mod stats;

pub use history::{Point, Resolution, Series};
pub use stats::{cpu_percent, mem_bytes};

use crate::domain::{Container, Load};

/// A host's load: summed container CPU over its cores, summed memory over MemTotal, in percent.
pub fn host_load(containers: &[Container], ncpu: u32, mem_total: u64) -> Load {
    let running = containers.iter().filter(|c| c.is_running());
    let (cpu, mem) = running.fold((0.0, 0u64), |(cpu, mem), c| {
        (
            cpu + c.cpu_percent.unwrap_or(0.0),
            mem + c.mem_bytes.unwrap_or(0),
        )
    });
    let cpu_share = if ncpu == 0 {
        0.0
    } else {
        cpu / f64::from(ncpu)
    };
    let mem_share = if mem_total == 0 {
        0.0
    } else {
        mem as f64 * 100.0 / mem_total as f64
    };
    Load {
        cpu: cpu_share.clamp(0.0, 100.0),
        mem: mem_share.clamp(0.0, 100.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Health;
    use std::collections::BTreeMap;

    fn container(state: &str, cpu: Option<f64>, mem: Option<u64>) -> Container {
        Container {
            id: format!("{state}-{cpu:?}-{mem:?}"),
            name: "c".into(),
            image: "wheelhouse/demo:1".into(),
            state: state.into(),
            status: String::new(),
            health: Health::None,
            labels: BTreeMap::new(),
            cpu_percent: cpu,
            mem_bytes: mem,
            ports: Vec::new(),
            restarts: None,
            last_check: None,
        }
    }

    const GIB: u64 = 1 << 30;

    #[test]
    fn sums_running_containers_over_capacity() {
        let cs = [
            container("running", Some(50.0), Some(GIB)),
            container("running", Some(30.0), Some(GIB)),
        ];
        let load = host_load(&cs, 2, 8 * GIB);
        assert!((load.cpu - 40.0).abs() < 1e-9, "{load:?}");
        assert!((load.mem - 25.0).abs() < 1e-9, "{load:?}");
        assert!((load.score() - 40.0).abs() < 1e-9);
    }

    #[test]
    fn stopped_containers_and_missing_stats_count_as_zero() {
        let cs = [
            container("exited", Some(90.0), Some(4 * GIB)),
            container("running", None, None),
            container("running", Some(10.0), None),
        ];
        let load = host_load(&cs, 1, 4 * GIB);
        assert!((load.cpu - 10.0).abs() < 1e-9, "{load:?}");
        assert_eq!(load.mem, 0.0);
    }

    #[test]
    fn zero_capacity_and_overload_are_clamped() {
        let cs = [container("running", Some(350.0), Some(9 * GIB))];
        assert_eq!(host_load(&cs, 0, 0), Load { cpu: 0.0, mem: 0.0 });
        assert_eq!(
            host_load(&cs, 2, 8 * GIB),
            Load {
                cpu: 100.0,
                mem: 100.0
            }
        );
        assert_eq!(host_load(&[], 4, GIB), Load { cpu: 0.0, mem: 0.0 });
    }
}
