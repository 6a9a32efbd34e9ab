//! Reading app specs with many ports (issue 9 item 6: 1,000 ports took 0.4 s, 10,000 did
//! not finish in a minute). The check is one pass now and stops at `MAX_PORTS`, so a spec
//! of 10,000 ports is refused in about the time it takes TOML to read it.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use wheelhouse::domain::app::{AppSpec, MAX_PORTS};

fn with_ports(count: usize) -> String {
    let ports: Vec<String> = (0..count).map(|i| format!("\"p{i}\"")).collect();
    format!(
        "name = \"web\"\nimage = \"wh-demo:1\"\nports = [{}]\n",
        ports.join(", ")
    )
}

fn bench(c: &mut Criterion) {
    let path = Path::new("web.toml");
    let most = with_ports(MAX_PORTS);
    c.bench_function("app spec with the most ports (100)", |b| {
        b.iter(|| AppSpec::from_toml(path, black_box(&most)).is_ok())
    });
    let many = with_ports(10_000);
    c.bench_function("app spec with 10,000 ports (refused)", |b| {
        b.iter(|| AppSpec::from_toml(path, black_box(&many)).is_err())
    });
    let mut spec = AppSpec::new("web", "wh-demo:1");
    spec.ports = (0..MAX_PORTS).map(|i| format!("p{i}")).collect();
    let json = spec.to_json().unwrap_or_default();
    c.bench_function("app record from etcd with 100 ports", |b| {
        b.iter(|| AppSpec::from_json(black_box(json.as_bytes())).is_ok())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
