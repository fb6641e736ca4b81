#!/usr/bin/env python3
"""Executes every notebook under docs/notebooks (nbclient, Debian's python3 kernel)
from the repository root and fails on the first error. Executed copies with their
figures go to the directory given as the first argument, if any.

Usage: tests/run_notebooks.py [OUTPUT_DIR]"""
import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
out_dir = sys.argv[1] if len(sys.argv) > 1 else None
notebooks = sorted(glob.glob(os.path.join(root, "docs", "notebooks", "*.ipynb")))
if not notebooks:
    sys.exit("no notebooks found under docs/notebooks")
for path in notebooks:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": root}}).execute()
    print(f"{os.path.relpath(path, root)}: {len(nb.cells)} cells ran without error in {time.perf_counter() - start:.1f} s")
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        nbformat.write(nb, os.path.join(out_dir, os.path.basename(path)))
print(f"{len(notebooks)} passed, 0 failed")
