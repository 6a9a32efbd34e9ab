//! The Docker Engine API subset wheelhouse uses, answered by one simulated engine: ping,
//! version, info, containers (list with filters, inspect, create, start, stop, kill,
//! restart, remove, stats, logs), events, images (list, inspect, pull).

use super::fleet::{API_VERSION, Engine, MEM_TOTAL, NCPU, Refusal, VERSION};
use super::query::Query;
use super::streams::{self, Body};
use crate::agent::now_ms;
use bollard::models::{
    ContainerCpuStats, ContainerCpuUsage, ContainerCreateBody, ContainerCreateResponse,
    ContainerMemoryStats, ContainerStatsResponse, ImageInspect, ImageSummary, SystemInfo,
    SystemVersion,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;

/// The largest request body read (a create is a few KiB).
const MAX_BODY: usize = 1 << 20;

pub fn reply(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed_unsync());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    if let Ok(value) = API_VERSION.parse() {
        response.headers_mut().insert("api-version", value);
    }
    response
}

pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => reply(status, "application/json", body),
        Err(e) => refused(&Refusal {
            status: 500,
            message: e.to_string(),
        }),
    }
}

pub fn refused(r: &Refusal) -> Response<Body> {
    let body = serde_json::json!({ "message": r.message }).to_string();
    reply(r.status, "application/json", body)
}

fn no_content() -> Response<Body> {
    reply(204, "text/plain", Bytes::new())
}

/// "/v1.47/containers/json" → "/containers/json"; unversioned paths stay.
fn unversioned(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/v") else {
        return path;
    };
    let version = rest.split_once('/').map_or(rest, |(v, _)| v);
    if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        &path[2 + version.len()..]
    } else {
        path
    }
}

/// One request to `engine`, after its simulated delay.
pub async fn answer(engine: &Arc<Engine>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let delay = engine.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let method = req.method().clone();
    let path = unversioned(req.uri().path()).to_owned();
    let query = Query::parse(req.uri().query());
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let now = now_ms();
    let read = |r: Result<(), Refusal>| r.map_or_else(|e| refused(&e), |()| no_content());
    match (&method, parts.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => reply(200, "text/plain", "OK"),
        (&Method::GET, ["version"]) => json(200, &version()),
        (&Method::GET, ["info"]) => json(200, &info(engine)),
        (&Method::GET, ["containers", "json"]) => list(engine, &query, now),
        (&Method::POST, ["containers", "create"]) => {
            let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) => {
                    return refused(&Refusal {
                        status: 400,
                        message: e.to_string(),
                    });
                }
            };
            let body: ContainerCreateBody = match serde_json::from_slice(&body) {
                Ok(b) => b,
                Err(e) => {
                    return refused(&Refusal {
                        status: 400,
                        message: e.to_string(),
                    });
                }
            };
            match engine.create(query.get("name"), body, now) {
                Ok(id) => json(
                    201,
                    &ContainerCreateResponse {
                        id,
                        warnings: Vec::new(),
                    },
                ),
                Err(e) => refused(&e),
            }
        }
        (&Method::GET, ["containers", id, "json"]) => match engine.with(id, |c| c.inspect(now)) {
            Ok(inspect) => json(200, &inspect),
            Err(e) => refused(&e),
        },
        (
            &Method::POST,
            [
                "containers",
                id,
                verb @ ("start" | "stop" | "kill" | "restart"),
            ],
        ) => {
            match engine.change(id, verb, now) {
                // Docker answers 304 to a start of a running or a stop of a stopped one.
                Ok(false) if matches!(*verb, "start" | "stop") => {
                    reply(304, "text/plain", Bytes::new())
                }
                Ok(_) => no_content(),
                Err(e) => refused(&e),
            }
        }
        (&Method::DELETE, ["containers", id]) => read(engine.remove(id, query.flag("force"), now)),
        (&Method::GET, ["containers", id, "stats"]) => stats(engine, id, &query),
        (&Method::GET, ["containers", id, "logs"]) => streams::logs(engine, id, &query),
        (&Method::GET, ["events"]) => streams::events(engine),
        (&Method::GET, ["images", "json"]) => images(engine),
        (&Method::GET, ["images", name @ .., "json"]) if !name.is_empty() => {
            let name = name.join("/");
            if engine.has_image(&name) {
                json(
                    200,
                    &ImageInspect {
                        id: Some(image_id(&name)),
                        repo_tags: Some(vec![name]),
                        ..Default::default()
                    },
                )
            } else {
                refused(&Refusal {
                    status: 404,
                    message: format!("No such image: {name}"),
                })
            }
        }
        (&Method::POST, ["images", "create"]) => pull(engine, &query),
        _ => refused(&Refusal {
            status: 404,
            message: format!("page not found: the simulator does not serve {method} {path}"),
        }),
    }
}

fn version() -> SystemVersion {
    SystemVersion {
        version: Some(VERSION.to_owned()),
        api_version: Some(API_VERSION.to_owned()),
        min_api_version: Some("1.24".to_owned()),
        os: Some("linux".to_owned()),
        arch: Some("amd64".to_owned()),
        ..Default::default()
    }
}

