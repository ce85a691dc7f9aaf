//! The driver of one resource's state machine: list pages and watch streams over raw HTTP,
//! so objects are kept byte for byte and watch types verbatim.

use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use jiff::Timestamp;
use kube::Client;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::redact::redact_secret;
use super::sink::Message;
use super::state::{step, Emit, Input, State};
use crate::trace::{EventType, ResourceInfo};

/// Items per list page.
const PAGE_SIZE: u32 = 500;
/// How long the server may keep a watch open before the driver re-opens it.
const WATCH_TIMEOUT_SECONDS: u32 = 290;
/// First and largest wait before retrying after a failed request.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(200), Duration::from_secs(10));

/// One resource (in one namespace, or all) to record.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource.
    pub info: ResourceInfo,
    /// The namespace to record, or all (also for cluster-scoped resources).
    pub namespace: Option<String>,
    /// A label selector, passed to the server.
    pub selector: Option<String>,
    /// Whether Secret values are recorded as they are.
    pub keep_secret_values: bool,
}

impl Target {
    fn api_version(&self) -> String {
        if self.info.group.is_empty() {
            self.info.version.clone()
        } else {
            format!("{}/{}", self.info.group, self.info.version)
        }
    }

    /// The collection URL path, e.g. `/apis/apps/v1/namespaces/shop/deployments`.
    fn path(&self) -> String {
        let base = if self.info.group.is_empty() {
            format!("/api/{}", self.info.version)
        } else {
            format!("/apis/{}/{}", self.info.group, self.info.version)
        };
        match (&self.namespace, self.info.namespaced) {
            (Some(ns), true) => format!("{base}/namespaces/{ns}/{}", self.info.resource),
            _ => format!("{base}/{}", self.info.resource),
        }
    }

    fn query(&self, extra: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = extra.to_vec();
        if let Some(selector) = &self.selector {
            pairs.push(("labelSelector", selector.clone()));
        }
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("{}?{}", self.path(), encoded.join("&"))
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Why a request did not give what the state asked for.
enum Failure {
    /// 410 Gone (or an expired continue token).
    Expired(String),
    /// 403 Forbidden or 401: stop recording this resource.
    Denied(String),
    /// Anything else: retry after a backoff.
    Transient(String),
}

fn classify(error: kube::Error) -> Failure {
    match error {
        kube::Error::Api(status) if status.code == 410 => Failure::Expired(status.message.clone()),
        kube::Error::Api(status) if status.code == 403 || status.code == 401 => {
            Failure::Denied(status.message.clone())
        }
        other => Failure::Transient(other.to_string()),
    }
}

#[derive(Deserialize)]
struct ListMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Deserialize)]
struct Page<'a> {
    metadata: ListMeta,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct WatchLine<'a> {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(borrow)]
    object: &'a RawValue,
}

#[derive(Deserialize, Default)]
struct Head {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: HeadMeta,
    #[serde(default)]
    code: Option<u16>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct HeadMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: Option<String>,
}

/// Records one resource until the task is cancelled or access is denied.
pub async fn record(
    client: Client,
    target: Target,
    sender: mpsc::Sender<Message>,
    synced: mpsc::Sender<()>,
) {
    let resource: Arc<str> = Arc::from(target.info.path().as_str());
    let mut driver = Driver {
        client,
        target,
        sender,
        resource,
        synced: Some(synced),
        backoff: BACKOFF.0,
    };
    let mut state = State::start();
    loop {
        let next = match &state {
            State::Listing { continue_token } => {
                driver.list(state.clone(), continue_token.clone()).await
            }
            State::Watching { resource_version } => {
                driver.watch(state.clone(), resource_version.clone()).await
            }
        };
        match next {
            Some(next) => state = next,
            None => return,
        }
    }
}

struct Driver {
    client: Client,
    target: Target,
    sender: mpsc::Sender<Message>,
    resource: Arc<str>,
    synced: Option<mpsc::Sender<()>>,
    backoff: Duration,
}

