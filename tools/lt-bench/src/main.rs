//! `make bench`: throughput of our training engine against plain PyTorch eager, both measured in
//! this run on this machine (`bench/pytorch_baseline.py` through the venv's Python), printed as
//! ratios; plus the sgemm peak, evaluation throughput, one LeNet IMP level and the estimated
//! paper-scale Figure 3 wall time.

use anyhow::{Context, Result};
use clap::Parser;
use common::data::{Dataset, DatasetName, Provenance, Split};
use common::models::{Arch, InitKind, Model, ModelConfig};
use common::prune::Mask;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{self, RunSpec, TestEval, TrainConfig};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

#[derive(Parser)]
#[command(about = "Engine vs. PyTorch-eager throughput, measured in one run")]
struct Cli {
    /// Python with torch for the baseline
    #[arg(long, default_value = ".venv/bin/python")]
    python: String,
    /// Training steps timed per LeNet measurement
    #[arg(long, default_value_t = 1500)]
    steps: u64,
    /// Measure only the sparse kernels against dense (kernels, stages, the Figure 3 estimate)
    #[arg(long)]
    sparse_only: bool,
    /// Measure only channel-pruned networks against dense (VGG-11, PreResNet-20)
    #[arg(long)]
    channels_only: bool,
    /// Measure only training steps per second of LeNet-300-100, Conv-4 and ResNet-20 on this
    /// device (`cpu` or `cuda`), ours against PyTorch eager on the same device (`make gpu-check`)
    #[arg(long)]
    speed_on: Option<String>,
}

fn random_dataset(shape: [i64; 3], n: i64, eval_n: i64) -> Dataset {
    tch::manual_seed(0);
    let split = |n: i64| Split {
        images: Tensor::randn([n, shape[0], shape[1], shape[2]], (Kind::Float, Device::Cpu)),
        labels: Tensor::randint(10, [n], (Kind::Int64, Device::Cpu)),
    };
    Dataset {
        name: DatasetName::Synthetic,
        shape,
        num_classes: 10,
        train: split(n),
        validation: split(eval_n),
        test: split(eval_n),
        provenance: Provenance {
            dataset: "random".into(),
            source: "bench".into(),
            files: vec![],
            train_examples: n as usize,
            validation_examples: eval_n as usize,
            test_examples: eval_n as usize,
            split_seed: 0,
            normalisation: "none".into(),
            train_subset: None,
            padding: None,
        },
    }
}

fn model_cfg(arch: &str, init: InitKind) -> ModelConfig {
    ModelConfig { arch: Arch::parse(arch).expect("known arch"), init }
}

/// Median of three measurements: this machine is shared and single runs vary by ±20 % (the
/// PyTorch script takes the median of three too).
fn median_of_3(f: impl Fn() -> f64) -> f64 {
    let mut v = [f(), f(), f()];
    v.sort_by(f64::total_cmp);
    v[1]
}

/// Steps per second of `jobs` concurrent trainings, each on its own thread, summed over the
/// jobs, median of three runs. Like the PyTorch loops, each job first takes `warmup` untimed
/// steps (allocator and kernel-selection warm-up), then `steps` timed ones; model construction
/// is not timed.
#[allow(clippy::too_many_arguments)]
fn engine_steps_per_s(arch: &str, shape: [i64; 3], opt: OptimizerConfig, batch: i64, warmup: u64, steps: u64, jobs: usize, threads: i32) -> f64 {
    engine_steps_per_s_on(Device::Cpu, arch, shape, opt, batch, warmup, steps, jobs, threads)
}

/// [`engine_steps_per_s`] on `device`.
#[allow(clippy::too_many_arguments)]
fn engine_steps_per_s_on(
    device: Device,
    arch: &str,
    shape: [i64; 3],
    opt: OptimizerConfig,
    batch: i64,
    warmup: u64,
    steps: u64,
    jobs: usize,
    threads: i32,
) -> f64 {
    let init = if arch.starts_with("lenet") || arch.starts_with("conv") { InitKind::GlorotNormal } else { InitKind::KaimingNormal };
    let mc = model_cfg(arch, init);
    median_of_3(|| engine_run(device, &mc, shape, opt.clone(), batch, warmup, steps, jobs, threads))
}

