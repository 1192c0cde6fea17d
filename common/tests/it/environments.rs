//! The environments against Gymnasium 1.4.0's own steps (`tools/rl_golden.py` prints the
//! tables): every state after each action, the reward and the end of the episode, from a fixed
//! start state.

use common::rl::acrobot::Acrobot;
use common::rl::cartpole::CartPole;
use common::rl::{Env, Environment};

// CartPole-v0 from [0.01, -0.02, 0.03, 0.04], actions [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]
const CARTPOLE: [([f64; 4], f64, bool); 12] = [
    ([0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081], 1.0, false),
    ([0.013093583914951107, 0.3693479760579556, 0.025938625640799837, -0.5258796280501483], 1.0, false),
    ([0.02048054343611022, 0.17387081260481596, 0.01542103307979687, -0.22513741609237464], 1.0, false),
    ([0.02395795968820654, 0.3687690101747617, 0.010918284757949377, -0.5129163478026587], 1.0, false),
    ([0.03133333989170178, 0.5637354914110395, 0.0006599578018962032, -0.8021387265763497], 1.0, false),
    ([0.04260804971992257, 0.7588483859319555, -0.015382816729630789, -1.0946139770428212], 1.0, false),
    ([0.05778501743856168, 0.9541695517142259, -0.03727509627048721, -1.3920834318683566], 1.0, false),
    ([0.0768684084728462, 1.149735257069845, -0.06511676490785434, -1.696184560151722], 1.0, false),
    ([0.0998631136142431, 1.3455451294279053, -0.09904045611088878, -2.008407687417405], 1.0, false),
    ([0.1267740162028012, 1.5415488577930592, -0.1392086098592369, -2.330042820548365], 1.0, false),
    ([0.1576049933586624, 1.7376303585459898, -0.18580946627020417, -2.6621150386805894], 1.0, false),
    ([0.1923576005295822, 1.9335895015523574, -0.23905176704381598, -3.0053083802600002], 1.0, true),
];
// Acrobot-v1 from [0.05, -0.08, 0.02, -0.03], actions [2, 2, 2, 0, 0, 0, 2, 2, 2, 2, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2]
const ACROBOT: [([f64; 4], f64, bool); 20] = [
    ([0.03301192357642804, -0.038584530492664006, -0.1849175775436739, 0.43398248334196954], -1.0, false),
    ([-0.019861404070749815, 0.08527670760855255, -0.3288592905338144, 0.7743447362785512], -1.0, false),
    ([-0.0909866455857653, 0.2558485171142037, -0.3622407742502548, 0.890247556938657], -1.0, false),
    ([-0.13073363332435484, 0.35751885326154254, -0.02603607274084324, 0.10722730440175787], -1.0, false),
    ([-0.10079860698052535, 0.29714095664738555, 0.3180295990584152, -0.6976419537225383], -1.0, false),
    ([-0.009759881292166053, 0.09044399386599766, 0.568176468148899, -1.3214435653245078], -1.0, false),
    ([0.08710828492764322, -0.1369746538157556, 0.3734585774610316, -0.8978109403950184], -1.0, false),
    ([0.13127637988652158, -0.2516859888200287, 0.05701030970333437, -0.22553337876323631], -1.0, false),
    ([0.10853333431638722, -0.22362319284997756, -0.27879556811763606, 0.49781409368784013], -1.0, false),
    ([0.02522067350478946, -0.0620992911014642, -0.5326514546832259, 1.0774054111044298], -1.0, false),
    ([-0.07970032937666885, 0.15108475882884348, -0.4882623070031931, 1.0004250155237915], -1.0, false),
    ([-0.14641897002859888, 0.28407649749796005, -0.16286879719461939, 0.29988242006248855], -1.0, false),
    ([-0.14163317174642281, 0.26542414315345086, 0.2089775524228057, -0.4821832426631695], -1.0, false),
    ([-0.06697348797603231, 0.09938335036398172, 0.5178779388488295, -1.1396510070883736], -1.0, false),
    ([0.054074592113815545, -0.16792884348988568, 0.6582028698700841, -1.4652976699881664], -1.0, false),
    ([0.15531787721222784, -0.3896453543073387, 0.32968011771390315, -0.7045708747975341], -1.0, false),
    ([0.17979149874932784, -0.43835736095021793, -0.08972826826078528, 0.22579832387882504], -1.0, false),
    ([0.12091787717692379, -0.3023583401319664, -0.48513783136515737, 1.1073628708019871], -1.0, false),
    ([-0.00453642296566123, -0.014475324422067282, -0.7348067165589883, 1.7023505347541081], -1.0, false),
    ([-0.15552494194944605, 0.34328018288273643, -0.7303090328557583, 1.784299231071742], -1.0, false),
];
// Acrobot-v1 from [2.9, 0.4, 1.5, 0.5], actions [2]
const ACROBOT_GOAL: [([f64; 4], f64, bool); 1] = [([-3.110974727502066, 0.5700309649800043, 1.2904972136563901, 1.1602646609815175], 0.0, true)];

