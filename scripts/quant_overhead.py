#!/usr/bin/env python3
"""Cost of quantization-aware training steps next to float ones, in qat and in Debian's PyTorch
(`../shared/bench/torch_reference.py --mode fp32|lsq|nipq`), alternating all runs so that every
configuration sees the same machine state; writes a markdown table of ms/step and of each framework's
quantized/float ratio, for fixed and for learned NIPQ bit-widths.

Usage: scripts/quant_overhead.py [--model resnet20] [--bits 4] [--rounds 3] [--steps 20] [--threads 2]
Needs python3-torch python3-torchvision libopenblas0-pthread; runs /usr/bin/python3 for PyTorch.
"""
import argparse, os, statistics

from speed_vs_pytorch import run_json


# Each configuration: the qat bench arguments, and the torch_reference.py mode timed for it (its NIPQ
# always learns the bit-width, so it is the reference of both NIPQ rows).
MODES = {
    "fp32": ([], "fp32"),
    "lsq": (["--quant", "lsq:{b}/{b}"], "lsq"),
    "nipq": (["--quant", "nipq:{b}/{b}"], "nipq"),
    "nipq_learned": (["--quant", "nipq:{b}/{b}", "--set", "quant.learn_bits=true", "--set",
                      "quant.target_avg_bits=3"], "nipq"),
}
LABELS = {"fp32": "fp32", "lsq": "lsq W{b}A{b}", "nipq": "nipq W{b}A{b}",
          "nipq_learned": "nipq W{b}A{b}, learned bits (3-bit average target)"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qat", default="build/experiments/qat")
    p.add_argument("--torch-reference", default="../shared/bench/torch_reference.py")
    p.add_argument("--model", default="resnet20")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--out", default="experiments/results/quant_overhead.md")
    a = p.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    ours = {m: [] for m in MODES}
    step_ratios = {m: [] for m in MODES}
    theirs = {m: [] for m in set(t for _, t in MODES.values())}
    for r in range(a.rounds):
        for mode, (args, torch_mode) in MODES.items():
            result = run_json([a.qat, "bench", "--model", a.model, "--batch", str(a.batch), "--steps", str(a.steps),
                               "--baseline"] + [x.format(b=a.bits) for x in args], env)
            ours[mode].append(result["ms_per_step"])
            step_ratios[mode].append(result["ratio_to_fp32"])
            if not a.skip_torch and len(theirs[torch_mode]) == r:
                theirs[torch_mode].append(run_json(["/usr/bin/python3", a.torch_reference, "--model", a.model,
                                                    "--mode", torch_mode, "--bits", str(a.bits), "--steps",
                                                    str(a.steps), "--threads", str(a.threads)], env)["ms_per_step"])
        print(f"round {r + 1}: " + ", ".join(f"{m} {t[-1]:.1f} ({step_ratios[m][-1]:.3f})" for m, t in ours.items()),
              flush=True)
    rows = ["| step | qat best ms | qat median ms | qat / qat fp32 (best rounds) | qat / qat fp32 (step by step) | "
            "PyTorch ms | PyTorch / PyTorch fp32 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for mode, (_, torch_mode) in MODES.items():
        q = ours[mode]
        t = min(theirs[torch_mode]) if theirs[torch_mode] else float("nan")
        t_ratio = t / min(theirs["fp32"]) if theirs["fp32"] else float("nan")
        rows.append(f"| {LABELS[mode].format(b=a.bits)} | {min(q):.1f} | {statistics.median(q):.1f} | "
                    f"{min(q) / min(ours['fp32']):.2f} | {statistics.median(step_ratios[mode]):.2f} "
                    f"({min(step_ratios[mode]):.2f}–{max(step_ratios[mode]):.2f}) | {t:.1f} | {t_ratio:.2f} |")
    command = (f"scripts/quant_overhead.py --model {a.model} --batch {a.batch} --bits {a.bits} --rounds {a.rounds} "
               f"--steps {a.steps} --threads {a.threads}" + (" --skip-torch" if a.skip_torch else ""))
    text = "\n".join([
        f"# Quantization-aware training step cost, {a.model} batch {a.batch}",
        "",
        f"Command: `{command}`",
        f"{a.rounds} alternating rounds of each tool's median ms per training step (forward, loss, backward, SGD "
        f"step) over {a.steps} steps, {a.threads} threads: the best and the median round, the ratio of the best "
        "rounds to fp32's, and the step-by-step ratio of `qat bench --baseline` (every step alternates with one "
        "of the float model in fp32 in the same process; median over the rounds of each round's median, the "
        "rounds' range in brackets; the fp32 row is fp32 against itself, the noise floor). First and last "
        "layers at 8 bits in qat (as in training); PyTorch's reference quantizes every conv/linear and its "
        "NIPQ always learns the bit-width (no cost loss).",
        "",
        *rows,
        "",
    ])
    with open(a.out + ".tmp", "w") as f:
        f.write(text)
    os.replace(a.out + ".tmp", a.out)
    print(text)


if __name__ == "__main__":
    main()
