//! The API server's audit log: one `audit.k8s.io/v1` Event per request, as the log backend
//! writes them (JSON lines), beside the watch trace of the same history.
//!
//! Shapes follow Kubernetes v1.31: the Event fields and their order are those of
//! `staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go`; what each level holds follows
//! `pkg/audit/request.go` (`LogRequestMetadata` fills `objectRef` from the URL,
//! `LogRequestObject` adds `name`, `uid` and `resourceVersion` from a create's or update's body —
//! so a create by `generateName` has no `objectRef.name` — and the body itself from level
//! Request; a PATCH logs its patch as `requestObject` (`LogRequestPatch`); `responseObject` only
//! at RequestResponse). Only the `ResponseComplete` stage is written, as with
//! `--audit-policy` rules that omit `RequestReceived`, the usual setting.
//! Off by default: without [`crate::Sim::audit`] nothing here runs and no randomness is drawn.

use serde_json::{json, Map, Value};

use super::clock::{to_timestamp, Ms};
use super::fields::{Operation, Writer};
use super::rng::Rng;

/// How much of a request the log holds (`audit.k8s.io/v1` `Level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuditLevel {
    /// Not logged.
    None,
    /// Who, what, when and the outcome; no bodies.
    Metadata,
    /// Metadata and the request body.
    Request,
    /// Request and the response body.
    RequestResponse,
}

impl AuditLevel {
    fn as_str(self) -> &'static str {
        match self {
            AuditLevel::None => "None",
            AuditLevel::Metadata => "Metadata",
            AuditLevel::Request => "Request",
            AuditLevel::RequestResponse => "RequestResponse",
        }
    }
}

/// One rule of an audit policy: the first rule matching a request sets its level.
#[derive(Debug, Clone)]
pub struct AuditRule {
    /// The level of matching requests.
    pub level: AuditLevel,
    /// Verbs matched (empty: all).
    pub verbs: Vec<&'static str>,
    /// `(group, resource)` pairs matched (empty: all); `pods` also matches `pods/status`, as a
    /// policy's `resources: ["pods", "pods/status"]` would.
    pub resources: Vec<(&'static str, &'static str)>,
}

/// An audit policy (`audit.k8s.io/v1` `Policy`): ordered rules, first match wins, `None` when
/// nothing matches.
#[derive(Debug, Clone)]
pub struct AuditPolicy {
    /// The rules, in order.
    pub rules: Vec<AuditRule>,
}

impl AuditPolicy {
    /// Reads at Metadata; Events (and Leases) at Metadata; workloads (`apps`, `batch`) and pods
    /// at RequestResponse; every other write at Request.
    pub fn workloads() -> AuditPolicy {
        let rule =
            |level, verbs: &[&'static str], resources: &[(&'static str, &'static str)]| AuditRule {
                level,
                verbs: verbs.to_vec(),
                resources: resources.to_vec(),
            };
        AuditPolicy {
            rules: vec![
                rule(AuditLevel::Metadata, &["get", "list", "watch"], &[]),
                rule(
                    AuditLevel::Metadata,
                    &[],
                    &[
                        ("", "events"),
                        ("events.k8s.io", "events"),
                        ("coordination.k8s.io", "leases"),
                    ],
                ),
                rule(
                    AuditLevel::RequestResponse,
                    &[],
                    &[("apps", "*"), ("batch", "*"), ("", "pods")],
                ),
                rule(AuditLevel::Request, &[], &[]),
            ],
        }
    }

    /// Every request at `level`.
    pub fn uniform(level: AuditLevel) -> AuditPolicy {
        AuditPolicy {
            rules: vec![AuditRule {
                level,
                verbs: Vec::new(),
                resources: Vec::new(),
            }],
        }
    }

    /// The level of a request.
    pub fn level(&self, verb: &str, group: &str, resource: &str) -> AuditLevel {
        let matches = |rule: &AuditRule| {
            (rule.verbs.is_empty() || rule.verbs.contains(&verb))
                && (rule.resources.is_empty()
                    || rule
                        .resources
                        .iter()
                        .any(|(g, r)| *g == group && (*r == "*" || *r == resource)))
        };
        self.rules
            .iter()
            .find(|r| matches(r))
            .map_or(AuditLevel::None, |r| r.level)
    }
}