/// Steps per second of `jobs` trainings on `device` (see [`engine_steps_per_s`]); on a GPU the
/// timer waits for the queued work at both ends of the window.
#[allow(clippy::too_many_arguments)]
fn engine_run(device: Device, mc: &ModelConfig, shape: [i64; 3], opt: OptimizerConfig, batch: i64, warmup: u64, steps: u64, jobs: usize, threads: i32) -> f64 {
    tch::set_num_threads(threads);
    let data = random_dataset(shape, 6000.max(batch * 4), 60).to_device(device);
    let total = warmup + steps;
    // One evaluation at the start and one after the last step, both outside the timed window.
    let cfg = TrainConfig {
        optimizer: opt,
        schedule: Schedule::constant(),
        batch_size: batch,
        iterations: total,
        eval_every: total,
        augment: false,
        test_eval: TestEval::Always,
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs)
            .map(|j| {
                let data = data.shallow_clone();
                let cfg = &cfg;
                s.spawn(move || {
                    let mut m = Model::new(mc, shape, 10, j as u64, device).expect("model");
                    let mask = Mask::dense(&m);
                    let window = std::sync::Mutex::new((None::<Instant>, None::<Instant>));
                    let on_step = |t: u64| {
                        if let (Device::Cuda(i), true) = (device, t == warmup || t == total) {
                            tch::Cuda::synchronize(i as i64);
                        }
                        if t == warmup {
                            window.lock().expect("timer").0 = Some(Instant::now());
                        } else if t == total {
                            window.lock().expect("timer").1 = Some(Instant::now());
                        }
                    };
                    train::train(
                        &mut m,
                        &mask,
                        &data,
                        cfg,
                        RunSpec {
                            data_seed: j as u64,
                            start: 0,
                            checkpoint: None,
                            hooks: vec![&mut common::train::hooks::CountSteps(on_step)],
                            frozen: None,
                            optimizer: None,
                            keep_optimizer: None,
                            kernels: common::sparse::Kernels::Dense,
                        },
                    )
                    .expect("train");
                    let (a, b) = window.into_inner().expect("timer");
                    steps as f64 / (b.expect("end") - a.expect("start")).as_secs_f64()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("bench job")).sum()
    })
}

/// Iterations per stage in [`run_path`].
const RUN_PATH_ITERATIONS: u64 = 2_000;

/// Times what `run` does: an IMP experiment through `imp::run` (stage folders, masks, the fused
/// masked update on a pruned level, evaluation every 100 iterations on 5K + 10K examples) with
/// `jobs` workers of `threads` intra-op threads and one replicate per worker, two stages each
/// (dense, then 20 % pruned). Returns (mean wall seconds per stage on one worker, training
/// steps per second of the whole machine).
fn run_path(jobs: usize, threads: i32) -> Result<(f64, f64)> {
    use common::config::ExperimentConfig;
    use common::imp::{self, Experiment};
    tch::set_num_threads(threads);
    let data = mnist_sized();
    let train = TrainConfig::lenet_adam(RUN_PATH_ITERATIONS, 100);
    let prune = common::prune::PruneConfig::layer_wise(0.1, 0.2, 0.1);
    let model = model_cfg("lenet-300-100", InitKind::GlorotNormal);
    let cfg = ExperimentConfig { replicates: jobs as u32, ..ExperimentConfig::new("bench".into(), "bench", DatasetName::Synthetic, model, train, prune, 1) };
    let runs = tempfile::tempdir()?;
    let exp = Experiment {
        config: &cfg,
        dir: runs.path().join("bench"),
        data: &data,
        device: Device::Cpu,
        checkpoint_every: 10,
        source: None,
        kernels: common::sparse::Kernels::Dense,
    };
    let jobs_list = imp::jobs(&cfg);
    let t = Instant::now();
    let report = imp::run(&exp, &jobs_list, jobs, &common::progress::Progress::new("bench", true))?;
    let wall = t.elapsed().as_secs_f64();
    anyhow::ensure!(report.failures.is_empty(), "bench stages failed");
    Ok((wall / 2.0, (jobs_list.len() as u64 * RUN_PATH_ITERATIONS) as f64 / wall))
}

/// What `run` does with the default `--kernels auto`: a LeNet-300-100 IMP trunk through
/// `imp::run` on 1 job × 1 thread, three levels of 2,000 iterations (evaluating 5K + 10K examples
/// every 100) at 100 %, 10 % and 1 % of every layer's weights. Returns (density, seconds of the
/// stage's training and evaluation, whether it ran on the sparse kernels) per level.
fn run_path_sparse(data: &Dataset) -> Result<Vec<(f64, f64, bool)>> {
    use common::config::ExperimentConfig;
    use common::imp::{self, Experiment};
    tch::set_num_threads(1);
    let train = TrainConfig::lenet_adam(RUN_PATH_ITERATIONS, 100);
    let prune = common::prune::PruneConfig::layer_wise(0.0, 0.9, 0.9);
    let cfg = ExperimentConfig::new("bench".into(), "bench", DatasetName::Synthetic, model_cfg("lenet-300-100", InitKind::GlorotNormal), train, prune, 2);
    let runs = tempfile::tempdir()?;
    let exp = Experiment {
        config: &cfg,
        dir: runs.path().join("bench"),
        data,
        device: Device::Cpu,
        checkpoint_every: 10,
        source: None,
        kernels: common::sparse::Kernels::Auto,
    };
    let report = imp::run(&exp, &imp::jobs(&cfg), 1, &common::progress::Progress::new("bench", true))?;
    anyhow::ensure!(report.failures.is_empty(), "bench stages failed");
    Ok(imp::collect(&exp)?.into_iter().map(|r| (r.density, r.outcome.wall_s, r.outcome.sparse)).collect())
}

/// Early-bird tickets train the channel-pruned network itself: seconds per step of `dense`
/// (SGD, batch `batch`, `shape` inputs) with every channel layer keeping its first `1 − p` of
/// channels (at least one), against the dense network, on one thread, median of three.
fn channel_pruned_steps(dense: &Arch, shape: [i64; 3], batch: i64, steps: u64) -> Vec<(f64, f64, f64)> {
    let sgd = OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 1e-4 };
    let timed = |arch: &Arch| {
        let mc = ModelConfig { arch: arch.clone(), init: InitKind::NetworkSlimming };
        let per_s = median_of_3(|| engine_run(Device::Cpu, &mc, shape, sgd.clone(), batch, 3, steps, 1, 1));
        (common::channels::forward_flops(arch, shape, 10).expect("a slimmable network") as f64, 1.0 / per_s)
    };
    let (dense_flops, dense_s) = timed(dense);
    let model = Model::new(&ModelConfig { arch: dense.clone(), init: InitKind::NetworkSlimming }, shape, 10, 0, tch::Device::Cpu).expect("the dense network");
    let layers = common::channels::bn_scales(&model).expect("a slimmable network");
    [0.3, 0.5, 0.7]
        .into_iter()
        .map(|p| {
            let keep = layers.iter().map(|l| (0..l.len()).map(|c| c < ((1.0 - p) * l.len() as f64).round().max(1.0) as usize).collect()).collect();
            let pruned = common::channels::prune(&model, &common::channels::ChannelMask(keep)).expect("every layer keeps one");
            let (flops, s) = timed(&pruned.config.arch);
            (p, flops / dense_flops, s / dense_s)
        })
        .collect()
}

