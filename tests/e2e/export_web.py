#!/usr/bin/python3
"""`spinesim export-web` end to end in headless Chromium.

Runs 0.5 ms of scenes/single_quantum.pbtxt (frames every 0.1 ms), exports it, opens
the HTML from a file:// URL (no network: the viewer is inside the file) at the first
and the last frame (#frame=K drives the same code as the slider), and checks that
  * the page reports the frame drawn and no error (uncaught exceptions and
    console.error calls are collected by the page; Chromium's console log must be
    empty too);
  * the screenshot shows the PSD (its palette colour, dark red) and molecules
    (AMPARs at t = 0, glutamate at 0.5 ms, in their palette colours);
  * the two frames give different images, where the molecules are;
  * unticking a species' check box (#hide=NAME) removes its pixels;
  * play (#play) steps through the frames;
that --stride keeps every K-th frame and the last, and that a missing run
directory, a corrupt frame file and a run over --max-points
are refused with messages naming the file or the flag.
Exit 77 (ctest SKIP_RETURN_CODE) only when no Chromium is installed.
Usage: export_web.py SPINESIM SOURCE_DIR WORK_DIR
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

SPINESIM, SOURCE_DIR, WORK_DIR = sys.argv[1:4]
WIDTH, HEIGHT = 1000, 700


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def run(args, expect_rc=0):
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if p.returncode != expect_rc:
        fail(f"{' '.join(args)} exited {p.returncode}, expected {expect_rc}:\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
if browser is None:
    print("SKIP: no chromium on PATH (Debian: apt-get install chromium, as tools/install-deps does)")
    sys.exit(77)

shutil.rmtree(WORK_DIR, ignore_errors=True)
os.makedirs(WORK_DIR)
run_dir = os.path.join(WORK_DIR, "run")
html = os.path.join(WORK_DIR, "view.html")
run([SPINESIM, "run", os.path.join(SOURCE_DIR, "scenes/single_quantum.pbtxt"), "--out", run_dir,
     "--t-end", "0.0005", "--quiet"])
out = run([SPINESIM, "export-web", run_dir, "-o", html])
if "6 of 6 frames" not in out:
    fail(f"expected all 6 frames (t = 0 ... 0.5 ms) to be exported: {out}")
page = open(html, encoding="utf-8").read()
if re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page):
    fail("the page refers to a network resource; it must be self-contained")


def chromium(url, *mode):
    """Runs headless Chromium on `url`, returning (stdout, console lines)."""
    profile = os.path.join(WORK_DIR, "profile")
    p = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
         "--ignore-gpu-blocklist", f"--user-data-dir={profile}", "--no-first-run", "--disable-extensions",
         "--enable-logging=stderr", "--v=0", f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars",
         "--virtual-time-budget=20000", *mode, url],
        capture_output=True, text=True, timeout=180, cwd=WORK_DIR)
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
    if p.returncode != 0:
        fail(f"chromium exited {p.returncode} on {url}:\n{p.stderr[-3000:]}")
    return p.stdout, console


def open_frame(k, name):
    url = "file://" + os.path.abspath(html) + f"#frame={k}"
    dom, console = chromium(url, "--dump-dom")
    if console:
        fail(f"console output at frame {k}:\n" + "\n".join(console))
    status = re.search(r'<span id="status"([^>]*)>([^<]*)<', dom)
    if not status:
        fail(f"no status element in the page at frame {k}")
    attrs, text = status.groups()
    if 'data-errors' in attrs or text.strip():
        fail(f"the page reported errors at frame {k}: {attrs} {text}")
    if 'data-state="ready"' not in attrs:
        fail(f"the viewer did not finish drawing frame {k}: {attrs}")
    frame = re.search(r'data-frame="(\d+)"', attrs)
    molecules = int(re.search(r'data-molecules="(\d+)"', attrs).group(1))
    png = os.path.join(WORK_DIR, name)
    _, console = chromium(url, f"--screenshot={png}")
    if console:
        fail(f"console output at frame {k}:\n" + "\n".join(console))
    return int(frame.group(1)), molecules, np.asarray(Image.open(png).convert("RGB")).astype(int)


def near(img, rgb, tolerance):
    """Pixels within `tolerance` (per channel, 0-255) of a palette colour scaled by
    any lighting factor in [0.55, 1.1]: the shaded colour of a lit surface."""
    rgb = np.asarray(rgb, dtype=float) * 255
    best = np.full(img.shape[:2], 1e9)
    for shade in np.linspace(0.55, 1.1, 12):
        best = np.minimum(best, np.abs(img - np.clip(rgb * shade, 0, 255)).max(axis=2))
    return best <= tolerance


first_frame, first_n, first = open_frame(0, "frame_first.png")
last_frame, last_n, last = open_frame(-1, "frame_last.png")
if (first_frame, last_frame) != (0, 5):
    fail(f"#frame=0 and #frame=-1 drew frames {first_frame} and {last_frame}; expected 0 and 5")
if first.shape != (HEIGHT, WIDTH, 3):
    fail(f"screenshot is {first.shape}, expected {HEIGHT}x{WIDTH}")
# Palette colours (viz/palette.cpp): psd (0.800, 0.080, 0.080); glutamate (0.122,
# 0.467, 0.706); AMPAR (0.580, 0.404, 0.741), also the colour of its first closed
# state C0. At t = 0 only the receptors are there; by 0.5 ms the released glutamate.
# Shaded membrane seen through other membrane can come near a molecule colour, so
# the molecules are the pixels of their colour that go away when their species'
# check box is unticked (#hide=NAME does what a click does).
PSD, GLUTAMATE, AMPAR = (0.800, 0.080, 0.080), (0.122, 0.467, 0.706), (0.580, 0.404, 0.741)
view = (slice(0, HEIGHT - 60), slice(0, WIDTH - 230))  # the 3D view, without controls and legend
for name, k, img, n, species, rgb in (("first", 0, first, first_n, "AMPAR", AMPAR),
                                      ("last", -1, last, last_n, "glutamate", GLUTAMATE)):
    _, hidden_n, hidden = open_frame(f"{k}&hide={species}", f"frame_{name}_without_{species}.png")
    psd = near(img[view], PSD, 25).sum()
    shown = near(img[view], rgb, 25).sum()
    without = near(hidden[view], rgb, 25).sum()
    print(f"{name} frame: {psd} PSD-coloured pixels; {shown} of {species}'s colour, {without} with it hidden")
    if psd < 200:
        fail(f"the {name} frame shows {psd} PSD-coloured pixels; expected the PSD (at least 200)")
    # Each molecule sphere covers tens of pixels here; 1000 is well under what
    # 80 AMPARs or ~2000 glutamate molecules cover.
    if shown - without < 1000:
        fail(f"the {name} frame: {species} accounts for {shown - without} pixels; expected molecules (at least 1000)")
    if hidden_n >= n:
        fail(f"hiding {species} left {hidden_n} of {n} molecules drawn")
# #play presses the play button: in Chromium's 20 s of virtual time, 8 frames a second
# loop through the 6 frames many times (data-shown counts the frames drawn).
dom, console = chromium("file://" + os.path.abspath(html) + "#frame=0&play", "--dump-dom")
shown = re.search(r'data-shown="(\d+)"', dom)
if console or not shown or int(shown.group(1)) < 12 or "data-errors" in dom:
    fail(f"play did not step through the frames (shown: {shown and shown.group(1)}, console: {console})")
print(f"play: {shown.group(1)} frames drawn")
changed = (np.abs(first[view] - last[view]).max(axis=2) > 30).sum()
print(f"{changed} pixels differ between frame 0 and frame 5; molecules {first_n} -> {last_n}")
if changed < 100:
    fail(f"frames 0 and 5 differ in only {changed} pixels; the frame did not change the picture")

# --stride 2 keeps frames 0, 2, 4 and the last (5).
out = run([SPINESIM, "export-web", run_dir, "-o", os.path.join(WORK_DIR, "stride.html"), "--stride", "2"])
if "4 of 6 frames" not in out:
    fail(f"--stride 2 should keep frames 0, 2, 4, 5: {out}")

# Refusals name the file or the flag.
out = run([SPINESIM, "export-web", os.path.join(WORK_DIR, "nowhere"), "-o", html], expect_rc=2)
if "nowhere" not in out or "run directory" not in out:
    fail(f"missing run directory: message does not name it: {out}")
frame_file = sorted(os.listdir(os.path.join(run_dir, "frames")))[2]
with open(os.path.join(run_dir, "frames", frame_file), "r+b") as f:
    f.truncate(200)
out = run([SPINESIM, "export-web", run_dir, "-o", html], expect_rc=2)
if frame_file not in out:
    fail(f"corrupt frame: message does not name {frame_file}: {out}")
out = run([SPINESIM, "export-web", run_dir, "-o", html, "--max-points", "10"], expect_rc=2)
if "--max-points" not in out or "--stride" not in out:
    fail(f"size guard: message does not name --max-points and --stride: {out}")
print("export-web: all checks passed")
