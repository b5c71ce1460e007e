#!/usr/bin/env python3
"""Runs a `qat ptq` matrix (methods x bits x calibration seeds) and tabulates it.

Each cell is `qat ptq CONFIG --set ptq.method=M --set ptq.weight_bits=B --set ptq.calib_seed=S [--set ...]
--out OUT/<cell>`; a cell whose result.json exists is kept, so a killed run resumes where it stopped.
--tabulate-only tables the finished cells without running any. Writes OUT/matrix.csv (one line per cell)
and OUT/matrix.md (per method and bits: mean ± sample std over the seeds done of perplexity, accuracy and
summed proxy loss; mean bits per weight and quantize seconds). Python 3 standard library only.

Example (the gpt-small matrix of experiments/results/ptq/wordnet_gpt_small.md):
  scripts/ptq_matrix.py experiments/configs/wordnet_gpt_small_ptq.pbtxt --out out/ptq_gpt \
      --set init_checkpoint=runs/wordnet_gpt/model.h5 --bits 2 3 4 --seeds 1
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys

# Method rows: name -> (ptq.method, extra --set values). "rtn_g64" is RTN on SINQ's tiles and grid
# (SINQ's "Sinkhorn off" ablation), the fair baseline of SINQ's group-wise claim.
VARIANTS = {
    "rtn": ("rtn", []),
    "rtn_g64": ("rtn", ["ptq.group_size=64", "ptq.grid=asym"]),
    "optq": ("optq", []),
    "quip": ("quip", []),
    "sinq": ("sinq", []),
    "baq": ("baq", []),
}
FIELDS = ["variant", "bits", "seed", "test_perplexity", "float_test_perplexity", "test_accuracy",
          "float_test_accuracy", "total_loss", "weight_bits_mean", "quantize_seconds", "seconds"]


def run_cell(args, variant, bits, seed):
    cell = os.path.join(args.out, f"{variant}_w{bits}_s{seed}")
    result = os.path.join(cell, "result.json")
    if not os.path.exists(result):
        if args.tabulate_only:
            return None
        method, extra = VARIANTS[variant]
        command = [args.qat, "ptq", args.config, "--out", cell]
        for value in args.set + [f"ptq.method={method}", f"ptq.weight_bits={bits}",
                                 f"ptq.calib_seed={seed}"] + extra:
            command += ["--set", value]
        print("ptq_matrix:", " ".join(command), file=sys.stderr, flush=True)
        subprocess.run(command, check=True)
    with open(result, encoding="utf-8") as f:
        r = json.load(f)
    return {"variant": variant, "bits": bits, "seed": seed, **{k: r.get(k) for k in FIELDS[3:]}}


def values_of(rows, key, scale=1.0):
    return [scale * r[key] for r in rows if r[key] is not None]


def mean(rows, key):
    values = values_of(rows, key)
    return statistics.mean(values) if values else float("nan")


def mean_std(rows, key, digits, scale=1.0):
    """'mean ± sample std' over the seeds done, the mean alone for one seed."""
    values = values_of(rows, key, scale)
    if len(values) < 2:
        return f"{statistics.mean(values):.{digits}}" if values else "nan"
    return f"{statistics.mean(values):.{digits}} ± {statistics.stdev(values):.2g}"


def write_tables(args, rows):
    with open(os.path.join(args.out, "matrix.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| method | bits | seeds | perplexity | accuracy | Σ proxy loss | bits/weight | quantize s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for variant in args.variants:
        for bits in args.bits:
            cell = [r for r in rows if r["variant"] == variant and r["bits"] == bits]
            if not cell:
                continue
            lines.append(f"| {variant} | {bits} | {len(cell)} | {mean_std(cell, 'test_perplexity', '2f')} | "
                         f"{mean_std(cell, 'test_accuracy', '2f', 100)}% | {mean_std(cell, 'total_loss', '5g')} | "
                         f"{mean(cell, 'weight_bits_mean'):.3f} | {mean(cell, 'quantize_seconds'):.1f} |")
    if rows:
        lines.append("")
        lines.append(f"float: perplexity {rows[0]['float_test_perplexity']:.2f}, "
                     f"accuracy {100 * rows[0]['float_test_accuracy']:.2f}%")
    with open(os.path.join(args.out, "matrix.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--out", required=True)
    parser.add_argument("--qat", default="build/experiments/qat")
    parser.add_argument("--set", action="append", default=[], help="passed to every cell")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--bits", nargs="+", type=int, default=[2, 3, 4])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--tabulate-only", action="store_true", help="tabulate the finished cells, run none")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    # Seed-major: every cell of seed 1 before any of seed 2, so a stopped run leaves whole seeds.
    for seed in args.seeds:
        for bits in args.bits:
            for variant in args.variants:
                row = run_cell(args, variant, bits, seed)
                if row:
                    rows.append(row)
    write_tables(args, rows)


if __name__ == "__main__":
    main()
