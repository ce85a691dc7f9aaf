//! `tree` and `diff` through the library: owner trees at a moment, and field diffs between versions.

use kblame::history::diff::FieldChange;
use kblame::query::diff::{diff, DiffQuery, DiffReport};
use kblame::query::select::ObjectQuery;
use kblame::query::tree::{tree, TreeNode, TreeQuery, TreeReport};
use kblame::query::{load, Loaded, QueryError};
use kblame::trace::TraceSource;

use super::support::fixture;

fn loaded(scenario: &str) -> Loaded {
    let path = fixture(&format!("{scenario}.ndjson.zst"));
    load(&TraceSource::Path(path)).expect("the fixture loads")
}

/// `KIND/NAME` read the way the command line reads it.
fn object(loaded: &Loaded, spec: &str) -> ObjectQuery {
    ObjectQuery::parse(spec, &loaded.history).expect("KIND/NAME")
}

fn tree_of(scenario: &str, spec: &str, at: Option<&str>, deleted: bool) -> TreeReport {
    let mut loaded = loaded(scenario);
    let at = at.map(|text| {
        kblame::query::at::parse_time(text, &loaded.history.facts).expect("a time in the trace")
    });
    let query = TreeQuery {
        object: object(&loaded, spec),
        at,
        deleted,
    };
    tree(&mut loaded, &query).expect("a tree")
}

fn tree_text(report: &TreeReport) -> String {
    let mut out = Vec::new();
    kblame::render::tree::text(report, &mut out, false).expect("rendered");
    String::from_utf8(out).expect("UTF-8")
}

fn diff_query(scenario: &str, spec: &str, from: &str, to: &str) -> Result<DiffReport, QueryError> {
    let mut loaded = loaded(scenario);
    let query = DiffQuery {
        object: object(&loaded, spec),
        from: from.to_string(),
        to: to.to_string(),
    };
    diff(&mut loaded, &query)
}

fn diff_text(report: &DiffReport) -> String {
    let mut out = Vec::new();
    kblame::render::diff::text(report, &mut out, false).expect("rendered");
    String::from_utf8(out).expect("UTF-8")
}

fn names(node: &TreeNode) -> Vec<String> {
    let mut all = vec![format!("{}/{}", node.kind, node.name)];
    for child in &node.children {
        all.extend(names(child));
    }
    all
}

fn field<'a>(report: &'a DiffReport, path: &str) -> Option<&'a FieldChange> {
    report.fields.iter().find(|f| f.path.to_string() == path)
}

#[test]
fn the_seed_demo_tree_at_the_end_has_two_replicasets_four_pods_and_the_crashing_pod_marked() {
    let report = tree_of("seed-demo", "deployment/web", None, false);
    let root = &report.root;
    assert_eq!(root.uid, "910a2dec-8902-4cc1-aeeb-8da1658eec67");
    assert_eq!(
        root.status,
        "3/3 ready, revision 2, Progressing=False ProgressDeadlineExceeded"
    );
    assert_eq!(
        names(root),
        [
            "Deployment/web",
            "ReplicaSet/web-6748484658",
            "Pod/web-6748484658-2v9qk",
            "Pod/web-6748484658-ksmpd",
            "Pod/web-6748484658-pxzfj",
            "ReplicaSet/web-7cd8774fb8",
            "Pod/web-7cd8774fb8-znhz4",
        ]
    );
    let new_rs = &root.children[1];
    assert_eq!(new_rs.status, "rev 2, 0/1 ready");
    let crashing = &new_rs.children[0];
    assert_eq!(
        crashing.status,
        "Running, not ready, web: CrashLoopBackOff (7 restarts)"
    );
    assert_eq!(crashing.age.as_deref(), Some("12m"));
    assert_eq!(root.children[0].children[0].status, "Running, ready");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    insta::assert_snapshot!("tree_seed_demo", tree_text(&report));
}

