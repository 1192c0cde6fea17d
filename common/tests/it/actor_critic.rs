//! The actor–critic task (Yu et al. 2020): its network, global pruning over weights and biases,
//! and that the advantage actor–critic learns CartPole.

use common::data::{self, DatasetName};
use common::models::{Arch, InitKind, LayerRole, Model, ModelConfig};
use common::prune::{Mask, PruneConfig};
use common::rl::a2c::A2cParams;
use common::rl::Environment;
use common::task::{TaskConfig, TaskName};
use common::train::optim::OptimizerConfig;
use common::train::{schedule::Schedule, RunSpec, TestEval, TrainConfig};
use tch::Device;

fn network(hidden: Vec<i64>, seed: u64) -> Model {
    crate::init();
    let cfg = ModelConfig { arch: Arch::ActorCritic { hidden }, init: InitKind::TorchDefault };
    Model::new(&cfg, [1, 1, 4], 2, seed, Device::Cpu).unwrap()
}

#[test]
fn the_network_lists_every_weight_and_bias_and_draws_pytorchs_default() {
    let m = network(vec![128, 128, 128], 0);
    let names: Vec<(&str, LayerRole)> = m.layers().iter().map(|l| (l.name.as_str(), l.role)).collect();
    assert_eq!(names.len(), 10);
    assert!(
        names.contains(&("fc1.bias", LayerRole::Bias))
            && names.contains(&("policy.weight", LayerRole::Output))
            && names.contains(&("value.bias", LayerRole::Bias))
    );
    let total: i64 = m.layers().iter().map(|l| l.numel).sum();
    assert_eq!(total, (4 * 128 + 128) + 2 * (128 * 128 + 128) + (128 * 2 + 2) + (128 + 1), "every parameter is prunable");
    let p = m.parameters();
    // U(−1/√fan_in, 1/√fan_in) for weights and biases alike.
    for (name, fan_in) in [("fc1.weight", 4.0f64), ("fc1.bias", 4.0), ("fc2.weight", 128.0), ("value.bias", 128.0)] {
        let bound = 1.0 / fan_in.sqrt();
        let t = &p[name];
        assert!(t.abs().max().double_value(&[]) <= bound, "{name} within ±{bound}");
    }
    let w = &p["fc2.weight"];
    let std = w.std(true).double_value(&[]);
    assert!((std - 1.0 / (3.0f64 * 128.0).sqrt()).abs() < 0.002, "fc2 std {std}");
    let out = m.forward_t(&tch::Tensor::zeros([5, 4], (tch::Kind::Float, Device::Cpu)), false);
    assert_eq!(out.size(), vec![5, 3], "two logits and a value");
}

#[test]
fn global_pruning_over_weights_and_biases_keeps_exactly_the_requested_count() {
    let m = network(vec![64, 64], 1);
    let all = vec![LayerRole::Fc, LayerRole::Output, LayerRole::Bias];
    let total: i64 = m.layers().iter().map(|l| l.numel).sum();
    let config = PruneConfig::Global { fraction: 0.2, roles: all };
    let mut mask = Mask::dense(&m);
    let mut alive = total;
    for _ in 0..5 {
        mask = mask.prune_magnitude(&m.parameters(), m.layers(), &config);
        alive -= (0.2 * alive as f64).round() as i64;
        let kept: i64 = mask.report().iter().map(|l| l.kept).sum();
        assert_eq!(kept, alive);
    }
    assert!(mask.report().iter().any(|l| l.name.ends_with(".bias") && l.kept < l.total), "biases are pruned with the weights");
    // Biases kept dense: only weights are pooled, and no bias loses an entry.
    let weights_only = PruneConfig::Global { fraction: 0.5, roles: vec![LayerRole::Fc, LayerRole::Output] };
    let mask = Mask::dense(&m).prune_magnitude(&m.parameters(), m.layers(), &weights_only);
    assert!(mask.report().iter().filter(|l| l.name.ends_with(".bias")).all(|l| l.kept == l.total));
}

