//! Real proxy servers from Debian's packages (tinyproxy for HTTP CONNECT,
//! microsocks for SOCKS5), started by the tests on loopback ports with
//! their own temporary configuration, and killed when dropped.
//! `scripts/setup-proxies.sh` installs them; a test that needs one fails,
//! saying so, when it is missing. Self-contained (std only), so the TLS
//! example's tests (`examples/tls/tests/`) include it too.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port below Linux's ephemeral range (as
/// `common::free_addr`): no outgoing connection or `bind` to port 0 can
/// take it between this check and the server's own bind.
pub fn free_addr() -> SocketAddr {
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // 20000..32000, from a point that differs between processes, in
    // steps of 13 (so not the sequence `common::free_addr` walks).
    let start = (std::process::id() % 997) as u16 * 7;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(n < 12_000, "no free port below the ephemeral range");
        let port = 20_000 + (start + n * 13) % 12_000;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// The program `name` from its Debian package, or a failure that says
/// how to install it.
pub fn require(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let path = Path::new(dir).join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!(
        "{name} is not installed: run scripts/setup-proxies.sh (it installs Debian's \
         tinyproxy and microsocks; scripts/test.sh runs it first)"
    );
}

/// Waits until `addr` accepts TCP connections (the server is up); false
/// when the server exited first (another process took the port between
/// our check and its bind: the caller tries another port).
fn wait_listening(addr: SocketAddr, child: &mut Child, what: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        assert!(
            Instant::now() < deadline,
            "{what} is not listening on {addr} after 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A temporary directory for one server's files.
fn temp_dir(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "plainws-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// tinyproxy on a loopback port.
pub struct Tinyproxy {
    child: Child,
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Tinyproxy {
    /// With Basic authentication when `auth` is given, and CONNECT allowed
    /// only to `ports` (tinyproxy answers 403 for any other).
    pub fn start(auth: Option<(&str, &str)>, ports: &[u16]) -> Tinyproxy {
        for _ in 0..3 {
            if let Some(proxy) = Tinyproxy::try_start(auth, ports) {
                return proxy;
            }
        }
        panic!("tinyproxy exited at start three times (see its log in the temp directory)");
    }

    fn try_start(auth: Option<(&str, &str)>, ports: &[u16]) -> Option<Tinyproxy> {
        let program = require("tinyproxy");
        let addr = free_addr();
        let dir = temp_dir("tinyproxy");
        let mut config = format!(
            "Port {}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nLogLevel Connect\n\
             LogFile \"{}\"\n",
            addr.port(),
            dir.join("log").display()
        );
        for port in ports {
            config.push_str(&format!("ConnectPort {port}\n"));
        }
        if let Some((user, password)) = auth {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let conf = dir.join("tinyproxy.conf");
        std::fs::write(&conf, config).expect("the configuration file");
        let child = Command::new(program)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tinyproxy");
        let mut proxy = Tinyproxy { child, addr, dir };
        wait_listening(addr, &mut proxy.child, "tinyproxy").then_some(proxy)
    }

    /// `http://[user:password@]127.0.0.1:PORT`.
    pub fn url(&self, auth: Option<(&str, &str)>) -> String {
        match auth {
            Some((user, password)) => format!("http://{user}:{password}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    /// tinyproxy's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// microsocks (SOCKS5) on a loopback port.
pub struct Microsocks {
    child: Child,
    pub addr: SocketAddr,
}

impl Microsocks {
    /// With username/password authentication (RFC 1929) when `auth` is
    /// given.
    pub fn start(auth: Option<(&str, &str)>) -> Microsocks {
        for _ in 0..3 {
            if let Some(proxy) = Microsocks::try_start(auth) {
                return proxy;
            }
        }
        panic!("microsocks exited at start three times");
    }

    fn try_start(auth: Option<(&str, &str)>) -> Option<Microsocks> {
        let program = require("microsocks");
        let addr = free_addr();
        let mut command = Command::new(program);
        command
            .args(["-i", "127.0.0.1", "-p", &addr.port().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((user, password)) = auth {
            command.args(["-u", user, "-P", password]);
        }
        let child = command.spawn().expect("start microsocks");
        let mut proxy = Microsocks { child, addr };
        wait_listening(addr, &mut proxy.child, "microsocks").then_some(proxy)
    }

    /// `SCHEME://[user:password@]127.0.0.1:PORT`.
    pub fn url(&self, scheme: &str, auth: Option<(&str, &str)>) -> String {
        match auth {
            Some((user, password)) => format!("{scheme}://{user}:{password}@{}", self.addr),
            None => format!("{scheme}://{}", self.addr),
        }
    }
}

impl Drop for Microsocks {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port with nothing listening on it (a target that is down).
pub fn closed_port() -> u16 {
    free_addr().port()
}
