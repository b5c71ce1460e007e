#!/usr/bin/env python3
"""Cost of quantization-aware training steps next to float ones, in qat and in Debian's PyTorch
(`../shared/bench/torch_reference.py --mode fp32|lsq|nipq`), alternating all runs so that every
configuration sees the same machine state; writes a markdown table of ms/step and of each framework's
quantized/float ratio.

Usage: scripts/quant_overhead.py [--model resnet20] [--bits 4] [--rounds 3] [--steps 20] [--threads 2]
Needs python3-torch python3-torchvision libopenblas0-pthread; runs /usr/bin/python3 for PyTorch.
"""
import argparse, os

from speed_vs_pytorch import run_json


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
    modes = ["fp32", "lsq", "nipq"]
    ours = {m: [] for m in modes}
    theirs = {m: [] for m in modes}
    for _ in range(a.rounds):
        for mode in modes:
            quant = "none" if mode == "fp32" else f"{mode}:{a.bits}/{a.bits}"
            ours[mode].append(run_json([a.qat, "bench", "--model", a.model, "--batch", str(a.batch), "--steps",
                                        str(a.steps), "--quant", quant], env)["ms_per_step"])
            if not a.skip_torch:
                theirs[mode].append(run_json(["/usr/bin/python3", a.torch_reference, "--model", a.model, "--mode",
                                              mode, "--bits", str(a.bits), "--steps", str(a.steps), "--threads",
                                              str(a.threads)], env)["ms_per_step"])
    rows = ["| step | qat ms | qat / qat fp32 | PyTorch ms | PyTorch / PyTorch fp32 |", "|---|---:|---:|---:|---:|"]
    for mode in modes:
        q = min(ours[mode])
        t = min(theirs[mode]) if theirs[mode] else float("nan")
        rows.append(f"| {mode}{'' if mode == 'fp32' else f' W{a.bits}A{a.bits}'} | {q:.1f} | {q / min(ours['fp32']):.2f} | "
                    f"{t:.1f} | {t / min(theirs['fp32']) if theirs['fp32'] else float('nan'):.2f} |")
    command = (f"scripts/quant_overhead.py --model {a.model} --batch {a.batch} --bits {a.bits} --rounds {a.rounds} "
               f"--steps {a.steps} --threads {a.threads}")
    text = "\n".join([
        f"# Quantization-aware training step cost, {a.model} batch {a.batch}",
        "",
        f"Command: `{command}`",
        f"Each cell: best of {a.rounds} alternating rounds of each tool's median ms per training step "
        f"(forward, loss, backward, SGD step) over {a.steps} steps, {a.threads} threads. First and last "
        "layers at 8 bits in qat (as in training); PyTorch's reference quantizes every conv/linear.",
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
