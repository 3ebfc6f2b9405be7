//! The runtime dependency promise: without the `json` feature, plainws
//! depends on `sha1` and `base64` and nothing else directly.

use std::collections::BTreeSet;
use std::process::Command;

fn dependency_names(extra_args: &[&str]) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(extra_args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn core_depends_on_sha1_and_base64_only() {
    let direct = dependency_names(&["--no-default-features", "--depth", "1", "-p", "plainws"]);
    let expected: BTreeSet<String> = ["plainws", "sha1", "base64"].map(String::from).into();
    assert_eq!(direct, expected);
    let all = dependency_names(&["--no-default-features", "-p", "plainws"]);
    for absent in ["serde", "serde_json"] {
        assert!(!all.contains(absent), "{absent} in {all:?}");
    }
}

#[test]
fn json_feature_adds_serde_only() {
    let direct = dependency_names(&["--depth", "1", "-p", "plainws"]);
    let expected: BTreeSet<String> = ["plainws", "sha1", "base64", "serde", "serde_json"]
        .map(String::from)
        .into();
    assert_eq!(direct, expected);
}
