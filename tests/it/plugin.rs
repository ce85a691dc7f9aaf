//! `kubectl-kblame`, kblame under kubectl's plugin name, and the krew manifest (issue 14,
//! item 6). kubectl is not needed: it only finds `kubectl-kblame` on the PATH and runs it with
//! the arguments after `kblame`, which these tests pass directly.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

/// Runs `kubectl-kblame ARGS`, as `kubectl kblame ARGS` does.
fn plugin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-kblame"))
        .args(args)
        .output()
        .expect("the kubectl-kblame binary runs")
}

#[test]
fn the_plugin_answers_like_kblame_with_kubectls_flags() {
    let trace = fixture("seed-demo.ndjson.zst");
    let trace = trace.to_str().expect("a UTF-8 path");
    let pod = "web-7cd8774fb8-znhz4";
    let questions: &[&[&str]] = &[
        &["analyze", trace, "--pod", pod, "-n", "shop"],
        &[
            "analyze",
            trace,
            "--pod",
            pod,
            "--namespace",
            "shop",
            "-o",
            "json",
        ],
        &["get", trace, "pods", "-A"],
        &["get", trace, "deploy", "-n", "shop", "-o", "yaml"],
        &["tree", trace, "deployment/web", "-n", "shop"],
        &["blame", trace, "deployment/web", "-n", "shop", "-o", "json"],
        &["timeline", trace, "-A"],
        &["report", trace, "-A"],
        &[
            "report",
            trace,
            "--namespace",
            "shop",
            "--format",
            "markdown",
        ],
        &["check", trace, "-o", "json"],
    ];
    for args in questions {
        let (theirs, ours) = (plugin(args), kblame(args));
        let command = args.join(" ");
        assert_ne!(ours.status.code(), Some(2), "{command}: {}", stderr(&ours));
        assert!(!stdout(&ours).is_empty(), "{command}");
        assert_eq!(stdout(&theirs), stdout(&ours), "{command}");
        assert_eq!(stderr(&theirs), stderr(&ours), "{command}");
        assert_eq!(theirs.status.code(), ours.status.code(), "{command}");
    }
    assert!(stdout(&plugin(questions[0])).contains(pod));
}

#[test]
fn the_readmes_plugin_examples_print_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut examples = 0;
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(command) = line.strip_prefix("$ kubectl kblame ") else {
            continue;
        };
        let shown: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        let args: Vec<&str> = command.split_whitespace().collect();
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-kblame"))
            .args(&args)
            .current_dir(root)
            .output()
            .expect("kubectl-kblame runs");
        assert_eq!(out.status.code(), Some(0), "kubectl kblame {command}");
        assert_eq!(
            stdout(&out).trim_end(),
            shown.join("\n"),
            "kubectl kblame {command}"
        );
        examples += 1;
    }
    assert!(examples >= 1);
}

