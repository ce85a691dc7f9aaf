//! What users do: apply, change, restart, undo, scale and delete, each as its tool writes it.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde_json::{json, Value};

use super::clock::whole_seconds;
use super::config::{DeploymentConfig, IntOrPercent, Propagation, Tool};
use super::fields::{full_set, FieldSet, Writer};
use super::gc::Deletion;
use super::model::{ChangeRef, Deployment, DeploymentStatus, Meta};
use super::rng::template_hash;
use super::truth::DeploymentTruth;
use super::world::{Commit, Task, World};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The field manager, operation and applied field set of a tool's write.
fn tool_writer(tool: Tool, config: &DeploymentConfig) -> (Writer, Option<FieldSet>) {
    match tool {
        Tool::KubectlApply => (Writer::update("kubectl-client-side-apply"), None),
        Tool::KubectlServerSideApply => {
            (Writer::apply("kubectl"), Some(full_set(&config.manifest())))
        }
        Tool::Helm => (Writer::update("helm"), None),
    }
}

fn change_ref(writer: &Writer, commit: &Commit, creation: bool) -> ChangeRef {
    ChangeRef {
        manager: writer.manager.clone(),
        operation: writer.operation.as_str(),
        subresource: writer.subresource,
        at: commit.ts,
        recorded: commit.recorded,
        fields: commit
            .paths
            .iter()
            .filter(|p| p.starts_with("spec."))
            .cloned()
            .collect(),
        creation,
        user: commit.user.clone(),
    }
}

impl World {
    /// `kubectl apply` / `helm upgrade --install`: creates the Deployment or updates it.
    pub(crate) fn apply_deployment(&mut self, config: &DeploymentConfig, tool: Tool) {
        match self.find_deployment(&config.namespace, &config.name) {
            Some(uid) => self.reapply_deployment(&uid, config, tool),
            None => self.create_deployment(config, tool),
        }
    }

    fn create_deployment(&mut self, config: &DeploymentConfig, tool: Tool) {
        let uid = self.uid();
        let mut meta = Meta::new(&config.namespace, &config.name, uid.clone(), self.core.now);
        meta.labels = config.labels.clone();
        meta.annotations = user_annotations(config, tool, &BTreeMap::new());
        let (writer, applied) = tool_writer(tool, config);
        self.core.audit_request(|| sent_manifest(config, tool));
        let mut d = Deployment {
            meta,
            replicas: config.replicas,
            selector: config.selector(),
            template_hash: template_hash(&config.stored_template()),
            template: config.stored_template(),
            max_surge: config.max_surge.unwrap_or(IntOrPercent::Percent(25)),
            max_unavailable: config.max_unavailable.unwrap_or(IntOrPercent::Percent(25)),
            progress_deadline: config.progress_deadline_seconds.unwrap_or(600),
            status: DeploymentStatus::default(),
            config: config.clone(),
            rollout: None,
            scaler: writer.manager.clone(),
            truth: self.book.deployments.len(),
            foreground: false,
            rolling: true,
            deadline_at: 0,
        };
        let commit = self
            .core
            .commit(&mut d, Some(&writer), applied.as_ref(), EventType::Added);
        d.rollout = Some(change_ref(&writer, &commit, true));
        let truth = DeploymentTruth {
            namespace: config.namespace.clone(),
            name: config.name.clone(),
            uid: uid.clone(),
            revisions: Vec::new(),
            final_outcome: "progressing".into(),
        };
        self.book.deployments.push((truth, commit.recorded));
        self.deployments.insert(uid.clone(), d);
        self.core.soon(Task::SyncDeployment(uid));
    }

