#!/usr/bin/env python3
"""Runs the op micro-benchmarks (our kernels beside bare oneDNN primitives of the same shapes) and writes
a markdown table of GFLOP/s and the ratio ours / bare.

Usage: scripts/op_bench_report.py [--bench build/tests/op_bench] [--repetitions 5] [--out FILE]
Each benchmark is repeated with random interleaving; the table reports the best repetition of each
(best-of-N: the least disturbed by other load on a shared machine) and, for reference, the medians.
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", default="build/tests/op_bench")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--min-time", default="0.2")
    p.add_argument("--out", default="experiments/results/op_bench.md")
    a = p.parse_args()
    with tempfile.NamedTemporaryFile(suffix=".json") as raw:
        cmd = [a.bench, f"--benchmark_repetitions={a.repetitions}", "--benchmark_enable_random_interleaving=true",
               f"--benchmark_min_time={a.min_time}", "--benchmark_format=console", f"--benchmark_out={raw.name}", "--benchmark_out_format=json"]
        subprocess.run(cmd, check=True, env=dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2")),
                       stdout=subprocess.DEVNULL)
        report = json.load(open(raw.name))
    runs = {}
    for b in report["benchmarks"]:
        if b.get("run_type") == "iteration":
            runs.setdefault(b["run_name"], []).append(b["GFLOP/s"])
    rows, worst = [], None
    for name in sorted(runs):
        if "/qat/" not in name or name.replace("/qat/", "/onednn/") not in runs:
            continue
        ours, bare = runs[name], runs[name.replace("/qat/", "/onednn/")]
        ratio = max(ours) / max(bare)
        worst = ratio if worst is None else min(worst, ratio)
        rows.append(f"| {name.replace('/qat/real_time', '')} | {max(ours):.1f} | {max(bare):.1f} | {ratio:.3f} | "
                    f"{statistics.median(ours):.1f} | {statistics.median(bare):.1f} |")
    ctx = report["context"]
    text = "\n".join([
        "# Op micro-benchmarks: our wrappers vs a bare oneDNN primitive",
        "",
        f"Command: `OMP_NUM_THREADS=2 scripts/op_bench_report.py --repetitions {a.repetitions}` "
        f"(runs `{' '.join(cmd[:4])}`)",
        f"Machine: {platform.processor() or platform.machine()}, {ctx.get('num_cpus')} CPUs, "
        f"date {ctx.get('date')}. Best of {a.repetitions} randomly interleaved repetitions (medians beside).",
        "",
        "| benchmark | ours GFLOP/s | bare oneDNN GFLOP/s | ours / bare | ours median | bare median |",
        "|---|---:|---:|---:|---:|---:|",
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
