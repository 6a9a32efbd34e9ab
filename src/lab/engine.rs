//! The few Docker engine API calls the lab makes, blocking, over the engine's unix socket.
//! Public so integration tests can check an engine without an async runtime.

use super::LabError;
use super::http::{self, Request, Response};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const QUICK: Duration = Duration::from_secs(2);
const SLOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Engine {
    pub socket: PathBuf,
}

impl Engine {
    pub fn new(socket: &Path) -> Self {
        Engine {
            socket: socket.to_owned(),
        }
    }

    fn call(&self, req: &Request) -> Result<Response, LabError> {
        http::unix(&self.socket, req).map_err(|e| {
            LabError::engine(
                format!("{} {} on {}", req.method, req.path, self.socket.display()),
                e.to_string(),
            )
        })
    }

    /// Like `call`, but a non-2xx status is an error carrying the engine's message.
    fn ok(&self, req: &Request) -> Result<Response, LabError> {
        let resp = self.call(req)?;
        if resp.is_success() {
            return Ok(resp);
        }
        let message = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| resp.text());
        Err(LabError::engine(
            format!("{} {} on {}", req.method, req.path, self.socket.display()),
            format!("HTTP {}: {}", resp.status, message.trim()),
        ))
    }

    /// `GET /_ping` answered "OK".
    pub fn ping(&self) -> Result<(), LabError> {
        let resp = self.ok(&Request::get("/_ping", QUICK))?;
        if resp.body == b"OK" {
            Ok(())
        } else {
            Err(LabError::engine(
                "ping",
                format!("unexpected answer {:?}", resp.text()),
            ))
        }
    }

    pub fn get_json(&self, path: &str) -> Result<Value, LabError> {
        let resp = self.ok(&Request::get(path, SLOW))?;
        serde_json::from_slice(&resp.body)
            .map_err(|e| LabError::engine(path.to_owned(), e.to_string()))
    }

    /// POSTs `body` as JSON (`Value::Null` sends no body); a reply without a body is `Null`.
    pub fn post_json(&self, path: &str, body: &Value) -> Result<Value, LabError> {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let resp = self.ok(&Request::post(path, "application/json", &bytes, SLOW))?;
        if resp.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&resp.body)
            .map_err(|e| LabError::engine(path.to_owned(), e.to_string()))
    }

    pub fn delete(&self, path: &str) -> Result<(), LabError> {
        let req = Request {
            method: "DELETE",
            path,
            body: None,
            timeout: SLOW,
        };
        self.ok(&req).map(|_| ())
    }

    /// `docker import` of a root filesystem tar with Dockerfile-style `changes`.
    pub fn import(
        &self,
        tar: &[u8],
        repo: &str,
        tag: &str,
        changes: &[String],
    ) -> Result<(), LabError> {
        let mut path = format!(
            "/images/create?fromSrc=-&repo={}&tag={}",
            http::encode(repo),
            http::encode(tag)
        );
        for c in changes {
            path.push_str("&changes=");
            path.push_str(&http::encode(c));
        }
        let resp = self.ok(&Request::post(&path, "application/x-tar", tar, SLOW))?;
        // Errors after the headers arrive inside the JSON progress stream.
        let text = resp.text();
        match text.lines().find(|l| l.contains("\"error\"")) {
            Some(line) => Err(LabError::engine(
                format!("import {repo}:{tag}"),
                line.to_owned(),
            )),
            None => Ok(()),
        }
    }

    /// Every `repo:tag` the engine holds.
    pub fn image_tags(&self) -> Result<Vec<String>, LabError> {
        let images = self.get_json("/images/json")?;
        Ok(images
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|img| img.get("RepoTags")?.as_array())
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect())
    }

    /// Creates and starts a container; returns its id.
    pub fn run(&self, name: &str, config: &Value) -> Result<String, LabError> {
        let created = self.post_json(
            &format!("/containers/create?name={}", http::encode(name)),
            config,
        )?;
        let id = created
            .get("Id")
            .and_then(Value::as_str)
            .ok_or_else(|| LabError::engine(format!("create {name}"), "no Id in the answer"))?
            .to_owned();
        self.post_json(&format!("/containers/{id}/start"), &Value::Null)?;
        Ok(id)
    }

    /// Ids of all containers (running or not) carrying `label` (`key=value`).
    pub fn containers_with_label(&self, label: &str) -> Result<Vec<String>, LabError> {
        let filters = serde_json::json!({ "label": [label] }).to_string();
        let list = self.get_json(&format!(
            "/containers/json?all=true&filters={}",
            http::encode(&filters)
        ))?;
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("Id")?.as_str().map(str::to_owned))
            .collect())
    }

    pub fn remove_container(&self, id: &str) -> Result<(), LabError> {
        self.delete(&format!("/containers/{id}?force=true"))
    }
}

/// One plain HTTP GET over TCP, e.g. to a demo container: (status, body).
pub fn http_get(addr: &str, path: &str) -> Result<(u16, String), LabError> {
    let resp = http::tcp(addr, &Request::get(path, QUICK))
        .map_err(|e| LabError::engine(format!("GET http://{addr}{path}"), e.to_string()))?;
    Ok((resp.status, resp.text()))
}
