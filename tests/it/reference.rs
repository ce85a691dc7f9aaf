//! The reader and the pod query handle real objects from public projects (`../shared/reference`).

use std::path::{Path, PathBuf};

use kblame::trace::EventType;
use serde_json::Value;

use super::support::{kblame, stderr, stdout, write_trace};

fn reference_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/gitops-engine/pkg");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/reference is absent");
        None
    }
}

/// Every object (a map with `kind` and `metadata`) in the gitops-engine test data, sorted by path.
fn reference_objects(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = ["diff/testdata", "health/testdata"]
        .iter()
        .flat_map(|sub| {
            std::fs::read_dir(dir.join(sub))
                .unwrap()
                .map(|e| e.unwrap().path())
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let value: Value = match path.extension()?.to_str()? {
                "json" => serde_json::from_str(&text).ok()?,
                "yaml" => yaml_serde::from_str(&text).ok()?,
                _ => return None,
            };
            (value.get("kind").is_some() && value.get("metadata").is_some()).then(|| {
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    value,
                )
            })
        })
        .collect()
}

#[test]
fn real_gitops_engine_objects_read_as_listed_records() {
    let Some(dir) = reference_dir() else { return };
    let objects = reference_objects(&dir);
    assert!(objects.len() > 50, "found {} objects", objects.len());
    let records: Vec<_> = objects
        .iter()
        .map(|(_, v)| (0, EventType::Listed, v.clone()))
        .collect();
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("reference.ndjson.zst");
    write_trace(&path, &records, true, true);
    let out = kblame(&["check", path.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["bad_lines"], 0);
    assert_eq!(report["records_by_type"]["LISTED"], objects.len());
    let by_kind: u64 = report["records_by_kind"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_kind, objects.len() as u64);
    assert!(
        report["records_by_kind"]["Deployment"].as_u64().unwrap() >= 5,
        "{report}"
    );
}

#[test]
fn a_real_crash_looping_pod_reports_restarts_before_and_during_the_trace() {
    let Some(dir) = reference_dir() else { return };
    let text = std::fs::read_to_string(dir.join("health/testdata/pod-crashloop.yaml")).unwrap();
    let before: Value = yaml_serde::from_str(&text).unwrap();
    let mut after = before.clone();
    let status = &mut after["status"]["containerStatuses"][0];
    let count = status["restartCount"].as_i64().unwrap();
    status["restartCount"] = Value::from(count + 1);
    let records = vec![
        (0, EventType::Listed, before),
        (20, EventType::Modified, after),
    ];
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("pod.ndjson");
    write_trace(&path, &records, true, false);
    let out = kblame(&[
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        "my-pod",
        "-n",
        "argocd",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["restarts_before_trace"]["main"], count);
    let restarts = report["restarts"].as_array().unwrap();
    assert_eq!(restarts.len(), 1);
    assert_eq!(restarts[0]["reason"], "Error");
    assert_eq!(restarts[0]["exit_code"], 1);
    assert_eq!(
        report["state"]["containers"]["main"],
        "waiting: CrashLoopBackOff"
    );
    assert!(report["warnings"].to_string().contains("restarted"));
}

/// Sets `time` of the managedFields entry of `manager` in a Deployment body.
fn touch_manager(deployment: &mut Value, manager: &str, time: &str) {
    for entry in deployment["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
    {
        if entry["manager"] == manager {
            entry["time"] = Value::from(time);
        }
    }
}

#[test]
fn real_managed_fields_attribute_each_container_to_its_own_manager() {
    use kblame::graph::Confidence;
    use kblame::history::diff::diff_at;
    use kblame::history::path::FieldPath;
    use kblame::workload::attribution::attribute;

    let Some(dir) = reference_dir() else { return };
    let text =
        std::fs::read_to_string(dir.join("diff/testdata/ssd-deploy-with-manual-apply-live.yaml"))
            .unwrap();
    let before: Value = yaml_serde::from_str(&text).unwrap();
    let spec = FieldPath::parse("spec").unwrap();
    let cases = [
        ("main-container", "nginx:1.27", "argocd-controller"),
        ("idle", "spurin/idle:v2", "kubectl-client-side-apply"),
    ];
    for (container, image, manager) in cases {
        let mut after = before.clone();
        let containers = after["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap();
        let item = containers
            .iter_mut()
            .find(|c| c["name"] == container)
            .unwrap();
        item["image"] = Value::from(image);
        touch_manager(&mut after, manager, "2025-02-25T02:00:00Z");
        let fields = diff_at(&before["spec"], &after["spec"], &spec);
        assert_eq!(fields.len(), 1, "{fields:?}");
        assert_eq!(
            fields[0].path.to_string(),
            format!("spec.template.spec.containers[name={container}].image")
        );
        let found = attribute(Some(&before), &after, &fields);
        assert_eq!(found.manager.as_deref(), Some(manager), "{}", found.text);
        assert_eq!(found.operation.as_deref(), Some("Update"));
        assert_eq!(found.confidence, Confidence::High, "{}", found.text);
    }
}
