//! `lt-data`: fetches, verifies and loads the datasets, printing their provenance
//! (`make data`). Sources and checksums live in `common::data::sources`.

use anyhow::Result;
use clap::Parser;
use common::data::{self, DatasetName};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about = "Fetch and verify datasets into data/, printing their provenance")]
struct Cli {
    /// Datasets to fetch: mnist, fashion-mnist, cifar-10 [default: mnist fashion-mnist]
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
    let names: Vec<DatasetName> = if cli.names.is_empty() {
        vec![DatasetName::Mnist, DatasetName::FashionMnist]
    } else {
        cli.names.iter().map(|n| DatasetName::parse(n)).collect::<Result<_>>()?
    };
    for name in names {
        let d = data::load(name, &cli.data_dir, cli.seed)?;
        println!("{}", serde_json::to_string_pretty(&d.provenance)?);
    }
    if cli.try_cifar {
        match data::load(DatasetName::Cifar10, &cli.data_dir, cli.seed) {
            Ok(d) => println!("{}", serde_json::to_string_pretty(&d.provenance)?),
            Err(e) => eprintln!("note: {e:#}"),
        }
    }
    Ok(())
}