#[test]
fn help_and_usage_say_kubectl_kblame_when_run_as_the_plugin() {
    let help = stdout(&plugin(&["--help"]));
    assert!(
        help.contains("Usage: kubectl kblame [OPTIONS] <COMMAND>"),
        "{help}"
    );
    let help = stdout(&plugin(&["report", "--help"]));
    assert!(
        help.contains("Usage: kubectl kblame report [OPTIONS] <TRACE>"),
        "{help}"
    );
    let wrong = plugin(&["analyze", "t.ndjson", "--pods", "x"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("Usage: kubectl kblame analyze"),
        "{}",
        stderr(&wrong)
    );
    let help = stdout(&kblame(&["--help"]));
    assert!(help.contains("Usage: kblame [OPTIONS] <COMMAND>"), "{help}");
}

#[test]
fn the_plugins_hints_name_kubectl_kblame() {
    let trace = fixture("seed-demo.ndjson.zst");
    let out = plugin(&["analyze", trace.to_str().unwrap(), "--pod", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("hint: names are exact; `kubectl kblame get TRACE pod --deleted`"),
        "{}",
        stderr(&out)
    );
}

/// kubectl's connection flags reach the recorder: `--kubeconfig`, `--context`, `-n`, `-l`.
#[cfg(feature = "record")]
#[test]
fn the_plugin_records_with_kubectls_connection_flags() {
    use super::apiserver::ApiServer;
    let server = ApiServer::start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let (kubeconfig, trace) = (dir.path().join("kubeconfig"), dir.path().join("t.ndjson"));
    server.write_kubeconfig(&kubeconfig);
    let out = plugin(&[
        "record",
        "-o",
        trace.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--context",
        "loopback",
        "-n",
        "shop",
        "-l",
        "app=web",
        "--resources",
        "pods",
        "--quiet",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let watched = server.requests();
    assert!(
        watched
            .iter()
            .any(|request| request.contains("/namespaces/shop/pods")
                && request.contains("labelSelector=app=web")),
        "{watched:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_link_named_kubectl_kblame_to_kblame_is_the_plugin_too() {
    // krew installs a `kubectl-NAME` link to the manifest's `bin`; a distribution may link to
    // `kblame` the same way instead of shipping a second binary.
    let dir = tempfile::tempdir().expect("a temp dir");
    let link = dir.path().join("kubectl-kblame");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kblame"), &link).expect("a symlink");
    let out = Command::new(&link).arg("--help").output().expect("it runs");
    assert!(stdout(&out).contains("Usage: kubectl kblame [OPTIONS] <COMMAND>"));
}

/// Renders the krew-release-bot template as the bot does for `tag`: `{{addURIAndSha "URL"
/// .TagName }}` becomes the `uri:` and (4 spaces in) `sha256:` lines, `{{ .TagName }}` the tag.
fn render_krew_template(template: &str, tag: &str) -> String {
    const CALL: &str = "{{addURIAndSha \"";
    const END: &str = "\" .TagName }}";
    let mut rendered = String::new();
    let mut rest = template;
    while let Some(start) = rest.find(CALL) {
        rendered.push_str(&rest[..start]);
        let after = &rest[start + CALL.len()..];
        let end = after.find(END).expect("addURIAndSha ends with .TagName }}");
        let uri = after[..end].replace("{{ .TagName }}", tag);
        rendered.push_str(&format!("uri: {uri}\n    sha256: {}", "0".repeat(64)));
        rest = &after[end + END.len()..];
    }
    rendered.push_str(rest);
    rendered.replace("{{ .TagName }}", tag)
}

/// Whether krew's `files[].from` glob (`*` within a path segment) matches `name`.
fn glob_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name.strip_prefix(head).is_some_and(|rest| {
            (0..=rest.len()).any(|i| {
                !rest[..i].contains('/')
                    && rest.is_char_boundary(i)
                    && glob_matches(tail, &rest[i..])
            })
        }),
    }
}

#[test]
fn the_krew_manifest_installs_kubectl_kblame_from_each_platforms_release_archive() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(root.join(".krew.yaml")).expect(".krew.yaml");
    let manifest: Value = yaml_serde::from_str(&render_krew_template(&template, "v1.2.3"))
        .expect("the rendered manifest is YAML");
    assert_eq!(
        manifest["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(manifest["metadata"]["name"], "kblame");
    let spec = &manifest["spec"];
    assert_eq!(spec["version"], "v1.2.3");
    for field in ["homepage", "shortDescription", "description", "caveats"] {
        assert!(
            spec[field].as_str().is_some_and(|text| !text.is_empty()),
            "{field}"
        );
    }
    assert!(spec["caveats"].as_str().unwrap().contains("trace"));
    let targets = [
        ("linux", "amd64", "x86_64-unknown-linux-gnu"),
        ("linux", "arm64", "aarch64-unknown-linux-gnu"),
        ("darwin", "amd64", "x86_64-apple-darwin"),
        ("darwin", "arm64", "aarch64-apple-darwin"),
    ];
    let platforms = spec["platforms"].as_array().expect("platforms");
    assert_eq!(platforms.len(), targets.len());
    for (platform, (os, arch, target)) in platforms.iter().zip(targets) {
        let labels = &platform["selector"]["matchLabels"];
        assert_eq!(
            (labels["os"].as_str(), labels["arch"].as_str()),
            (Some(os), Some(arch))
        );
        let uri = platform["uri"].as_str().expect("a uri");
        assert!(
            uri.ends_with(&format!(
                "/releases/download/v1.2.3/kblame-v1.2.3-{target}.tar.gz"
            )),
            "{uri}"
        );
        assert_eq!(platform["sha256"].as_str().map(str::len), Some(64));
        assert_eq!(platform["bin"], "kubectl-kblame");
        // The archive holds the binaries at its root; one `files` entry takes kubectl-kblame
        // to where `bin` points.
        let files = platform["files"].as_array().expect("files");
        assert!(
            files.iter().any(|file| {
                file["from"]
                    .as_str()
                    .is_some_and(|from| glob_matches(from, "kubectl-kblame"))
                    && file["to"] == "."
            }),
            "{os}/{arch}: no file of the archive becomes bin"
        );
    }
}

#[test]
fn the_krew_glob_matches_within_a_path_segment_only() {
    assert!(glob_matches("kubectl-kblame", "kubectl-kblame"));
    assert!(glob_matches("kubectl-*", "kubectl-kblame"));
    assert!(glob_matches("*/kubectl-kblame", "kblame-v1/kubectl-kblame"));
    assert!(!glob_matches("*", "dir/kubectl-kblame"));
    assert!(!glob_matches("kblame", "kubectl-kblame"));
}
