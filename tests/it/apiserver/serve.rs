//! HTTP: routing, discovery, paged lists and Status errors.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response};
use serde_json::{json, Value};

use super::faults::{Fault, Verb};
use super::{str_at, Resource, Shared, State};

pub(super) type Body = BoxBody<Bytes, std::io::Error>;

/// Accepts connections until `stop` fires (or its sender is dropped).
pub(super) async fn run(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        _ = stream.set_nodelay(true); // as Go servers do: each watch event goes out at once
        let stream = hyper_util::rt::TokioIo::new(stream);
        let shared = shared.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let shared = shared.clone();
            async move {
                if request.uri().query().is_some_and(|q| q.contains("watch=")) {
                    wait_while_watches_paused(&shared).await;
                }
                Ok::<_, Infallible>(handle(&shared, &request))
            }
        });
        let connection =
            hyper::server::conn::http1::Builder::new().serve_connection(stream, service);
        // Errors here are clients going away and watches ended on purpose.
        tokio::spawn(async move { _ = connection.await });
    }
}

/// Holds a new watch request while `pause_watches` is in force.
async fn wait_while_watches_paused(shared: &Arc<Shared>) {
    let mut changed = shared.changed.subscribe();
    while shared.lock().watches_paused {
        if changed.changed().await.is_err() {
            return;
        }
    }
}

/// The decoded query string.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Query {
        let pairs = query.split('&').filter(|pair| !pair.is_empty());
        let pairs = pairs.map(|pair| pair.split_once('=').unwrap_or((pair, "")));
        Query(pairs.map(|(k, v)| (decode(k), decode(v))).collect())
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        let found = self.0.iter().find(|(k, _)| k == key);
        found.map(|(_, v)| v.as_str())
    }
}

/// Percent-decoding, with `+` as a space.
fn decode(text: &str) -> String {
    let (bytes, mut out, mut i) = (text.as_bytes(), Vec::new(), 0);
    while i < bytes.len() {
        let hex = text.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16));
        let hex = hex.and_then(Result::ok);
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn handle(shared: &Arc<Shared>, request: &Request<Incoming>) -> Response<Body> {
    let path = request.uri().path();
    let query = Query::parse(request.uri().query().unwrap_or_default());
    let pairs: Vec<String> = query.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let logged = format!("{} {path}?{}", request.method(), pairs.join("&"));
    let logged = logged.trim_end_matches('?').to_string();
    {
        let mut state = shared.lock();
        state.requests.push(logged);
        state.request_times.push(std::time::Instant::now());
    }
    let authorization = request.headers().get(AUTHORIZATION);
    let authorization = authorization.and_then(|value| value.to_str().ok());
    if !shared.lock().faults.authorized(authorization) {
        return super::faults::status_response(401, None);
    }
    if request.method() != Method::GET {
        return status(405, "MethodNotAllowed", "the fake API server only reads");
    }
    let host = request
        .headers()
        .get(HOST)
        .map(|h| h.to_str().unwrap_or_default());
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut state = shared.lock();
    // Discovery documents (`/api`, `/apis`, `/apis/G/V`) can fail too, as resource "discovery".
    if matches!(
        segments[..],
        ["api"] | ["apis"] | ["api", _] | ["apis", _] | ["apis", _, _]
    ) {
        if let Some(Fault::Status { code, retry_after }) = state.faults.take("discovery", Verb::Any)
        {
            return super::faults::status_response(code, retry_after);
        }
    }
    let group_names = group_names(&state);
    match segments[..] {
        ["version"] => ok(json!({"major": "1", "minor": "31", "gitVersion": "v1.31.2",
            "gitCommit": "5864a4677267e6adeae276ad85882a8714d69d9d", "gitTreeState": "clean",
            "buildDate": "2024-10-22T20:28:14Z", "goVersion": "go1.22.8", "compiler": "gc",
            "platform": "linux/amd64"})),
        ["api"] => {
            let address = json!({"clientCIDR": "0.0.0.0/0", "serverAddress": host});
            ok(json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [address]}))
        }
        ["apis"] => {
            let groups: Vec<Value> = group_names.iter().map(|g| api_group(&state, g)).collect();
            ok(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        ["apis", group] if group_names.iter().any(|g| g == group) => {
            let body = json!({"kind": "APIGroup", "apiVersion": "v1"});
            ok(merge(body, api_group(&state, group)))
        }
        ["api", "v1"] => resource_list(&state, "v1"),
        ["apis", group, version] => resource_list(&state, &format!("{group}/{version}")),
        ["api", "v1", ref rest @ ..] => {
            drop(state);
            objects(shared, "v1", rest, &query)
        }
        ["apis", group, version, ref rest @ ..] => {
            drop(state);
            objects(shared, &format!("{group}/{version}"), rest, &query)
        }
        _ => not_found(),
    }
}

