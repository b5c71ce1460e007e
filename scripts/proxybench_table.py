#!/usr/bin/env python3
"""The rank tables of experiments/results/mixed_precision/proxybench.md from `qat proxybench rank`'s
rank.csv: per proxy, Kendall τ-b and Spearman ρ with their bootstrap 95% intervals on one label and split,
overall and within each band of average weight bits.
Usage: scripts/proxybench_table.py DIR/rank.csv [LABEL [SPLIT]] > table.md   (defaults: acc_ft heldout)"""
import csv
import sys

path = sys.argv[1]
label = sys.argv[2] if len(sys.argv) > 2 else "acc_ft"
split = sys.argv[3] if len(sys.argv) > 3 else "heldout"
bands = ["all", "low", "mid", "high"]
cells = {}
order = []
with open(path) as f:
    for row in csv.DictReader(f):
        if row["label"] != label or row["split"] != split:
            continue
        if row["proxy"] not in order:
            order.append(row["proxy"])
        cells[(row["proxy"], row["band"])] = row


def cell(row, stat, low, high):
    if not row or row[stat] == "":
        return "—"
    return f"{float(row[stat]):+.3f} [{float(row[low]):+.2f}, {float(row[high]):+.2f}]"


n = {b: next((cells[(p, b)]["n"] for p in order if (p, b) in cells), "?") for b in bands}
print(f"Label `{label}`, {split} configs; Kendall τ-b [95% bootstrap interval], then Spearman ρ.\n")
print("| proxy | " + " | ".join(f"τ {b} (n={n[b]})" for b in bands) + " | ρ all | ρ within bands (low / mid / high) |")
print("|---|" + "---:|" * (len(bands) + 2))
for p in order:
    taus = [cell(cells.get((p, b)), "kendall_tau_b", "tau_ci_low", "tau_ci_high") for b in bands]
    rho_all = cell(cells.get((p, "all")), "spearman", "rho_ci_low", "rho_ci_high")
    rho_bands = " / ".join(
        f"{float(cells[(p, b)]['spearman']):+.2f}" if (p, b) in cells and cells[(p, b)]["spearman"] else "—"
        for b in bands[1:])
    print(f"| {p} | " + " | ".join(taus) + f" | {rho_all} | {rho_bands} |")
