//! A bare pod: no `ownerReferences` entry with `controller: true`, so its lineage is the pod
//! alone, nothing made it from a template and nothing will replace it.

use super::{not_built, KindRef, PodFacts, PodInput, Rules, Workload};

/// A pod with no controller.
pub struct BarePod;

static RULES: Rules = Rules {
    revisions: "none",
    pod_join: "none: the pod is its own workload",
    healthy: "the pod is Running and Ready (or Succeeded)",
    source: "pkg/controller/controller_ref_manager.go (GetControllerOf finds no controller)",
    built: true,
};

impl Workload for BarePod {
    fn kind(&self) -> KindRef {
        KindRef {
            group: "",
            kind: "Pod",
        }
    }

    fn chain(&self) -> &'static [KindRef] {
        &[]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }

    /// Anything controlling a pod directly that no registered kind matches takes over from
    /// "bare": the pod is that controller's.
    fn answers_under_any_controller(&self) -> bool {
        false
    }

    fn pod_facts(&self, input: PodInput<'_>) -> PodFacts {
        let mut facts = not_built(
            &input,
            "it is a bare pod: no ownerReference with controller: true, so no controller made it from a template",
        );
        facts.peers = Err("a bare pod has no revisions to compare with".to_string());
        facts
    }
}
