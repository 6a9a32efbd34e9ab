//! The agent's read-only HTTP API (HTTP/1.1, hyper): `GET /v1/summary`, `GET /v1/probes`,
//! `GET /v1/series/<target>/<metric>?since=<unix ms>&step=<ms>` and `GET /metrics`.
//! Routing is a pure function of method, path and the shared state, tested without a
//! socket; `serve` only moves bytes.

use super::history::{History, SeriesSource, TICK_MS};
use super::prom;
use super::run::now_ms;
use super::summary::{SeriesPoint, SeriesReply, Summary};
use crate::domain::probe::ProbeReport;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

/// What the sampler publishes and the API reads.
#[derive(Default)]
pub struct Shared {
    pub summary: Option<Summary>,
    pub history: History,
    /// The last probe round's report; None before the first.
    pub probes: Option<ProbeReport>,
}

pub type SharedState = Arc<RwLock<Shared>>;

/// How far back a series reaches when `since` is not given: the history's hour.
const DEFAULT_SPAN_MS: i64 = 3_600_000;

const JSON: &str = "application/json";

/// A response before it becomes hyper's.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
}

fn error(status: StatusCode, message: &str) -> Reply {
    Reply {
        status,
        content_type: JSON,
        body: serde_json::json!({ "error": message }).to_string(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Reply {
    match serde_json::to_string(value) {
        Ok(body) => Reply {
            status: StatusCode::OK,
            content_type: JSON,
            body,
        },
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The answer to one request at `now_ms`.
pub fn route(
    method: &Method,
    path: &str,
    query: Option<&str>,
    shared: &Shared,
    now_ms: i64,
) -> Reply {
    route_with(method, path, query, shared, &shared.history, now_ms)
}

/// `route`, with series from `source` rather than the shared history.
pub fn route_with(
    method: &Method,
    path: &str,
    query: Option<&str>,
    shared: &Shared,
    source: &dyn SeriesSource,
    now_ms: i64,
) -> Reply {
    let known = path == "/v1/summary"
        || path == "/v1/probes"
        || path == "/metrics"
        || path.starts_with("/v1/series/");
    if !known {
        return error(
            StatusCode::NOT_FOUND,
            &format!(
                "no such path {path:?}; try /v1/summary, /v1/probes, /v1/series/<container|host>/<metric> or /metrics"
            ),
        );
    }
    if method != Method::GET && method != Method::HEAD {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "the agent API is read-only: GET only",
        );
    }
    if path == "/v1/probes" {
        return match &shared.probes {
            Some(report) => json(report),
            None => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the first probe round is not done yet",
            ),
        };
    }
    let Some(summary) = &shared.summary else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the first sample is not taken yet",
        );
    };
    match path {
        "/v1/summary" => json(summary),
        "/metrics" => Reply {
            status: StatusCode::OK,
            content_type: prom::CONTENT_TYPE,
            body: prom::render(summary),
        },
        _ => series(
            path.trim_start_matches("/v1/series/"),
            query,
            source,
            now_ms,
        ),
    }
}

fn series(rest: &str, query: Option<&str>, source: &dyn SeriesSource, now_ms: i64) -> Reply {
    let Some((target, metric)) = rest
        .split_once('/')
        .filter(|(t, m)| !t.is_empty() && !m.is_empty() && !m.contains('/'))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "a series is /v1/series/<container id, name or \"host\">/<metric>",
        );
    };
    let (since_ms, step_ms) = match parse_query(query, now_ms) {
        Ok(q) => q,
        Err(why) => return error(StatusCode::BAD_REQUEST, &why),
    };
    match source.series(target, metric, since_ms, step_ms) {
        Ok(points) => json(&SeriesReply {
            target: target.to_owned(),
            metric: metric.to_owned(),
            since_ms,
            step_ms,
            points: points
                .into_iter()
                .map(|p| SeriesPoint {
                    unix_ms: p.unix_ms,
                    value: p.value,
                })
                .collect(),
        }),
        Err(missing) => error(StatusCode::NOT_FOUND, &missing.to_string()),
    }
}

/// `since` (unix ms; default an hour ago) and `step` (ms, a whole number of ticks;
/// default one tick).
fn parse_query(query: Option<&str>, now_ms: i64) -> Result<(i64, i64), String> {
    let mut since = now_ms.saturating_sub(DEFAULT_SPAN_MS).max(0);
    let mut step = TICK_MS;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = || {
            value
                .parse::<i64>()
                .map_err(|_| format!("{key}={value:?} is not a whole number of milliseconds"))
        };
        match key {
            "since" => since = number()?,
            "step" => step = number()?,
            _ => return Err(format!("unknown parameter {key:?}: use since and step")),
        }
    }
    if since < 0 {
        return Err(format!(
            "since={since} must be unix milliseconds, not negative"
        ));
    }
    if step < TICK_MS || step % TICK_MS != 0 || step > DEFAULT_SPAN_MS {
        return Err(format!(
            "step={step} must be a multiple of {TICK_MS} ms, at most {DEFAULT_SPAN_MS}"
        ));
    }
    Ok((since, step))
}

fn respond(req: &Request<hyper::body::Incoming>, shared: &SharedState) -> Response<Full<Bytes>> {
    let reply = {
        let guard = shared
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        route(
            req.method(),
            req.uri().path(),
            req.uri().query(),
            &guard,
            now_ms(),
        )
    };
    let body = if req.method() == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from(reply.body)
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    if reply.status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}