/// Who sends the requests being simulated (set per controller task; users between tasks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Agent {
    /// A user's tool: the current human for kubectl, the CI account for helm.
    User,
    /// A kube-controller-manager controller under its own service account
    /// (`--use-service-account-credentials`, as kubeadm sets it).
    Controller(&'static str),
    /// kube-scheduler.
    Scheduler,
    /// The kubelet of a node.
    Kubelet(String),
    /// The operator of a custom resource.
    Operator,
}

/// The version string every component of the simulated cluster reports.
const KUBE_UA: &str = "v1.31.2 (linux/amd64) kubernetes/5864a46";

/// The authenticated identity and client of a request.
#[derive(Debug, Clone)]
struct Identity {
    username: String,
    uid: Option<String>,
    groups: Vec<String>,
    ip: String,
    user_agent: String,
    reason: String,
}

/// A human user, as an OIDC authenticator reports one.
#[derive(Debug, Clone)]
pub(crate) struct Human {
    pub(crate) name: String,
    pub(crate) groups: Vec<String>,
    pub(crate) ip: String,
}

impl Human {
    pub(crate) fn named(name: &str) -> Human {
        let n = super::rng::fnv32a(name.as_bytes());
        Human {
            name: name.to_string(),
            groups: vec!["developers".into(), "system:authenticated".into()],
            ip: format!("192.168.10.{}", 20 + n % 200),
        }
    }
}

/// One audit annotation with the lowest level that logs it (`AddAnnotationWithLevel`).
pub(crate) type Annotation = (String, String, AuditLevel);

/// What a caller knows about the next request that the commit cannot derive.
#[derive(Debug, Default)]
pub(crate) struct Hint {
    /// The request body as sent (before admission), or the patch.
    pub(crate) request: Option<Value>,
    /// Admission annotations.
    pub(crate) annotations: Vec<Annotation>,
}

/// One request, fully described; levels decide what of it is written.
#[derive(Debug, Default)]
pub(crate) struct Request {
    pub(crate) verb: &'static str,
    pub(crate) uri: String,
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) resource: String,
    pub(crate) subresource: Option<&'static str>,
    pub(crate) namespace: String,
    pub(crate) name: Option<String>,
    pub(crate) uid: Option<String>,
    pub(crate) resource_version: Option<String>,
    pub(crate) code: u16,
    /// `responseStatus` beyond `metadata` and `code` (a Status response's fields).
    pub(crate) status: Map<String, Value>,
    pub(crate) request_object: Option<Value>,
    pub(crate) response_object: Option<Value>,
    pub(crate) annotations: Vec<Annotation>,
    /// When the response was complete (ms; the log has µs a little before it).
    pub(crate) at: Ms,
    /// Set only for requests whose user agent or user differ from the current agent's.
    pub(crate) manager: Option<String>,
}

/// One audit log being written: its policy and its lines.
#[derive(Debug)]
struct Sink {
    name: String,
    policy: AuditPolicy,
    out: Vec<u8>,
}

/// The audit backend: sinks, its own randomness (so the trace is the same with or without it),
/// who is acting, and the hint for the next request.
#[derive(Debug)]
pub(crate) struct Audit {
    sinks: Vec<Sink>,
    rng: Rng,
    pub(crate) agent: Agent,
    pub(crate) human: Human,
    pub(crate) hint: Hint,
    /// How many requests were logged.
    pub(crate) events: u64,
    /// Each object's resourceVersion before its latest write (what a stale client still holds).
    pub(crate) previous_rv: std::collections::BTreeMap<String, String>,
    /// The UID whose writes belong to a request already logged (an eviction's status write and
    /// delete happen inside its `create` of `pods/eviction`).
    pub(crate) within: Option<String>,
}

