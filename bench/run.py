#!/usr/bin/env python3
"""make bench: cnet beside the PyTorch peer on the five benchmark networks.

For each network, in one go and alternating so that machine drift hits both
alike, for --rounds rounds (make bench: 5) keeping each side's fastest: cnet
trains one epoch (`./cnet train CFG --epochs 1`), then the peer
(../shared/bench/peer_torch.py) in both thread settings its header names:
1 torch thread with OPENBLAS_NUM_THREADS=2, and 2 torch threads with
OPENBLAS_NUM_THREADS=1; the faster one is kept. Then cnet's test metric comes
from `./cnet eval RUN_DIR --json` on the trained weights (the run's run.cfg).

Printed per network: samples/s of each and the ratio cnet/peer; cnet's
achieved GFLOP/s (training FLOPs per sample from `cnet summary` x samples/s)
and its fraction of the sgemm ceiling measured here (build/sgemm_peak at the
network's largest layer product, 2 threads, before and after the network's
runs, the higher kept); peak RSS of each process; the
test metric of each (MSE for autoencoders, accuracy for lenet, negative ELBO
for vae) so that speed is never bought with wrong arithmetic.

With --seeds N (make bench SEEDS=N) a second table follows: the test metric
after one epoch for seeds 1..N, of cnet (--seed) and of the peer (--seed, in
its faster setting), with the mean and the spread (max - min), so that the
two can be compared within the noise of initialisation.

Usage: /usr/bin/python3 bench/run.py [--nets ae,lenet] [--rounds N] [--seeds N]
"""
import statistics
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "..", "shared", "bench", "peer_torch.py")

# net -> (cfg, metric in `cnet eval --json`, largest layer product M N K at the net's batch)
NETS = {
    "ae": ("cfg/ae.cfg", "recon_mse", (128, 512, 784)),
    "deep_ae": ("cfg/deep_ae.cfg", "recon_mse", (128, 1000, 784)),
    "lenet": ("cfg/lenet.cfg", "accuracy", (64, 1024, 3136)),
    "conv_ae": ("cfg/conv_ae.cfg", "recon_mse", (128 * 196, 32, 144)),
    "vae": ("cfg/vae.cfg", "loss", (128, 784, 400)),
}
PEER_SETTINGS = [(1, 2), (2, 1)]  # (torch threads, OPENBLAS_NUM_THREADS)


def run(cmd, env=None):
    """Run cmd; return (stdout, peak RSS in MiB of that process)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                         env=env, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{out}")
    return out, usage.ru_maxrss / 1024.0


def train_flops(cfg):
    out, _ = run(["./cnet", "summary", cfg])
    return float(re.search(r"([0-9.]+) training FLOPs/sample", out).group(1))


def cnet_epoch(name, cfg, metric, seed=None):
    run_dir = f"/tmp/cnet-bench/{name}"
    extra = ["--seed", str(seed)] if seed is not None else []
    out, rss = run(["./cnet", "train", cfg, "--epochs", "1", "--run-dir", run_dir,
                    "--set", "data.valid_fraction=0"] + extra)
    sps = float(re.findall(r"\| ([0-9.]+) samples/s", out)[-1])
    ev, _ = run(["./cnet", "eval", run_dir, "--json"])  # the run's own settings (run.cfg)
    return sps, rss, json.loads(ev)["metrics"][metric]


def peer_epoch(name, threads, blas, seed=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(blas))
    extra = ["--seed", str(seed)] if seed is not None else []
    out, _ = run(["/usr/bin/python3", PEER, "--net", name, "--threads", str(threads)] + extra,
                 env)
    line = json.loads(out.strip().splitlines()[-1])
    return line["samples_per_s"], line["peak_rss_mb"], line["test_metric"]


def ceiling(mnk):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out, _ = run(["build/sgemm_peak"] + [str(x) for x in mnk], env)
    return float(out.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds per network")
    ap.add_argument("--seeds", type=int, default=0, help="metric spread over seeds 1..N")
    args = ap.parse_args()
    rows = []
    for name in args.nets.split(","):
        cfg, metric, mnk = NETS[name]
        flops = train_flops(cfg)
        peak = ceiling(mnk)  # measured before and after the runs, the best kept:
        best_c = best_p = None  # one disturbed second must not halve the ceiling
        for _ in range(args.rounds):
            c = cnet_epoch(name, cfg, metric)
            best_c = c if not best_c or c[0] > best_c[0] else best_c
            for threads, blas in PEER_SETTINGS:
                p = peer_epoch(name, threads, blas) + (f"{threads}t/blas{blas}", (threads, blas))
                best_p = p if not best_p or p[0] > best_p[0] else best_p
        peak = max(peak, ceiling(mnk))
        gflops = flops * best_c[0] / 1e9
        rows.append((name, best_c, best_p, gflops, peak))
        print(f"{name}: cnet {best_c[0]:.0f}/s, peer {best_p[0]:.0f}/s ({best_p[3]})",
              file=sys.stderr, flush=True)
    print("| net | cnet samples/s | peer samples/s (setting) | cnet/peer | cnet GFLOP/s | "
          "sgemm ceiling GFLOP/s | fraction | RSS cnet MiB | RSS peer MiB | RSS ratio | "
          "metric cnet | metric peer |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, c, p, gflops, peak in rows:
        print(f"| {name} | {c[0]:.0f} | {p[0]:.0f} ({p[3]}) | {c[0] / p[0]:.2f} | {gflops:.1f} "
              f"| {peak:.1f} | {gflops / peak:.2f} | {c[1]:.0f} | {p[1]:.0f} | "
              f"{c[1] / p[1]:.2f} | {c[2]:.6g} | {p[2]:.6g} |")
    if args.seeds:
        seed_table(rows, args.seeds)



def spread(values):
    return (f"{' / '.join(f'{v:.6g}' for v in values)} | {statistics.mean(values):.6g} | "
            f"{max(values) - min(values):.3g}")


def seed_table(rows, seeds):
    print()
    print("| net | cnet metric, seeds 1..N | cnet mean | cnet spread | peer metric, seeds 1..N | "
          "peer mean | peer spread |")
    print("|---|---|---|---|---|---|---|")
    for name, _, best_p, *_ in rows:
        cfg, metric, _ = NETS[name]
        setting = best_p[4]  # the peer's faster (threads, blas)
        c = [cnet_epoch(name, cfg, metric, s)[2] for s in range(1, seeds + 1)]
        p = [peer_epoch(name, *setting, seed=s)[2] for s in range(1, seeds + 1)]
        print(f"| {name} | {spread(c)} | {spread(p)} |", flush=True)


if __name__ == "__main__":
    main()
