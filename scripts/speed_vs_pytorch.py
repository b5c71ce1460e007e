#!/usr/bin/env python3
"""Times training and inference steps of the same models in qat (`qat bench`) and in Debian's PyTorch
(`../shared/bench/torch_reference.py`), alternating the two so both see the same machine state, and
writes a markdown table of ms/step and the ratio qat / PyTorch.

Usage: scripts/speed_vs_pytorch.py [--models resnet20,mobilenetv2,bert] [--rounds 3] [--quant lsq:4/4,...]
Needs python3-torch python3-torchvision libopenblas0-pthread; runs /usr/bin/python3 for PyTorch.
"""
import argparse, json, os, statistics, subprocess, sys

BATCH = {"resnet20": 128, "resnet18": 64, "mobilenetv2": 128, "bert": 32}


def run_json(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qat", default="build/experiments/qat")
    p.add_argument("--torch-reference", default="../shared/bench/torch_reference.py")
    p.add_argument("--models", default="resnet20,mobilenetv2,bert")
    p.add_argument("--modes", default="train,infer")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="experiments/results/speed_vs_pytorch.md")
    a = p.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    rows = []
    for model in a.models.split(","):
        for mode in a.modes.split(","):
            ours, theirs = [], []
            batch = str(BATCH[model])
            for _ in range(a.rounds):
                ours.append(run_json([a.qat, "bench", "--model", model, "--mode", mode, "--batch", batch,
                                      "--steps", str(a.steps)], env)["ms_per_step"])
                torch_mode = "fp32" if mode == "train" else "infer"
                theirs.append(run_json(["/usr/bin/python3", a.torch_reference, "--model", model, "--mode", torch_mode,
                                        "--steps", str(a.steps), "--threads", str(a.threads)], env)["ms_per_step"])
            q, t = statistics.median(ours), statistics.median(theirs)
            rows.append(f"| {model} | {mode} | {batch} | {q:.1f} | {t:.1f} | {q / t:.2f} |")
            print(rows[-1], flush=True)
    text = "\n".join([
        "# Speed: qat vs PyTorch on the same machine",
        "",
        f"Command: `scripts/speed_vs_pytorch.py --models {a.models} --modes {a.modes} --rounds {a.rounds} "
        f"--steps {a.steps} --threads {a.threads}`",
        f"Each cell: median over {a.rounds} alternating rounds of each tool's own median ms/step over "
        f"{a.steps} timed steps (after warm-up), {a.threads} threads, random inputs of the same shapes "
        "(28x28x1 images; BERT token ids, sequence 128). Training = forward, loss, backward, SGD step.",
        "",
        "| model | mode | batch | qat ms/step | PyTorch ms/step | qat / PyTorch |",
        "|---|---|---:|---:|---:|---:|",
        *rows,
        "",
    ])
    tmp = a.out + ".tmp"
    open(tmp, "w").write(text)
    os.replace(tmp, a.out)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