impl Audit {
    pub(crate) fn new(seed: u64, policy: AuditPolicy) -> Audit {
        Audit {
            sinks: vec![Sink {
                name: String::new(),
                policy,
                out: Vec::new(),
            }],
            rng: Rng::new(seed ^ 0x00a0_d170_0a0d_1700),
            agent: Agent::User,
            human: Human::named("alice@example.com"),
            hint: Hint::default(),
            events: 0,
            previous_rv: Default::default(),
            within: None,
        }
    }

    /// Adds a second log of the same requests under another policy (e.g. all at Metadata).
    pub(crate) fn add_sink(&mut self, name: &str, policy: AuditPolicy) {
        self.sinks.push(Sink {
            name: name.to_string(),
            policy,
            out: Vec::new(),
        });
    }

    /// Every log written so far: its name (`""` for the main one) and its JSON lines.
    pub(crate) fn take(&mut self) -> Vec<(String, Vec<u8>)> {
        self.sinks
            .iter_mut()
            .map(|s| (s.name.clone(), std::mem::take(&mut s.out)))
            .collect()
    }

    fn identity(&self, manager: Option<&str>) -> Identity {
        let sa = |ns: &str, name: &str| {
            (
                format!("system:serviceaccount:{ns}:{name}"),
                vec![
                    "system:serviceaccounts".to_string(),
                    format!("system:serviceaccounts:{ns}"),
                    "system:authenticated".to_string(),
                ],
            )
        };
        let sa_uid = |name: &str| Some(super::rng::stable_hex(name, 32)).map(|h| as_uuid(&h));
        match &self.agent {
            Agent::Controller(name) => {
                let (username, groups) = sa("kube-system", name);
                Identity {
                    user_agent: format!("kube-controller-manager/{KUBE_UA}/{username}"),
                    reason: format!(
                        "RBAC: allowed by ClusterRoleBinding \"system:controller:{name}\" of \
                         ClusterRole \"system:controller:{name}\" to ServiceAccount \
                         \"{name}/kube-system\""
                    ),
                    uid: sa_uid(name),
                    username,
                    groups,
                    ip: "10.0.1.10".into(),
                }
            }
            Agent::Scheduler => Identity {
                username: "system:kube-scheduler".into(),
                uid: None,
                groups: vec!["system:authenticated".into()],
                ip: "10.0.1.10".into(),
                user_agent: format!("kube-scheduler/{KUBE_UA}/scheduler"),
                reason: "RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\" of \
                         ClusterRole \"system:kube-scheduler\" to User \"system:kube-scheduler\""
                    .into(),
            },
            Agent::Kubelet(node) => {
                let index: u32 = node.trim_start_matches("node-").parse().unwrap_or(1).max(1);
                Identity {
                    username: format!("system:node:{node}"),
                    uid: None,
                    groups: vec!["system:nodes".into(), "system:authenticated".into()],
                    ip: format!("10.0.1.{}", 10 + index),
                    user_agent: format!("kubelet/{KUBE_UA}"),
                    // The Node authorizer allows with no reason.
                    reason: String::new(),
                }
            }
            Agent::Operator => {
                let (username, groups) = sa("postgres-operator", "pgo");
                Identity {
                    uid: sa_uid("pgo"),
                    username,
                    groups,
                    ip: "10.244.1.250".into(),
                    user_agent: "postgres-operator/v5.6.1".into(),
                    reason: "RBAC: allowed by ClusterRoleBinding \"postgres-operator\" of \
                             ClusterRole \"postgres-operator\" to ServiceAccount \
                             \"pgo/postgres-operator\""
                        .into(),
                }
            }
            Agent::User => match manager {
                Some("helm") => {
                    let (username, groups) = sa("ci", "deployer");
                    Identity {
                        uid: sa_uid("deployer"),
                        username,
                        groups,
                        ip: "10.0.2.15".into(),
                        user_agent: "Helm/3.16.2".into(),
                        reason: "RBAC: allowed by ClusterRoleBinding \"ci-deployer\" of \
                                 ClusterRole \"edit\" to ServiceAccount \"deployer/ci\""
                            .into(),
                    }
                }
                _ => Identity {
                    username: self.human.name.clone(),
                    uid: None,
                    groups: self.human.groups.clone(),
                    ip: self.human.ip.clone(),
                    user_agent: format!("kubectl/{KUBE_UA}"),
                    reason: "RBAC: allowed by ClusterRoleBinding \"developers-edit\" of \
                             ClusterRole \"edit\" to Group \"developers\""
                        .into(),
                },
            },
        }
    }

