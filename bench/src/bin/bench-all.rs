//! Runs every workload against every server in alternating rounds and prints
//! a markdown table of medians with ratios to tungstenite.
//!
//! Each (round, workload, server) gets a freshly started server process on
//! 127.0.0.1, so no run inherits another's heap or threads.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use plainws_bench::load::{self, Report, Workload};
use plainws_bench::procfs;

const USAGE: &str = "\
usage: bench-all [--quick] [--rounds N] [--secs S] [--idle-conns N] [--servers LIST]
  --quick          smoke run (~1 min): 3 rounds, 0.3 s per workload, 300 idle conns
  --rounds N       rounds (default 5)
  --secs S         seconds per workload run (default 2)
  --idle-conns N   connections held open by the idle workload (default 2000)
  --servers LIST   comma-separated subset of the servers (default all):
                   tungstenite,tungstenite-batched,fastwebsockets,plainws,
                   plainws-echo_server,plainws-mio,go-seed,plainws-json-deflate
  --workloads LIST comma-separated subset of the workloads (default all):
                   small,json,large,latency,idle,many
  --baseline NAME  the server the ratios compare with (default tungstenite)
  --no-pin         don't pin the load generator to CPU 0 and the servers to the other CPUs
Server binaries are looked up next to this executable (bench/run.sh builds them);
a server whose binary is missing (go-seed without Go) is skipped with a message.";

/// A program run as a server: `bin` (a file next to this executable) with
/// `args`, where [`ADDR`] stands for the listen address.
struct Program {
    bin: &'static str,
    args: &'static [&'static str],
    /// A text message the server sends first on every connection.
    greeting: Option<&'static str>,
}

/// Placeholder for the listen address in [`Program::args`].
const ADDR: &str = "{addr}";

/// One column of the table.
struct Server {
    name: &'static str,
    /// What the column measures, printed under the table.
    what: &'static str,
    port: u16,
    /// The program for the echo workloads (small, large, latency) and the
    /// idle one; `None`: no echo mode, those rows show "—".
    echo: Option<Program>,
    /// The program for the JSON workload; `None`: no JSON mode, "—".
    json: Option<Program>,
    /// The load generator offers permessage-deflate (`loadgen --compress`)
    /// and fails unless the server accepts it.
    compress: bool,
}

impl Server {
    fn program(&self, w: Workload) -> Option<&Program> {
        match w {
            Workload::Json => self.json.as_ref(),
            Workload::Idle => self.echo.as_ref().or(self.json.as_ref()),
            Workload::Small | Workload::Large | Workload::Latency | Workload::Many => {
                self.echo.as_ref()
            }
        }
    }

    fn programs(&self) -> impl Iterator<Item = &Program> {
        self.echo.iter().chain(self.json.iter())
    }
}