impl Driver {
    /// Fetches one list page and applies it; `None` stops recording this resource.
    async fn list(&mut self, state: State, continue_token: Option<String>) -> Option<State> {
        let mut params = vec![("limit", PAGE_SIZE.to_string())];
        if let Some(token) = continue_token {
            params.push(("continue", token));
        }
        let text = match self.get_text(&self.target.query(&params)).await {
            Ok(text) => text,
            Err(failure) => return self.after_failure(state, failure).await,
        };
        let Ok(page) = serde_json::from_str::<Page<'_>>(&text) else {
            tracing::warn!(resource = %self.resource, "a list page did not parse; listing again");
            return self
                .after_failure(state, Failure::Transient("unparseable list".into()))
                .await;
        };
        self.backoff = BACKOFF.0;
        let input = Input::Page {
            items: page.items,
            resource_version: page.metadata.resource_version,
            continue_token: page.metadata.continue_token,
        };
        let (emits, next) = step(state, input);
        self.write(emits).await?;
        Some(next)
    }

    /// Watches until the stream ends; `None` stops recording this resource.
    async fn watch(&mut self, mut state: State, resource_version: String) -> Option<State> {
        let params = [
            ("watch", "1".to_string()),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true".to_string()),
            ("timeoutSeconds", WATCH_TIMEOUT_SECONDS.to_string()),
        ];
        let request = match http_get(&self.target.query(&params)) {
            Ok(request) => request,
            Err(failure) => return self.after_failure(state, failure).await,
        };
        let stream = match self.client.request_stream(request).await {
            Ok(stream) => stream,
            Err(error) => return self.after_failure(state, classify(error)).await,
        };
        let mut lines = stream.lines();
        while let Some(line) = lines.next().await {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            let Ok(parsed) = serde_json::from_str::<WatchLine<'_>>(&line) else {
                tracing::warn!(resource = %self.resource, "a watch line did not parse");
                continue;
            };
            let input = watch_input(&parsed);
            let expired = matches!(input, Input::Expired { .. });
            let (emits, next) = step(state, input);
            self.write(emits).await?;
            state = next;
            self.backoff = BACKOFF.0;
            if expired {
                return Some(state);
            }
        }
        let (_, next) = step(state, Input::Interrupted);
        Some(next)
    }

    async fn get_text(&self, path_and_query: &str) -> Result<String, Failure> {
        let request = http_get(path_and_query)?;
        self.client.request_text(request).await.map_err(classify)
    }

    async fn after_failure(&mut self, state: State, failure: Failure) -> Option<State> {
        match failure {
            Failure::Expired(message) => {
                let (emits, next) = step(state, Input::Expired { message });
                self.write(emits).await?;
                Some(next)
            }
            Failure::Denied(message) => {
                tracing::warn!(resource = %self.resource, "not recording: {message}");
                None
            }
            Failure::Transient(message) => {
                tracing::debug!(resource = %self.resource, "retrying in {:?}: {message}", self.backoff);
                tokio::time::sleep(self.backoff).await;
                self.backoff = (self.backoff * 2).min(BACKOFF.1);
                let (_, next) = step(state, Input::Interrupted);
                Some(next)
            }
        }
    }

    /// Sends what a step emitted to the writer; `None` when the writer is gone.
    async fn write(&mut self, emits: Vec<Emit<'_>>) -> Option<()> {
        for emit in emits {
            let ts = Timestamp::now();
            let message = match emit {
                Emit::Object { event, object } => Message::Object {
                    ts,
                    event,
                    resource: Arc::clone(&self.resource),
                    json: self.stored_json(event, object),
                },
                Emit::Synced { resource_version } => {
                    if let Some(synced) = self.synced.take() {
                        let _ = synced.try_send(());
                    }
                    Message::Synced {
                        ts,
                        resource: Arc::clone(&self.resource),
                        resource_version,
                    }
                }
                Emit::Gap { reason } => {
                    tracing::warn!(resource = %self.resource, "watch gap: {reason}");
                    Message::Gap {
                        ts,
                        resource: Arc::clone(&self.resource),
                        reason,
                    }
                }
            };
            self.sender.send(message).await.ok()?;
        }
        Some(())
    }

    /// The object as stored: `apiVersion`/`kind` filled in (list items lack them), Secrets
    /// redacted. Watch events arrive whole and are copied without another parse.
    fn stored_json(&self, event: EventType, object: &RawValue) -> Box<RawValue> {
        let redact = !self.target.keep_secret_values && self.target.info.kind == "Secret";
        let needs_type = event == EventType::Listed
            && serde_json::from_str::<Head>(object.get()).map_or(true, |head| head.kind.is_none());
        if !redact && !needs_type {
            return object.to_owned();
        }
        let mut json = if needs_type {
            with_type_meta(
                object.get(),
                &self.target.api_version(),
                &self.target.info.kind,
            )
        } else {
            object.get().to_string()
        };
        if redact {
            json = redact_secret(&json).unwrap_or(json);
        }
        RawValue::from_string(json).unwrap_or_else(|_| object.to_owned())
    }
}

