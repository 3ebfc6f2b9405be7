//! The runtime dependency promise: without the `json` feature, plainws
//! depends on `sha1` and `base64` and nothing else directly; the `tokio`
//! feature adds tokio alone, with only the tokio features the driver uses,
//! and the default build never sees it.

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

#[test]
fn default_build_has_no_tokio() {
    let all = dependency_names(&["-p", "plainws"]);
    let expected: BTreeSet<String> = [
        "plainws",
        "sha1",
        "base64",
        "serde",
        "serde_json",
        // sha1's and serde's own dependencies.
        "block-buffer",
        "cfg-if",
        "cpufeatures",
        "crypto-common",
        "digest",
        "generic-array",
        "typenum",
        "itoa",
        "memchr",
        "zmij",
        "serde_core",
        "serde_derive",
        "proc-macro2",
        "quote",
        "syn",
        "unicode-ident",
    ]
    .map(String::from)
    .into();
    assert_eq!(all, expected, "the default build's dependency tree changed");
}

#[test]
fn tokio_feature_adds_tokio_only() {
    let direct = dependency_names(&["--features", "tokio", "--depth", "1", "-p", "plainws"]);
    let expected: BTreeSet<String> = ["plainws", "sha1", "base64", "serde", "serde_json", "tokio"]
        .map(String::from)
        .into();
    assert_eq!(direct, expected);
    // Only the tokio features the driver uses: no macros, no
    // multi-threaded scheduler, no signal or process support.
    let all = dependency_names(&["--features", "tokio", "-p", "plainws"]);
    for absent in ["tokio-macros", "signal-hook-registry", "parking_lot"] {
        assert!(!all.contains(absent), "{absent} in {all:?}");
    }
    let without = dependency_names(&["-p", "plainws"]);
    let added: BTreeSet<&String> = all.difference(&without).collect();
    // tokio and what it brings for net, rt, io-util and time.
    let allowed = [
        "tokio",
        "mio",
        "pin-project-lite",
        "bytes",
        "socket2",
        "libc",
        "windows-sys",
    ];
    for name in &added {
        assert!(
            allowed.contains(&name.as_str()),
            "tokio brought {name}: {added:?}"
        );
    }
}