const fn program(bin: &'static str, args: &'static [&'static str]) -> Option<Program> {
    Some(Program {
        bin,
        args,
        greeting: None,
    })
}

const SERVERS: [Server; 11] = [
    Server {
        name: "tungstenite",
        what: "tungstenite 0.30, a thread per connection, each reply sent with `send` \
               (write + flush), as its documentation shows: the baseline",
        port: 9101,
        echo: program("ws-tungstenite", &[ADDR]),
        json: program("ws-tungstenite", &[ADDR, "--json"]),
        compress: false,
    },
    Server {
        name: "tungstenite-batched",
        what: "tungstenite 0.30 tuned (`ws-tungstenite --batched`): replies with `write`, \
               one `flush` when the input is exhausted (nonblocking socket, `WouldBlock` \
               from `read`)",
        port: 9102,
        echo: program("ws-tungstenite", &[ADDR, "--batched"]),
        json: program("ws-tungstenite", &[ADDR, "--json", "--batched"]),
        compress: false,
    },
    Server {
        name: "fastwebsockets",
        what: "fastwebsockets 0.10 on tokio's multi-thread runtime, hyper upgrade",
        port: 9103,
        echo: program("ws-fastwebsockets", &[ADDR]),
        json: program("ws-fastwebsockets", &[ADDR, "--json"]),
        compress: false,
    },
    Server {
        name: "plainws",
        what: "what a user gets: the README's threaded server (examples/readme_server.rs, \
               default `Config`, it greets each connection) for the echo workloads; \
               the JSON echo server `plainws` as shipped for JSON",
        port: 9104,
        echo: Some(Program {
            bin: "examples/readme_server",
            args: &[ADDR],
            greeting: Some("welcome"),
        }),
        json: program("plainws", &["--addr", ADDR]),
        compress: false,
    },
    Server {
        name: "plainws-echo_server",
        what: "examples/echo_server.rs: the `Server` type (64 KiB thread stacks), default \
               `Config`; no JSON mode",
        port: 9105,
        echo: program("examples/echo_server", &[ADDR]),
        json: None,
        compress: false,
    },
    Server {
        name: "plainws-mio",
        what: "examples/mio_echo.rs: one thread, a mio event loop driving the sans-I/O core, \
               default `Config`; no JSON mode",
        port: 9106,
        echo: program("examples/mio_echo", &[ADDR]),
        json: None,
        compress: false,
    },
    Server {
        name: "go-seed",
        what: "the project's Go seed (golang.org/x/net/websocket): JSON only",
        port: 9107,
        echo: None,
        json: program("go-seed", &[ADDR]),
        compress: false,
    },
    Server {
        name: "plainws-json-deflate",
        what: "the JSON echo server `plainws` as shipped, with permessage-deflate \
               negotiated (`loadgen --compress`: requests compressed once, each on its own, \
               by miniz_oxide level 1; replies, compressed by the server with its context \
               kept, inflated and checked as they arrive); JSON and idle only",
        port: 9108,
        echo: None,
        json: program("plainws", &["--addr", ADDR]),
        compress: true,
    },
    Server {
        name: "plainws-tokio",
        what: "plainws's tokio driver (`ws-plainws-tokio`: `plainws::tokio::accept`, \
               default `Config`, a task per connection plus the driver's own), tokio's \
               multi-thread runtime as the fastwebsockets peer",
        port: 9109,
        echo: program("ws-plainws-tokio", &[ADDR]),
        json: program("ws-plainws-tokio", &[ADDR, "--json"]),
        compress: false,
    },
    Server {
        name: "tokio-tungstenite",
        what: "tokio-tungstenite 0.28 (`accept_async`, Stream + Sink), tokio's multi-thread \
               runtime",
        port: 9110,
        echo: program("ws-tokio-tungstenite", &[ADDR]),
        json: program("ws-tokio-tungstenite", &[ADDR, "--json"]),
        compress: false,
    },
    Server {
        name: "tokio-websockets",
        what: "tokio-websockets 0.13 (`ServerBuilder::accept`, Stream + Sink), tokio's \
               multi-thread runtime",
        port: 9111,
        echo: program("ws-tokio-websockets", &[ADDR]),
        json: program("ws-tokio-websockets", &[ADDR, "--json"]),
        compress: false,
    },
];

/// The compressed column and the uncompressed one it is compared with
/// (issue 10: JSON msgs/s with compression at least half of without).
const DEFLATE_PAIR: (&str, &str) = ("plainws-json-deflate", "plainws");

const BASELINE: &str = "tungstenite";

/// CPUs' worth of use by other processes above which a run is flagged.
const NOISY: f64 = 0.1;

/// Table rows: (label, higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Metric {
    SmallRate,
    JsonRate,
    LargeRate,
    P50,
    P99,
    SmallCpu,
    JsonCpu,
    JsonClientCpu,
    LargeCpu,
    LargeClientCpu,
    IdleKib,
    IdleThreads,
    ManyRate,
    ManyCpu,
}

impl Metric {
    const ALL: [Metric; 14] = [
        Metric::SmallRate,
        Metric::JsonRate,
        Metric::LargeRate,
        Metric::P50,
        Metric::P99,
        Metric::SmallCpu,
        Metric::JsonCpu,
        Metric::JsonClientCpu,
        Metric::LargeCpu,
        Metric::LargeClientCpu,
        Metric::IdleKib,
        Metric::IdleThreads,
        Metric::ManyRate,
        Metric::ManyCpu,
    ];