#[test]
fn the_seed_demo_tree_a_minute_in_has_only_the_first_replicaset() {
    let report = tree_of("seed-demo", "deploy/web", Some("+1m"), false);
    assert_eq!(report.at.to_string(), "2026-11-26T16:01:00.004Z");
    assert_eq!(report.root.status, "3/3 ready, revision 1");
    assert_eq!(report.root.age.as_deref(), Some("40m"));
    assert_eq!(
        names(&report.root),
        [
            "Deployment/web",
            "ReplicaSet/web-6748484658",
            "Pod/web-6748484658-2v9qk",
            "Pod/web-6748484658-ksmpd",
            "Pod/web-6748484658-pxzfj",
        ]
    );
}

#[test]
fn deleted_objects_are_left_out_unless_asked_for_and_then_marked_with_their_deletion_time() {
    let old_pods = [
        "Pod/api-858bdcd8dc-h699f",
        "Pod/api-858bdcd8dc-jdt9n",
        "Pod/api-858bdcd8dc-jmdxh",
        "Pod/api-858bdcd8dc-pfx6k",
    ];
    let without = tree_of("rollout-restart", "deployment/api", None, false);
    let shown = names(&without.root);
    assert!(
        old_pods.iter().all(|p| !shown.iter().any(|s| s == p)),
        "{shown:?}"
    );
    assert_eq!(shown.len(), 1 + 2 + 4, "{shown:?}");

    let with = tree_of("rollout-restart", "deployment/api", None, true);
    let old_rs = with
        .root
        .children
        .iter()
        .find(|rs| rs.name == "api-858bdcd8dc")
        .expect("the old ReplicaSet");
    let listed: Vec<String> = old_rs
        .children
        .iter()
        .map(|p| format!("Pod/{}", p.name))
        .collect();
    assert_eq!(listed, old_pods);
    assert!(old_rs.children.iter().all(|p| p.deleted_at.is_some()));
    assert!(old_rs.deleted_at.is_none());
    let text = tree_text(&with);
    let line = text
        .lines()
        .find(|l| l.contains("api-858bdcd8dc-h699f"))
        .expect("the pod's row");
    assert!(line.contains("(deleted 09:31:"), "{line}");
}

#[test]
fn the_tree_of_a_pod_is_just_the_pod() {
    let report = tree_of("seed-demo", "pod/web-7cd8774fb8-znhz4", None, false);
    assert_eq!(names(&report.root), ["Pod/web-7cd8774fb8-znhz4"]);
    assert!(report.root.children.is_empty());
}

#[test]
fn a_tree_before_the_object_existed_or_outside_the_trace_is_refused() {
    let mut trace = loaded("seed-demo");
    let too_early = TreeQuery {
        object: object(&trace, "rs/web-7cd8774fb8"),
        at: Some(kblame::query::at::parse_time("+1m", &trace.history.facts).expect("a time")),
        deleted: false,
    };
    assert!(matches!(
        tree(&mut trace, &too_early),
        Err(QueryError::NotApplicable(_))
    ));
    let outside = TreeQuery {
        object: object(&trace, "deployment/web"),
        at: Some("2026-11-26T18:00:00Z".parse().expect("a time")),
        deleted: false,
    };
    assert!(matches!(
        tree(&mut trace, &outside),
        Err(QueryError::OutsideTrace { .. })
    ));
}

#[test]
fn diffing_seed_demo_revisions_one_and_two_shows_the_image_change() {
    let report = diff_query("seed-demo", "deployment/web", "1", "2").expect("a diff");
    let image =
        field(&report, "spec.template.spec.containers[name=web].image").expect("the image changed");
    assert_eq!(image.from, "nginx:1.25");
    assert_eq!(image.to, "nginx:1.26-rc1");
    let spec: Vec<String> = report
        .fields
        .iter()
        .map(|f| f.path.to_string())
        .filter(|p| p.starts_with("spec."))
        .collect();
    assert_eq!(spec, ["spec.template.spec.containers[name=web].image"]);
    assert!(report
        .fields
        .iter()
        .all(|f| !f.path.to_string().contains("managedFields")
            && !f.path.to_string().contains("resourceVersion")));
    assert_eq!(
        (report.from.revision, report.to.revision),
        (Some(1), Some(2))
    );
    assert_eq!(report.to.line, 30);
    assert_eq!(report.to.resource_version.as_deref(), Some("1046"));
    insta::assert_snapshot!("diff_seed_demo_1_2", diff_text(&report));
}

