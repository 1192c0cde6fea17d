//! Pruning at initialisation (Tanaka et al. 2020): the pruners' scores against known answers —
//! SynFlow's conservation, SNIP by hand on a two-layer network — the global rule's behaviour
//! on random scores, and layer collapse at maximal compression.

use crate::engine::{config, data};
use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::Dataset;
use common::imp::{self, Experiment, Stage, StageRecord};
use common::models::{Arch, InitKind, LayerRole, Model, ModelConfig};
use common::paths;
use common::progress::Progress;
use common::prune::{Mask, PruneConfig};
use common::pruners::PrunerName;
use common::sparse::Kernels;
use common::stage::at_init::AtInitParams;
use tch::{Device, Kind, Tensor};

const ALL: [LayerRole; 4] = [LayerRole::Conv, LayerRole::Fc, LayerRole::Output, LayerRole::Shortcut];

/// `arch` pruned at initialisation at density `density` (level 1 of a global rule), one
/// `mask-at-init` branch per `(pruner, iterations)`.
fn at_init(arch: Arch, density: f64, pruners: &[(PrunerName, u32)]) -> ExperimentConfig {
    let mut cfg = config(1);
    cfg.replicates = 1;
    cfg.model = ModelConfig { arch, init: InitKind::KaimingNormal };
    cfg.prune = PruneConfig::Global { fraction: 1.0 - density, roles: ALL.to_vec() };
    cfg.branches =
        pruners.iter().map(|&(p, n)| BranchConfig::new(BranchKind::MASK_AT_INIT, vec![0, 1], 1).with_params(AtInitParams::params(p, n)).unwrap()).collect();
    cfg.validate().unwrap();
    cfg
}

/// Runs the branches alone (they need no trunk) and returns their records with the run folder.
fn run_branches(cfg: &ExperimentConfig, d: &Dataset) -> (Vec<StageRecord>, tempfile::TempDir) {
    let runs = tempfile::tempdir().unwrap();
    let exp =
        Experiment { config: cfg, dir: runs.path().join(cfg.hash()), data: d, device: Device::Cpu, checkpoint_every: 2, source: None, kernels: Kernels::Auto };
    let jobs: Vec<_> = imp::jobs(cfg).into_iter().filter(|j| j.stage != Stage::Main).collect();
    assert!(jobs.iter().all(|&j| imp::dependencies(j, cfg).is_empty()), "θ_0 needs no other stage");
    let report = imp::run(&exp, &jobs, 1, &Progress::new("test", true)).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    (imp::collect(&exp).unwrap(), runs)
}

fn record<'a>(records: &'a [StageRecord], level: u32, branch: usize, cfg: &ExperimentConfig) -> &'a StageRecord {
    let kind = cfg.branches[branch].kind;
    records.iter().find(|r| r.level == level && r.stage == Stage::Branch(kind, 0)).expect("the branch's record")
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

/// `R = Σ f(1)` of `model` with every variable replaced by its absolute value, evaluation mode.
fn synaptic_flow(model: &mut Model, d: &Dataset) -> f64 {
    let abs = model.snapshot().into_iter().map(|(k, v)| (k, v.abs())).collect();
    model.restore(&abs).unwrap();
    let [c, h, w] = d.shape;
    tch::no_grad(|| model.forward_t(&Tensor::ones([1, c, h, w], (Kind::Float, Device::Cpu)), false).sum(Kind::Double).double_value(&[]))
}

#[test]
fn synflow_scores_sum_to_the_same_flow_in_every_layer() {
    let d = data();
    // Biases start at 0 and batch norm is an affine map in evaluation mode, so both networks
    // are bias-free ReLU networks at θ_0: every layer's score sum is R itself.
    for arch in [Arch::Lenet { hidden: vec![64, 32] }, Arch::Vgg { depth: 11, width: 8 }] {
        let cfg = at_init(arch.clone(), 0.5, &[(PrunerName::SYNFLOW, 1)]);
        let (records, _runs) = run_branches(&cfg, &d);
        let sums = &record(&records, 0, 0, &cfg).metrics["score_sum"];
        let mut theta0 = Model::new(&cfg.model, d.shape, d.num_classes, 0, Device::Cpu).unwrap();
        let seed = common::rng::derive_seed(cfg.seed, "init", &[0]);
        theta0.restore(&Model::new(&cfg.model, d.shape, d.num_classes, seed, Device::Cpu).unwrap().snapshot()).unwrap();
        let r = synaptic_flow(&mut theta0, &d);
        assert_eq!(sums.len(), theta0.layers().len());
        for (layer, s) in theta0.layers().iter().zip(sums) {
            assert!((s - r).abs() <= 1e-4 * r, "{arch:?} {}: score sum {s}, R = {r}", layer.name);
        }
    }
}