/// CartPole's A2C training: `games` games with Yu et al.'s settings but a larger learning rate
/// (a short test run).
fn cartpole(games: u64, seed: u64, mask: Option<&Mask>) -> (common::train::TrainOutcome, Model) {
    let mut m = network(vec![64, 64], seed);
    let data = data::load(DatasetName::CartPole, std::path::Path::new("."), 0).unwrap();
    let train = TrainConfig {
        optimizer: OptimizerConfig::Rmsprop { lr: 1e-3, alpha: 0.99, eps: 1e-8, weight_decay: 0.0 },
        schedule: Schedule::constant(),
        batch_size: 128,
        iterations: games,
        eval_every: 50,
        augment: false,
        test_eval: TestEval::Always,
    };
    let task = TaskConfig::new(TaskName::ACTOR_CRITIC, &A2cParams { last_games: 50, ..A2cParams::default() }).unwrap();
    let mask = mask.cloned().unwrap_or_else(|| Mask::dense(&m));
    let run = RunSpec {
        data_seed: seed,
        start: 0,
        checkpoint: None,
        hooks: vec![],
        frozen: None,
        optimizer: None,
        keep_optimizer: None,
        kernels: common::sparse::Kernels::Dense,
    };
    let out = task.train(&mut m, &mask, &data, &train, run).unwrap();
    (out, m)
}

#[test]
fn the_actor_critic_learns_cartpole_and_replays_with_its_seed() {
    let (out, _) = cartpole(600, 3, None);
    let reward = &out.log.curve("reward");
    let first = reward.iter().copied().find(|r| r.is_finite()).unwrap();
    let last = *reward.last().unwrap();
    assert!(*out.log.iteration.last().unwrap() >= 600 && out.log.iteration.last().unwrap() - 600 < 32, "stops at the update that ends game 600");
    assert!(last > first + 30.0, "mean reward over the last 50 games rose from {first:.1} to {last:.1}");
    assert!(out.log.val_acc().is_empty() && out.log.test_loss().is_empty(), "a game logs no validation or test curves");
    let (again, _) = cartpole(600, 3, None);
    assert_eq!(out.log, again.log, "the same seed replays the same games");
}

#[test]
fn pruned_weights_and_biases_stay_zero_while_the_actor_critic_trains() {
    let m = network(vec![64, 64], 3);
    let config = PruneConfig::Global { fraction: 0.7, roles: vec![LayerRole::Fc, LayerRole::Output, LayerRole::Bias] };
    let mask = Mask::dense(&m).prune_magnitude(&m.parameters(), m.layers(), &config);
    let (_, trained) = cartpole(100, 3, Some(&mask));
    let p = trained.parameters();
    for (name, keep) in mask.pruned() {
        let off = p[&name].masked_select(&keep.eq(0.0));
        assert_eq!(off.abs().max().double_value(&[]), 0.0, "{name}: a pruned entry moved");
    }
}

#[test]
fn games_and_datasets_must_match_their_task() {
    let cart = data::load(DatasetName::CartPole, std::path::Path::new("."), 0).unwrap();
    assert_eq!((cart.shape, cart.num_classes, cart.train.len()), ([1, 1, 4], 2, 0));
    assert_eq!(DatasetName::Acrobot.environment(), Some(Environment::AcrobotV1));
    let bad = TaskConfig::new(TaskName::ACTOR_CRITIC, &serde_json::json!({ "envs": 0 }));
    assert!(bad.unwrap_err().to_string().contains("envs 0"));
    let unknown = TaskConfig::new(TaskName::ACTOR_CRITIC, &serde_json::json!({ "gama": 0.9 }));
    assert!(unknown.unwrap_err().to_string().contains("gama"));
    // Defaults are left out of the canonical form (and of the trunk hash).
    assert!(TaskConfig::new(TaskName::ACTOR_CRITIC, &A2cParams::default()).unwrap().params.is_empty());
}
