//! Values as a reader needs to see them (issue 10, items 1–3), on the `catalog-release`
//! fixture: a long registry path whose tag changes, a ConfigMap key holding a YAML file changed
//! by one line, and a revision (with its pods) made twenty days before the trace starts.

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

const OLD_IMAGE: &str = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/catalog-web:v5.3.2";
const NEW_IMAGE: &str = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/catalog-web:v5.4.0";
/// A pod of revision 2, made by the image change during the trace.
const NEW_POD: &str = "catalog-web-5d77ffc469-pzwv6";
/// A pod of revision 1, created twenty days before the trace and rolled away in it.
const OLD_POD: &str = "catalog-web-756f9bf484-z8xdk";

fn trace() -> String {
    fixture("catalog-release.ndjson.zst").display().to_string()
}

/// Runs `kblame COMMAND TRACE ARGS…`, expecting exit 0, and returns stdout.
fn run(command: &str, args: &[&str]) -> String {
    let trace = trace();
    let mut all = vec![command, trace.as_str()];
    all.extend_from_slice(args);
    let out = kblame(&all);
    assert_eq!(out.status.code(), Some(0), "{all:?}: {}", stderr(&out));
    stdout(&out)
}

/// The first line of `text` that contains `needle`.
fn line_with<'t>(text: &'t str, needle: &str) -> &'t str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
}

#[test]
fn a_shortened_image_keeps_the_tag_that_changed() {
    let pod = run("analyze", &["--pod", NEW_POD]);
    let image = line_with(&pod, "containers[name=web].image");
    assert!(
        image.contains("v5.3.2") && image.contains("v5.4.0"),
        "analyze --pod hides the tag: {image}"
    );
    let timeline = run("timeline", &["--object", "deployment/catalog-web"]);
    let image = line_with(&timeline, "containers[name=web].image");
    assert!(
        image.contains("v5.3.2") && image.contains("v5.4.0"),
        "timeline hides the tag: {image}"
    );
    // Programs get the values whole.
    let json: Value = serde_json::from_str(&run(
        "timeline",
        &["--object", "deployment/catalog-web", "-o", "json"],
    ))
    .expect("JSON");
    let whole = json.to_string();
    assert!(
        whole.contains(OLD_IMAGE) && whole.contains(NEW_IMAGE),
        "{whole}"
    );
    assert!(!whole.contains('…'), "JSON is never shortened: {whole}");
}

#[test]
fn a_changed_multi_line_value_shows_as_a_line_diff() {
    let diff = run(
        "diff",
        &[
            "configmap/catalog-web-config",
            "--from",
            "rv:1016",
            "--to",
            "rv:1063",
        ],
    );
    assert!(
        diff.lines()
            .any(|l| l.trim_end() == "    -      maxPoolSize: 20")
            && diff
                .lines()
                .any(|l| l.trim_end() == "    +      maxPoolSize: 50"),
        "diff shows no line diff:\n{diff}"
    );
    assert!(
        diff.lines()
            .any(|l| l.trim_end() == "           connectionTimeout: 3000"),
        "an unchanged line around the change is shown as context:\n{diff}"
    );
    let timeline = run("timeline", &["--until", "+3m"]);
    let change = line_with(&timeline, "configmap shop/catalog-web-config");
    assert!(
        change.contains("kubectl-client-side-apply")
            && change.contains("data[\"application.yaml\"]"),
        "timeline shows the ConfigMap change: {change}"
    );
    assert!(
        timeline
            .lines()
            .any(|l| l.trim_end().ends_with("-      maxPoolSize: 20"))
            && timeline
                .lines()
                .any(|l| l.trim_end().ends_with("+      maxPoolSize: 50")),
        "timeline shows the changed line:\n{timeline}"
    );
    assert!(
        !timeline.contains("\\n"),
        "no escaped newlines:\n{timeline}"
    );
}

#[test]
fn blame_credits_each_line_inside_a_multi_line_value() {
    let json: Value = serde_json::from_str(&run(
        "blame",
        &["configmap/catalog-web-config", "-o", "json"],
    ))
    .expect("JSON");
    let lines = json.as_array().expect("a list of lines");
    let line = |text: &str| {
        lines
            .iter()
            .find(|l| l["text"].as_str().map(str::trim) == Some(text))
            .unwrap_or_else(|| panic!("no line {text:?} in {json}"))
    };
    let changed = line("maxPoolSize: 50");
    assert_eq!(changed["source"], "history", "{changed}");
    assert_eq!(
        changed["time"].as_str().map(|t| &t[..19]),
        Some("2026-11-26T09:02:10")
    );
    for unchanged in [
        "port: 8080",
        "connectionTimeout: 3000",
        "exposure: health,prometheus",
    ] {
        let l = line(unchanged);
        assert_eq!(l["source"], "managedFields", "{unchanged}: {l}");
        assert_eq!(l["time"], "2026-11-06T10:31:06Z", "{unchanged}: {l}");
    }
    let text = run("blame", &["configmap/catalog-web-config"]);
    assert!(
        line_with(&text, "│       port: 8080").contains("2026-11-06 10:31:06"),
        "{text}"
    );
}

#[test]
fn times_on_another_day_than_the_trace_carry_their_date() {
    let rollout = run("analyze", &["--object", "deployment/catalog-web"]);
    let made = line_with(
        &rollout,
        "by kubectl-client-side-apply (Update), before the trace",
    );
    assert!(made.contains("made 2026-11-06 10:31:06 "), "{made}");
    let same_day = line_with(&rollout, "made 09:04:30 ");
    assert!(!same_day.contains("2026-"), "{same_day}");

    let pod = run("analyze", &["--pod", OLD_POD]);
    let created = line_with(&pod, "created ");
    assert!(
        created.starts_with("created 2026-11-06 10:31:"),
        "{created}"
    );
    let revision = line_with(&pod, "revision 1 made");
    assert!(revision.contains("made 2026-11-06 10:31:06 "), "{revision}");
    let went = line_with(&pod, "went away");
    assert!(went.starts_with("went away 09:04:"), "{went}");

    let blame = run("blame", &["deployment/catalog-web"]);
    let replicas = line_with(&blame, "│   replicas: 3");
    assert!(replicas.contains("2026-11-06 10:31:06"), "{replicas}");
    let image = line_with(&blame, "│         image: ");
    assert!(
        image.contains(" 09:04:30 ") && !image.contains("2026-"),
        "{image}"
    );
}