    /// Writes one request to every sink whose policy logs it.
    pub(crate) fn log(&mut self, request: Request) {
        let identity = self.identity(request.manager.as_deref());
        let audit_id = self.rng.uid();
        let stage = request.at * 1000 - self.rng.between(150, 900);
        let received = stage - self.rng.between(1_500, 9_000);
        self.events += 1;
        let resource_key = match request.subresource {
            Some(sub) => format!("{}/{sub}", request.resource),
            None => request.resource.clone(),
        };
        for sink in &mut self.sinks {
            let mut level = sink
                .policy
                .level(request.verb, &request.group, &request.resource);
            if level == AuditLevel::None {
                level = sink
                    .policy
                    .level(request.verb, &request.group, &resource_key);
            }
            if level == AuditLevel::None {
                continue;
            }
            let event = event_json(&request, &identity, &audit_id, level, received, stage);
            sink.out.extend_from_slice(event.to_string().as_bytes());
            sink.out.push(b'\n');
        }
    }
}

/// What the trace saw of one write, for [`Audit::commit`].
pub(crate) struct Write<'a> {
    pub(crate) kind: &'static str,
    pub(crate) api_version: &'static str,
    /// The trace's resource path, e.g. `apps/v1/deployments`.
    pub(crate) resource: &'static str,
    pub(crate) old: &'a Value,
    pub(crate) new: &'a Value,
    pub(crate) writer: Option<&'a Writer>,
    pub(crate) event: kblame::trace::EventType,
    pub(crate) at: Ms,
}

