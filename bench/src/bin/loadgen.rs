//! Load generator for one workload against one running server.

use std::process::ExitCode;
use std::time::Duration;

use plainws_bench::load::{self, Workload};

const USAGE: &str = "\
usage: loadgen WORKLOAD ADDR [options]
  WORKLOAD    small | large | latency | json | idle | many
  ADDR        server address, e.g. 127.0.0.1:9101 (loopback only)
options:
  --pid PID         server pid: CPU time per message; RSS and threads for idle
  --secs S          duration (default 5)
  --conns N         connections (small/json 4, large 2, latency 1)
  --inflight N      messages in flight per connection (small/json 16, else 1)
  --size BYTES      payload size (small/latency 32, large 1048576)
  --idle-conns N    connections for idle (default 2000)
  --path PATH       request path (default /echo)
  --hold S          idle: keep the connections open S seconds after measuring
  --greeting TEXT   the server sends this text message first on each connection
  --compress        offer permessage-deflate (RFC 7692), fail unless accepted;
                    send requests compressed (each once, on its own, by
                    miniz_oxide) and inflate compressed replies (plainws's
                    inflater) before checking them";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1).collect()) {
        Ok((w, cfg)) => match load::run(w, &cfg) {
            Ok(report) => {
                println!("{}", report.summary(w));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadgen {}: {e}", w.name());
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: Vec<String>) -> Result<(Workload, load::Config), String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    let [w, addr, rest @ ..] = args.as_slice() else {
        return Err("missing WORKLOAD or ADDR".into());
    };
    let w = Workload::parse(w).ok_or_else(|| format!("unknown workload {w:?}"))?;
    let mut cfg = w.config(addr);
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        if flag == "--compress" {
            cfg.compress = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = || -> Result<usize, String> {
            value
                .parse()
                .map_err(|_| format!("{flag}: bad number {value:?}"))
        };
        match flag.as_str() {
            "--pid" => cfg.pid = Some(num()? as u32),
            "--secs" => {
                let secs: f64 = value.parse().map_err(|_| format!("--secs: {value:?}"))?;
                cfg.duration = Duration::from_secs_f64(secs);
            }
            "--conns" => cfg.conns = num()?,
            "--inflight" => cfg.inflight = num()?,
            "--size" => cfg.size = num()?,
            "--idle-conns" => cfg.idle_conns = num()?,
            "--hold" => {
                cfg.hold = Duration::from_secs_f64(
                    value.parse().map_err(|_| format!("bad --hold {value}"))?,
                )
            }
            "--path" => cfg.path = value.clone(),
            "--greeting" => cfg.greeting = Some(value.clone()),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok((w, cfg))
}
