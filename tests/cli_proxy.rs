//! The command-line client (`examples/client.rs`) through proxies, as a
//! program: the environment as curl reads it (`HTTP_PROXY`, `http_proxy`,
//! `ALL_PROXY`, `NO_PROXY`), `--proxy` beating it, `--noproxy`, the exit
//! statuses and messages, and never a password on standard error. The
//! proxies are Debian's tinyproxy and microsocks, started here
//! (`scripts/setup-proxies.sh` installs them). The client has no TLS, so
//! `HTTPS_PROXY` is checked here only to be left alone for `ws://`; its
//! use for `wss://` is `sansio::proxy::env`'s unit tests and the TLS
//! example's test (`examples/tls/tests/`).
// The example is built by the default-feature `cargo test` (as for
// tests/cli_client.rs), not by the run without `json`.
#![cfg(feature = "json")]

mod common;
#[path = "common/proxies.rs"]
mod proxies;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use plainws::Config;
use proxies::{Microsocks, Tinyproxy, closed_port};

const PASSWORD: &str = "pw-9f3a";
const AUTH: Option<(&str, &str)> = Some(("carol", PASSWORD));

/// Every variable the client could read a proxy from.
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

fn client_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .join("examples")
        .join(format!("client{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test`",
        path.display()
    );
    path
}

/// Runs the client with `args`, only the proxy variables `env` set, and
/// two lines of input: its status and standard error, after checking
/// that the password appears nowhere in its output.
fn client(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut command = Command::new(client_path());
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client");
    // A client that fails early has closed its input already.
    let _ = child.stdin.take().unwrap().write_all(b"one\ntwo\n");
    let output = child.wait_with_output().expect("the client's output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "the password was printed: {stdout}\n{stderr}"
    );
    if output.status.success() {
        assert_eq!(stdout, "one\ntwo\n", "{stderr}");
    }
    (output.status, stderr)
}

fn echo_url() -> String {
    let addr = common::spawn_server(common::echo_with(Config::default()));
    format!("ws://{addr}/echo")
}

/// A proxy URL where nothing listens: using it fails.
fn nowhere() -> String {
    format!("http://127.0.0.1:{}", closed_port())
}

#[test]
fn http_proxy_from_the_environment_with_credentials() {
    let url = echo_url();
    let port = url.rsplit(':').next().unwrap().trim_end_matches("/echo");
    let proxy = Tinyproxy::start(AUTH, &[port.parse().unwrap()]);
    let (status, stderr) = client(&["--trace", &url], &[("HTTP_PROXY", &proxy.url(AUTH))]);
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "client: through the proxy http://{} (from the environment)",
            proxy.addr
        )),
        "{stderr}"
    );
    assert!(
        proxy.log().contains("CONNECT 127.0.0.1:"),
        "{}",
        proxy.log()
    );

    // The lower-case form wins over the upper-case one.
    let (status, stderr) = client(
        &[&url],
        &[("HTTP_PROXY", &nowhere()), ("http_proxy", &proxy.url(AUTH))],
    );
    assert!(status.success(), "{stderr}");

    // HTTPS_PROXY is for wss://: a ws:// URL goes direct.
    let (status, stderr) = client(&[&url], &[("HTTPS_PROXY", &nowhere())]);
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("through the proxy"), "{stderr}");
}

#[test]
fn all_proxy_names_a_socks5h_proxy() {
    let url = echo_url();
    let socks = Microsocks::start(AUTH);
    let (status, stderr) = client(&[&url], &[("ALL_PROXY", &socks.url("socks5h", AUTH))]);
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("socks5h://{}", socks.addr)),
        "{stderr}"
    );
}

#[test]
fn no_proxy_matches_and_misses() {
    let url = echo_url();
    // Matches: by address, by CIDR range, by *.
    for no_proxy in ["127.0.0.1", "10.0.0.0/8, 127.0.0.0/8", "*"] {
        let (status, stderr) = client(
            &[&url],
            &[("HTTP_PROXY", &nowhere()), ("NO_PROXY", no_proxy)],
        );
        assert!(status.success(), "NO_PROXY={no_proxy}: {stderr}");
        assert!(!stderr.contains("through the proxy"), "{stderr}");
    }
    // Misses: the unreachable proxy is used, and said to be unreachable.
    let proxy = nowhere();
    let (status, stderr) = client(
        &[&url],
        &[
            ("http_proxy", &proxy),
            ("no_proxy", "example.com,.internal,10.0.0.0/8"),
        ],
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot connect to the proxy {proxy}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("client: hint: is the proxy running?"),
        "{stderr}"
    );
}

#[test]
fn the_command_line_beats_the_environment() {
    let url = echo_url();
    let socks = Microsocks::start(None);
    let env = [("HTTP_PROXY", nowhere()), ("ALL_PROXY", nowhere())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, stderr) = client(&["--proxy", &socks.url("socks5", None), &url], &env);
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "through the proxy socks5://{} (--proxy)",
            socks.addr
        )),
        "{stderr}"
    );
    // --noproxy, and an empty --proxy, connect directly.
    for args in [&["--noproxy", &url][..], &["--proxy", "", &url]] {
        let (status, stderr) = client(args, &env);
        assert!(status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("through the proxy"), "{stderr}");
    }
}

#[test]
fn proxy_failures_exit_1_saying_what_happened() {
    let url = echo_url();
    let port: u16 = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/echo")
        .parse()
        .unwrap();
    let proxy = Tinyproxy::start(AUTH, &[port]);
    // No credentials: 407, the scheme, a hint.
    let (status, stderr) = client(&["--proxy", &proxy.url(None), &url], &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "the proxy refused the tunnel: 407 Proxy Authentication Required \
             (it asks for Basic authentication)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("client: hint: the proxy wants credentials"),
        "{stderr}"
    );
    // A wrong password, traced: never printed.
    let wrong = format!("http://carol:{PASSWORD}-wrong@{}", proxy.addr);
    let (status, stderr) = client(&["--trace=bytes", "--proxy", &wrong, &url], &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("proxy authentication failed"), "{stderr}");
    // SOCKS5: a target that is down, in words.
    let socks = Microsocks::start(None);
    let down = format!("ws://127.0.0.1:{}/", closed_port());
    let (status, stderr) = client(&["--proxy", &socks.url("socks5h", None), &down], &[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("could not connect to the target: connection refused"),
        "{stderr}"
    );
}

#[test]
fn bad_proxy_urls_exit_2() {
    let (status, stderr) = client(
        &["--proxy", "ftp://u:pw-9f3a@h:1", "ws://127.0.0.1:9/"],
        &[],
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--proxy: invalid proxy URL"), "{stderr}");
    let (status, stderr) = client(
        &["ws://127.0.0.1:9/"],
        &[("HTTP_PROXY", "http://u:pw-9f3a@h:notaport")],
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid proxy URL: HTTP_PROXY: port"),
        "{stderr}"
    );
    let (status, stderr) = client(&["--proxy"], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--proxy needs a value"), "{stderr}");
}