fn info(engine: &Engine) -> SystemInfo {
    let (all, running) = engine.counts();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    SystemInfo {
        name: Some(engine.name.clone()),
        server_version: Some(VERSION.to_owned()),
        operating_system: Some("wheelhouse fleet simulator".to_owned()),
        ncpu: Some(i64::from(NCPU)),
        mem_total: i64::try_from(MEM_TOTAL).ok(),
        containers: Some(count(all)),
        containers_running: Some(count(running)),
        containers_stopped: Some(count(all - running)),
        ..Default::default()
    }
}

fn list(engine: &Engine, query: &Query, now: i64) -> Response<Body> {
    let filters = match query.filters() {
        Ok(f) => f,
        Err(message) => {
            return refused(&Refusal {
                status: 400,
                message,
            });
        }
    };
    let keep = |c: &super::container::SimContainer| {
        filters.iter().all(|(key, wanted)| {
            wanted.iter().any(|w| match key.as_str() {
                "label" => match w.split_once('=') {
                    Some((k, v)) => c.labels.get(k).is_some_and(|have| have == v),
                    None => c.labels.contains_key(w),
                },
                "name" => c.name.contains(w.trim_start_matches('/')),
                "id" => c.id.starts_with(w.as_str()),
                "status" => match w.as_str() {
                    "running" => c.running(),
                    "exited" => matches!(c.run, super::container::Run::Exited { .. }),
                    "created" => c.run == super::container::Run::Created,
                    _ => false,
                },
                _ => true,
            })
        })
    };
    json(200, &engine.list(query.flag("all"), keep, now))
}

/// One stats reading: CPU now and a tick ago, memory now.
pub fn reading(c: &super::container::SimContainer, elapsed_s: u64) -> ContainerStatsResponse {
    let ns = |s: f64| (s * 1e9) as u64;
    let cpu = |seconds: f64, tick: u64| ContainerCpuStats {
        cpu_usage: Some(ContainerCpuUsage {
            total_usage: Some(ns(seconds)),
            ..Default::default()
        }),
        system_cpu_usage: Some(tick * u64::from(NCPU) * 1_000_000_000),
        online_cpus: Some(NCPU),
        throttling_data: None,
    };
    ContainerStatsResponse {
        id: Some(c.id.clone()),
        name: Some(format!("/{}", c.name)),
        os_type: Some("linux".to_owned()),
        cpu_stats: Some(cpu(c.cpu_seconds, elapsed_s)),
        precpu_stats: Some(cpu(c.cpu_seconds_before, elapsed_s.saturating_sub(1))),
        memory_stats: Some(ContainerMemoryStats {
            usage: Some(c.mem_bytes),
            limit: Some(MEM_TOTAL),
            stats: Some(HashMap::from([("total_inactive_file".to_owned(), 0)])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn stats(engine: &Arc<Engine>, id: &str, query: &Query) -> Response<Body> {
    let stream = query.get("stream").is_none_or(|s| s == "1" || s == "true");
    if stream {
        return streams::stats(engine, id);
    }
    match engine.with(id, |c| reading(c, streams::elapsed_s(engine))) {
        Ok(r) => json(200, &r),
        Err(e) => refused(&e),
    }
}

fn image_id(name: &str) -> String {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("sha256:{}", format!("{hash:016x}").repeat(4))
}

fn images(engine: &Engine) -> Response<Body> {
    let list: Vec<ImageSummary> = (engine.images().into_iter())
        .map(|name| ImageSummary {
            id: image_id(&name),
            parent_id: String::new(),
            repo_tags: vec![name],
            repo_digests: Vec::new(),
            created: 0,
            size: 1 << 20,
            shared_size: -1,
            labels: HashMap::new(),
            containers: -1,
            manifests: None,
            descriptor: None,
        })
        .collect();
    json(200, &list)
}

/// A pull answers 200 and reports progress, or the failure, as JSON lines.
fn pull(engine: &Engine, query: &Query) -> Response<Body> {
    let from = query.get("fromImage").unwrap_or_default();
    let image = match query.get("tag").filter(|t| !t.is_empty()) {
        Some(tag) if !from.contains(':') => format!("{from}:{tag}"),
        _ => from.to_owned(),
    };
    if image.is_empty() {
        return refused(&Refusal {
            status: 400,
            message: "fromImage is required".into(),
        });
    }
    let line = match engine.pull(&image) {
        Ok(()) => {
            serde_json::json!({ "status": format!("Status: Downloaded newer image for {image}") })
        }
        Err(message) => {
            serde_json::json!({ "errorDetail": { "message": message }, "error": message })
        }
    };
    reply(200, "application/json", format!("{line}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_stripped_from_paths_and_nothing_else() {
        assert_eq!(unversioned("/v1.47/containers/json"), "/containers/json");
        assert_eq!(unversioned("/v1.41/_ping"), "/_ping");
        assert_eq!(unversioned("/_ping"), "/_ping");
        assert_eq!(unversioned("/volumes"), "/volumes");
        assert_eq!(unversioned("/v"), "/v");
    }

    #[test]
    fn stats_readings_give_docker_stats_figures() {
        let fleet = super::super::fleet::Fleet::new(1, 1, 5, &[], 0);
        let e = &fleet.engines[0];
        e.tick(1, 1000);
        let (r, percent) = e
            .with("load-1", |c| (reading(c, 10), c.cpu_percent))
            .unwrap();
        let seen = crate::metrics::cpu_percent(
            r.cpu_stats.as_ref().unwrap(),
            r.precpu_stats.as_ref().unwrap(),
        );
        assert!((seen - percent).abs() < 0.01, "{seen} vs {percent}");
    }
}