    fn reapply_deployment(&mut self, uid: &str, config: &DeploymentConfig, tool: Tool) {
        let Some(d) = self.deployments.get_mut(uid) else {
            return;
        };
        let mut template = config.stored_template();
        keep_foreign_annotations(&mut template, &d.template, &d.config);
        d.meta.labels = config.labels.clone();
        d.meta.annotations = user_annotations(config, tool, &d.meta.annotations);
        d.replicas = config.replicas;
        d.template = template;
        if let Some(surge) = config.max_surge {
            d.max_surge = surge;
        }
        if let Some(unavailable) = config.max_unavailable {
            d.max_unavailable = unavailable;
        }
        d.config = config.clone();
        let (writer, applied) = tool_writer(tool, config);
        if tool == Tool::KubectlServerSideApply {
            self.core.audit_request(|| sent_manifest(config, tool));
        }
        self.commit_spec_change(uid, &writer, applied.as_ref());
    }

    /// Commits a user's change of a Deployment and notes what it changed.
    fn commit_spec_change(&mut self, uid: &str, writer: &Writer, applied: Option<&FieldSet>) {
        let Some(d) = self.deployments.get_mut(uid) else {
            return;
        };
        let new_hash = template_hash(&d.template);
        let template_changed = new_hash != d.template_hash;
        d.template_hash = new_hash;
        let old_replicas = d.meta.last["spec"]["replicas"].as_i64();
        let commit = self
            .core
            .commit(d, Some(writer), applied, EventType::Modified);
        if template_changed {
            d.rollout = Some(change_ref(writer, &commit, false));
            d.rolling = true;
        }
        if old_replicas != Some(i64::from(d.replicas)) {
            d.scaler = writer.manager.clone();
        }
        self.core.soon(Task::SyncDeployment(uid.to_string()));
    }

    /// Changes the last applied configuration with `change` and applies it with `tool`.
    pub(crate) fn update_deployment(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut DeploymentConfig),
    ) {
        let Some(uid) = self.find_deployment(namespace, name) else {
            return;
        };
        let mut config = self.deployments[&uid].config.clone();
        change(&mut config);
        self.reapply_deployment(&uid, &config, tool);
    }

    /// `kubectl rollout restart`: stamps `restartedAt` on the pod template. In kubectl v1.31,
    /// `defaultObjectRestarter` (`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/objectrestarter.go`)
    /// sets `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]` to the time
    /// (RFC 3339) and `RunRestart` (`pkg/cmd/rollout/rollout_restart.go`) sends the difference as
    /// a strategic-merge PATCH with field manager `kubectl-rollout`, which managedFields record as
    /// operation `Update`.
    pub(crate) fn rollout_restart(&mut self, namespace: &str, name: &str) {
        let Some(uid) = self.find_deployment(namespace, name) else {
            return;
        };
        let stamp = whole_seconds(self.core.now);
        let Some(d) = self.deployments.get_mut(&uid) else {
            return;
        };
        let Some(metadata) = d
            .template
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        match metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            Some(annotations) => {
                annotations.insert(RESTARTED_AT.into(), json!(stamp));
            }
            None => {
                metadata.insert("annotations".into(), json!({RESTARTED_AT: stamp}));
            }
        }
        self.commit_spec_change(&uid, &Writer::update("kubectl-rollout"), None);
    }

    /// `kubectl rollout undo`: copies the previous revision's pod template back.
    pub(crate) fn rollout_undo(&mut self, namespace: &str, name: &str) {
        let Some(uid) = self.find_deployment(namespace, name) else {
            return;
        };
        let current = self.deployments[&uid]
            .meta
            .annotations
            .get("deployment.kubernetes.io/revision")
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0);
        let previous = self
            .owned_replicasets(&uid)
            .into_iter()
            .map(|r| &self.replicasets[&r])
            .filter(|r| r.revision() < current)
            .max_by_key(|r| r.revision())
            .map(|r| r.template.clone());
        let Some(mut template) = previous else { return };
        if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
            labels.shift_remove("pod-template-hash");
        }
        let Some(d) = self.deployments.get_mut(&uid) else {
            return;
        };
        d.template = template;
        // kubectl v1.31 `getDeploymentPatch` (`pkg/polymorphichelpers/rollback.go`): a JSON
        // patch replacing the template and the annotations.
        let (template, annotations) = (d.template.clone(), d.meta.annotations.clone());
        self.core.audit_request(|| {
            json!([
                {"op": "replace", "path": "/spec/template", "value": template},
                {"op": "replace", "path": "/metadata/annotations", "value": annotations},
            ])
        });
        self.commit_spec_change(&uid, &Writer::update("kubectl"), None);
    }

    /// Sets `spec.replicas` through the scale subresource, as `kubectl scale` does.
    pub(crate) fn scale(&mut self, namespace: &str, name: &str, replicas: i32, manager: &str) {
        let Some(uid) = self.find_deployment(namespace, name) else {
            return;
        };
        let Some(d) = self.deployments.get_mut(&uid) else {
            return;
        };
        d.replicas = replicas;
        d.config.replicas = replicas;
        self.commit_spec_change(&uid, &Writer::scale(manager), None);
    }

    /// `kubectl delete pod`.
    pub(crate) fn delete_pod_by_name(&mut self, namespace: &str, name: &str) {
        if let Some(uid) = self.find_pod(namespace, name) {
            self.delete_pod(&uid, Deletion::External);
        }
    }

    /// `kubectl delete deployment`.
    pub(crate) fn delete_deployment_by_name(
        &mut self,
        namespace: &str,
        name: &str,
        propagation: Propagation,
    ) {
        if let Some(uid) = self.find_deployment(namespace, name) {
            self.delete_deployment(&uid, propagation);
        }
    }
}

