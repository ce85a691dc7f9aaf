//! The README's examples are real: every `$ kblame …` line in a text block, run from the
//! repository root, prints exactly the output shown under it (and the `(exit N)` shown).

use std::path::Path;

/// One example: the command's arguments, the output shown, and the exit code shown (0 if none).
struct Example {
    args: Vec<String>,
    output: String,
    exit: i32,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut found = Vec::new();
    let mut in_text = false;
    let mut current: Option<Example> = None;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_text = !in_text && line == "```text";
            found.extend(current.take());
            continue;
        }
        if !in_text {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ kblame ") {
            found.extend(current.take());
            let args = command.split_whitespace().map(str::to_string).collect();
            current = Some(Example {
                args,
                output: String::new(),
                exit: 0,
            });
        } else if let Some(example) = current.as_mut() {
            match line
                .strip_prefix("(exit ")
                .and_then(|rest| rest.strip_suffix(')'))
            {
                Some(code) => example.exit = code.parse().expect("an exit code"),
                None => {
                    example.output.push_str(line);
                    example.output.push('\n');
                }
            }
        }
    }
    found
}

#[test]
fn every_readme_example_prints_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let examples = examples(&readme);
    assert!(examples.len() >= 6, "found {} examples", examples.len());
    for example in examples {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
            .args(&example.args)
            .current_dir(root)
            .output()
            .expect("kblame runs");
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let command = example.args.join(" ");
        assert_eq!(
            shown.trim_end(),
            example.output.trim_end(),
            "README example `kblame {command}` is stale"
        );
        assert_eq!(
            out.status.code(),
            Some(example.exit),
            "exit code of `kblame {command}`"
        );
    }
}