#[test]
fn random_scores_under_the_global_rule_keep_every_layer_at_the_global_density() {
    let d = data();
    let density = 0.1;
    let cfg = at_init(Arch::Lenet { hidden: vec![64, 32] }, density, &[(PrunerName::RANDOM, 1)]);
    let (records, _runs) = run_branches(&cfg, &d);
    let r = record(&records, 1, 0, &cfg);
    let total: i64 = r.layers.iter().map(|l| l.total).sum();
    assert_eq!(total - r.layers.iter().map(|l| l.kept).sum::<i64>(), ((1.0 - density) * total as f64).floor() as i64);
    for l in &r.layers {
        // Binomial spread of a uniform global draw: within 4 standard deviations.
        let sd = (l.total as f64 * density * (1.0 - density)).sqrt();
        assert!((l.kept as f64 - density * l.total as f64).abs() <= 4.0 * sd, "{}: kept {} of {}", l.name, l.kept, l.total);
    }
    assert_eq!(record(&records, 0, 0, &cfg).density, 1.0, "level 0 is compression 1");
}

#[test]
fn snip_scores_are_theta_times_the_loss_gradient_computed_by_hand() {
    let d = data();
    let density = 0.2;
    let cfg = at_init(Arch::Lenet { hidden: vec![16] }, density, &[(PrunerName::SNIP, 1)]);
    let (records, runs) = run_branches(&cfg, &d);
    let seed = common::rng::derive_seed(cfg.seed, "init", &[0]);
    let theta0 = Model::new(&cfg.model, d.shape, d.num_classes, seed, Device::Cpu).unwrap().parameters();
    let (w1, b1, w2, b2) = (&theta0["fc1.weight"], &theta0["fc1.bias"], &theta0["fc2.weight"], &theta0["fc2.bias"]);
    // The prune set: 10 examples per class drawn by the stream `prune-set` of replicate 0.
    let order = common::rng::permutation(&mut common::rng::stream(cfg.seed, "prune-set", &[0]), d.train.len());
    let ix = Tensor::from_slice(&order[..10 * d.num_classes as usize]);
    let (x, y) = (d.train.images.index_select(0, &ix).flatten(1, -1), d.train.labels.index_select(0, &ix));
    // Two layers by hand: logits = W2 relu(W1 x + b1) + b2, mean cross-entropy.
    let pre = x.matmul(&w1.tr()) + b1;
    let h = pre.relu();
    let logits = h.matmul(&w2.tr()) + b2;
    let onehot = y.one_hot(d.num_classes).to_kind(Kind::Float);
    let g = (logits.softmax(-1, Kind::Float) - onehot) / x.size()[0] as f64;
    let dw2 = g.tr().matmul(&h);
    let dw1 = (g.matmul(w2) * pre.gt(0.0).to_kind(Kind::Float)).tr().matmul(&x);
    let s1 = (w1 * &dw1).abs();
    let s2 = (w2 * &dw2).abs();
    let sums = &record(&records, 1, 0, &cfg).metrics["score_sum"];
    for (i, s) in [&s1, &s2].into_iter().enumerate() {
        let want = s.sum(Kind::Double).double_value(&[]);
        assert!((sums[i] - want).abs() <= 1e-4 * want, "layer {i}: {} vs {want} by hand", sums[i]);
    }
    // The mask keeps the scores above the k-th smallest of both layers pooled.
    let pooled: Vec<f64> = [values(&s1), values(&s2)].concat();
    let mut sorted = pooled.clone();
    sorted.sort_by(f64::total_cmp);
    let k = ((1.0 - density) * pooled.len() as f64).floor() as usize;
    let tau = sorted[k - 1];
    let label = format!("{}_0", cfg.branches[0].kind);
    let mask = Mask::load(&paths::stage_dir(&runs.path().join(cfg.hash()), 0, 1, &label).join(paths::MASK), Device::Cpu).unwrap();
    let kept: Vec<f64> = [values(&mask.0["fc1.weight"]), values(&mask.0["fc2.weight"])].concat();
    // Scores within float rounding of τ may fall either side; every other weight must agree.
    let margin = 1e-5 * tau;
    for (i, (&s, &m)) in pooled.iter().zip(&kept).enumerate() {
        if (s - tau).abs() > margin {
            assert_eq!(m == 1.0, s > tau, "weight {i}: score {s}, τ {tau}, kept {m}");
        }
    }
}

