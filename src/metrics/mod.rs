//! Load figures from the engines' own numbers.

use crate::model::{Container, Load};

/// A host's load: summed container CPU over its cores, summed memory over MemTotal, in percent.
pub fn host_load(containers: &[Container], ncpu: u32, mem_total: u64) -> Load {
    let running = containers.iter().filter(|c| c.is_running());
    let (cpu, mem) = running.fold((0.0, 0u64), |(cpu, mem), c| {
        (
            cpu + c.cpu_percent.unwrap_or(0.0),
            mem + c.mem_bytes.unwrap_or(0),
        )
    });
    let cpu_share = if ncpu == 0 { 0.0 } else { cpu / f64::from(ncpu) };
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