impl World {
    /// The Deployment `tool` would write for `config` (not stored): for a dry run.
    pub(crate) fn deployment_as_applied(
        &self,
        uid: &str,
        config: &DeploymentConfig,
        tool: Tool,
    ) -> Option<(Deployment, Writer, Option<FieldSet>)> {
        let mut d = self.deployments.get(uid)?.clone();
        let mut template = config.stored_template();
        keep_foreign_annotations(&mut template, &d.template, &d.config);
        d.meta.labels = config.labels.clone();
        d.meta.annotations = user_annotations(config, tool, &d.meta.annotations);
        d.replicas = config.replicas;
        d.template = template;
        d.config = config.clone();
        let (writer, applied) = tool_writer(tool, config);
        Some((d, writer, applied))
    }
}

/// The manifest a tool sends: client-side apply adds its last-applied annotation.
fn sent_manifest(config: &DeploymentConfig, tool: Tool) -> Value {
    let mut manifest = config.manifest();
    if tool == Tool::KubectlApply {
        if let Some(meta) = manifest["metadata"].as_object_mut() {
            let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
            annotations[LAST_APPLIED] = json!(config.last_applied());
        }
    }
    manifest
}

/// The Deployment's annotations after a tool's write: the controller's `deployment.kubernetes.io/*`
/// stay, the user's replace the rest; client-side apply adds last-applied.
fn user_annotations(
    config: &DeploymentConfig,
    tool: Tool,
    current: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut annotations: BTreeMap<String, String> = current
        .iter()
        .filter(|(k, _)| k.starts_with("deployment.kubernetes.io/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    annotations.extend(config.annotations.clone());
    if tool == Tool::KubectlApply {
        annotations.insert(LAST_APPLIED.into(), config.last_applied());
    } else if let Some(last) = current.get(LAST_APPLIED) {
        annotations.insert(LAST_APPLIED.into(), last.clone());
    }
    annotations
}

/// Keeps pod-template annotations another manager set (e.g. `restartedAt`) across a re-apply.
fn keep_foreign_annotations(template: &mut Value, current: &Value, previous: &DeploymentConfig) {
    let Some(existing) = current["metadata"]["annotations"].as_object() else {
        return;
    };
    let foreign: Vec<(String, Value)> = existing
        .iter()
        .filter(|(k, _)| !previous.pod_annotations.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if foreign.is_empty() {
        return;
    }
    let Some(metadata) = template["metadata"].as_object_mut() else {
        return;
    };
    let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
    if let Some(map) = annotations.as_object_mut() {
        for (key, value) in foreign {
            map.entry(key).or_insert(value);
        }
    }
}
