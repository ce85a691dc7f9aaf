//! The ReplicaSet controller: creates and deletes pods to match `spec.replicas`, writes RS status.

use std::cmp::Reverse;

use kblame::trace::EventType;
use serde_json::{json, Map, Value};

use super::config::cpu_millis;
use super::fields::Writer;
use super::gc::Deletion;
use super::model::{Cause, Involved, Meta, OwnerRef, Pod, Reporter, RsStatus};
use super::truth::{BuiltinTruth, CreatedTruth, PodTruth};
use super::world::{Task, World};

const MANAGER: &str = "kube-controller-manager";

impl World {
    /// One pass of the ReplicaSet controller over a ReplicaSet.
    pub(crate) fn sync_replicaset(&mut self, uid: &str) {
        let Some(rs) = self.replicasets.get(uid) else {
            return;
        };
        let active = self.active_pods(uid);
        if !rs.meta.deleting() {
            let wanted = rs.replicas.max(0) as usize;
            let count = active.len();
            if count < wanted {
                for _ in count..wanted {
                    self.create_pod(uid);
                }
            } else if count > wanted {
                let cause = rs.cause.clone();
                for victim in self
                    .rank_for_deletion(active)
                    .into_iter()
                    .take(count - wanted)
                {
                    self.delete_pod(&victim, Deletion::Controller(cause.clone()));
                }
            }
        }
        self.write_replicaset_status(uid);
    }

    /// Pods of a ReplicaSet that are neither terminating nor finished.
    pub(crate) fn active_pods(&self, rs_uid: &str) -> Vec<String> {
        let Some(rs) = self.replicasets.get(rs_uid) else {
            return Vec::new();
        };
        rs.pods
            .iter()
            .filter(|p| {
                self.pods.get(*p).is_some_and(|p| {
                    !p.meta.deleting() && !matches!(p.phase, "Succeeded" | "Failed")
                })
            })
            .cloned()
            .collect()
    }

    /// Deletion order: unscheduled, pending, not ready, recently ready, most restarts, newest first.
    fn rank_for_deletion(&self, pods: Vec<String>) -> Vec<String> {
        let mut ranked: Vec<(String, _)> = pods
            .into_iter()
            .filter_map(|uid| {
                let p = self.pods.get(&uid)?;
                let phase = match p.phase {
                    "Pending" => 0,
                    "Running" => 2,
                    _ => 1,
                };
                let restarts: i32 = p.containers.iter().map(|c| c.restarts).sum();
                let key = (
                    p.node_name.is_some(),
                    phase,
                    p.is_ready(),
                    Reverse(p.ready_since),
                    Reverse(restarts),
                    Reverse(p.meta.created),
                    Reverse(p.meta.name.clone()),
                );
                Some((uid, key))
            })
            .collect();
        ranked.sort_by(|a, b| a.1.cmp(&b.1));
        ranked.into_iter().map(|(uid, _)| uid).collect()
    }