/// Steps `env` (holding `start`) through `actions` and compares every state, reward and end
/// with `expected` to 1e-12 (NumPy and Rust evaluate the same f64 formulas; `sin`/`cos` may
/// differ in the last bit).
fn replay(mut step: impl FnMut(usize) -> ([f64; 4], f64, bool), actions: &[usize], expected: &[([f64; 4], f64, bool)]) {
    for (i, (&a, (state, reward, done))) in actions.iter().zip(expected).enumerate() {
        let (s, r, d) = step(a);
        for k in 0..4 {
            assert!((s[k] - state[k]).abs() <= 1e-12 * state[k].abs().max(1.0), "step {i}: state {s:?}, Gym {state:?}");
        }
        assert_eq!((r, d), (*reward, *done), "step {i}: reward and end");
    }
}

#[test]
fn cartpole_steps_equal_gyms_including_the_step_that_drops_the_pole() {
    let mut env = CartPole::v0();
    env.state = [0.01, -0.02, 0.03, 0.04];
    let actions = [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    replay(
        |a| {
            let s = env.step(a);
            assert_eq!(s.observation, env.state.map(|v| v as f32).to_vec(), "the observation is the state in f32");
            (env.state, s.reward, s.done)
        },
        &actions,
        &CARTPOLE,
    );
}

#[test]
fn acrobot_steps_equal_gyms_including_the_wrap_and_the_terminal_step() {
    for (start, actions, expected) in [
        ([0.05, -0.08, 0.02, -0.03], &[2, 2, 2, 0, 0, 0, 2, 2, 2, 2, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2][..], &ACROBOT[..]),
        ([2.9, 0.4, 1.5, 0.5], &[2], &ACROBOT_GOAL),
    ] {
        let mut env = Acrobot::v1();
        env.state = start;
        replay(
            |a| {
                let s = env.step(a);
                let [t1, t2, d1, d2] = env.state;
                assert_eq!(s.observation, [t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2].map(|v| v as f32).to_vec());
                (env.state, s.reward, s.done)
            },
            actions,
            expected,
        );
    }
}

#[test]
fn time_limits_end_episodes_at_200_and_500_steps() {
    // Acrobot at rest with no torque never reaches the goal: only the limit ends it.
    let mut acrobot = Acrobot::v1();
    acrobot.state = [0.0; 4];
    let ends: Vec<usize> = (1..=500).filter(|_| acrobot.step(1).done).collect();
    assert_eq!(ends, vec![500]);
    // CartPole under a controller that pushes toward the pole's lean stays up.
    let mut cartpole = CartPole::v0();
    cartpole.state = [0.0, 0.0, 0.01, 0.0];
    let ends: Vec<usize> = (1..=200)
        .filter(|_| {
            let [x, x_dot, theta, theta_dot] = cartpole.state;
            cartpole.step(usize::from(theta * 10.0 + theta_dot + 0.1 * x + 0.2 * x_dot > 0.0)).done
        })
        .collect();
    assert_eq!(ends, vec![200]);
}

#[test]
fn resets_draw_from_gyms_ranges_and_replay_with_the_seed() {
    for env in Environment::ALL {
        let draw = |seed| {
            let mut e = env.make();
            e.reset(&mut common::rng::stream(seed, "reset", &[]))
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        assert_eq!(draw(1).len(), env.observation_size());
    }
    let mut c = CartPole::v0();
    let mut rng = common::rng::stream(3, "reset", &[]);
    for _ in 0..100 {
        c.reset(&mut rng);
        assert!(c.state.iter().all(|v| v.abs() < 0.05));
    }
    assert_eq!(Environment::parse("Acrobot-v1").unwrap(), Environment::AcrobotV1);
    assert!(Environment::parse("LunarLander-v2").unwrap_err().to_string().contains("CartPole-v0"));
}
