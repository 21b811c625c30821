#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Runs the ONNX backend tests from Debian's libonnx-testdata through
`lowbit run` (import + reference interpreter) and compares every output with
the expected one at the tolerances ONNX's backend runner uses (rtol 1e-3,
atol 1e-7).

Each model ends in one of:
  passed       every output of every test data set matches
  unsupported  lowbit exited with code 3 and an "unsupported: ..." message
               (counted as skipped)
  failed       wrong values, a crash, a hang (timeout) or any other error

Prints per-op results and a closing line `N passed, N failed, N skipped`.
Exit status: 0 unless a crash/hang happened or --min-pass is not met.

  python3 scripts/onnx_conformance.py --lowbit build/bin/lowbit
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

DEFAULT_ROOT = "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]


def sanitize(name):
    """Same rule as lowbit::sanitizeName (documented in `lowbit run --help`)."""
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    if not out or out[0] in ".-":
        out = "_" + out
    return out


def run_case(lowbit, case_dir, timeout):
    """Returns (status, detail, op_types)."""
    model_path = os.path.join(case_dir, "model.onnx")
    try:
        model = onnx.load(model_path, load_external_data=False)
    except Exception as e:  # noqa: BLE001 - the file itself is bad
        return "failed", "onnx cannot load the model: %s" % e, []
    ops = sorted({(n.domain + "." if n.domain else "") + n.op_type
                  for n in model.graph.node})
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    outputs = [o.name for o in model.graph.output]
    bf16_outputs = {o.name for o in model.graph.output
                    if o.type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16}
    data_sets = sorted(glob.glob(os.path.join(case_dir, "test_data_set_*")))
    if not data_sets:
        return "failed", "no test data", ops
    for ds in data_sets:
        in_files = sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                          key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
        out_files = sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                           key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
        if len(in_files) != len(inputs):
            # Optional inputs may be omitted from the data set.
            if len(in_files) > len(inputs):
                return "failed", "more input files than graph inputs", ops
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [lowbit, "run", model_path, "-d", tmp]
            for name, path in zip(inputs, in_files):
                cmd += ["--input", "%s=%s" % (name, path)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=timeout)
            except subprocess.TimeoutExpired:
                return "failed", "hang: no result after %ds" % timeout, ops
            if proc.returncode < 0:
                return "failed", "crash: signal %d" % -proc.returncode, ops
            err = proc.stderr.strip().splitlines()
            first = err[0] if err else ""
            if proc.returncode == 3 and "unsupported" in proc.stderr:
                return "unsupported", first, ops
            if proc.returncode != 0:
                return "failed", "exit %d: %s" % (proc.returncode, first), ops
            for name, path in zip(outputs, out_files):
                t = onnx.TensorProto()
                with open(path, "rb") as f:
                    t.ParseFromString(f.read())
                expected = numpy_helper.to_array(t)
                if name in bf16_outputs and expected.dtype == np.uint16:
                    # bfloat16 test data is stored as raw 16-bit words.
                    expected = (expected.astype(np.uint32) << 16).view(np.float32)
                got_path = os.path.join(tmp, sanitize(name) + ".npy")
                if not os.path.exists(got_path):
                    return "failed", "output %s was not written" % name, ops
                got = np.load(got_path)
                if got.shape != expected.shape:
                    return "failed", "output %s: shape %s, expected %s" % (
                        name, got.shape, expected.shape), ops
                if expected.dtype.kind in "fc":
                    ok = np.allclose(got.astype(np.float64),
                                     expected.astype(np.float64),
                                     rtol=1e-3, atol=1e-7, equal_nan=True)
                else:
                    ok = np.array_equal(got.astype(expected.dtype), expected)
                if not ok:
                    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
                    return "failed", "output %s: max abs diff %.3g" % (
                        name, float(np.nanmax(diff)) if diff.size else 0.0), ops
    return "passed", "", ops


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lowbit", default="build/bin/lowbit")
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--suite", action="append", choices=SUITES,
                    help="suites to run (default: all four)")
    ap.add_argument("--filter", default="", help="regex on the test name")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--min-pass", type=int, default=0,
                    help="fail unless at least this many node tests pass")
    ap.add_argument("--json", help="write per-test results here")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    cases = []
    for suite in args.suite or SUITES:
        for d in sorted(glob.glob(os.path.join(args.root, suite, "*"))):
            if os.path.isfile(os.path.join(d, "model.onnx")) and \
                    re.search(args.filter, os.path.basename(d)):
                cases.append((suite, d))
    if not cases:
        print("no test cases under %s" % args.root)
        return 1

    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_case, args.lowbit, d, args.timeout): (s, d)
                   for s, d in cases}
        for fut in concurrent.futures.as_completed(futures):
            suite, d = futures[fut]
            results[(suite, os.path.basename(d))] = fut.result()

    per_op = collections.defaultdict(collections.Counter)
    counts = collections.Counter()
    node_counts = collections.Counter()
    crashes = []
    for (suite, name), (status, detail, ops) in sorted(results.items()):
        counts[status] += 1
        if suite == "node":
            node_counts[status] += 1
        key = ops[0] if len(ops) == 1 else ("+".join(ops[:3]) if ops else "?")
        if suite == "node":
            per_op[key][status] += 1
        if detail.startswith(("crash", "hang")):
            crashes.append((suite, name, detail))
        if args.verbose or (status == "failed" and detail.startswith(("crash", "hang"))):
            print("%-11s %s/%s %s" % (status.upper(), suite, name, detail))

    print("\nnode tests per op (passed / failed / unsupported):")
    for op in sorted(per_op):
        c = per_op[op]
        print("  %-28s %3d %3d %3d" % (op, c["passed"], c["failed"], c["unsupported"]))
    for suite in args.suite or SUITES:
        c = collections.Counter(st for (s, _), (st, _, _) in results.items() if s == suite)
        print("%-18s %4d passed, %4d failed, %4d unsupported" % (
            suite, c["passed"], c["failed"], c["unsupported"]))
    print("node: %d of %d passed" % (node_counts["passed"], sum(node_counts.values())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"%s/%s" % k: {"status": v[0], "detail": v[1], "ops": v[2]}
                       for k, v in results.items()}, f, indent=1, sort_keys=True)
    print("%d passed, %d failed, %d skipped" % (
        counts["passed"], counts["failed"], counts["unsupported"]))
    if crashes:
        print("crashes or hangs: %d" % len(crashes))
        return 1
    if node_counts["passed"] < args.min_pass:
        print("fewer than %d node tests passed" % args.min_pass)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
