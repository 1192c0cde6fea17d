//! `lt-data`: fetches, verifies and loads the datasets, printing their provenance
//! (`make data`). Sources and checksums live in `common::data::sources`.

use anyhow::{Context, Result};
use clap::Parser;
use common::data::{self, DatasetName};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about = "Fetch and verify datasets into data/, printing their provenance")]
struct Cli {
    /// Datasets to fetch: mnist, fashion-mnist, cifar-10, cifar-100, brown [default: mnist fashion-mnist]
    names: Vec<String>,
    /// Folder holding the datasets
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Also try CIFAR-10 (needs internet or the archive in data/cifar-10); a failure is reported, not fatal
    #[arg(long)]
    try_cifar: bool,
    /// Seed of the validation split shown in the provenance
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Instead of fetching: bring every results file under this folder to today's layout
    /// (dataset folders named relative to the data folder; the learned supermask's settings as
    /// its branch's params), recording each rewrite in the file's `migrations_json`
    #[arg(long)]
    migrate_results: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    if let Some(dir) = &cli.migrate_results {
        return migrate(dir);
    }
    let names: Vec<DatasetName> = if cli.names.is_empty() {
        vec![DatasetName::Mnist, DatasetName::FashionMnist]
    } else {
        cli.names.iter().map(|n| DatasetName::parse(n)).collect::<Result<_>>()?
    };
    for name in names {
        let d = data::load(name, &cli.data_dir, cli.seed)?;
        println!("{}", serde_json::to_string_pretty(&d.provenance)?);
        if name.is_text() {
            let unigram = data::corpus::unigram_log_perplexity(&d.train, &d.test, d.num_classes);
            println!("unigram model's test log perplexity: {unigram:.4} nats (perplexity {:.1})", unigram.exp());
        }
    }
    if cli.try_cifar {
        match data::load(DatasetName::Cifar10, &cli.data_dir, cli.seed) {
            Ok(d) => println!("{}", serde_json::to_string_pretty(&d.provenance)?),
            Err(e) => eprintln!("note: {e:#}"),
        }
    }
    Ok(())
}

/// Migrates every `.h5` under `dir`, printing each file it changed.
fn migrate(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("cannot read {}; pass a folder of results files", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "h5") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut changed = 0;
    for f in &files {
        let mut applied = Vec::new();
        for (name, migrate) in common::results::MIGRATIONS {
            if migrate(f).with_context(|| format!("migration {name} of {}", f.display()))? {
                applied.push(name);
            }
        }
        if !applied.is_empty() {
            println!("migrated {} ({})", f.display(), applied.join(", "));
            changed += 1;
        }
    }
    println!("{changed} of {} results files migrated", files.len());
    Ok(())
}