#[test]
fn at_maximal_compression_synflow_keeps_every_layer_and_magnitude_does_not() {
    let d = data();
    // fc2's 256 inputs give it the smallest initial weights (Kaiming: std ∝ 1/√fan-in), so
    // magnitude pruning empties it first — the paper's account of magnitude's collapse.
    let arch = Arch::Lenet { hidden: vec![256, 16] };
    let probe = Model::new(&ModelConfig { arch: arch.clone(), init: InitKind::KaimingNormal }, d.shape, d.num_classes, 0, Device::Cpu).unwrap();
    let n = probe.prunable_count() as f64;
    // Compression close to ρ_max = N / L (three layers): five weights survive in all.
    let cfg = at_init(arch, 5.5 / n, &[(PrunerName::SYNFLOW, 100), (PrunerName::MAGNITUDE, 1)]);
    let (records, _runs) = run_branches(&cfg, &d);
    let synflow = record(&records, 1, 0, &cfg);
    assert!(synflow.layers.iter().all(|l| l.kept >= 1), "SynFlow emptied a layer: {:?}", synflow.layers);
    let magnitude = record(&records, 1, 1, &cfg);
    assert!(magnitude.layers.iter().any(|l| l.kept == 0), "magnitude kept every layer: {:?}", magnitude.layers);
}

#[test]
fn grasp_scores_are_theta_times_the_hessian_gradient_product_by_finite_differences() {
    let d = data();
    let cfg = at_init(Arch::Lenet { hidden: vec![16] }, 0.5, &[(PrunerName::GRASP, 1)]);
    let (records, _runs) = run_branches(&cfg, &d);
    let seed = common::rng::derive_seed(cfg.seed, "init", &[0]);
    let theta0 = Model::new(&cfg.model, d.shape, d.num_classes, seed, Device::Cpu).unwrap().parameters();
    let f64_of = |name: &str| theta0[name].to_kind(Kind::Double).detach();
    let (w1, b1, w2, b2) = (f64_of("fc1.weight"), f64_of("fc1.bias"), f64_of("fc2.weight"), f64_of("fc2.bias"));
    let order = common::rng::permutation(&mut common::rng::stream(cfg.seed, "prune-set", &[0]), d.train.len());
    let ix = Tensor::from_slice(&order[..10 * d.num_classes as usize]);
    let (x, y) = (d.train.images.index_select(0, &ix).flatten(1, -1).to_kind(Kind::Double), d.train.labels.index_select(0, &ix));
    // ∇L in 64-bit floats at weights (v1, v2): logits at temperature 200, mean cross-entropy.
    let grad = |v1: &Tensor, v2: &Tensor| -> (Tensor, Tensor) {
        let (v1, v2) = (v1.detach().set_requires_grad(true), v2.detach().set_requires_grad(true));
        let logits = (x.matmul(&v1.tr()) + &b1).relu().matmul(&v2.tr()) + &b2;
        let loss = (logits / 200.0).log_softmax(-1, Kind::Double).nll_loss(&y).mean(Kind::Double);
        let g = Tensor::run_backward(&[loss], &[&v1, &v2], false, false);
        (g[0].shallow_clone(), g[1].shallow_clone())
    };
    let (g1, g2) = grad(&w1, &w2);
    // H g by central differences along g.
    let eps = 1e-3 / (g1.square().sum(Kind::Double) + g2.square().sum(Kind::Double)).sqrt().double_value(&[]);
    let (p1, p2) = grad(&(&w1 + &g1 * eps), &(&w2 + &g2 * eps));
    let (m1, m2) = grad(&(&w1 - &g1 * eps), &(&w2 - &g2 * eps));
    let hg = [(p1 - m1) / (2.0 * eps), (p2 - m2) / (2.0 * eps)];
    let sums = &record(&records, 0, 0, &cfg).metrics["score_sum"];
    for (i, (w, hg)) in [&w1, &w2].into_iter().zip(&hg).enumerate() {
        let score = w * hg;
        let (want, scale) = (score.sum(Kind::Double).double_value(&[]), score.abs().sum(Kind::Double).double_value(&[]));
        assert!(scale > 0.0, "layer {i}: no curvature at all");
        assert!((sums[i] - want).abs() <= 1e-3 * scale, "layer {i}: Σ θ⊙Hg = {} vs {want} by finite differences (Σ|·| = {scale})", sums[i]);
    }
}
