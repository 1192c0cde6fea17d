"""Compares two results folders stage by stage: every float and integer dataset of every stage
group and of its `curves/` and `metrics/` bit for bit (h5py; a schema-1 file's curves compared
as schema 2 names them), and each stage's `kernels` and `device` attributes. Wall times and run
information are not compared. Prints one line per difference and a summary; exit 1 if any.

    .venv/bin/python tools/compare_results.py RESULTS_A RESULTS_B
"""
import sys
from pathlib import Path

import h5py
import numpy as np


# The curves schema 1 stored as datasets of the stage group itself (NaN where not measured).
SCHEMA_1_CURVES = ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")


def datasets(group):
    """{name: array} of every dataset of a stage group, those of its subgroups (`curves/`,
    `metrics/`) as `subgroup/name`. Schema 1's curves read as schema 2 names them: a measured
    one as `curves/<name>`, one without a finite value (a placeholder) not at all."""
    out = {}
    for key, value in group.items():
        if isinstance(value, h5py.Group):
            out.update({f"{key}/{k}": np.asarray(v[()]) for k, v in value.items()})
        elif key in SCHEMA_1_CURVES:
            values = np.asarray(value[()])
            if np.isfinite(values).any():
                out[f"curves/{key}"] = values
        else:
            out[key] = np.asarray(value[()])
    return out


def stages(path):
    """{group path: (datasets, attributes)} of every stage group in a results file."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and name.count("/") == 2 and name.startswith("replicate_"):
                attrs = {k: obj.attrs[k] for k in ("kernels", "device") if k in obj.attrs}
                out[name] = (datasets(obj), attrs)
        f.visititems(visit)
    return out


def main(a, b):
    a, b = Path(a), Path(b)
    files = sorted(p.relative_to(a) for p in a.rglob("*.h5"))
    if not files:
        print(f"no results files under {a}")
        return 1
    differences, compared = 0, 0
    for rel in files:
        if not (b / rel).exists():
            print(f"{rel}: missing from {b}")
            differences += 1
            continue
        sa, sb = stages(a / rel), stages(b / rel)
        for name in sorted(set(sa) | set(sb)):
            if name not in sa or name not in sb:
                print(f"{rel}:{name}: in one folder only")
                differences += 1
                continue
            (da, aa), (db, ab) = sa[name], sb[name]
            if aa != ab:
                print(f"{rel}:{name}: attributes {aa} vs {ab}")
                differences += 1
            for key in sorted(set(da) | set(db)):
                x, y = da.get(key), db.get(key)
                compared += 1
                same = x is not None and y is not None and x.shape == y.shape and x.tobytes() == y.tobytes()
                if not same:
                    print(f"{rel}:{name}/{key}: differs")
                    differences += 1
    print(f"{len(files)} files, {compared} datasets compared, {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
