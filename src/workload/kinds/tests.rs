//! Which workload a lineage resolves to.

use super::*;
use crate::workload::lineage::group_of;

fn link(kind: &str, api_version: &str) -> Link {
    Link {
        entry: LineageEntry {
            kind: kind.to_string(),
            api_version: api_version.to_string(),
            group: group_of(api_version).to_string(),
            namespace: "ns".to_string(),
            name: kind.to_lowercase(),
            uid: format!("uid-{kind}"),
            recorded: true,
            line: None,
        },
        id: None,
    }
}

/// Controllers as (kind, apiVersion), the pod's own first.
type Kinds<'a> = &'a [(&'a str, &'a str)];

fn chain(kinds: Kinds<'_>) -> Vec<Link> {
    std::iter::once(("Pod", "v1"))
        .chain(kinds.iter().copied())
        .map(|(kind, api_version)| link(kind, api_version))
        .collect()
}

/// The resolved workload's kind, the length of its chain and of what is above it.
fn known(lineage: &[Link]) -> (&'static str, usize, usize) {
    match resolve(lineage) {
        Resolved::Known {
            workload,
            chain,
            above,
        } => (workload.kind().kind, chain.len(), above.len()),
        other => panic!("expected a known workload, got {other:?}"),
    }
}

fn unknown(lineage: &[Link]) -> String {
    match resolve(lineage) {
        Resolved::Unknown { controller } => controller.entry.kind.clone(),
        other => panic!("expected an unknown workload, got {other:?}"),
    }
}

#[test]
fn a_pod_with_no_controller_is_a_bare_pod() {
    assert_eq!(known(&chain(&[])), ("Pod", 0, 0));
}

#[test]
fn each_builtin_chain_resolves_to_its_kind() {
    let cases: &[(Kinds, &str, usize)] = &[
        (
            &[("ReplicaSet", "apps/v1"), ("Deployment", "apps/v1")],
            "Deployment",
            2,
        ),
        (&[("ReplicaSet", "apps/v1")], "ReplicaSet", 1),
        (&[("StatefulSet", "apps/v1")], "StatefulSet", 1),
        (&[("DaemonSet", "apps/v1")], "DaemonSet", 1),
        (&[("Job", "batch/v1")], "Job", 1),
        (
            &[("Job", "batch/v1"), ("CronJob", "batch/v1")],
            "CronJob",
            2,
        ),
    ];
    for (kinds, want, len) in cases {
        assert_eq!(known(&chain(kinds)), (*want, *len, 0), "{kinds:?}");
    }
}

#[test]
fn an_operator_above_a_statefulset_leaves_the_statefulset_the_workload() {
    let lineage = chain(&[
        ("StatefulSet", "apps/v1"),
        (
            "PostgresCluster",
            "postgres-operator.crunchydata.com/v1beta1",
        ),
    ]);
    assert_eq!(known(&lineage), ("StatefulSet", 1, 1));
}

#[test]
fn a_replicaset_under_an_unknown_controller_is_that_controllers_workload() {
    let lineage = chain(&[
        ("ReplicaSet", "apps/v1"),
        ("Rollout", "argoproj.io/v1alpha1"),
    ]);
    assert_eq!(unknown(&lineage), "Rollout");
}

#[test]
fn a_pod_controlled_directly_by_an_unknown_kind_is_unknown() {
    let lineage = chain(&[("VirtualMachineInstance", "kubevirt.io/v1")]);
    assert_eq!(unknown(&lineage), "VirtualMachineInstance");
}

#[test]
fn a_kind_of_the_same_name_in_another_group_is_not_the_builtin() {
    let lineage = chain(&[("Deployment", "example.com/v1")]);
    assert_eq!(unknown(&lineage), "Deployment");
    let lineage = chain(&[("ReplicaSet", "apps/v1"), ("Deployment", "example.com/v1")]);
    assert_eq!(unknown(&lineage), "Deployment");
}

#[test]
fn an_owner_reference_without_api_version_or_from_extensions_still_matches() {
    let lineage = chain(&[("ReplicaSet", ""), ("Deployment", "extensions/v1beta1")]);
    assert_eq!(known(&lineage), ("Deployment", 2, 0));
}

#[test]
fn every_registered_kind_ends_its_chain_with_itself_and_cites_a_source() {
    for workload in REGISTRY {
        let kind = workload.kind();
        if let Some(top) = workload.chain().last() {
            assert_eq!(*top, kind);
        }
        assert!(!workload.rules().source.is_empty(), "{kind:?}");
    }
}
