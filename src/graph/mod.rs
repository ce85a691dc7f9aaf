//! The causal graph: objects by UID, ownership edges as they were over time, and Events about objects.
//!
//! Nodes are objects of the [`History`]; owners named in `ownerReferences` that
//! never appear in the trace get a node of their own so lineage can still name them.
//! Deployment revisions and the changes that made them are attached by
//! [`crate::workload`] through [`CausalGraph::add_revision`].

mod change;

pub use change::{Change, ChangeEvidence, ChangeKind, Confidence, ObjectRef, Requester};

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::history::{History, ObjectId};
use crate::workload::deployment::DeploymentModel;

/// A node of the causal graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A recorded object.
    Object(ObjectId),
    /// An owner referenced by UID that the trace never recorded.
    Unrecorded {
        /// The owner's UID.
        uid: String,
        /// Its kind, from the reference.
        kind: String,
        /// Its name, from the reference.
        name: String,
    },
    /// A change of an object's spec: `index` into that object's change list
    /// ([`crate::workload::deployment::DeploymentModel::changes`] for Deployments).
    Change {
        /// The changed object.
        object: ObjectId,
        /// Its position in the object's change list.
        index: usize,
    },
    /// A Deployment revision.
    Revision {
        /// The Deployment.
        deployment: ObjectId,
        /// The revision number.
        number: i64,
    },
}

/// An edge of the causal graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Edge {
    /// Owner → owned (`controller: true`), from the first to the last version that named it.
    Controls {
        /// First record time naming this owner.
        since: Timestamp,
        /// Last record time naming this owner.
        until: Timestamp,
    },
    /// Event → the object it is about.
    About,
    /// Deployment → one of its revisions.
    HasRevision,
    /// Revision → the ReplicaSet that carries its template.
    CarriedBy,
    /// Change → the object it changed.
    Changed,
    /// Change → the revision it made.
    Made,
}

/// Objects, revisions and Events, linked.
#[derive(Debug, Default)]
pub struct CausalGraph {
    graph: StableDiGraph<Node, Edge>,
    objects: HashMap<ObjectId, NodeIndex>,
    unrecorded: HashMap<String, NodeIndex>,
    revisions: HashMap<(ObjectId, i64), NodeIndex>,
    /// The Deployment models whose revisions are registered here, built once each (see
    /// [`DeploymentModel::of`]).
    models: HashMap<ObjectId, Arc<DeploymentModel>>,
}

impl CausalGraph {
    /// Builds ownership and Event edges from a replayed history.
    pub fn build(history: &History) -> CausalGraph {
        let mut graph = CausalGraph::default();
        for id in 0..history.objects().len() {
            let node = graph.graph.add_node(Node::Object(id));
            graph.objects.insert(id, node);
        }
        for id in 0..history.objects().len() {
            graph.link_owners(history, id);
            graph.link_event(history, id);
        }
        graph
    }

    fn link_owners(&mut self, history: &History, id: ObjectId) {
        let object = history.object(id);
        let mut spans: Vec<(String, Timestamp, Timestamp)> = Vec::new();
        for version in &object.versions {
            let Some(owner) = version.controller_uid.as_deref() else {
                continue;
            };
            match spans.last_mut() {
                Some((uid, _, until)) if uid == owner => *until = version.ts,
                _ => spans.push((owner.to_string(), version.ts, version.ts)),
            }
        }
        let owned = self.objects[&id];
        for (uid, since, until) in spans {
            let owner = self.owner_node(history, id, &uid);
            self.graph
                .add_edge(owner, owned, Edge::Controls { since, until });
        }
    }

    fn owner_node(&mut self, history: &History, owned: ObjectId, uid: &str) -> NodeIndex {
        if let Some(id) = history.by_uid(uid) {
            return self.objects[&id];
        }
        let reference = || owner_reference(history, owned, uid).unwrap_or_default();
        if let Some(&node) = self.unrecorded.get(uid) {
            // The first object linked may not name its owner (a reference without kind or
            // name): let a later one fill it in, so the answer does not depend on which owned
            // object a partial (indexed) read links first.
            if let Node::Unrecorded { kind, name, .. } = &mut self.graph[node] {
                if kind.is_empty() && name.is_empty() {
                    (*kind, *name) = reference();
                }
            }
            return node;
        }
        let (kind, name) = reference();
        let node = self.graph.add_node(Node::Unrecorded {
            uid: uid.to_string(),
            kind,
            name,
        });
        self.unrecorded.insert(uid.to_string(), node);
        node
    }

    fn link_event(&mut self, history: &History, id: ObjectId) {
        let object = history.object(id);
        if object.kind != "Event" {
            return;
        }
        let Some(subject) = object
            .subject_uid
            .as_deref()
            .and_then(|uid| history.by_uid(uid))
        else {
            return;
        };
        self.graph
            .add_edge(self.objects[&id], self.objects[&subject], Edge::About);
    }