/// Inserts `"apiVersion"` and `"kind"` at the front of an object's JSON text.
fn with_type_meta(text: &str, api_version: &str, kind: &str) -> String {
    let rest = text
        .trim_start()
        .strip_prefix('{')
        .unwrap_or(text)
        .trim_start();
    let separator = if rest.starts_with('}') { "" } else { "," };
    format!(
        "{{\"apiVersion\":{},\"kind\":{}{separator}{rest}",
        serde_json::Value::from(api_version),
        serde_json::Value::from(kind)
    )
}

fn watch_input<'a>(line: &WatchLine<'a>) -> Input<'a> {
    let head: Head = serde_json::from_str(line.object.get()).unwrap_or_default();
    let resource_version = head.metadata.resource_version;
    match line.event_type.as_str() {
        "BOOKMARK" => match resource_version {
            Some(resource_version) => Input::Bookmark { resource_version },
            None => Input::Interrupted,
        },
        "ERROR" if head.code == Some(410) => Input::Expired {
            message: head.message.unwrap_or_default(),
        },
        "ERROR" => Input::Interrupted,
        other => match EventType::from_type(other) {
            Some(event) if event != EventType::Listed => Input::Event {
                event,
                object: line.object,
                resource_version,
            },
            _ => Input::Interrupted,
        },
    }
}

fn http_get(path_and_query: &str) -> Result<http::Request<Vec<u8>>, Failure> {
    http::Request::get(path_and_query)
        .body(Vec::new())
        .map_err(|e| Failure::Transient(e.to_string()))
}

/// Checks that the resource may be listed (a one-item list); the error message when not.
pub async fn probe(client: &Client, target: &Target) -> Result<(), String> {
    let request = http_get(&target.query(&[("limit", "1".to_string())]))
        .map_err(|_| "bad request".to_string())?;
    match client.request_text(request).await.map_err(classify) {
        Ok(_) => Ok(()),
        Err(Failure::Denied(message)) => Err(message),
        // Anything else (a transient failure) is retried by the watcher itself.
        Err(Failure::Expired(_)) | Err(Failure::Transient(_)) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_get_their_type_filled_in_front() {
        let filled = with_type_meta(r#"{"metadata":{"name":"a"}}"#, "apps/v1", "Deployment");
        assert_eq!(
            filled,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"}}"#
        );
        let value: serde_json::Value =
            serde_json::from_str(&with_type_meta("{}", "v1", "Pod")).unwrap();
        assert_eq!(value["kind"], "Pod");
    }

    #[test]
    fn an_error_line_with_410_is_expired_and_a_bookmark_moves_the_version() {
        let line: WatchLine<'_> = serde_json::from_str(
            r#"{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old resource version: 5 (9)"}}"#,
        )
        .unwrap();
        assert!(
            matches!(watch_input(&line), Input::Expired { message } if message.contains("too old"))
        );
        let bookmark: WatchLine<'_> = serde_json::from_str(
            r#"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"77"}}}"#,
        )
        .unwrap();
        assert!(
            matches!(watch_input(&bookmark), Input::Bookmark { resource_version } if resource_version == "77")
        );
    }

    #[test]
    fn paths_follow_the_group_and_namespace() {
        let target = Target {
            info: ResourceInfo {
                group: "apps".into(),
                version: "v1".into(),
                resource: "deployments".into(),
                kind: "Deployment".into(),
                namespaced: true,
            },
            namespace: Some("shop".into()),
            selector: Some("app=web,tier!=db".into()),
            keep_secret_values: false,
        };
        assert_eq!(
            target.query(&[("limit", "500".into())]),
            "/apis/apps/v1/namespaces/shop/deployments?limit=500&labelSelector=app%3Dweb%2Ctier%21%3Ddb"
        );
    }
}