    fn write_replicaset_status(&mut self, uid: &str) {
        let active = self.active_pods(uid);
        let ready = active.iter().filter(|p| self.pods[*p].is_ready()).count() as i32;
        let Some(rs) = self.replicasets.get_mut(uid) else {
            return;
        };
        let status = RsStatus {
            replicas: active.len() as i32,
            ready,
            available: ready,
            observed_generation: rs.meta.generation,
        };
        if status == rs.status {
            return;
        }
        rs.status = status;
        self.core.commit(
            rs,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
        let owner = rs.owner_uid.clone();
        if self.deployments.contains_key(&owner) {
            self.core.soon(Task::SyncDeployment(owner));
        }
    }

    fn create_pod(&mut self, rs_uid: &str) {
        let suffix = self.core.rng.name_suffix(5);
        let token = self.core.rng.name_suffix(5);
        let uid = self.uid();
        let now = self.core.now;
        let Some(rs) = self.replicasets.get_mut(rs_uid) else {
            return;
        };
        let name = format!("{}-{suffix}", rs.meta.name);
        let mut meta = Meta::new(&rs.meta.namespace, &name, uid.clone(), now);
        meta.generate_name = Some(format!("{}-", rs.meta.name));
        meta.labels = string_map(&rs.template["metadata"]["labels"]);
        meta.annotations = string_map(&rs.template["metadata"]["annotations"]);
        meta.owner = Some(OwnerRef {
            api_version: "apps/v1",
            kind: "ReplicaSet",
            name: rs.meta.name.clone(),
            uid: rs_uid.to_string(),
        });
        let replaces = rs.debts.pop_front();
        let cause = rs.cause.clone();
        let revision = rs.revision();
        rs.pods.insert(uid.clone());
        let template = rs.template.clone();
        let template_spec = rs.template["spec"].clone();
        let priority = self.priority_of(&template_spec);
        let mut spec = pod_spec(&template_spec, &token, priority);
        // What the controller sends (`GetPodFromTemplate`), before admission.
        let sent = || {
            let mut meta = meta.to_json();
            if let Some(m) = meta.as_object_mut() {
                for key in ["name", "uid", "resourceVersion", "managedFields"] {
                    m.shift_remove(key);
                }
                m.insert("creationTimestamp".into(), Value::Null);
            }
            json!({"kind": "Pod", "apiVersion": "v1", "metadata": meta,
                "spec": template["spec"], "status": {}})
        };
        self.core.audit_request(sent);
        let admitted = self.admit_pod(&mut meta, &mut spec);
        // The kubelet's model of the containers: a rewritten probe reaches the app's own probe
        // through the sidecar, so the template's probes decide, plus the injected containers.
        let containers = match admitted.injected.is_empty() {
            true => self.containers_for(&template_spec),
            false => {
                let mut model = template_spec.clone();
                let own = template_spec["containers"].as_array().map_or(0, Vec::len);
                let injected = spec["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .skip(own);
                if let Some(list) = model["containers"].as_array_mut() {
                    list.extend(injected.cloned());
                }
                self.containers_for(&model)
            }
        };
        let builtin = match self.webhook_configs.is_empty() {
            true => Vec::new(),
            false => builtin_admission(&spec, &template_spec),
        };
        if let Some(audit) = self.core.audit.as_mut() {
            audit.hint.annotations = admitted.annotations;
        }
        let mut pod = Pod {
            meta,
            spec,
            node: None,
            node_name: None,
            phase: "Pending",
            conditions: Vec::new(),
            host_ip: None,
            pod_ip: None,
            start_time: None,
            qos: qos_class(&template_spec),
            containers,
            kubelet_started: false,
            rs_uid: rs_uid.to_string(),
            ready_since: None,
            truth: self.book.pods.len(),
            priority,
            cpu_millis: requested_cpu(&template_spec),
            reason: None,
            message: None,
            nominated: None,
            eviction: None,
        };
        let commit = self.core.commit(
            &mut pod,
            Some(&Writer::update(MANAGER)),
            None,
            EventType::Added,
        );
        let created = self.creation_truth(&commit, cause, replaces);
        let truth = PodTruth {
            namespace: pod.meta.namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
            replicaset_uid: Some(rs_uid.to_string()),
            revision,
            created,
            restarts: Vec::new(),
            deleted: None,
            hidden_by_gap: commit.hidden,
            injected: admitted.injected,
            modified: admitted.modified,
            builtin_admission: builtin,
            ..PodTruth::default()
        };
        if let Some(old) = &truth.created.replaces {
            self.note_replacement(&truth.namespace, old, &name);
        }
        self.book.pod_names.insert(
            (truth.namespace.clone(), name.clone()),
            self.book.pods.len(),
        );
        self.book
            .pods
            .push((truth, commit.recorded && !commit.hidden));
        self.pods.insert(uid.clone(), pod);
        self.note_config_root_cause(&uid);
        if let Some(rs) = self.replicasets.get(rs_uid) {
            let involved = Involved::of(rs, None);
            let message = format!("Created pod: {name}");
            self.record_event(
                involved,
                Reporter::Controller("replicaset-controller"),
                false,
                "SuccessfulCreate",
                message,
            );
        }
        let delay = self.core.jitter(15, 60);
        self.core.after(delay, Task::Schedule(uid));
    }

    /// The value of the PriorityClass a pod template names (0 without one).
    fn priority_of(&self, template_spec: &Value) -> i32 {
        template_spec["priorityClassName"]
            .as_str()
            .and_then(|class| self.priority_classes.get(class))
            .copied()
            .unwrap_or(0)
    }

    fn note_replacement(&mut self, namespace: &str, old: &str, new: &str) {
        let key = (namespace.to_string(), old.to_string());
        let Some(&index) = self.book.pod_names.get(&key) else {
            return;
        };
        if let Some(deleted) = self
            .book
            .pods
            .get_mut(index)
            .and_then(|e| e.0.deleted.as_mut())
        {
            deleted.replaced_by = Some(new.to_string());
        }
    }

    fn creation_truth(
        &mut self,
        commit: &super::world::Commit,
        cause: Cause,
        replaces: Option<String>,
    ) -> CreatedTruth {
        let time = commit.truth_time();
        if !commit.recorded {
            return CreatedTruth {
                time,
                reason: "before-trace".into(),
                change_manager: None,
                replaces: None,
                root_cause: None,
            };
        }
        if let Some(old) = replaces {
            return CreatedTruth {
                time,
                reason: "replacement".into(),
                change_manager: None,
                replaces: Some(old),
                root_cause: None,
            };
        }
        let (reason, manager) = match cause {
            Cause::Rollout(manager) => ("rollout", manager),
            Cause::Scale(manager) => ("scale-up", manager),
        };
        CreatedTruth {
            time,
            reason: reason.into(),
            change_manager: Some(manager),
            replaces: None,
            root_cause: None,
        }
    }
}

pub(crate) fn string_map(value: &Value) -> std::collections::BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The pod spec the API server stores for a template: service-account token volume, tolerations,
/// the priority of its PriorityClass and the other admission defaults, in Go field order.
/// What built-in admission (v1.31's ServiceAccount, DefaultTolerationSeconds and Priority
/// plugins), defaulting and the scheduler add to a pod beyond its template (top-level fields
/// the template already holds are not differences).
fn builtin_admission(spec: &Value, template_spec: &Value) -> Vec<BuiltinTruth> {
    let entry = |path: String, source: &str| BuiltinTruth {
        path,
        source: source.to_string(),
    };
    let mut list = Vec::new();
    let token = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .find(|n| n.starts_with("kube-api-access-"));
    if let Some(token) = token {
        list.push(entry(
            format!("spec.volumes[name={token}]"),
            "ServiceAccount",
        ));
        for c in spec["containers"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or_default();
            if name == "istio-proxy" {
                continue;
            }
            list.push(entry(
                format!(
                    "spec.containers[name={name}].volumeMounts[mountPath=/var/run/secrets/kubernetes.io/serviceaccount]"
                ),
                "ServiceAccount",
            ));
        }
    }
    let fields = [
        ("serviceAccountName", "ServiceAccount"),
        ("serviceAccount", "ServiceAccount"),
        ("tolerations", "DefaultTolerationSeconds"),
        ("priority", "Priority"),
        ("preemptionPolicy", "Priority"),
        ("enableServiceLinks", "defaulting"),
    ];
    for (field, source) in fields {
        if template_spec.get(field).is_none() && spec.get(field).is_some() {
            list.push(entry(format!("spec.{field}"), source));
        }
    }
    list.push(entry("spec.nodeName".into(), "scheduler"));
    list
}

pub(crate) fn pod_spec(template_spec: &Value, token: &str, priority: i32) -> Value {
    let volume = format!("kube-api-access-{token}");
    let mut spec = Map::new();
    // The template's own volumes come first; the ServiceAccount admission plugin appends its
    // token volume.
    let mut volumes = template_spec["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    volumes.push(json!({"name": volume, "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
    ], "defaultMode": 420}}));
    spec.insert("volumes".into(), Value::Array(volumes));
    let mount = json!([{"name": volume, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]);
    let containers: Vec<Value> = template_spec["containers"]
        .as_array()
        .map(|list| list.iter().map(|c| with_mount(c, &mount)).collect())
        .unwrap_or_default();
    spec.insert("containers".into(), Value::Array(containers));
    for key in [
        "restartPolicy",
        "terminationGracePeriodSeconds",
        "dnsPolicy",
    ] {
        spec.insert(key.into(), template_spec[key].clone());
    }
    spec.insert("serviceAccountName".into(), json!("default"));
    spec.insert("serviceAccount".into(), json!("default"));
    spec.insert(
        "securityContext".into(),
        template_spec["securityContext"].clone(),
    );
    spec.insert(
        "schedulerName".into(),
        template_spec["schedulerName"].clone(),
    );
    spec.insert("tolerations".into(), json!([
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ]));
    if let Some(class) = template_spec.get("priorityClassName") {
        spec.insert("priorityClassName".into(), class.clone());
    }
    spec.insert("priority".into(), json!(priority));
    spec.insert("enableServiceLinks".into(), json!(true));
    spec.insert("preemptionPolicy".into(), json!("PreemptLowerPriority"));
    Value::Object(spec)
}