impl Audit {
    /// Logs the request behind one committed write; returns the user who made it. An Event
    /// removed by its TTL is not a request (etcd's lease expires it) and is not logged.
    pub(crate) fn commit(&mut self, w: &Write<'_>) -> Option<String> {
        use kblame::trace::EventType;
        let hint = std::mem::take(&mut self.hint);
        if w.kind == "Event" && w.writer.is_none() && w.event == EventType::Deleted {
            return None;
        }
        let (group, version) = match w.api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), w.api_version.to_string()),
        };
        let resource = w
            .resource
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let meta = &w.new["metadata"];
        let text = |v: &Value| v.as_str().map(str::to_string);
        let namespace = text(&meta["namespace"]).unwrap_or_default();
        let name = text(&meta["name"]).unwrap_or_default();
        let uid = text(&meta["uid"]);
        let old_rv = text(&w.old["metadata"]["resourceVersion"]);
        let manager = w.writer.map(|wr| wr.manager.clone());
        if let (Some(uid), Some(rv)) = (&uid, &old_rv) {
            self.previous_rv.insert(uid.clone(), rv.clone());
        }
        if uid.is_some() && self.within == uid {
            return Some(self.identity(manager.as_deref()).username);
        }
        let deleting = !meta["deletionTimestamp"].is_null()
            && w.old["metadata"]["deletionTimestamp"].is_null();
        let binding = w.kind == "Pod"
            && self.agent == Agent::Scheduler
            && !w.new["spec"]["nodeName"].is_null()
            && w.old["spec"]["nodeName"].is_null();
        let path = |name: Option<&str>, sub: Option<&str>| {
            resource_path(&group, &version, &namespace, &resource, name, sub)
        };
        let mut r = Request {
            group: group.clone(),
            version: version.clone(),
            resource: resource.clone(),
            namespace: namespace.clone(),
            name: Some(name.clone()),
            code: 200,
            at: w.at,
            manager: manager.clone(),
            annotations: hint.annotations,
            ..Request::default()
        };
        let user_tool = self.agent == Agent::User;
        let query = match (user_tool, w.writer) {
            (true, Some(writer)) => tool_query(writer),
            _ => String::new(),
        };
        if w.event == EventType::Added {
            r.verb = "create";
            r.code = 201;
            r.uri = format!("{}{query}", path(None, None));
            let sent = hint.request.unwrap_or_else(|| as_sent(w.new));
            // `LogRequestObject` takes the name from the body: none for `generateName`, as
            // `pkg/endpoints/handlers/create.go` logs before the name is generated.
            r.name = text(&sent["metadata"]["name"]);
            r.request_object = Some(sent);
            r.response_object = Some(w.new.clone());
        } else if w.event == EventType::Deleted || deleting {
            r.verb = "delete";
            r.uri = path(Some(&name), None);
            r.request_object = Some(hint.request.unwrap_or_else(|| self.delete_options(w.new)));
            r.response_object = Some(if w.kind == "Pod" || w.event != EventType::Deleted {
                w.new.clone()
            } else {
                r.status = success_status(None);
                let mut status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}});
                if let Some(map) = status.as_object_mut() {
                    map.extend(r.status.clone());
                    map.insert(
                        "details".into(),
                        json!({"name": name, "group": group,
                        "kind": resource, "uid": uid}),
                    );
                }
                status
            });
        } else if binding {
            r.verb = "create";
            r.code = 201;
            r.subresource = Some("binding");
            r.uri = path(Some(&name), Some("binding"));
            r.uid = uid.clone();
            r.request_object = Some(json!({"kind": "Binding", "apiVersion": "v1",
                "metadata": {"name": name, "namespace": namespace, "uid": uid,
                    "creationTimestamp": null},
                "target": {"kind": "Node", "name": w.new["spec"]["nodeName"]}}));
            r.status = success_status(None);
            r.response_object = Some(status_object(201));
        } else {
            let sub = w.writer.and_then(|wr| wr.subresource);
            r.subresource = sub;
            r.uri = format!("{}{query}", path(Some(&name), sub));
            // client-go's event recorder patches a repeated Event (`EventSinkImpl.Patch`).
            let patching = user_tool
                || matches!(self.agent, Agent::Kubelet(_))
                || w.writer.is_none()
                || w.kind == "Event";
            let is_apply = w.writer.is_some_and(|wr| wr.operation == Operation::Apply);
            if sub == Some("scale") {
                let scale = scale_object(w.new);
                r.response_object = Some(scale.clone());
                if user_tool {
                    r.verb = "patch";
                    r.request_object =
                        Some(json!({"spec": {"replicas": w.new["spec"]["replicas"]}}));
                } else {
                    r.verb = "update";
                    let mut sent = scale;
                    sent["metadata"]["resourceVersion"] = json!(old_rv);
                    r.uid = uid.clone();
                    r.resource_version = old_rv.clone();
                    r.request_object = Some(sent);
                }
            } else if patching {
                r.verb = "patch";
                let (old, new) = match sub {
                    Some("status") => (&w.old["status"], &w.new["status"]),
                    _ => (w.old, w.new),
                };
                let patch = hint.request.unwrap_or_else(|| {
                    if is_apply {
                        return as_sent(w.new);
                    }
                    let mut patch = merge_patch(&strip(old), &strip(new)).unwrap_or(json!({}));
                    if sub == Some("status") {
                        patch = json!({"metadata": {"uid": uid}, "status": patch});
                    }
                    sorted(&patch)
                });
                r.request_object = Some(patch);
                r.response_object = Some(w.new.clone());
            } else {
                r.verb = "update";
                let mut sent = w.new.clone();
                sent["metadata"]["resourceVersion"] = json!(old_rv);
                match w.old["metadata"].get("managedFields") {
                    Some(managed) => sent["metadata"]["managedFields"] = managed.clone(),
                    None => {
                        if let Some(m) = sent["metadata"].as_object_mut() {
                            m.shift_remove("managedFields");
                        }
                    }
                }
                r.uid = uid.clone();
                r.resource_version = old_rv.clone();
                r.request_object = Some(sent);
                r.response_object = Some(w.new.clone());
            }
        }
        if w.kind == "Pod" && r.verb == "create" && r.subresource.is_none() {
            // PodSecurity admission (v1.25+) says which level it enforced.
            r.annotations.push((
                "pod-security.kubernetes.io/enforce-policy".into(),
                "privileged:latest".into(),
                AuditLevel::Metadata,
            ));
        }
        let user = self.identity(manager.as_deref()).username;
        self.log(r);
        Some(user)
    }

    /// `kubectl drain`'s eviction of a pod: one `create` of `pods/NAME/eviction` (policy/v1
    /// `Eviction`, answered with a 201 `Status`); the API server's own writes inside it (the
    /// `DisruptionTarget` condition, the graceful delete) are not requests of their own.
    /// Call after its writes (set `within` to the pod's UID before them).
    pub(crate) fn evict(&mut self, namespace: &str, name: &str, at: Ms) {
        self.within = None;
        let mut status = Map::new();
        status.insert("status".into(), json!("Success"));
        self.log(Request {
            verb: "create",
            uri: resource_path("", "v1", namespace, "pods", Some(name), Some("eviction")),
            version: "v1".into(),
            resource: "pods".into(),
            subresource: Some("eviction"),
            namespace: namespace.into(),
            name: Some(name.into()),
            code: 201,
            status,
            request_object: Some(json!({"kind": "Eviction", "apiVersion": "policy/v1",
                "metadata": {"name": name, "namespace": namespace, "creationTimestamp": null},
                "deleteOptions": {}})),
            response_object: Some(status_object(201)),
            at,
            manager: Some("kubectl".into()),
            ..Request::default()
        });
    }

    /// The `DeleteOptions` the current agent sends.
    fn delete_options(&self, object: &Value) -> Value {
        let base = json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"});
        let mut options = base.as_object().cloned().unwrap_or_default();
        match &self.agent {
            Agent::User => {
                options.insert("propagationPolicy".into(), json!("Background"));
            }
            Agent::Kubelet(_) => {
                options.insert("gracePeriodSeconds".into(), json!(0));
                options.insert(
                    "preconditions".into(),
                    json!({"uid": object["metadata"]["uid"]}),
                );
            }
            Agent::Controller("generic-garbage-collector") => {
                options.insert("propagationPolicy".into(), json!("Background"));
                options.insert(
                    "preconditions".into(),
                    json!({"uid": object["metadata"]["uid"]}),
                );
            }
            _ => {}
        }
        Value::Object(options)
    }
}