    fn label(self) -> &'static str {
        match self {
            Metric::SmallRate => "small: msgs/s ↑",
            Metric::JsonRate => "json: msgs/s ↑",
            Metric::LargeRate => "large: MB/s ↑",
            Metric::P50 => "latency: p50 µs ↓",
            Metric::P99 => "latency: p99 µs ↓",
            Metric::SmallCpu => "small: server CPU µs/msg ↓",
            Metric::JsonCpu => "json: server CPU µs/msg ↓",
            Metric::JsonClientCpu => "json: load generator CPU µs/msg ↓",
            Metric::LargeCpu => "large: server CPU µs/MiB msg ↓",
            Metric::LargeClientCpu => "large: load generator CPU µs/MiB msg ↓",
            Metric::IdleKib => "idle: RSS KiB/conn ↓",
            Metric::IdleThreads => "idle: server threads",
            Metric::ManyRate => "many (500 conns x 1): msgs/s ↑",
            Metric::ManyCpu => "many (500 conns x 1): server CPU µs/msg ↓",
        }
    }
}

struct Options {
    rounds: usize,
    secs: f64,
    idle_conns: usize,
    servers: Vec<&'static Server>,
    workloads: Vec<Workload>,
    baseline: &'static str,
    pin: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        rounds: 5,
        secs: 2.0,
        idle_conns: 2000,
        servers: SERVERS.iter().collect(),
        workloads: Workload::ALL.to_vec(),
        baseline: BASELINE,
        pin: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        if flag == "--quick" {
            (o.rounds, o.secs, o.idle_conns) = (3, 0.3, 300);
            continue;
        }
        if flag == "--no-pin" {
            o.pin = false;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value {value:?}");
        match flag.as_str() {
            "--rounds" => o.rounds = value.parse().map_err(|_| bad())?,
            "--secs" => o.secs = value.parse().map_err(|_| bad())?,
            "--idle-conns" => o.idle_conns = value.parse().map_err(|_| bad())?,
            "--servers" => {
                o.servers = value
                    .split(',')
                    .map(|n| SERVERS.iter().find(|s| s.name == n).ok_or_else(bad))
                    .collect::<Result<_, _>>()?
            }
            "--baseline" => {
                o.baseline = SERVERS
                    .iter()
                    .find(|s| s.name == value)
                    .map(|s| s.name)
                    .ok_or_else(bad)?
            }
            "--workloads" => {
                o.workloads = value
                    .split(',')
                    .map(|n| Workload::parse(n).ok_or_else(bad))
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if o.rounds == 0 || o.secs <= 0.0 || o.idle_conns == 0 {
        return Err("--rounds, --secs and --idle-conns must be positive".into());
    }
    Ok(o)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Servers started from here inherit the raised open-files limit.
    procfs::raise_nofile_limit();
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    // Pinned, runs don't depend on where the scheduler happens to put the two
    // sides (on a 2-CPU VM a same-CPU wake-up is ~4x faster than a cross-CPU one).
    let server_cpus = if opts.pin && cpus >= 2 {
        if let Err(e) = procfs::set_affinity(&procfs::cpu_set([0])) {
            eprintln!("cannot pin the load generator: {e}");
            return ExitCode::FAILURE;
        }
        Some(procfs::cpu_set(1..cpus))
    } else {
        None
    };
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let log_dir = std::env::temp_dir().join("plainws-bench-logs");
    if let Err(e) = fs::create_dir_all(&log_dir) {
        eprintln!("cannot create {}: {e}", log_dir.display());
        return ExitCode::FAILURE;
    }
    let servers: Vec<&Server> = opts
        .servers
        .iter()
        .copied()
        .filter(|s| {
            // Each invocation starts with fresh logs (runs within it append).
            let _ = fs::remove_file(log_dir.join(format!("{}.log", s.name)));
            let missing = s.programs().find(|p| !bin_dir.join(p.bin).is_file());
            if let Some(p) = missing {
                let hint = if p.bin == "go-seed" {
                    "Go not installed?"
                } else {
                    "run bench/run.sh"
                };
                eprintln!(
                    "skipping {}: {} not found in {} ({hint})",
                    s.name,
                    p.bin,
                    bin_dir.display()
                );
            }
            missing.is_none()
        })
        .collect();

    let started = Instant::now();
    let mut results: BTreeMap<(&str, Metric), Vec<f64>> = BTreeMap::new();
    // The same values by round, for ratios of runs made side by side.
    let mut by_round: BTreeMap<(&str, Metric, usize), f64> = BTreeMap::new();
    let mut failures = 0;
    let mut disturbed = 0;
    for round in 1..=opts.rounds {
        for &w in &opts.workloads {
            for s in &servers {
                let Some(program) = s.program(w) else {
                    continue;
                };
                match run_one(s, program, w, &opts, &bin_dir, &log_dir, server_cpus) {
                    Ok((r, others)) => {
                        let noisy = if others > NOISY {
                            disturbed += 1;
                            format!(" [other processes used {:.0}% of a CPU]", others * 100.0)
                        } else {
                            String::new()
                        };
                        eprintln!(
                            "round {round}/{} {:<20} {}{noisy}",
                            opts.rounds,
                            s.name,
                            r.summary(w)
                        );
                        for (m, v) in metrics(w, &r) {
                            results.entry((s.name, m)).or_default().push(v);
                            by_round.insert((s.name, m, round), v);
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!(
                            "round {round}/{} {:<20} {} FAILED: {e} (server log: {})",
                            opts.rounds,
                            s.name,
                            w.name(),
                            log_dir.join(format!("{}.log", s.name)).display()
                        );
                    }
                }
            }
        }
    }

    let pinning = match server_cpus {
        Some(_) if cpus == 2 => "load generator on CPU 0, servers on CPU 1".to_string(),
        Some(_) => format!("load generator on CPU 0, servers on CPUs 1-{}", cpus - 1),
        None => "unpinned".to_string(),
    };
    println!(
        "\nMedians of {} rounds, {} s per workload run, {} idle connections; \
         {cpus} CPUs, {pinning}; took {:.0} s.",
        opts.rounds,
        opts.secs,
        opts.idle_conns,
        started.elapsed().as_secs_f64()
    );
    println!(
        "Ratios are to {}: the median over rounds of each round's ratio (runs made side \
         by side; ↑: higher is better, ↓: lower is better). \
         small/json: 4 conns × 16 in flight, 32 B / JSON text; large: 2 conns × 1 MiB; \
         latency: 1 conn, 32 B ping-pong; CPU = server utime+stime.\n",
        opts.baseline
    );
    print_table(&servers, &results, &by_round, opts.baseline);
    print_large_bound(&servers, &results);
    print_deflate_summary(&servers, &results);
    println!("\n— : the server has no mode for that workload. Columns:");
    for s in &servers {
        println!("- `{}`: {}", s.name, s.what);
    }
    if disturbed > 0 {
        println!(
            "\n**Warning**: in {disturbed} run(s) other processes used more than \
             {:.0}% of a CPU: these numbers are noisy; rerun on a quiet machine.",
            NOISY * 100.0
        );
    }
    if failures > 0 {
        eprintln!("\n{failures} workload run(s) failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn metrics(w: Workload, r: &Report) -> Vec<(Metric, f64)> {
    let cpu = r.cpu_us_per_msg();
    let mut out = Vec::new();
    match w {
        Workload::Small => {
            out.push((Metric::SmallRate, r.msgs_per_sec()));
            out.extend(cpu.map(|c| (Metric::SmallCpu, c)));
        }
        Workload::Json => {
            out.push((Metric::JsonRate, r.msgs_per_sec()));
            out.extend(cpu.map(|c| (Metric::JsonCpu, c)));
            out.extend(
                r.client_cpu_us_per_msg()
                    .map(|c| (Metric::JsonClientCpu, c)),
            );
        }
        Workload::Large => {
            out.push((Metric::LargeRate, r.mb_per_sec()));
            out.extend(cpu.map(|c| (Metric::LargeCpu, c)));
            out.extend(
                r.client_cpu_us_per_msg()
                    .map(|c| (Metric::LargeClientCpu, c)),
            );
        }
        Workload::Latency => {
            out.extend(r.rtt_us(0.5).map(|v| (Metric::P50, v)));
            out.extend(r.rtt_us(0.99).map(|v| (Metric::P99, v)));
        }
        Workload::Many => {
            out.push((Metric::ManyRate, r.msgs_per_sec()));
            out.extend(cpu.map(|c| (Metric::ManyCpu, c)));
        }
        Workload::Idle => {
            if let Some(i) = &r.idle {
                out.push((Metric::IdleKib, i.kib_per_conn()));
                out.push((Metric::IdleThreads, i.after.threads as f64));
            }
        }
    }
    out
}

fn run_one(
    s: &Server,
    program: &Program,
    w: Workload,
    opts: &Options,
    bin_dir: &Path,
    log_dir: &Path,
    cpus: Option<libc::cpu_set_t>,
) -> Result<(Report, f64), String> {
    let addr = format!("127.0.0.1:{}", s.port);
    let args: Vec<&str> = program
        .args
        .iter()
        .map(|&a| if a == ADDR { addr.as_str() } else { a })
        .collect();
    let log = log_dir.join(format!("{}.log", s.name));
    let server = ServerProcess::start(&bin_dir.join(program.bin), &args, &addr, &log, cpus)?;
    let mut cfg = w.config(&addr);
    cfg.greeting = program.greeting.map(String::from);
    cfg.pid = Some(server.child.id());
    cfg.duration = Duration::from_secs_f64(opts.secs);
    cfg.idle_conns = opts.idle_conns;
    cfg.compress = s.compress;
    let before = Usage::now(server.child.id());
    let report = load::run(w, &cfg).map_err(|e| e.to_string())?;
    let others = match (before, Usage::now(server.child.id())) {
        (Ok(before), Ok(after)) => after.others_since(&before),
        _ => 0.0,
    };
    Ok((report, others))
}

/// CPU use of the machine, this process and the server at one instant, to
/// spot runs disturbed by other processes (a compile on the same machine).
struct Usage {
    at: Instant,
    machine: Duration,
    ours: Duration,
}

impl Usage {
    fn now(server_pid: u32) -> std::io::Result<Usage> {
        Ok(Usage {
            at: Instant::now(),
            machine: procfs::machine_busy()?,
            ours: procfs::cpu_time(std::process::id())? + procfs::cpu_time(server_pid)?,
        })
    }

    /// CPUs' worth of time used by everything else since `earlier`.
    fn others_since(&self, earlier: &Usage) -> f64 {
        let machine = self.machine.saturating_sub(earlier.machine);
        let ours = self.ours.saturating_sub(earlier.ours);
        machine.saturating_sub(ours).as_secs_f64()
            / self.at.duration_since(earlier.at).as_secs_f64()
    }
}

/// A server child process, killed when dropped (and by the kernel if this
/// process dies first: `PR_SET_PDEATHSIG`).
struct ServerProcess {
    child: Child,
}

impl ServerProcess {
    /// Starts `program args` and waits until it accepts connections on `addr`.
    fn start(
        program: &Path,
        args: &[&str],
        addr: &str,
        log: &Path,
        cpus: Option<libc::cpu_set_t>,
    ) -> Result<ServerProcess, String> {
        let name = program.file_name().unwrap_or_default().to_string_lossy();
        let log = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("log file: {e}"))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            // The Go seed prints a line per message: discard stdout.
            .stdout(Stdio::null())
            .stderr(log);
        // SAFETY: prctl and sched_setaffinity are async-signal-safe system calls.
        unsafe {
            cmd.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                match &cpus {
                    Some(set) => procfs::set_affinity(set),
                    None => Ok(()),
                }
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("start {}: {e}", program.display()))?;
        let mut server = ServerProcess { child };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(addr).is_ok() {
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("{name} exited at start: {status}"));
            }
            if Instant::now() > deadline {
                return Err(format!("{name} not listening on {addr} after 10 s"));
            }
            thread::sleep(Duration::from_millis(10));
        }
        // Let it settle (and drop the probe connection) before baselines are read.
        thread::sleep(Duration::from_millis(200));
        Ok(server)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

fn fmt_num(v: f64) -> String {
    if v >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Says which side sets the 1 MiB rate: pinned, each side has one CPU,
/// and the side that needs more CPU per message is the bound.
fn print_large_bound(servers: &[&Server], results: &BTreeMap<(&str, Metric), Vec<f64>>) {
    let med = |s: &str, m: Metric| results.get(&(s, m)).and_then(|v| median(v));
    let bound: Vec<&str> = servers
        .iter()
        .filter(|s| {
            matches!(
                (med(s.name, Metric::LargeClientCpu), med(s.name, Metric::LargeCpu)),
                (Some(client), Some(server)) if client > server
            )
        })
        .map(|s| s.name)
        .collect();
    if !bound.is_empty() {
        println!(
            "\nlarge: the load generator needed more CPU per message than the server \
             against {}: there the MB/s is the load generator's; compare the servers' \
             CPU per message.",
            bound.join(", ")
        );
    }
}

/// permessage-deflate against the same server without it (issue 10's targets).
fn print_deflate_summary(servers: &[&Server], results: &BTreeMap<(&str, Metric), Vec<f64>>) {
    let (on, off) = DEFLATE_PAIR;
    if !servers.iter().any(|s| s.name == on) {
        return;
    }
    let med = |s: &str, m: Metric| results.get(&(s, m)).and_then(|v| median(v));
    println!("\npermessage-deflate (`{on}` vs `{off}`):");
    match (med(on, Metric::JsonRate), med(off, Metric::JsonRate)) {
        (Some(c), Some(u)) if u > 0.0 => println!(
            "- json msgs/s: {} compressed vs {} uncompressed = {:.0}% (target ≥ 50%)",
            fmt_num(c),
            fmt_num(u),
            c / u * 100.0
        ),
        (Some(c), _) => println!(
            "- json msgs/s: {} compressed (run `{off}` too to compare)",
            fmt_num(c)
        ),
        _ => println!("- json msgs/s: no result"),
    }
    if let (Some(c), Some(u)) = (med(on, Metric::JsonCpu), med(off, Metric::JsonCpu)) {
        println!(
            "- json server CPU µs/msg: {} compressed vs {} uncompressed: a server limited \
             by its CPU would reach {:.0}% of its uncompressed rate",
            fmt_num(c),
            fmt_num(u),
            u / c * 100.0
        );
    }
    if let (Some(client), Some(server)) = (med(on, Metric::JsonClientCpu), med(on, Metric::JsonCpu))
    {
        // Pinned, each side has one CPU: the side that needs more CPU per
        // message sets the rate.
        println!(
            "- load generator CPU: {} µs/msg (sending requests compressed once by \
             miniz_oxide, inflating replies), {:.1}× the server's{}",
            fmt_num(client),
            client / server,
            if client > server {
                ": the compressed msgs/s is bound by the load generator, not the server"
            } else {
                ""
            }
        );
    }
    if let Some(c) = med(on, Metric::IdleKib) {
        // `off`'s idle column is the README server, not the JSON one.
        println!(
            "- idle RSS KiB/conn of the JSON server with compression negotiated: {} \
             (without: `loadgen idle ADDR --pid PID` against `plainws --addr ADDR`)",
            fmt_num(c)
        );
    }
}

fn print_table(
    servers: &[&Server],
    results: &BTreeMap<(&str, Metric), Vec<f64>>,
    by_round: &BTreeMap<(&str, Metric, usize), f64>,
    baseline: &str,
) {
    let med = |s: &str, m: Metric| results.get(&(s, m)).and_then(|v| median(v));
    // Each round's ratio to the baseline's run of the same round, then their
    // median: drift of the machine between rounds cancels out.
    let paired = |s: &str, m: Metric| {
        let ratios: Vec<f64> = by_round
            .iter()
            .filter(|((name, metric, _), _)| *name == s && *metric == m)
            .filter_map(|((_, _, round), v)| {
                let b = by_round.get(&(baseline, m, *round))?;
                (*b > 0.0).then(|| v / b)
            })
            .collect();
        median(&ratios)
    };
    print!("| metric |");
    for s in servers {
        print!(" {} |", s.name);
    }
    print!("\n|---|");
    for _ in servers {
        print!("---:|");
    }
    println!();
    for m in Metric::ALL {
        if servers.iter().all(|s| med(s.name, m).is_none()) {
            continue;
        }
        print!("| {} |", m.label());
        for s in servers {
            match (med(s.name, m), paired(s.name, m)) {
                (Some(v), Some(r)) if s.name != baseline => {
                    print!(" {} ({r:.2}×) |", fmt_num(v))
                }
                (Some(v), _) => print!(" {} |", fmt_num(v)),
                (None, _) => print!(" — |"),
            }
        }
        println!();
    }
}
