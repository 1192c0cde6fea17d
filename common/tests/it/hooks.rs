//! Training hooks: a hook can stop training (the run then ends evaluated where it stopped, with
//! the weights a shorter schedule reaches) and add a term to the loss.

use crate::engine::{config, data, model, spec};
use common::models::Model;
use common::prune::Mask;
use common::train::hooks::{Control, Hook};
use common::train::{self, EvalLog, Status};
use tch::{Kind, Tensor};

/// Stops at a fixed iteration.
struct StopAt(u64);

impl Hook for StopAt {
    fn at(&mut self, _m: &Model, _opt: &common::train::optim::Optimizer, t: u64, _log: &EvalLog) -> anyhow::Result<Control> {
        Ok(if t == self.0 { Control::Stop } else { Control::Continue })
    }
}

/// λ‖w‖² over every trainable weight.
struct L2(f64);

impl Hook for L2 {
    fn extra_loss(&mut self, m: &Model, _t: u64) -> Option<Tensor> {
        Some(m.parameters().values().map(|w| w.square().sum(Kind::Float)).fold(Tensor::zeros([], (Kind::Float, m.device())), |a, b| a + b) * self.0)
    }
}

fn norm(m: &Model) -> f64 {
    m.parameters().values().map(|w| w.square().sum(Kind::Double).double_value(&[])).sum::<f64>().sqrt()
}

#[test]
fn a_hook_that_stops_ends_training_there_with_a_shorter_schedules_weights() {
    let d = data();
    let cfg = config(0);
    let mut stopped = model(&cfg, &d, 5);
    let mut stop = StopAt(50);
    let mask = Mask::dense(&stopped);
    let out = train::train(&mut stopped, &mask, &d, &cfg.train, spec(3, None, vec![&mut stop])).unwrap();
    assert_eq!(out.status, Status::Completed);
    assert_eq!(*out.log.iteration.last().unwrap(), 50, "evaluated where it stopped: {:?}", out.log.iteration);
    let short = train::TrainConfig { iterations: 50, ..cfg.train.clone() };
    let mut full = model(&cfg, &d, 5);
    let reference = train::train(&mut full, &mask, &d, &short, spec(3, None, vec![])).unwrap();
    for (name, w) in stopped.parameters() {
        assert!(w.equal(&full.parameters()[&name]), "{name}: stopping at 50 is not training for 50 steps");
    }
    assert_eq!(out.log.test_acc().last(), reference.log.test_acc().last());
}

#[test]
fn a_hook_adds_a_term_to_the_loss() {
    let d = data();
    let cfg = config(0);
    let train_with = |hooks: Vec<&mut dyn Hook>| {
        let mut m = model(&cfg, &d, 5);
        let mask = Mask::dense(&m);
        train::train(&mut m, &mask, &d, &cfg.train, spec(3, None, hooks)).unwrap();
        m
    };
    let plain = norm(&train_with(vec![]));
    let mut l2 = L2(1e-2);
    let decayed = norm(&train_with(vec![&mut l2]));
    assert!(decayed < 0.9 * plain, "an L2 penalty shrinks the weights: ‖w‖ {decayed} vs {plain} without");
}