/// Below `/api/v1` or `/apis/G/V`: list or watch (all namespaces, or one).
fn objects(
    shared: &Arc<Shared>,
    api_version: &str,
    path: &[&str],
    query: &Query,
) -> Response<Body> {
    let (plural, namespace) = match *path {
        [plural] => (plural, None),
        ["namespaces", namespace, plural] => (plural, Some(namespace)),
        _ => return not_found(),
    };
    let mut state = shared.lock();
    let key = format!("{api_version}/{plural}");
    let found = state.resources.iter().find(|r| r.key() == key);
    let Some(res) = found
        .filter(|r| r.namespaced || namespace.is_none())
        .cloned()
    else {
        return not_found();
    };
    let watching = matches!(query.get("watch"), Some("1" | "true"));
    if state.forbidden.contains(&key) {
        return forbidden(&res, if watching { "watch" } else { "list" }, namespace);
    }
    let verb = if watching { Verb::Watch } else { Verb::List };
    let fault = state.faults.take(&key, verb);
    if let Some(Fault::Status { code, retry_after }) = fault {
        return super::faults::status_response(code, retry_after);
    }
    if watching {
        drop(state);
        return match fault {
            Some(Fault::Stall) => super::faults::stalled_watch(),
            _ => super::watch::respond(shared, &res, namespace, query, fault.is_some()),
        };
    }
    match (list(&mut state, &res, namespace, query), fault) {
        (Ok(page), Some(fault)) => {
            let bytes = serde_json::to_vec(&page).expect("JSON serializes");
            super::faults::cut_response(bytes, fault == Fault::Stall)
        }
        (Ok(page), None) => ok(page),
        (Err(response), _) => *response,
    }
}

/// One page of a list. The first page snapshots the whole list for its `continue` tokens.
fn list(
    state: &mut State,
    res: &Resource,
    ns: Option<&str>,
    query: &Query,
) -> Result<Value, Box<Response<Body>>> {
    let limit = query.get("limit").and_then(|l| l.parse().ok());
    let page = limit
        .filter(|&l: &usize| l > 0)
        .unwrap_or(usize::MAX)
        .min(state.page_size);
    let (snapshot, offset) = match query.get("continue") {
        None => {
            let selector = query.get("labelSelector").unwrap_or_default();
            let mut items = Vec::new();
            for ((key, _, _), object) in &state.objects {
                if *key == res.key() && matches(object, ns, selector) {
                    // The real server leaves apiVersion and kind out of list items.
                    let mut item = object.as_object().expect("an object").clone();
                    item.retain(|field, _| field != "apiVersion" && field != "kind");
                    items.push(Value::Object(item));
                }
            }
            state.snapshots.push((state.rv, items));
            (state.snapshots.len() - 1, 0)
        }
        Some(token) => {
            let Some((snapshot, offset)) = parse_token(token, state.snapshots.len()) else {
                return Err(Box::new(status(
                    400,
                    "BadRequest",
                    "continue key is not valid",
                )));
            };
            if state.snapshots[snapshot].0 < state.compacted {
                let message = "The provided continue parameter is too old \
                    to display a consistent list result.";
                return Err(Box::new(status(410, "Expired", message)));
            }
            (snapshot, offset)
        }
    };
    let (rv, items) = &state.snapshots[snapshot];
    let end = offset.saturating_add(page).min(items.len());
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if end < items.len() {
        metadata["continue"] = json!(format!("{snapshot}:{end}"));
        metadata["remainingItemCount"] = json!(items.len() - end);
    }
    let (kind, items) = (format!("{}List", res.kind), &items[offset.min(end)..end]);
    let list = json!({"kind": kind, "apiVersion": res.group_version(), "metadata": metadata});
    Ok(merge(list, json!({"items": items})))
}

/// A `continue` token, "SNAPSHOT:OFFSET", for one of `snapshots`.
fn parse_token(token: &str, snapshots: usize) -> Option<(usize, usize)> {
    let (snapshot, offset) = token.split_once(':')?;
    let snapshot = snapshot.parse().ok().filter(|&s| s < snapshots)?;
    Some((snapshot, offset.parse().ok()?))
}

