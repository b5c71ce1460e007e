#!/usr/bin/env python3
"""Runs the op micro-benchmarks (our kernels beside bare oneDNN primitives of the same shapes) and writes
a markdown table of GFLOP/s and the ratio ours / bare.

Usage: scripts/op_bench_report.py [--bench build/tests/op_bench] [--repetitions 5] [--out FILE]
Each benchmark is repeated with random interleaving; the table reports medians over the repetitions.
"""
import argparse, json, os, platform, subprocess, sys, tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", default="build/tests/op_bench")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--min-time", default="0.2")
    p.add_argument("--out", default="experiments/results/op_bench.md")
    a = p.parse_args()
    with tempfile.NamedTemporaryFile(suffix=".json") as raw:
        cmd = [a.bench, f"--benchmark_repetitions={a.repetitions}", "--benchmark_enable_random_interleaving=true",
               f"--benchmark_min_time={a.min_time}", "--benchmark_report_aggregates_only=true",
               "--benchmark_format=console", f"--benchmark_out={raw.name}", "--benchmark_out_format=json"]
        subprocess.run(cmd, check=True, env=dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2")),
                       stdout=subprocess.DEVNULL)
        report = json.load(open(raw.name))
    median = {}
    for b in report["benchmarks"]:
        if b.get("aggregate_name") == "median":
            median[b["run_name"]] = b["GFLOP/s"]
    rows, worst = [], None
    for name, ours in median.items():
        if "/qat/" not in name:
            continue
        bare = median.get(name.replace("/qat/", "/onednn/"))
        if bare is None:
            continue
        ratio = ours / bare
        worst = ratio if worst is None else min(worst, ratio)
        rows.append(f"| {name.replace('/qat/real_time', '')} | {ours:.1f} | {bare:.1f} | {ratio:.3f} |")
    ctx = report["context"]
    text = "\n".join([
        "# Op micro-benchmarks: our wrappers vs a bare oneDNN primitive",
        "",
        f"Command: `OMP_NUM_THREADS=2 scripts/op_bench_report.py --repetitions {a.repetitions}` "
        f"(runs `{' '.join(cmd[:1] + cmd[1:5])}`)",
        f"Machine: {platform.processor() or platform.machine()}, {ctx.get('num_cpus')} CPUs, "
        f"date {ctx.get('date')}. Medians over {a.repetitions} randomly interleaved repetitions.",
        "",
        "| benchmark | ours GFLOP/s | bare oneDNN GFLOP/s | ours / bare |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        f"Lowest ratio: {worst:.3f} (acceptance: ≥ 0.95).",
        "",
    ])
    tmp = a.out + ".tmp"
    open(tmp, "w").write(text)
    os.replace(tmp, a.out)
    print(text)
    return 0 if worst is not None and worst >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