/// A successful `metav1.Status` response's fields (`status: Success`).
fn success_status(message: Option<&str>) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("status".into(), json!("Success"));
    if let Some(m) = message {
        map.insert("message".into(), json!(m));
    }
    map
}

fn status_object(code: u16) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code})
}

/// The `autoscaling/v1` Scale the scale subresource answers with.
fn scale_object(object: &Value) -> Value {
    let meta = &object["metadata"];
    let selector: Vec<String> = object["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": object["spec"]["replicas"]},
        "status": {"replicas": object["status"]["replicas"], "selector": selector.join(",")}})
}

/// A body without the fields a client never patches.
fn strip(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "uid",
            "resourceVersion",
            "generation",
            "managedFields",
            "creationTimestamp",
        ] {
            meta.shift_remove(key);
        }
    }
    body
}

/// `value` with every object's keys sorted, as Go marshals a map.
pub(crate) fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn as_uuid(h: &str) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// `metav1.MicroTime` as JSON: RFC 3339 with six fractional digits.
pub(crate) fn micro_time(us: i64) -> String {
    let secs = to_timestamp(us.div_euclid(1000))
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();
    format!("{secs}.{:06}Z", us.rem_euclid(1_000_000))
}

/// The Event, its keys in `types.go` order; annotations sorted, as Go marshals a map.
fn event_json(
    r: &Request,
    who: &Identity,
    audit_id: &str,
    level: AuditLevel,
    received: i64,
    stage: i64,
) -> Value {
    let mut e = Map::new();
    e.insert("kind".into(), json!("Event"));
    e.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
    e.insert("level".into(), json!(level.as_str()));
    e.insert("auditID".into(), json!(audit_id));
    e.insert("stage".into(), json!("ResponseComplete"));
    e.insert("requestURI".into(), json!(r.uri));
    e.insert("verb".into(), json!(r.verb));
    let mut user = Map::new();
    user.insert("username".into(), json!(who.username));
    if let Some(uid) = &who.uid {
        user.insert("uid".into(), json!(uid));
    }
    user.insert("groups".into(), json!(who.groups));
    e.insert("user".into(), Value::Object(user));
    e.insert("sourceIPs".into(), json!([who.ip]));
    e.insert("userAgent".into(), json!(who.user_agent));
    let mut object_ref = Map::new();
    object_ref.insert("resource".into(), json!(r.resource));
    if !r.namespace.is_empty() {
        object_ref.insert("namespace".into(), json!(r.namespace));
    }
    if let Some(name) = &r.name {
        object_ref.insert("name".into(), json!(name));
    }
    if let Some(uid) = &r.uid {
        object_ref.insert("uid".into(), json!(uid));
    }
    if !r.group.is_empty() {
        object_ref.insert("apiGroup".into(), json!(r.group));
    }
    object_ref.insert("apiVersion".into(), json!(r.version));
    if let Some(rv) = &r.resource_version {
        object_ref.insert("resourceVersion".into(), json!(rv));
    }
    if let Some(sub) = r.subresource {
        object_ref.insert("subresource".into(), json!(sub));
    }
    e.insert("objectRef".into(), Value::Object(object_ref));
    let mut status = Map::new();
    status.insert("metadata".into(), json!({}));
    status.extend(r.status.clone());
    status.insert("code".into(), json!(r.code));
    e.insert("responseStatus".into(), Value::Object(status));
    if level >= AuditLevel::Request {
        if let Some(body) = &r.request_object {
            e.insert("requestObject".into(), body.clone());
        }
    }
    if level >= AuditLevel::RequestResponse {
        if let Some(body) = &r.response_object {
            e.insert("responseObject".into(), body.clone());
        }
    }
    e.insert(
        "requestReceivedTimestamp".into(),
        json!(micro_time(received)),
    );
    e.insert("stageTimestamp".into(), json!(micro_time(stage)));
    let mut annotations: Vec<(&str, &str)> = vec![
        ("authorization.k8s.io/decision", "allow"),
        ("authorization.k8s.io/reason", who.reason.as_str()),
    ];
    for (key, value, min) in &r.annotations {
        if level >= *min {
            annotations.push((key, value));
        }
    }
    annotations.sort();
    let annotations: Map<String, Value> = annotations
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    e.insert("annotations".into(), Value::Object(annotations));
    Value::Object(e)
}