/// Whether `object` is in `namespace` (None: any) and has the labels `selector` asks for.
/// Supports `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)` and `a notin (x,y)`.
pub(super) fn matches(object: &Value, namespace: Option<&str>, selector: &str) -> bool {
    if namespace.is_some_and(|ns| str_at(&object["metadata"], "namespace") != ns) {
        return false;
    }
    let label = |key: &str| object["metadata"]["labels"][key.trim()].as_str();
    let mut depth = 0;
    let terms = selector.split(|c| {
        depth += (c == '(') as i32 - (c == ')') as i32;
        c == ',' && depth == 0
    });
    terms.map(str::trim).filter(|t| !t.is_empty()).all(|term| {
        let set = |op: &str| {
            let (key, values) = term.split_once(op)?;
            let values = values.trim().trim_start_matches('(').trim_end_matches(')');
            Some((key, values.split(',').map(str::trim).collect::<Vec<_>>()))
        };
        if let Some((key, values)) = set(" notin ") {
            label(key).is_none_or(|v| !values.contains(&v))
        } else if let Some((key, values)) = set(" in ") {
            label(key).is_some_and(|v| values.contains(&v))
        } else if let Some((key, value)) = term.split_once("!=") {
            label(key) != Some(value.trim())
        } else if let Some((key, value)) = term.split_once('=') {
            label(key) == Some(value.trim_start_matches('=').trim())
        } else if let Some(key) = term.strip_prefix('!') {
            label(key).is_none()
        } else {
            label(term).is_some()
        }
    })
}

/// Groups other than core, in the order their first resource was added.
fn group_names(state: &State) -> Vec<String> {
    let mut names: Vec<String> = state.resources.iter().map(|r| r.group.clone()).collect();
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| !name.is_empty() && seen.insert(name.clone()));
    names
}

fn api_group(state: &State, group: &str) -> Value {
    let mut versions: Vec<Value> = Vec::new();
    for res in state.resources.iter().filter(|r| r.group == group) {
        let entry = json!({"groupVersion": res.group_version(), "version": res.version});
        if !versions.contains(&entry) {
            versions.push(entry);
        }
    }
    json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
}

fn resource_list(state: &State, group_version: &str) -> Response<Body> {
    let mut resources = Vec::new();
    let served = state
        .resources
        .iter()
        .filter(|r| r.group_version() == group_version);
    for res in served {
        let verbs: Vec<&str> = "create delete deletecollection get list patch update watch"
            .split(' ')
            .collect();
        let mut entry = json!({"name": res.plural, "singularName": res.kind.to_lowercase(),
            "namespaced": res.namespaced, "kind": res.kind, "verbs": verbs});
        if !res.short_names.is_empty() {
            entry["shortNames"] = json!(res.short_names);
        }
        resources.push(entry);
        for sub in &res.subresources {
            let (kind, verbs) = match sub.as_str() {
                "scale" => ("Scale", &["get", "patch", "update"][..]),
                "status" => (res.kind.as_str(), &["get", "patch", "update"][..]),
                _ => (res.kind.as_str(), &["get"][..]),
            };
            let name = format!("{}/{sub}", res.plural);
            let (singular, namespaced) = ("", res.namespaced);
            resources.push(json!({"name": name, "singularName": singular,
                "namespaced": namespaced, "kind": kind, "verbs": verbs}));
        }
    }
    if resources.is_empty() {
        return not_found();
    }
    let list = json!({"kind": "APIResourceList", "apiVersion": "v1"});
    ok(merge(
        list,
        json!({"groupVersion": group_version, "resources": resources}),
    ))
}

fn forbidden(res: &Resource, verb: &str, namespace: Option<&str>) -> Response<Body> {
    let scope = match namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let (plural, group) = (&res.plural, &res.group);
    let message = format!(
        "{plural} is forbidden: User \"system:anonymous\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}"
    );
    let details = match group.as_str() {
        "" => json!({"kind": plural}),
        group => json!({"group": group, "kind": plural}),
    };
    let body = status_object(403, "Forbidden", &message);
    respond(403, &merge(body, json!({"details": details, "code": 403})))
}

fn not_found() -> Response<Body> {
    let message = "the server could not find the requested resource";
    status(404, "NotFound", message)
}

/// A `metav1.Status` failure.
pub(super) fn status_object(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code})
}

fn status(code: u16, reason: &str, message: &str) -> Response<Body> {
    respond(code, &status_object(code, reason, message))
}

/// `base` with the fields of `more` appended (or replaced in place).
fn merge(mut base: Value, more: Value) -> Value {
    let fields = base.as_object_mut().expect("an object");
    fields.shift_remove("code"); // keep `code` last, as the real server writes it
    fields.extend(more.as_object().expect("an object").clone());
    base
}

fn ok(body: Value) -> Response<Body> {
    respond(200, &body)
}

fn respond(code: u16, body: &Value) -> Response<Body> {
    let bytes = Bytes::from(serde_json::to_vec(body).expect("JSON serializes"));
    let body = Full::new(bytes).map_err(|never| match never {}).boxed();
    let response = Response::builder().status(code);
    let response = response.header(CONTENT_TYPE, "application/json");
    response.body(body).expect("a valid response")
}
