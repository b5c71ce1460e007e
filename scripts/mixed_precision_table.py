#!/usr/bin/env python3
"""The equal-budget table of experiments/results/mixed_precision/README.md: per allocation (proxy × budget
of `qat allocate`, or uniform bits) its bits, exact average bits, packed bytes and GBOPs, and the test
accuracy of each fine-tune seed found under RUNS_DIR (scripts/mixed_precision_results.sh).
Usage: scripts/mixed_precision_table.py RUNS_DIR > table.md"""
import glob
import json
import os
import statistics
import sys

runs = sys.argv[1]
alloc_dir = "experiments/results/mixed_precision/allocations"


def accuracies(name):
    out = []
    for d in sorted(glob.glob(os.path.join(runs, name + "_s*"))):
        f = os.path.join(d, "result.json")
        if os.path.exists(f):
            out.append(json.load(open(f)))
    return out


rows = []
for f in sorted(glob.glob(os.path.join(alloc_dir, "*.json"))):
    name = os.path.basename(f)[:-5]
    a = json.load(open(f))
    rows.append((name, "".join(str(b) for b in a["weight_bits"][1:-1]), a["budget_avg_bits"], a["size_bytes"],
                 a["gbops"], accuracies(name)))
print("| allocation | bits (20 layers, model order) | avg bits | packed bytes | GBOPs | test accuracy % (seeds) |")
print("|---|---|---:|---:|---:|---|")
for name, bits, avg, size, gbops, res in sorted(rows, key=lambda r: (r[2], r[0])):
    acc = [100 * r["test_accuracy"] for r in res]
    shown = "—" if not acc else (f"{acc[0]:.2f}" if len(acc) == 1 else
                                 f"{statistics.mean(acc):.2f} ± {statistics.stdev(acc):.2f} (n={len(acc)})")
    print(f"| {name} | {bits} | {avg:.3f} | {size} | {gbops:.3f} | {shown} |")