/// The channel-pruned tables: VGG-11 at width 8 as You et al.'s `small` trains it (batch 256,
/// 32×32, 20 steps) and PreResNet-20 at the paper's width 16 (batch 64, 32×32, 5 steps).
fn channel_section() {
    let tables = [
        ("VGG-11 (width 8, batch 256", Arch::Vgg { depth: 11, width: 8 }, [1, 32, 32], 256, 20),
        ("PreResNet-20 (width 16, batch 64", Arch::Preresnet { depth: 20, width: 16 }, [3, 32, 32], 64, 5),
    ];
    for (label, arch, shape, batch, steps) in tables {
        let rows = channel_pruned_steps(&arch, shape, batch, steps);
        println!("\nChannel-pruned {label}, 32×32, 1 thread; each channel layer keeps 1 − p of its channels) against the dense one, as early-bird tickets train it:\n");
        println!("| pruning ratio p | FLOPs per example | seconds per step |");
        println!("|---|---|---|");
        for (p, flops, seconds) in rows {
            println!("| {p} | {flops:.2}× | {seconds:.2}× |");
        }
    }
}

/// Densities of the sparse-kernel tables (fraction of every layer's weights kept).
const DENSITIES: [f64; 7] = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01];

/// A mask keeping a uniformly random `density` of every layer of `m` (drawn from `seed`).
fn uniform_mask(m: &Model, density: f64, seed: u64) -> Mask {
    let dense = Mask::dense(m);
    common::rng::with_torch_seed(seed, || {
        Mask(dense.0.iter().map(|(k, v)| (k.clone(), Tensor::rand(v.size(), (Kind::Float, Device::Cpu)).lt(density).to_kind(Kind::Float))).collect())
    })
}

