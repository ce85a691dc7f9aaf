//! Small habits of the text output: sizes, durations, whose last record, diff defaults,
//! warnings said once.

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

fn trace(scenario: &str) -> String {
    fixture(&format!("{scenario}.ndjson.zst"))
        .display()
        .to_string()
}

#[test]
fn check_gives_the_compressed_and_the_uncompressed_size() {
    let out = kblame(&["check", &trace("seed-demo")]);
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "trace ".to_string()
            + &trace("seed-demo")
            + " (zstd, kblame-trace/v1, 98 lines, 48.8 KiB compressed, 256.5 KiB uncompressed)"
    );
    let json: Value =
        serde_json::from_slice(&kblame(&["check", &trace("seed-demo"), "-o", "json"]).stdout)
            .unwrap();
    assert_eq!(json["file_bytes"], 49980);
    assert_eq!(json["bytes"], 262650);
}