    /// The controlling owner of `id` at `at` (the owner named by its latest version at or before `at`,
    /// or by its first version when `at` precedes it).
    pub fn controller_at(&self, history: &History, id: ObjectId, at: Timestamp) -> Option<Owner> {
        let object = history.object(id);
        let version = object.version_at(at).unwrap_or(object.first());
        let uid = version.controller_uid.as_deref()?;
        Some(match history.by_uid(uid) {
            Some(owner) => Owner::Recorded(owner),
            None => {
                let node = self.unrecorded.get(uid)?;
                match &self.graph[*node] {
                    Node::Unrecorded { uid, kind, name } => Owner::Unrecorded {
                        uid: uid.clone(),
                        kind: kind.clone(),
                        name: name.clone(),
                    },
                    _ => return None,
                }
            }
        })
    }

    /// Every object that `owner` controlled at some time in the trace, in first-seen order.
    pub fn controlled_by(&self, owner: ObjectId) -> Vec<ObjectId> {
        let mut owned: Vec<ObjectId> = self
            .graph
            .edges_directed(self.objects[&owner], Direction::Outgoing)
            .filter(|edge| matches!(edge.weight(), Edge::Controls { .. }))
            .filter_map(|edge| self.object_id(edge.target()))
            .collect();
        owned.sort_unstable();
        owned.dedup();
        owned
    }

    /// The Events about `id`, in first-seen order.
    pub fn events_about(&self, id: ObjectId) -> Vec<ObjectId> {
        let mut events: Vec<ObjectId> = self
            .graph
            .edges_directed(self.objects[&id], Direction::Incoming)
            .filter(|edge| *edge.weight() == Edge::About)
            .filter_map(|edge| self.object_id(edge.source()))
            .collect();
        events.sort_unstable();
        events
    }

    /// The model of Deployment `id` built before, if any.
    pub fn deployment_model(&self, id: ObjectId) -> Option<Arc<DeploymentModel>> {
        self.models.get(&id).cloned()
    }

    /// Keeps the model of Deployment `id` (built against this graph) for later questions.
    pub fn keep_deployment_model(&mut self, id: ObjectId, model: Arc<DeploymentModel>) {
        self.models.insert(id, model);
    }

    /// Records that `deployment` has revision `number`, carried by ReplicaSet `replicaset`.
    pub fn add_revision(
        &mut self,
        deployment: ObjectId,
        number: i64,
        replicaset: Option<ObjectId>,
    ) {
        let node = *self
            .revisions
            .entry((deployment, number))
            .or_insert_with(|| self.graph.add_node(Node::Revision { deployment, number }));
        self.graph
            .add_edge(self.objects[&deployment], node, Edge::HasRevision);
        if let Some(rs) = replicaset {
            self.graph
                .add_edge(node, self.objects[&rs], Edge::CarriedBy);
        }
    }

    /// Records change number `index` of `object`, and the revision it made, if any.
    pub fn add_change(&mut self, object: ObjectId, index: usize, made: Option<i64>) {
        let node = self.graph.add_node(Node::Change { object, index });
        self.graph
            .add_edge(node, self.objects[&object], Edge::Changed);
        if let Some(revision) = made.and_then(|n| self.revisions.get(&(object, n))) {
            self.graph.add_edge(node, *revision, Edge::Made);
        }
    }

    /// The change (index into the object's change list) that made revision `number` of `deployment`.
    pub fn change_that_made(&self, deployment: ObjectId, number: i64) -> Option<usize> {
        let revision = *self.revisions.get(&(deployment, number))?;
        self.graph
            .edges_directed(revision, Direction::Incoming)
            .filter(|edge| *edge.weight() == Edge::Made)
            .find_map(|edge| match self.graph[edge.source()] {
                Node::Change { index, .. } => Some(index),
                _ => None,
            })
    }

    /// The revisions recorded for `deployment`, ascending.
    pub fn revisions_of(&self, deployment: ObjectId) -> Vec<i64> {
        let mut numbers: Vec<i64> = self
            .revisions
            .keys()
            .filter(|(d, _)| *d == deployment)
            .map(|(_, n)| *n)
            .collect();
        numbers.sort_unstable();
        numbers
    }

    fn object_id(&self, node: NodeIndex) -> Option<ObjectId> {
        match self.graph[node] {
            Node::Object(id) => Some(id),
            _ => None,
        }
    }
}

/// A controlling owner: recorded in the trace, or only named by a reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner {
    /// An object of the trace.
    Recorded(ObjectId),
    /// Named by `ownerReferences` but never recorded.
    Unrecorded {
        /// Its UID.
        uid: String,
        /// Its kind.
        kind: String,
        /// Its name.
        name: String,
    },
}

/// Kind and name of the owner `uid` as `owned`'s references name it.
fn owner_reference(history: &History, owned: ObjectId, uid: &str) -> Option<(String, String)> {
    // The latest version that still names the owner by UID: a later one may have dropped the
    // reference (released, or a damaged record), and the kind and name are the same in all.
    history
        .object(owned)
        .versions
        .iter()
        .rev()
        .find_map(|version| {
            let head = crate::history::meta::ObjectHead::parse(history.body(version)).ok()?;
            let owner = head
                .metadata
                .owner_references
                .iter()
                .find(|owner| owner.uid.as_deref() == Some(uid))?;
            Some((
                owner.kind.as_deref().unwrap_or("").to_string(),
                owner.name.as_deref().unwrap_or("").to_string(),
            ))
        })
}
