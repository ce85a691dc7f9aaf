//! What a recording never holds (issue 9): Secret values — also the copy `kubectl apply`
//! keeps in `last-applied-configuration` — and fields named with `--redact` become keyed hashes
//! that no dictionary reverses; traces and their indexes are readable by their owner only.
#![cfg(feature = "record")]

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use hmac::Mac;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::apiserver::ApiServer;
use super::record::{record_once, replay, settle, Recorder};
use super::support::kblame;

/// Passwords people use, the real one among them: what an attacker's dictionary holds.
const DICTIONARY: &[&str] = &[
    "hunter2",
    "password",
    "123456",
    "admin",
    "letmein",
    "s3cr3t-Pa55",
    "postgres",
    "root",
    "changeme",
    "qwerty",
];
const PASSWORD: &str = "s3cr3t-Pa55";
const NEW_PASSWORD: &str = "letmein";
const USER: &str = "postgres";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A Secret as `kubectl apply -f secret.yaml` leaves it: `data` (base64), the whole applied
/// manifest in last-applied-configuration (its `stringData` too), and kubectl's managedFields.
fn applied_secret(password: &str) -> Value {
    let manifest = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"annotations": {}, "name": "db", "namespace": "shop"},
        "data": {"password": b64(password)}, "stringData": {"user": USER}, "type": "Opaque"});
    let applied = format!("{manifest}\n");
    json!({
        "metadata": {"name": "db", "namespace": "shop",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied},
            "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                "apiVersion": "v1", "time": "2026-12-01T10:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {".": {}, "f:password": {}, "f:user": {}},
                    "f:metadata": {"f:annotations": {".": {},
                        "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                    "f:type": {}}}]},
        "type": "Opaque",
        "data": {"password": b64(password), "user": b64(USER)},
    })
}

/// The decompressed text of a trace.
fn trace_text(path: &Path) -> String {
    let mut text = String::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(path).unwrap())
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn secret_in(trace: &Path) -> Vec<Value> {
    let history = replay(trace);
    let id = history.by_name("Secret", Some("shop"), "db")[0];
    let object = history.object(id);
    object
        .versions
        .iter()
        .map(|v| history.parse(v).unwrap())
        .collect()
}

#[test]
fn a_secret_applied_with_kubectl_leaves_no_value_in_the_trace_and_no_hash_a_dictionary_reverses() {
    let server = ApiServer::start();
    server.create("v1/secrets", applied_secret(PASSWORD));
    let recorder = Recorder::start(&server, &["v1/secrets"], &[]);
    server.update("v1/secrets", "shop", "db", |s| {
        *s = applied_secret(NEW_PASSWORD)
    });
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");

    // No value, in the clear or base64, anywhere: not in data, not in the applied copy.
    let text = trace_text(&trace);
    for secret in [PASSWORD, NEW_PASSWORD, USER] {
        assert!(!text.contains(secret), "{secret} is in the trace");
        assert!(
            !text.contains(&b64(secret)),
            "base64({secret}) is in the trace"
        );
    }
    // A dictionary of bare hashes (plain and base64 forms, as the old format stored) finds nothing.
    for word in DICTIONARY {
        for form in [word.to_string(), b64(word)] {
            let bare = hex(&Sha256::digest(form.as_bytes()));
            assert!(!text.contains(&bare), "sha256({form}) is in the trace");
            let unkeyed = hmac::Hmac::<Sha256>::new_from_slice(b"").unwrap();
            let unkeyed = hex(&unkeyed
                .chain_update(form.as_bytes())
                .finalize()
                .into_bytes());
            assert!(
                !text.contains(&unkeyed),
                "an unkeyed HMAC of {form} is in the trace"
            );
        }
    }

    // What is left still shows that the password changed and the user did not.
    let versions = secret_in(&trace);
    let (first, last) = (&versions[0], versions.last().unwrap());
    let redacted = |v: &Value| v.as_str().unwrap().starts_with("<redacted hmac-sha256:");
    assert!(redacted(&first["data"]["password"]) && redacted(&first["data"]["user"]));
    assert_ne!(first["data"]["password"], last["data"]["password"]);
    assert_eq!(first["data"]["user"], last["data"]["user"]);
    // The applied copy keeps its structure, so field blame and diffs still read it.
    let applied = last["metadata"]["annotations"]
        ["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    let applied: Value = serde_json::from_str(applied).expect("still a JSON object");
    assert_eq!(applied["metadata"]["name"], "db");
    assert_eq!(applied["type"], "Opaque");
    assert_eq!(applied["data"]["password"], last["data"]["password"]);
    assert!(redacted(&applied["stringData"]["user"]));
    assert_eq!(
        last["metadata"]["managedFields"][0]["manager"],
        "kubectl-client-side-apply"
    );

    // The header says what was redacted and how, and holds no key.
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        header["redacted"],
        json!(["Secret:data", "Secret:stringData"])
    );
    let redaction = &header["redaction"];
    assert_eq!(redaction["method"], "hmac-sha256");
    assert_eq!(redaction["key"], "per-recording");
    assert!(redaction.get("keyId").is_none(), "{redaction}");
    assert_eq!(redaction["secretValues"], "redacted");
    assert_eq!(
        redaction["annotations"],
        json!(["kubectl.kubernetes.io/last-applied-configuration"])
    );
    let blame = kblame(&["blame", trace.to_str().unwrap(), "secret/db", "-n", "shop"]);
    let blame = String::from_utf8_lossy(&blame.stdout);
    assert!(
        blame.contains("password: <redacted hmac-sha256:"),
        "{blame}"
    );
}

#[test]
fn traces_and_their_indexes_are_readable_by_their_owner_only() {
    let server = ApiServer::start();
    server.create("v1/secrets", applied_secret(PASSWORD));
    let recorder = Recorder::start(&server, &["v1/secrets"], &[]);
    settle();
    let (_, _, trace, dir) = recorder.stop();
    assert_eq!(mode(&trace), 0o600);
    let index = format!("{}.kbidx", trace.display());
    let check = kblame(&["--index", "always", "check", trace.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0));
    assert_eq!(
        mode(Path::new(&index)),
        0o600,
        "the index inherits the trace's mode"
    );

    let old = dir.path().join("old.ndjson.zst");
    std::fs::write(&old, b"an old world-readable file").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A world-readable file that was there before is narrowed when overwritten.
    let args = [
        "--resources",
        "secrets",
        "-A",
        "--duration",
        "300ms",
        "--quiet",
    ];
    let (out, _, _dir) = record_once(&server, old.to_str().unwrap(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        mode(&old),
        0o600,
        "an existing trace file is narrowed when overwritten"
    );
}

#[test]
fn a_key_file_gives_the_same_hashes_in_two_recordings_and_redact_reaches_other_kinds() {
    let server = ApiServer::start();
    server.create("v1/secrets", applied_secret(PASSWORD));
    server.add_resource("example.com", "v1", "credentials", "Credential", true);
    server.create(
        "example.com/v1/credentials",
        json!({"metadata": {"name": "warehouse", "namespace": "shop"},
               "spec": {"endpoint": "db.shop:5432",
                        "users": [{"name": "etl", "token": "tok-etl-0001"},
                                  {"name": "bi", "token": "tok-bi-0002"}]}}),
    );
    server.create(
        "v1/configmaps",
        json!({"metadata": {"name": "app", "namespace": "shop"},
               "data": {"api_token": "tok-cm-0003", "mode": "fast"}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("redaction.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let key_arg = key.to_str().unwrap();
    let args = [
        "--redaction-key-file",
        key_arg,
        "--redact",
        "Credential.example.com:spec.users[*].token",
        "--redact",
        "configmaps:data.api_token",
        "--resources",
        "secrets,configmaps,credentials.example.com",
    ];
    let traces: Vec<_> = (0..2)
        .map(|_| {
            let recorder = Recorder::start(&server, &["v1/secrets"], &args);
            settle();
            let (code, stderr, trace, dir) = recorder.stop();
            assert_eq!(code, Some(0), "{stderr}");
            (trace_text(&trace), trace, dir)
        })
        .collect();
    let (a, b) = (&traces[0], &traces[1]);
    assert_eq!(
        secret_in(&a.1)[0]["data"],
        secret_in(&b.1)[0]["data"],
        "stable hashes"
    );
    let header =
        |text: &str| -> Value { serde_json::from_str(text.lines().next().unwrap()).unwrap() };
    let redaction = header(&a.0)["redaction"].clone();
    assert_eq!(redaction["key"], "file");
    assert_eq!(redaction["keyId"], header(&b.0)["redaction"]["keyId"]);
    assert_eq!(
        header(&a.0)["redacted"],
        json!([
            "Secret:data",
            "Secret:stringData",
            "Credential.example.com:spec.users[*].token",
            "configmaps:data.api_token"
        ])
    );
    for token in ["tok-etl-0001", "tok-bi-0002", "tok-cm-0003", PASSWORD] {
        assert!(!a.0.contains(token), "{token} is in the trace");
    }
    assert!(
        a.0.contains("db.shop:5432") && a.0.contains("\"mode\":\"fast\""),
        "other fields stay"
    );
}

#[test]
fn secret_values_are_kept_only_when_asked_for_and_a_bad_rule_or_key_is_refused_up_front() {
    let server = ApiServer::start();
    server.create("v1/secrets", applied_secret(PASSWORD));
    let recorder = Recorder::start(&server, &["v1/secrets"], &["--record-secret-values"]);
    settle();
    let (_, _, trace, _dir) = recorder.stop();
    let versions = secret_in(&trace);
    assert_eq!(versions[0]["data"]["password"], b64(PASSWORD));
    let header: Value = serde_json::from_str(trace_text(&trace).lines().next().unwrap()).unwrap();
    assert_eq!(header["redacted"], json!([]));
    assert_eq!(header["redaction"]["secretValues"], "recorded");
    assert_eq!(header["redaction"]["method"], "none");

    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.key");
    std::fs::write(&short, "abc").unwrap();
    for (args, expected) in [
        (vec!["--redact", "Secret"], "KIND[.GROUP]:FIELD_PATH"),
        (
            vec!["--redaction-key-file", short.to_str().unwrap()],
            "at least 16",
        ),
        (
            vec!["--redaction-key-file", "/nonexistent/key"],
            "cannot read the redaction key file",
        ),
    ] {
        let output = dir.path().join("t.ndjson.zst");
        let (out, _, _dir) = record_once(&server, output.to_str().unwrap(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            !dir.path().join("t.ndjson.zst").exists(),
            "nothing is written"
        );
    }
}