/// Microseconds of one fully connected layer's three products at batch 60 (forward, input
/// gradient, weight gradient), dense through libtorch as the engine's dense path runs them and
/// on the sparse kernels at each of [`DENSITIES`], one thread, median of 31 blocks.
fn layer_times(rows: i64, cols: i64) -> Vec<(f64, f64, f64)> {
    use common::sparse::kernels::{self, Isa, LANES};
    use common::sparse::Pattern;
    tch::set_num_threads(1);
    let (batch, bp) = (60i64, LANES);
    let median_us = |f: &mut dyn FnMut()| {
        let mut v: Vec<f64> = (0..31)
            .map(|_| {
                let (t, mut calls) = (Instant::now(), 0u32);
                while t.elapsed().as_secs_f64() < 2e-3 {
                    f();
                    calls += 1;
                }
                t.elapsed().as_secs_f64() * 1e6 / calls as f64
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v[15]
    };
    let (x, dy) = (Tensor::randn([batch, cols], (Kind::Float, Device::Cpu)), Tensor::randn([batch, rows], (Kind::Float, Device::Cpu)));
    let w = Tensor::randn([rows, cols], (Kind::Float, Device::Cpu));
    let b = Tensor::zeros([rows], (Kind::Float, Device::Cpu));
    let dense = median_us(&mut || {
        let _ = x.linear(&w, Some(&b));
        let _ = dy.mm(&w);
        let _ = dy.tr().mm(&x);
    });
    let (xs, dys) = (vec![0.5f32; cols as usize * bp], vec![0.25f32; rows as usize * bp]);
    DENSITIES
        .iter()
        .map(|&density| {
            let mask: Vec<f32> = Vec::try_from(Tensor::rand([rows * cols], (Kind::Float, Device::Cpu)).lt(density).to_kind(Kind::Float)).expect("mask");
            let p = Pattern::from_mask(&mask, rows as usize, cols as usize).expect("pattern");
            let (wv, bias) = (mask.clone(), vec![0f32; rows as usize]);
            let (mut y, mut dx, mut dw) = (vec![0f32; rows as usize * bp], vec![0f32; cols as usize * bp], vec![0f32; p.nnz()]);
            let isa = Isa::detect();
            let sparse = median_us(&mut || {
                kernels::forward(isa, &p, &wv, &bias, &xs, &mut y, bp);
                kernels::input_grad(isa, &p, &wv, &dys, &mut dx, bp);
                kernels::weight_grad(isa, &p, &dys, &xs, &mut dw, bp);
            });
            (density, dense, sparse)
        })
        .collect()
}

/// Seconds of one LeNet-300-100 stage through `train::train` on one thread (batch 60, Adam,
/// evaluating 5K + 10K examples every 100 iterations, setup included) with every layer keeping
/// `density` of its weights, on `kernels`; and its steps per second without evaluation.
fn lenet_stage(data: &Dataset, density: f64, kernels: common::sparse::Kernels, iterations: u64) -> (f64, f64) {
    tch::set_num_threads(1);
    let mc = model_cfg("lenet-300-100", InitKind::GlorotNormal);
    let run = |eval_every: u64, data: &Dataset| {
        let cfg = TrainConfig::lenet_adam(iterations, eval_every);
        let mut m = Model::new(&mc, [1, 28, 28], 10, 0, Device::Cpu).expect("model");
        let mask = uniform_mask(&m, density, 1);
        let t = Instant::now();
        let spec = RunSpec { data_seed: 0, start: 0, checkpoint: None, hooks: vec![], frozen: None, optimizer: None, keep_optimizer: None, kernels };
        train::train(&mut m, &mask, data, &cfg, spec).expect("train");
        t.elapsed().as_secs_f64()
    };
    let first = |s: &Split| Split { images: s.images.narrow(0, 0, 60), labels: s.labels.narrow(0, 0, 60) };
    let tiny = Dataset { validation: first(&data.validation), test: first(&data.test), ..data.shallow_clone() };
    let stage = median_of_3(|| run(100, data));
    let steps = median_of_3(|| iterations as f64 / run(iterations, &tiny));
    (stage, steps)
}

/// Examples per second of LeNet-300-100's evaluation on 10K examples at `density`, dense
/// (libtorch, batches of 2,500) and sparse (blocks of 64), one thread, median of three; and
/// the milliseconds to lay the 10K examples out for the sparse kernels (once per stage).
fn lenet_eval(split: &Split, density: f64) -> (f64, f64, f64) {
    tch::set_num_threads(1);
    let m = Model::new(&model_cfg("lenet-300-100", InitKind::GlorotNormal), [1, 28, 28], 10, 0, Device::Cpu).expect("model");
    let mask = uniform_mask(&m, density, 1);
    mask.apply(&m);
    let n = split.len() as f64;
    let dense = median_of_3(|| {
        let t = Instant::now();
        let _ = train::evaluate(&m, split);
        n / t.elapsed().as_secs_f64()
    });
    let t = Instant::now();
    let blocks = common::sparse::Blocks::new(split).expect("blocks");
    let layout_ms = t.elapsed().as_secs_f64() * 1e3;
    let mlp = common::sparse::SparseMlp::new(&m, &mask).expect("sparse");
    let sparse = median_of_3(|| {
        let t = Instant::now();
        let _ = mlp.evaluate(&blocks);
        n / t.elapsed().as_secs_f64()
    });
    (dense, sparse, layout_ms)
}

/// MNIST-sized random data: 55K training, 5K validation and 10K test examples of 28×28.
fn mnist_sized() -> Dataset {
    let data = random_dataset([1, 28, 28], 55_000, 5_000);
    Dataset {
        test: Split {
            images: Tensor::randn([10_000, 1, 28, 28], (Kind::Float, Device::Cpu)),
            labels: Tensor::randint(10, [10_000], (Kind::Int64, Device::Cpu)),
        },
        ..data
    }
}

/// `v` at density `d`, interpolated linearly in log density between the measured points
/// (`points` sorted by decreasing density).
fn at_density(points: &[(f64, f64)], d: f64) -> f64 {
    let d = d.clamp(points.last().expect("points").0, points[0].0);
    let i = points.windows(2).position(|w| d <= w[0].0 && d >= w[1].0).expect("inside the measured range");
    let ((d0, v0), (d1, v1)) = (points[i], points[i + 1]);
    let f = (d.ln() - d0.ln()) / (d1.ln() - d0.ln());
    v0 + f * (v1 - v0)
}

/// The sparse-kernel section of `make bench`: layers and stages vs density, the choice of
/// `auto`, and paper-scale Figure 3 with sparse levels (as a ratio of the dense estimate).
fn sparse_section(dense_figure_3_min: Option<f64>, pytorch_lenet_1: Option<f64>) {
    let isa = common::sparse::kernels::Isa::detect();
    println!("\n## Sparse kernels (`--kernels`) — {isa:?}, 1 thread, uniform random masks at the stated density of every layer\n");
    println!("One layer's three products at batch 60 (forward, input gradient, weight gradient), dense libtorch vs the sparse kernels:\n");
    println!("| density | 784→300 dense | 784→300 sparse | ratio | 300→100 dense | 300→100 sparse | ratio |");
    println!("|---|---|---|---|---|---|---|");
    let (l1, l2) = (layer_times(300, 784), layer_times(100, 300));
    for ((d, a, b), (_, c, e)) in l1.iter().zip(&l2) {
        println!("| {:.0} % | {a:.0} µs | {b:.0} µs | {:.2}× | {c:.0} µs | {e:.0} µs | {:.2}× |", d * 100.0, b / a, e / c);
    }
    let data = mnist_sized();
    println!("\nLeNet-300-100 evaluation (10K examples, forward only), examples per second:\n");
    println!("| density | dense | sparse | ratio of times |");
    println!("|---|---|---|---|");
    let mut layout = 0.0;
    for &d in &DENSITIES {
        let (dense, sparse, ms) = lenet_eval(&data.test, d);
        layout = ms;
        println!("| {:.0} % | {dense:.0} | {sparse:.0} | {:.2}× |", d * 100.0, dense / sparse);
    }
    println!("\n(Laying 10K examples out for the sparse kernels, once per stage: {layout:.0} ms.)");
    let iterations = 1_000;
    println!("\nA whole LeNet-300-100 stage through the training loop ({iterations} iterations, batch 60, Adam, evaluating 5K + 10K examples every 100; setup included), and training steps alone:\n");
    let pt = pytorch_lenet_1.map_or(String::new(), |_| " | PyTorch eager steps/s | ours ÷ PyTorch".into());
    println!("| density | dense stage | sparse stage | stage ratio | dense steps/s | sparse steps/s{pt} | `auto` runs |");
    println!("|---|---|---|---|---|---|{}---|", if pytorch_lenet_1.is_some() { "---|---|" } else { "" });
    let mut per_iteration = Vec::new();
    for &d in &DENSITIES {
        let (ds, dsteps) = lenet_stage(&data, d, common::sparse::Kernels::Dense, iterations);
        let (ss, ssteps) = lenet_stage(&data, d, common::sparse::Kernels::Sparse, iterations);
        let auto = if common::sparse::Kernels::Auto.sparse_for(&Arch::parse("lenet-300-100").expect("arch"), Device::Cpu, d) { "sparse" } else { "dense" };
        let vs_pt = pytorch_lenet_1.map_or(String::new(), |p| format!(" | {p:.0} | {:.2}×", ssteps.max(dsteps) / p));
        println!("| {:.0} % | {ds:.2} s | {ss:.2} s | {:.2}× | {dsteps:.0} | {ssteps:.0}{vs_pt} | {auto} |", d * 100.0, ss / ds);
        per_iteration.push((d, ds / iterations as f64, ss / iterations as f64));
    }
    match run_path_sparse(&data) {
        Ok(levels) => {
            println!("\nThrough `imp::run` as `run` trains (default `--kernels auto`, 1 job × 1 thread, an IMP trunk of {RUN_PATH_ITERATIONS} iterations per level, evaluating 5K + 10K examples every 100):\n");
            println!("| level density | kernels | seconds | vs the dense level |");
            println!("|---|---|---|---|");
            let dense = levels[0].1;
            for (d, seconds, sparse) in levels {
                println!("| {:.1} % | {} | {seconds:.2} s | {:.2}× |", d * 100.0, if sparse { "sparse" } else { "dense" }, seconds / dense);
            }
        }
        Err(e) => println!("\n(the `imp::run` measurement failed: {e:#})"),
    }
    println!("\n(PyTorch eager trains the masked dense network: its speed does not depend on density; \"ours\" is the faster of our two columns.) Conv-4 and ResNet-20 train dense with masks at every density (1.00×): the sparse kernels run fully connected networks only.");
    // Paper-scale Figure 3: 5 trials × (levels 0..=18 + 3 reinits at level 3 and 3 at level 7),
    // each level's fc layers at 0.8^k and its output layer at 0.9^k; a level runs sparse under
    // `auto` when its Pm is below the threshold.
    let lenet = Model::new(&model_cfg("lenet-300-100", InitKind::GlorotNormal), [1, 28, 28], 10, 0, Device::Cpu).expect("model");
    let cfg = common::config::ExperimentConfig::new(
        "figure-3".into(),
        "paper",
        DatasetName::Mnist,
        model_cfg("lenet-300-100", InitKind::GlorotNormal),
        TrainConfig::lenet_adam(50_000, 100),
        common::prune::PruneConfig::layer_wise(0.1, 0.2, 0.1),
        18,
    );
    let ladder = cfg.ladder(lenet.layers());
    let trainings: Vec<f64> = ladder.iter().copied().chain([ladder[3]; 3]).chain([ladder[7]; 3]).collect();
    let dense_points: Vec<(f64, f64)> = per_iteration.iter().map(|p| (p.0, p.1)).collect();
    let sparse_points: Vec<(f64, f64)> = per_iteration.iter().map(|p| (p.0, p.2)).collect();
    let cost = |auto: bool| -> f64 {
        trainings.iter().map(|&pm| if auto && pm < common::sparse::SPARSE_BELOW { at_density(&sparse_points, pm) } else { at_density(&dense_points, pm) }).sum()
    };
    let ratio = cost(true) / cost(false);
    let deepest = ladder[18];
    println!(
        "\n- paper-scale Figure 3 (125 trainings of 50K iterations; levels below Pm {:.0} % sparse under `auto`): {:.2}× the dense time from the stage times above (Pm {:.1} % level alone: {:.2}×)",
        common::sparse::SPARSE_BELOW * 100.0,
        ratio,
        deepest * 100.0,
        at_density(&sparse_points, deepest) / at_density(&dense_points, deepest)
    );
    if let Some(minutes) = dense_figure_3_min {
        println!("- estimated paper-scale Figure 3 on this machine: {minutes:.0} min dense → {:.0} min with `--kernels auto`", minutes * ratio);
    }
}

fn sgemm_gflops(threads: i32) -> f64 {
    tch::set_num_threads(threads);
    let a = Tensor::randn([1024, 1024], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([1024, 1024], (Kind::Float, Device::Cpu));
    let _ = a.matmul(&b);
    let reps = 20;
    // The peak is the best of three runs.
    (0..3)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                let _ = a.matmul(&b);
            }
            reps as f64 * 2.0 * 1024f64.powi(3) / t.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

fn eval_examples_per_s(threads: i32) -> f64 {
    tch::set_num_threads(threads);
    let m = Model::new(&model_cfg("lenet-300-100", InitKind::GlorotNormal), [1, 28, 28], 10, 0, Device::Cpu).expect("model");
    let split =
        Split { images: Tensor::randn([15_000, 1, 28, 28], (Kind::Float, Device::Cpu)), labels: Tensor::randint(10, [15_000], (Kind::Int64, Device::Cpu)) };
    let _ = train::evaluate(&m, &split);
    median_of_3(|| {
        let t = Instant::now();
        for _ in 0..3 {
            let _ = train::evaluate(&m, &split);
        }
        45_000.0 / t.elapsed().as_secs_f64()
    })
}

/// `--speed-on`: steps per second of one training of each model on `device`, ours and PyTorch
/// eager's (`bench/pytorch_baseline.py`) in the same run, as a table.
fn speed_on(device: &str, python: &str) -> Result<()> {
    let dev = common::device::DeviceChoice::parse(device)?.resolve()?;
    common::device::GpuNumerics::Deterministic.apply(dev);
    let out = std::process::Command::new(python)
        .args(["bench/pytorch_baseline.py", "1", &common::device::name(dev)])
        .output()
        .with_context(|| format!("cannot run {python} (make the venv first: `make build`)"))?;
    anyhow::ensure!(out.status.success(), "baseline failed: {}", String::from_utf8_lossy(&out.stderr));
    let py: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let (warm, steps) = if dev.is_cuda() { (20, 200) } else { (2, 10) };
    let sgd = OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 1e-4 };
    let rows = [
        ("LeNet-300-100", "lenet_steps_per_s", engine_steps_per_s_on(dev, "lenet-300-100", [1, 28, 28], OptimizerConfig::adam(1.2e-3), 60, 50, 600, 1, 1)),
        ("Conv-4", "conv4_steps_per_s", engine_steps_per_s_on(dev, "conv-4", [3, 32, 32], OptimizerConfig::adam(3e-4), 60, warm, steps, 1, 1)),
        ("ResNet-20", "resnet20_steps_per_s", engine_steps_per_s_on(dev, "resnet-20", [3, 32, 32], sgd, 128, warm, steps, 1, 1)),
    ];
    println!(
        "training steps per second on {} (one job, one intra-op thread; PyTorch {}):\n",
        common::device::describe(dev),
        py["torch"].as_str().unwrap_or("?")
    );
    println!("| model | ours | PyTorch eager | ratio |\n|---|---|---|---|");
    for (name, key, ours) in rows {
        let theirs = py[key].as_f64().unwrap_or(f64::NAN);
        println!("| {name} | {ours:.1} | {theirs:.1} | {:.2}× |", ours / theirs);
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    common::device::keep_freed_memory();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let adam = |lr| OptimizerConfig::adam(lr);
    let sgd = OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 1e-4 };
    if cli.sparse_only {
        sparse_section(None, None);
        return Ok(());
    }
    if cli.channels_only {
        channel_section();
        return Ok(());
    }
    if let Some(device) = &cli.speed_on {
        return speed_on(device, &cli.python);
    }
    eprintln!("measuring PyTorch eager baselines ({}) ...", cli.python);
    // `allocator`: run PyTorch with the glibc settings our binaries make (device::keep_freed_memory).
    let py = |threads: usize, allocator: bool| -> Result<serde_json::Value> {
        let mut cmd = std::process::Command::new(&cli.python);
        cmd.args(["bench/pytorch_baseline.py", &threads.to_string()]);
        if allocator {
            cmd.env("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=2147483647");
        }
        let out = cmd.output().with_context(|| format!("cannot run {} (make the venv first: `make build`)", cli.python))?;
        anyhow::ensure!(out.status.success(), "baseline failed: {}", String::from_utf8_lossy(&out.stderr));
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    let py2 = py(cores, false)?;
    let py1 = py(1, false)?;
    let py2_alloc = py(cores, true)?;
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    eprintln!("measuring our engine ...");
    let n = cli.steps;
    let lenet_1 = engine_steps_per_s("lenet-300-100", [1, 28, 28], adam(1.2e-3), 60, 50, n, 1, 1);
    let lenet_all = engine_steps_per_s("lenet-300-100", [1, 28, 28], adam(1.2e-3), 60, 50, n, 1, cores as i32);
    let lenet_machine = engine_steps_per_s("lenet-300-100", [1, 28, 28], adam(1.2e-3), 60, 50, n, cores, 1);
    let conv_all = engine_steps_per_s("conv-4", [3, 32, 32], adam(3e-4), 60, 3, 20, 1, cores as i32);
    let conv_machine = engine_steps_per_s("conv-4", [3, 32, 32], adam(3e-4), 60, 3, 20, cores, 1);
    let res_all = engine_steps_per_s("resnet-20", [3, 32, 32], sgd.clone(), 128, 2, 10, 1, cores as i32);
    let res_machine = engine_steps_per_s("resnet-20", [3, 32, 32], sgd, 128, 2, 10, cores, 1);
    let eval_1 = eval_examples_per_s(1);
    let peak = sgemm_gflops(cores as i32);
    // The path `run` takes, at each (jobs, threads): whole IMP stages on worker threads.
    let stage_1x1 = run_path(1, 1)?;
    let stage_1xall = run_path(1, cores as i32)?;
    let stage_allx1 = run_path(cores, 1)?;
    let level = stage_1x1.0 * 5_000.0 / RUN_PATH_ITERATIONS as f64;

    // FLOPs of one LeNet-300-100 step (batch 60): forward and weight gradients of every layer,
    // input gradients of all but the first (the images need none); an evaluation is a forward.
    let (weights, deeper) = (784.0 * 300.0 + 300.0 * 100.0 + 100.0 * 10.0, 300.0 * 100.0 + 100.0 * 10.0);
    let lenet_step_flop = 2.0 * 60.0 * (2.0 * weights + deeper);
    let lenet_eval_flop = 2.0 * weights;
    let py_lenet2 = f(&py2, "lenet_steps_per_s");
    println!("\n## make bench — {} cores, libtorch {}, PyTorch {} (same run)\n", cores, common::device::LIBTORCH_VERSION, py2["torch"].as_str().unwrap_or("?"));
    println!("| measurement | ours | PyTorch eager | ratio |");
    println!("|---|---|---|---|");
    let row = |name: &str, ours: f64, base: f64, unit: &str| println!("| {name} | {ours:.1} {unit} | {base:.1} {unit} | {:.2}× |", ours / base);
    row(&format!("LeNet-300-100 machine throughput ({cores} jobs × 1 thread vs. 1 loop × {cores} threads)"), lenet_machine, py_lenet2, "steps/s");
    row(&format!("LeNet-300-100 per step, 1 job × {cores} threads"), lenet_all, py_lenet2, "steps/s");
    row("LeNet-300-100 per step, 1 thread each", lenet_1, f(&py1, "lenet_steps_per_s"), "steps/s");
    row(&format!("Conv-4 per step, {cores} threads"), conv_all, f(&py2, "conv4_steps_per_s"), "steps/s");
    row(&format!("Conv-4 machine throughput ({cores} jobs × 1 thread)"), conv_machine, f(&py2, "conv4_steps_per_s"), "steps/s");
    row(&format!("ResNet-20 per step (batch 128, SGD), {cores} threads"), res_all, f(&py2, "resnet20_steps_per_s"), "steps/s");
    row(&format!("ResNet-20 machine throughput ({cores} jobs × 1 thread)"), res_machine, f(&py2, "resnet20_steps_per_s"), "steps/s");
    row("LeNet evaluation, 1 thread", eval_1, f(&py1, "lenet_eval_examples_per_s"), "examples/s");
    println!("\nAgainst PyTorch run with the same glibc allocator settings as our binaries (freed memory kept):\n");
    println!("| measurement | ours | PyTorch eager, allocator-tuned | ratio |");
    println!("|---|---|---|---|");
    row(&format!("Conv-4 per step, {cores} threads"), conv_all, f(&py2_alloc, "conv4_steps_per_s"), "steps/s");
    row(&format!("ResNet-20 per step, {cores} threads"), res_all, f(&py2_alloc, "resnet20_steps_per_s"), "steps/s");
    row(&format!("LeNet-300-100 machine throughput vs. 1 loop × {cores} threads"), lenet_machine, f(&py2_alloc, "lenet_steps_per_s"), "steps/s");

    // Paper-scale Figure 3 (what `run figure-3 --scale paper` trains): 5 trials × (IMP levels
    // 0..=18, i.e. Pm 100 % → 1.9 %, + 3 random reinitialisations at Pm 51.3 % and 21.1 %) = 125
    // trainings of 50K iterations, each evaluating 5K validation + 10K test examples at
    // iteration 0 and every 100 iterations.
    let trainings = 5.0 * (19.0 + 2.0 * 3.0);
    let steps = trainings * 50_000.0;
    let evals = trainings * (50_000.0 / 100.0 + 1.0);
    let eval_examples = evals * 15_000.0;
    let train_s = steps / lenet_machine;
    let eval_s = eval_examples / (eval_1 * cores as f64);
    let flop = steps * lenet_step_flop + eval_examples * lenet_eval_flop;
    println!(
        "\n- sgemm peak ({cores} threads, 1024³): {peak:.0} GFLOP/s; LeNet training at machine throughput does {:.0} GFLOP/s ({:.0} % of peak; {:.1} MFLOP per step), evaluation {:.0} GFLOP/s per thread",
        lenet_machine * lenet_step_flop / 1e9,
        100.0 * lenet_machine * lenet_step_flop / 1e9 / peak,
        lenet_step_flop / 1e6,
        eval_1 * lenet_eval_flop / 1e9
    );
    println!("\nThe path `run` takes (LeNet-300-100 IMP on worker threads, a dense and a pruned stage of {RUN_PATH_ITERATIONS} iterations per replicate, evaluating 5K + 10K examples every 100; the harness's default is {cores} jobs × 1 thread):\n");
    println!("| jobs × threads | seconds per stage | machine throughput |");
    println!("|---|---|---|");
    for ((jobs, threads), (per_stage, steps_per_s)) in [((1, 1), stage_1x1), ((1, cores), stage_1xall), ((cores, 1), stage_allx1)] {
        println!("| {jobs} × {threads} | {per_stage:.2} s | {steps_per_s:.0} steps/s |");
    }
    println!("\n- one LeNet IMP level (5K iterations, evaluating 5K + 10K examples every 100): {level:.1} s on one thread (scaled from the 1 × 1 row)");
    println!(
        "- estimated paper-scale Figure 3 on this machine ({trainings:.0} trainings: {:.2}M steps + {:.1}K evaluations of 15K examples, {cores} jobs): {:.0} min = {:.0} min training + {:.0} min evaluating",
        steps / 1e6,
        evals / 1e3,
        (train_s + eval_s) / 60.0,
        train_s / 60.0,
        eval_s / 60.0
    );
    println!(
        "- the same work is {:.0} TFLOP of dense fp32 arithmetic: {:.0} min even at the sgemm peak on every core",
        flop / 1e12,
        flop / (peak * 1e9) / 60.0
    );
    channel_section();
    sparse_section(Some((train_s + eval_s) / 60.0), Some(f(&py1, "lenet_steps_per_s")));
    Ok(())
}