/// `/api/v1` or `/apis/GROUP/VERSION`, then the namespace, resource, name and subresource.
pub(crate) fn resource_path(
    group: &str,
    version: &str,
    namespace: &str,
    resource: &str,
    name: Option<&str>,
    subresource: Option<&str>,
) -> String {
    let mut path = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    if !namespace.is_empty() {
        path.push_str(&format!("/namespaces/{namespace}"));
    }
    path.push('/');
    path.push_str(resource);
    if let Some(name) = name {
        path.push('/');
        path.push_str(name);
    }
    if let Some(sub) = subresource {
        path.push('/');
        path.push_str(sub);
    }
    path
}

/// The query kubectl and helm send with a write: `fieldManager` (kubectl's own commands with no
/// manager of their own, such as `rollout undo` and `scale`, send none), kubectl's default
/// `fieldValidation=Strict` for apply, and `force=false` for server-side apply.
pub(crate) fn tool_query(writer: &Writer) -> String {
    match (writer.manager.as_str(), writer.operation) {
        ("kubectl", Operation::Apply) => {
            "?fieldManager=kubectl&fieldValidation=Strict&force=false".into()
        }
        ("kubectl", _) => String::new(),
        ("kubectl-client-side-apply", _) => {
            "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict".into()
        }
        (manager, _) => format!("?fieldManager={manager}"),
    }
}