/// Serves one connection (plain or TLS) until the client goes.
pub async fn serve_connection<S>(stream: S, shared: SharedState)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let response = respond(&req, &shared);
        async move { Ok::<_, Infallible>(response) }
    });
    let io = hyper_util::rt::TokioIo::new(stream);
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
    {
        tracing::debug!("agent API connection ended: {e}");
    }
}

/// Accepts connections on `listener` forever, a task each.
pub async fn serve(
    listener: TcpListener,
    shared: SharedState,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("agent API accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, shared).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => serve_connection(stream, shared).await,
                    Err(e) => tracing::debug!(%peer, "TLS handshake refused: {e}"),
                },
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::summary::{ContainerSummary, Figures, Machine};

    fn shared() -> Shared {
        let summary = Summary {
            host: "lab-1".into(),
            version: "0".into(),
            started_at_ms: 0,
            unix_ms: 5000,
            source: "cgroup-v1".into(),
            machine: Machine::default(),
            containers_sum: Figures::default(),
            history_bytes: 0,
            probes_at_ms: None,
            containers: vec![ContainerSummary {
                id: "abcdef0123456789".into(),
                name: "web-1".into(),
                app: Some("web".into()),
                instance: Some("web-1".into()),
                figures: Some(Figures::default()),
            }],
        };
        let mut history = History::default();
        history.record(&summary);
        Shared {
            summary: Some(summary),
            history,
            probes: None,
        }
    }

    #[test]
    fn summary_series_and_metrics_answer() {
        let s = shared();
        let summary = route(&Method::GET, "/v1/summary", None, &s, 6000);
        assert_eq!(summary.status, StatusCode::OK);
        let back: Summary = serde_json::from_str(&summary.body).unwrap();
        assert_eq!(back.containers[0].app.as_deref(), Some("web"));
        let series = route(
            &Method::GET,
            "/v1/series/web-1/mem_bytes",
            Some("since=0&step=2000"),
            &s,
            6000,
        );
        assert_eq!(series.status, StatusCode::OK, "{}", series.body);
        let reply: SeriesReply = serde_json::from_str(&series.body).unwrap();
        assert_eq!(
            reply.points,
            vec![SeriesPoint {
                unix_ms: 4000,
                value: Some(0.0)
            }]
        );
        // A gap is a JSON null.
        let cpu = route(
            &Method::GET,
            "/v1/series/host/cpu_percent",
            Some("since=0"),
            &s,
            6000,
        );
        assert!(cpu.body.contains("\"value\":null"), "{}", cpu.body);
        let metrics = route(&Method::GET, "/metrics", None, &s, 6000);
        assert_eq!(metrics.content_type, prom::CONTENT_TYPE);
        assert!(metrics.body.contains("container=\"web-1\""));
    }

    #[test]
    fn unknown_things_are_404_and_writes_405_with_a_message() {
        let s = shared();
        let unknown = route(&Method::GET, "/v1/series/nope/cpu_percent", None, &s, 0);
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(
            unknown.body.contains("no container \\\"nope\\\""),
            "{}",
            unknown.body
        );
        let metric = route(&Method::GET, "/v1/series/host/nope", None, &s, 0);
        assert_eq!(metric.status, StatusCode::NOT_FOUND);
        assert!(
            metric.body.contains("known: cpu_percent"),
            "{}",
            metric.body
        );
        assert_eq!(
            route(&Method::GET, "/v1/series/host", None, &s, 0).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            route(&Method::GET, "/", None, &s, 0).status,
            StatusCode::NOT_FOUND
        );
        let post = route(&Method::POST, "/v1/summary", None, &s, 0);
        assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(post.body.contains("read-only"));
        let empty = route(&Method::GET, "/v1/summary", None, &Shared::default(), 0);
        assert_eq!(empty.status, StatusCode::SERVICE_UNAVAILABLE);
        let probes = route(&Method::GET, "/v1/probes", None, &s, 0);
        assert_eq!(probes.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(probes.body.contains("first probe round"), "{}", probes.body);
    }

    #[test]
    fn bad_query_parameters_are_refused_with_the_reason() {
        let s = shared();
        for query in [
            "since=-9223372036854775808",
            "since=soon",
            "step=500",
            "step=1500",
            "step=0",
            "window=1",
            "step=-1000",
        ] {
            let reply = route(
                &Method::GET,
                "/v1/series/host/cpu_percent",
                Some(query),
                &s,
                0,
            );
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
            assert!(reply.body.contains("error"), "{query}: {}", reply.body);
        }
        assert_eq!(parse_query(None, 3_600_000), Ok((0, 1000)));
    }

    proptest::proptest! {
        #[test]
        fn any_request_gets_an_answer(
            post in proptest::bool::ANY,
            path in "/[a-z0-9/_.-]{0,40}",
            query in proptest::option::of("[a-z=&0-9-]{0,30}"),
            since in proptest::num::i64::ANY,
            step in proptest::num::i64::ANY,
        ) {
            let s = shared();
            let method = if post { Method::POST } else { Method::GET };
            let reply = route(&method, &path, query.as_deref(), &s, since);
            proptest::prop_assert!(!reply.body.is_empty());
            let query = format!("since={since}&step={step}");
            let series = route(&Method::GET, "/v1/series/host/cpu_percent", Some(&query), &s, 0);
            proptest::prop_assert!(series.status == StatusCode::OK || series.status == StatusCode::BAD_REQUEST);
        }
    }
}