#[test]
fn diffing_by_time_compares_the_versions_in_force_then() {
    let report =
        diff_query("seed-demo", "deployment/web", "+1m", "2026-11-26T16:13:00Z").expect("a diff");
    assert_eq!(report.from.line, 2);
    assert_eq!(report.to.line, 90);
    assert_eq!(
        (report.from.revision, report.to.revision),
        (Some(1), Some(2))
    );
    let reason = field(&report, "status.conditions[type=Progressing].reason").expect("a reason");
    assert_eq!(reason.to, "ProgressDeadlineExceeded");
    assert!(field(&report, "spec.template.spec.containers[name=web].image").is_some());

    let same = diff_query("seed-demo", "deployment/web", "+1m", "+2m").expect("a diff");
    assert!(same.fields.is_empty());
    assert!(diff_text(&same).contains("no differences"));
}

#[test]
fn diffing_by_resource_version_finds_those_versions() {
    let report = diff_query("seed-demo", "deployment/web", "rv:1045", "rv:1046").expect("a diff");
    assert_eq!((report.from.line, report.to.line), (2, 30));
    let missing = diff_query("seed-demo", "deployment/web", "rv:1047", "rv:1046").unwrap_err();
    assert!(matches!(missing, QueryError::NotFound { .. }));
    assert!(missing.to_string().contains("rv:1046"), "{missing}");
}

#[test]
fn the_rollout_undo_diff_from_revision_two_to_three_shows_the_image_going_back() {
    let report = diff_query("rollout-undo", "deployment/search", "2", "3").expect("a diff");
    let image = field(&report, "spec.template.spec.containers[name=search].image")
        .expect("the image changed");
    assert_eq!(image.from, "registry.example.com/catalog/search:5.3.0");
    assert_eq!(image.to, "registry.example.com/catalog/search:5.2.0");
    let back = diff_query("rollout-undo", "deployment/search", "1", "3").expect("a diff");
    assert!(back
        .fields
        .iter()
        .all(|f| !f.path.to_string().starts_with("spec.")));
}

#[test]
fn a_revision_before_the_trace_that_no_deployment_version_shows_is_compared_by_pod_template() {
    let report = diff_query("mid-rollout", "deployment/checkout", "1", "2").expect("a diff");
    assert!(!report.fields.is_empty());
    assert!(report
        .fields
        .iter()
        .all(|f| f.path.to_string().starts_with("spec.template.")));
    assert!(
        report.notes.iter().any(|n| n.contains("pod template")),
        "{:?}",
        report.notes
    );
}

#[test]
fn bad_diff_inputs_are_clear_errors() {
    let unknown = diff_query("seed-demo", "deployment/webb", "1", "2").unwrap_err();
    assert!(matches!(unknown, QueryError::NotFound { .. }), "{unknown}");
    let outside = diff_query("seed-demo", "deployment/web", "+2h", "2").unwrap_err();
    assert!(
        matches!(outside, QueryError::OutsideTrace { .. }),
        "{outside}"
    );
    let on_a_pod = diff_query("seed-demo", "pod/web-7cd8774fb8-znhz4", "1", "-1m").unwrap_err();
    assert!(
        matches!(on_a_pod, QueryError::NotApplicable(_)),
        "{on_a_pod}"
    );
    let no_such = diff_query("seed-demo", "deployment/web", "1", "9").unwrap_err();
    assert!(
        no_such.to_string().contains("revisions seen: 1, 2"),
        "{no_such}"
    );
}