/// A strategic-merge patch from `old` to `new`, as kubectl computes one: changed keys only,
/// `null` for removed ones, and for lists of named items (`containers`, `env`, `volumes`,
/// `conditions`…) the changed items by merge key plus `$setElementOrder/<list>`.
pub(crate) fn merge_patch(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = Map::new();
            for (key, value) in b {
                match a.get(key) {
                    Some(before) if before == value => {}
                    Some(before) => {
                        if let (Value::Array(x), Value::Array(y)) = (before, value) {
                            if let Some(merge_key) = list_merge_key(y) {
                                let order: Vec<Value> =
                                    y.iter().map(|i| json!({merge_key: i[merge_key]})).collect();
                                out.insert(format!("$setElementOrder/{key}"), Value::Array(order));
                                out.insert(key.clone(), keyed_items(x, y, merge_key));
                                continue;
                            }
                        }
                        let patch = merge_patch(before, value).unwrap_or(Value::Null);
                        out.insert(key.clone(), patch);
                    }
                    None => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in a.keys() {
                if !b.contains_key(key) {
                    out.insert(key.clone(), Value::Null);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

fn list_merge_key(items: &[Value]) -> Option<&'static str> {
    ["name", "type"].into_iter().find(|k| {
        !items.is_empty()
            && items
                .iter()
                .all(|i| i.get(*k).is_some_and(Value::is_string))
    })
}

fn keyed_items(old: &[Value], new: &[Value], key: &str) -> Value {
    let mut items = Vec::new();
    for item in new {
        let before = old.iter().find(|o| o[key] == item[key]);
        match before {
            Some(b) if b == item => {}
            Some(b) => {
                if let Some(Value::Object(mut patch)) = merge_patch(b, item) {
                    patch.insert(key.to_string(), item[key].clone());
                    items.push(Value::Object(patch));
                }
            }
            None => items.push(item.clone()),
        }
    }
    for item in old {
        if !new.iter().any(|n| n[key] == item[key]) {
            items.push(json!({key: item[key], "$patch": "delete"}));
        }
    }
    Value::Array(items)
}

/// A body as a client sends it: no server-set metadata, no status.
pub(crate) fn as_sent(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["uid", "resourceVersion", "generation", "managedFields"] {
            meta.shift_remove(key);
        }
        meta.insert("creationTimestamp".into(), Value::Null);
    }
    if let Some(map) = body.as_object_mut() {
        if map.contains_key("status") {
            map.insert("status".into(), json!({}));
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_image_change_patches_by_merge_key() {
        let old = json!({"spec": {"containers": [{"name": "web", "image": "a"}], "x": 1}});
        let new = json!({"spec": {"containers": [{"name": "web", "image": "b"}], "x": 1}});
        assert_eq!(
            merge_patch(&old, &new),
            Some(
                json!({"spec": {"$setElementOrder/containers": [{"name": "web"}],
                "containers": [{"image": "b", "name": "web"}]}})
            )
        );
    }

    #[test]
    fn micro_times_have_six_digits() {
        let us = super::super::clock::utc(2026, 11, 26, 16, 2, 11) * 1000 + 41_007;
        assert_eq!(micro_time(us), "2026-11-26T16:02:11.041007Z");
    }

    #[test]
    fn the_workload_policy_logs_pods_in_full_and_events_as_metadata() {
        let p = AuditPolicy::workloads();
        assert_eq!(p.level("create", "", "pods"), AuditLevel::RequestResponse);
        assert_eq!(p.level("patch", "", "events"), AuditLevel::Metadata);
        assert_eq!(p.level("get", "apps", "deployments"), AuditLevel::Metadata);
        assert_eq!(p.level("update", "", "configmaps"), AuditLevel::Request);
    }
}
