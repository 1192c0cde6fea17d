//! A one-node Slurm cluster on this machine, for tests: `munged` with a generated key, then
//! `slurmctld -D` and `slurmd -D` with a generated `slurm.conf` (one node with the machine's
//! cores, `proctrack/linuxproc`, `task/none`, ports derived from the test's pid), all in a
//! temporary folder. Every daemon is stopped by its own pid when the value drops, pass or fail.
//! Needs root and Debian's `slurmctld slurmd slurm-client munge` (`.ci/run` installs them).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SlurmCluster {
    dir: tempfile::TempDir,
    daemons: Vec<(&'static str, Child)>,
}

/// Why a cluster cannot start here (`None`: it can).
pub fn unavailable() -> Option<String> {
    let missing: Vec<&str> = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol"].into_iter().filter(|b| find(b).is_none()).collect();
    if !missing.is_empty() {
        return Some(format!("{} not installed (Debian: apt-get install slurmctld slurmd slurm-client munge)", missing.join(", ")));
    }
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return Some("the test cluster's daemons need root".into());
    }
    None
}

fn find(bin: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path.split(':').chain(["/usr/sbin", "/sbin"]).map(|d| Path::new(d).join(bin)).find(|p| p.is_file());
    found
}

impl SlurmCluster {
    /// Starts the daemons and waits (up to a minute) until the node is idle.
    pub fn start() -> Result<SlurmCluster, String> {
        if let Some(why) = unavailable() {
            return Err(why);
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = dir.path().to_path_buf();
        let d = root.as_path();
        for sub in ["munge", "spool", "state", "log"] {
            std::fs::create_dir_all(d.join(sub)).map_err(|e| e.to_string())?;
        }
        let mut key = Vec::new();
        use std::io::Read;
        std::fs::File::open("/dev/urandom").and_then(|f| f.take(1024).read_to_end(&mut key)).map_err(|e| e.to_string())?;
        std::fs::write(d.join("munge/munge.key"), key).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.join("munge/munge.key"), std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
        let host = String::from_utf8_lossy(&Command::new("hostname").arg("-s").output().map_err(|e| e.to_string())?.stdout).trim().to_string();
        let port = 20_000 + (std::process::id() % 20_000) as u16 * 2;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let p = |s: &str| d.join(s).display().to_string();
        let conf = format!(
            "ClusterName=ltest\nSlurmctldHost={host}\nSlurmUser=root\nSlurmdUser=root\nSlurmctldPort={port}\nSlurmdPort={}\n\
             AuthType=auth/munge\nAuthInfo=socket={}\nCredType=cred/munge\nStateSaveLocation={}\nSlurmdSpoolDir={}\n\
             SlurmctldPidFile={}\nSlurmdPidFile={}\nProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
             SchedulerType=sched/backfill\nSelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\n\
             SlurmctldLogFile={}\nSlurmdLogFile={}\nJobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n\
             MpiDefault=none\nMinJobAge=3600\nNodeName={host} CPUs={cores} State=UNKNOWN\n\
             PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            port + 1,
            p("munge/munge.socket"),
            p("state"),
            p("spool"),
            p("slurmctld.pid"),
            p("slurmd.pid"),
            p("log/slurmctld.log"),
            p("log/slurmd.log"),
        );
        std::fs::write(d.join("slurm.conf"), conf).map_err(|e| e.to_string())?;
        let mut cluster = SlurmCluster { dir, daemons: Vec::new() };
        cluster.spawn(
            "munged",
            &[
                "-F",
                "-f",
                &format!("--socket={}", p("munge/munge.socket")),
                &format!("--key-file={}", p("munge/munge.key")),
                &format!("--log-file={}", p("log/munged.log")),
                &format!("--pid-file={}", p("munge/munged.pid")),
                &format!("--seed-file={}", p("munge/seed")),
            ],
        )?;
        cluster.wait_for(Duration::from_secs(10), |c| c.dir.path().join("munge/munge.socket").exists(), "munged's socket")?;
        cluster.spawn("slurmctld", &["-D", "-f", &p("slurm.conf")])?;
        cluster.spawn("slurmd", &["-D", "-f", &p("slurm.conf")])?;
        cluster.wait_for(Duration::from_secs(60), |c| c.output("sinfo", &["--noheader", "--format=%t"]).trim() == "idle", "an idle node")?;
        Ok(cluster)
    }

    fn spawn(&mut self, bin: &'static str, args: &[&str]) -> Result<(), String> {
        let log = std::fs::File::create(self.dir.path().join(format!("log/{bin}.out"))).map_err(|e| e.to_string())?;
        let child = Command::new(find(bin).ok_or(format!("{bin} not found"))?)
            .args(args)
            .env("SLURM_CONF", self.conf())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {bin}: {e}"))?;
        self.daemons.push((bin, child));
        Ok(())
    }

    fn wait_for(&mut self, limit: Duration, ready: impl Fn(&Self) -> bool, what: &str) -> Result<(), String> {
        let t0 = Instant::now();
        while !ready(self) {
            let exited = self.daemons.iter_mut().find_map(|(bin, c)| c.try_wait().ok().flatten().map(|_| *bin));
            if let Some(bin) = exited {
                return Err(format!("{bin} exited: {}", self.logs()));
            }
            if t0.elapsed() > limit {
                return Err(format!("no {what} after {limit:?}: {}", self.logs()));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    fn logs(&self) -> String {
        let dir = self.dir.path().join("log");
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                format!("[{}] {}", e.file_name().to_string_lossy(), text.lines().rev().take(5).collect::<Vec<_>>().join(" | "))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The cluster's `slurm.conf` (set `SLURM_CONF` to it for Slurm's clients).
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("slurm.conf")
    }

    /// stdout of a Slurm client command on this cluster.
    pub fn output(&self, bin: &str, args: &[&str]) -> String {
        let out = Command::new(bin).args(args).env("SLURM_CONF", self.conf()).stderr(Stdio::null()).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    }

    /// Waits until no job is queued or running; panics after `limit`.
    pub fn wait_until_empty(&self, limit: Duration) {
        let t0 = Instant::now();
        while !self.output("squeue", &["--noheader"]).trim().is_empty() {
            assert!(t0.elapsed() < limit, "jobs still queued after {limit:?}: {}", self.output("squeue", &[]));
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for SlurmCluster {
    fn drop(&mut self) {
        // Clients first, daemons last: slurmd, slurmctld, munged — each by its own pid.
        for (_, child) in self.daemons.iter_mut().rev() {
            // SAFETY: kill(2) on the pid of a child we spawned and have not yet reaped.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let t0 = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if t0.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
