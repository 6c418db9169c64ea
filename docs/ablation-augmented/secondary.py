#!/usr/bin/env python3
"""The study's secondary figures, recomputed from the committed runs.

Each regularized arm minus `none`, paired by seed: the final test loss and the final
train - test accuracy gap (training accuracy over the last epoch's batches minus the final test
accuracy), mean difference with its 95% confidence interval (Student's t, scipy.stats). These
are not part of the Holm family of the report's accuracy claims.

    python3 docs/ablation-augmented/secondary.py [runs directory]
"""
import json
import pathlib
import sys

from scipy import stats

ARMS = {
    "dropout": "dropout-p0.1",
    "spatial-dropout": "spatial-dropout-p0.02",
    "dropblock": "dropblock-p0.02",
    "fitted": "fitted-p0.02",
}


def finals(run):
    summary = json.loads((run / "summary.json").read_text())
    last = summary["epochs"][-1]
    figures = {
        "loss": summary["finalTestLoss"],
        "gap": last["trainAccuracy"] - summary["finalTestAccuracy"],
    }
    if "recalibrated" in summary:
        figures["recalibrated loss"] = summary["recalibrated"]["testLoss"]
        figures["recalibrated gap"] = last["trainAccuracy"] - summary["recalibrated"]["testAccuracy"]
    return figures


def by_seed(runs, prefix):
    found = {}
    for run in runs.glob(prefix + "-seed*"):
        if run.name.endswith((".lock", ".partial")) or not (run / "summary.json").is_file():
            continue  # .lock, .partial: not finished
        found[int(run.name.rsplit("seed", 1)[1])] = finals(run)
    return found


def paired(a, b):
    diffs = [x - y for x, y in zip(a, b)]
    n = len(diffs)
    mean = sum(diffs) / n
    low, high = stats.ttest_1samp(diffs, 0.0).confidence_interval(0.95)
    return n, mean, low, high


def main():
    runs = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "runs")
    if not runs.is_dir():
        sys.exit(f"no runs directory: {runs}")
    none = by_seed(runs, "none")
    print("| arm - none | pairs | test loss | 95% CI | gap (points) | 95% CI |")
    print("|---|---|---|---|---|---|")
    rows = [(arm, prefix, "") for arm, prefix in ARMS.items()]
    rows.append(("fitted-recalibrated", "fitted-p0.02", "recalibrated "))
    for arm, prefix, which in rows:
        other = by_seed(runs, prefix)
        seeds = sorted(set(other) & set(none))
        if len(seeds) < 2:
            print(f"| {arm} | {len(seeds)} | too few pairs | | | |")
            continue
        n, dl, ll, hl = paired([other[s][which + "loss"] for s in seeds], [none[s]["loss"] for s in seeds])
        _, dg, lg, hg = paired([other[s][which + "gap"] for s in seeds], [none[s]["gap"] for s in seeds])
        print(
            f"| {arm} | {n} | {dl:+.3f} | [{ll:+.3f}, {hl:+.3f}] "
            f"| {100 * dg:+.1f} | [{100 * lg:+.1f}, {100 * hg:+.1f}] |"
        )


if __name__ == "__main__":
    main()
