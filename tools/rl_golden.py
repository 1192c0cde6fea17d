"""Golden trajectories of CartPole-v0 and Acrobot-v1 from Gymnasium's own environments.

Prints, for a fixed start state and action sequence, every state after each step with the
reward and whether the episode ended, as Rust array literals for
`common/tests/it/environments.rs`. Run with Gymnasium 1.4.0 (PyPI, pure Python):

    python -m venv /tmp/gym && /tmp/gym/bin/pip install gymnasium==1.4.0 numpy
    /tmp/gym/bin/python tools/rl_golden.py
"""

import gymnasium as gym
import numpy as np


def trajectory(env_id, start, actions):
    env = gym.make(env_id)
    env.reset(seed=0)
    env.unwrapped.state = np.array(start, dtype=np.float64)
    rows = []
    for a in actions:
        _, reward, terminated, truncated, _ = env.step(a)
        rows.append((list(env.unwrapped.state), reward, terminated or truncated))
        if terminated or truncated:
            break
    return rows


def show(name, env_id, start, actions):
    rows = trajectory(env_id, start, actions)
    print(f"// {env_id} from {start}, actions {actions[:len(rows)]}")
    print(f"const {name}: [([f64; 4], f64, bool); {len(rows)}] = [")
    for state, reward, done in rows:
        print(f"    ([{', '.join(repr(float(v)) for v in state)}], {float(reward)!r}, {str(done).lower()}),")
    print("];")


show("CARTPOLE", "CartPole-v0", [0.01, -0.02, 0.03, 0.04], [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
show("ACROBOT", "Acrobot-v1", [0.05, -0.08, 0.02, -0.03], [2, 2, 2, 0, 0, 0, 2, 2, 2, 2, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2])
# Near the goal, with a wrap of θ1 past π and the terminal step's reward of 0.
show("ACROBOT_GOAL", "Acrobot-v1", [2.9, 0.4, 1.5, 0.5], [2, 2, 0, 0, 1, 1, 2, 2, 2, 2])