fn with_mount(container: &Value, mount: &Value) -> Value {
    let Some(map) = container.as_object() else {
        return container.clone();
    };
    let mut mounts = map
        .get("volumeMounts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    mounts.extend(mount.as_array().cloned().unwrap_or_default());
    let mut out = Map::new();
    for (key, value) in map {
        if key == "volumeMounts" {
            continue;
        }
        out.insert(key.clone(), value.clone());
        if key == "resources" {
            out.insert("volumeMounts".into(), Value::Array(mounts.clone()));
        }
    }
    Value::Object(out)
}

/// The CPU the containers request, in millicores.
pub(crate) fn requested_cpu(template_spec: &Value) -> i64 {
    template_spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["resources"]["requests"]["cpu"].as_str())
        .filter_map(cpu_millis)
        .sum()
}

/// Guaranteed, Burstable or BestEffort, from the containers' requests and limits.
pub(crate) fn qos_class(template_spec: &Value) -> &'static str {
    let containers = template_spec["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let limits = &c["resources"]["limits"];
        let requests = &c["resources"]["requests"];
        any |= limits.as_object().is_some_and(|m| !m.is_empty())
            || requests.as_object().is_some_and(|m| !m.is_empty());
        for resource in ["cpu", "memory"] {
            let limit = limits.get(resource);
            let request = requests.get(resource).or(limit);
            guaranteed &= limit.is_some() && request == limit;
        }
    }
    match (any, guaranteed) {
        (_, true) => "Guaranteed",
        (true, false) => "Burstable",
        _ => "BestEffort",
    }
}
