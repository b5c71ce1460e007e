#!/usr/bin/env python3
"""bf16 against fp32 training (`train.precision`): step time of ResNet-20 batch 128 in both precisions,
float and NIPQ W4A4, alternating every configuration round by round so that all see the same machine
state (`qat bench --precision`); then the fp32 recipe (experiments/configs/fmnist_resnet20_fp32.pbtxt,
same seed) trained for a short budget in each precision, for test accuracy. Writes a markdown report.

Usage: scripts/bf16_training.py [--rounds 5] [--steps 20] [--threads 2] [--epochs 3] [--train-threads N]
                                [--reuse-runs] [--skip-speed] [--skip-train]
"""
import argparse, json, os, statistics

from speed_vs_pytorch import run_json

PRECISIONS = ["fp32", "bf16"]


def step_times(a, env):
    """ms/step and the step-by-step ratio to the fp32 float step per (quant, precision), one entry per round."""
    times = {(q, p): [] for q in a.quant.split(",") for p in PRECISIONS}
    ratios = {key: [] for key in times}
    for r in range(a.rounds):
        for quant, precision in times:
            result = run_json([a.qat, "bench", "--model", "resnet20", "--batch", "128", "--steps", str(a.steps),
                               "--quant", quant, "--precision", precision, "--baseline"], env)
            times[(quant, precision)].append(result["ms_per_step"])
            ratios[(quant, precision)].append(result["ratio_to_fp32"])
        print(f"round {r + 1}: " + ", ".join(f"{q} {p} {t[-1]:.1f} ({ratios[(q, p)][-1]:.3f})"
                                             for (q, p), t in times.items()), flush=True)
    return times, ratios


def speed_rows(times, ratios):
    rows = ["| step | precision | best ms | median ms | fp32 / bf16 (best rounds) | fp32 / bf16 (step by step) |",
            "|---|---|---:|---:|---:|---:|"]
    for (quant, precision), t in times.items():
        f32 = times[(quant, "fp32")]
        # Each round's two runs were each timed step by step against the fp32 float model.
        speedups = [f / b for f, b in zip(ratios[(quant, "fp32")], ratios[(quant, precision)])]
        label = "float" if quant == "none" else quant
        rows.append(f"| {label} | {precision} | {min(t):.1f} | {statistics.median(t):.1f} | "
                    f"{min(f32) / min(t):.2f} | {statistics.median(speedups):.2f} "
                    f"({min(speedups):.2f}–{max(speedups):.2f}) |")
    return rows


def train_rows(a):
    env = dict(os.environ, OMP_NUM_THREADS=str(a.train_threads or a.threads))
    rows = ["| precision | test accuracy | final train loss | seconds |", "|---|---:|---:|---:|"]
    for precision in PRECISIONS:
        out = os.path.join(a.runs, precision)
        done = os.path.join(out, "result.json")
        if a.reuse_runs and os.path.exists(done):
            with open(done) as f:
                result = json.load(f)
        else:
            result = run_json([a.qat, "train", a.config, "--set", f"train.epochs={a.epochs}", "--set",
                               f"train.precision={precision}", "--out", out], env)
        rows.append(f"| {precision} | {100 * result['test_accuracy']:.2f}% | {result['final_train_loss']:.4f} | "
                    f"{result['seconds']:.0f} |")
        print(rows[-1], flush=True)
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qat", default="build/experiments/qat")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quant", default="none,nipq:4/4")
    p.add_argument("--config", default="experiments/configs/fmnist_resnet20_fp32.pbtxt")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--runs", default="out/bf16_training")
    p.add_argument("--train-threads", type=int, default=0, help="threads of the training runs (0: --threads)")
    p.add_argument("--reuse-runs", action="store_true", help="take finished runs' result.json from --runs")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--out", default="experiments/results/bf16_training.md")
    a = p.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    speed = [] if a.skip_speed else speed_rows(*step_times(a, env))
    train = [] if a.skip_train else train_rows(a)
    flags = [f for f in ("skip_speed", "skip_train", "reuse_runs") if getattr(a, f)]
    command = (f"scripts/bf16_training.py --rounds {a.rounds} --steps {a.steps} --threads {a.threads} "
               f"--quant {a.quant} --epochs {a.epochs}" + (f" --train-threads {a.train_threads}" if a.train_threads else "")
               + "".join(" --" + f.replace("_", "-") for f in flags))
    text = "\n".join([
        "# bf16 training (`train.precision: \"bf16\"`) against fp32",
        "",
        f"Command: `{command}`",
        "",
        *([f"Step time of ResNet-20, batch 128, {a.threads} threads (`qat bench --precision`): each of "
           f"{a.rounds} rounds runs every configuration once (median of {a.steps} timed steps each); best and "
           "median over the rounds, the speed-up fp32 / bf16 from the best rounds, and step by step: every run "
           "alternates its steps with the fp32 float model's (`qat bench --baseline`), and a round's speed-up "
           "is the fp32 run's ratio over the bf16 run's (median over the rounds, their range in brackets).",
           "", *speed, ""] if speed else []),
        *([f"Accuracy: the fp32 recipe (`{a.config}`, seed 1, all 60,000 training images, the 10,000 test "
           f"images) cut to {a.epochs} epochs (cosine schedule over {a.epochs} epochs), once per precision, "
           f"{a.train_threads or a.threads} threads (`seconds` is the whole run, evaluations included):",
           "", *train, ""] if train else []),
    ])
    with open(a.out + ".tmp", "w") as f:
        f.write(text)
    os.replace(a.out + ".tmp", a.out)
    print(text)


if __name__ == "__main__":
    main()
