#!/usr/bin/env bash
# Special files as inputs (issue 16): a FIFO, a directory, /dev/zero, /dev/urandom, a
# socket, an oversized file, a symbolic-link loop or a path too long, given as the
# scene, an agent file, a pathway file or a mesh, are refused at once with exit
# status 2 and a message naming the file; nothing blocks or reads gigabytes (every
# command runs under `timeout`, so a hang fails the test instead of blocking it).
# Also: internal errors (out of memory, filesystem errors on --out and resume paths)
# become messages that say what to change. Usage: special_files.sh SPINESIM SOURCE_DIR WORK_DIR
set -u
B=$1; SRC=$2; W=$3
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
LIMIT_S=10      # `timeout`: a hang fails here
QUICK_MS=3000   # and anything slower than this is a failure too (the reads are of nothing)
max_ms=0; checks=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# A scene that uses PATH as KIND.
scene_for() {  # scene_for KIND PATH OUT
  case $1 in
    scene) return ;;
    agent) printf 'geometry { spine { } }\nagent_file: "%s"\n' "$2" > "$3" ;;
    pathway) printf 'geometry { box { } }\nwell_mixed_file: "%s"\n' "$2" > "$3" ;;
    mesh) printf 'geometry { meshes { surface { file: "%s" inside: "cytosol" } } }\n' "$2" > "$3" ;;
  esac
}
# expect_refused KIND PATH PHRASE VERB...: runs VERB on a scene using PATH as KIND.
expect_refused() {
  local kind=$1 path=$2 phrase=$3; shift 3
  local scene=$path
  if [ "$kind" != scene ]; then scene=uses_$kind.pbtxt; scene_for "$kind" "$path" "$scene"; fi
  local args=() a
  for a in "$@"; do [ "$a" = SCENE ] && args+=("$scene") || args+=("$a"); done
  local t0 rc ms
  t0=$(date +%s%N)
  timeout -s KILL $LIMIT_S "$B" "${args[@]}" >out.txt 2>err.txt; rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local label="$kind = ${path:0:60} ($1)"
  [ $rc -eq 137 ] && fail "$label: still running after ${LIMIT_S} s (blocked or reading for ever)"
  [ $rc -eq 2 ] || { cat err.txt; fail "$label: exit $rc, expected 2"; }
  grep -qF -- "$phrase" err.txt || { cat err.txt; fail "$label: message lacks '$phrase'"; }
  grep -qF -- "$(basename "${path:0:200}")" err.txt || { cat err.txt; fail "$label: message does not name the file"; }
  [ $ms -lt $QUICK_MS ] || fail "$label: took $ms ms"
  [ $ms -gt $max_ms ] && max_ms=$ms
  checks=$((checks + 1))
  echo "ok: $label refused in $ms ms: $(grep -F -- "$phrase" err.txt | head -1 | cut -c1-220)"
}

# The inputs, one set per kind so each gets names of its own.
long_name=$(printf 'n%.0s' $(seq 300))
long_path=$(printf 'deep/%.0s' $(seq 900))x
for kind in scene agent pathway mesh; do
  ext=pbtxt; [ $kind = mesh ] && ext=obj
  d=$kind; mkdir -p $d
  mkfifo $d/fifo.$ext
  mkfifo $d/fifo_with_writer.$ext
  # A writer waiting on the FIFO: a reader that opened it would get data and no EOF.
  (exec 3>$d/fifo_with_writer.$ext; sleep 60) &
  pids+=($!)
  ln -s fifo.$ext $d/link_to_fifo.$ext
  mkdir $d/dir.$ext
  ln -s loop.$ext $d/loop.$ext
  if [ $kind = mesh ]; then truncate -s $(( (1 << 30) + 1 )) $d/huge.$ext
  else truncate -s $(( (16 << 20) + 1 )) $d/huge.$ext; fi
  what="$kind file"
  [ $kind = mesh ] && limit="1.0 GiB" || limit="16.0 MiB"
  for verb in validate run; do
    out=(); [ $verb = run ] && out=(--out "run_$kind" --quiet)
    expect_refused $kind $W/$d/fifo.$ext "is a FIFO (named pipe), not a regular file" $verb SCENE "${out[@]}"
    expect_refused $kind $W/$d/fifo_with_writer.$ext "is a FIFO (named pipe), not a regular file" $verb SCENE "${out[@]}"
    expect_refused $kind $W/$d/link_to_fifo.$ext "is a FIFO (named pipe)" $verb SCENE "${out[@]}"
    expect_refused $kind $W/$d/dir.$ext "is a directory, not a file; give the path of the $what itself" $verb SCENE "${out[@]}"
    expect_refused $kind /dev/zero "is a character device, not a regular file" $verb SCENE "${out[@]}"
    expect_refused $kind /dev/urandom "is a character device, not a regular file" $verb SCENE "${out[@]}"
    expect_refused $kind $W/$d/huge.$ext "over the limit of $limit for ${what}s" $verb SCENE "${out[@]}"
    expect_refused $kind $W/$d/loop.$ext "too many levels of symbolic links" $verb SCENE "${out[@]}"
    expect_refused $kind $W/$d/$long_name.$ext "the path is too long" $verb SCENE "${out[@]}"
    expect_refused $kind $W/$d/$long_path.$ext "the path is too long" $verb SCENE "${out[@]}"
    [ -e run_$kind ] && fail "$kind: a refused run created its --out directory"
  done
  if command -v python3 >/dev/null; then
    python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" $d/socket.$ext
    expect_refused $kind $W/$d/socket.$ext "is a socket, not a regular file" validate SCENE
  fi
  if [ "$(id -u)" != 0 ]; then
    echo x > $d/unreadable.$ext; chmod 000 $d/unreadable.$ext
    expect_refused $kind $W/$d/unreadable.$ext "permission denied reading the $what" validate SCENE
  fi
done
# Ensembles read the scene through the same reader.
expect_refused scene $W/scene/fifo.pbtxt "is a FIFO (named pipe)" ensemble SCENE --replicates 2 --out ens --quiet
expect_refused scene /dev/zero "is a character device" ensemble SCENE --replicates 2 --out ens --quiet

# Just under the limit is read (and then fails to parse as what it is, quickly).
head -c $(( 16 << 20 )) /dev/zero | tr '\0' ' ' > scene/at_limit.pbtxt
echo 'simulation { seeed: 1 }' >> scene/at_limit.pbtxt
truncate -s $(( 16 << 20 )) scene/at_limit.pbtxt
timeout -s KILL $LIMIT_S "$B" validate scene/at_limit.pbtxt >/dev/null 2>err.txt; rc=$?
[ $rc -eq 2 ] && ! grep -q "over the limit" err.txt || { cat err.txt; fail "a scene of exactly 16 MiB: exit $rc"; }
echo "ok: a scene of exactly 16 MiB is read: $(head -1 err.txt | cut -c1-160)"
# A symbolic link to a regular file is fine.
ln -s "$SRC/tests/e2e/scenes/determinism.pbtxt" scene/link.pbtxt
timeout -s KILL $LIMIT_S "$B" validate scene/link.pbtxt >/dev/null 2>err.txt || { cat err.txt; fail "symlink to a scene"; }
echo "ok: a symbolic link to a regular scene file is read"

# Paths of the output and run directories: a symbolic-link loop or a path too long is
# a message naming the path and the fix (exit 3), not "internal error" (exit 1).
DET="$SRC/tests/e2e/scenes/determinism.pbtxt"
ln -s outloop outloop
expect_io() {  # expect_io PHRASE PATH ARGS...
  local phrase=$1 path=$2; shift 2
  timeout -s KILL $LIMIT_S "$B" "$@" >/dev/null 2>err.txt; local rc=$?
  [ $rc -eq 3 ] && grep -qF -- "$phrase" err.txt && grep -qF -- "${path:0:100}" err.txt ||
    { cat err.txt; fail "$*: exit $rc, expected 3 and '$phrase'"; }
  grep -q "internal error" err.txt && fail "$*: reported as an internal error"
  echo "ok: $1 ${path:0:40}: $(head -1 err.txt | cut -c1-200)"
}
expect_io "too many levels of symbolic links" outloop run "$DET" --out outloop --quiet
expect_io "too many levels of symbolic links" outloop/run run "$DET" --out outloop/run --quiet
expect_io "too many levels of symbolic links" outloop resume outloop
expect_io "too long" "$long_name" run "$DET" --out "$long_name" --quiet
expect_io "too long" "$long_path" run "$DET" --out "$long_path" --quiet
expect_io "too long" "$long_name" resume "$long_name"

# Out of memory: a scene that fits the molecule limit but not a 600 MB address space.
# (Skipped under AddressSanitizer, whose shadow memory alone exceeds such a limit.)
cat > big.pbtxt <<'EOF'
simulation { dt_s: 1e-6 t_end_s: 1e-5 seed: 5 }
geometry { box { } }
species { name: "a" diffusion_um2_per_s: 1 }
placement { species: "a" count: 9000000 compartment: "box" }
output { counts_interval_s: 1e-5 frame_interval_s: 0 render_png: false }
EOF
if (ulimit -v 600000; "$B" --version >/dev/null 2>&1); then
  (ulimit -v 600000; exec timeout -s KILL 60 "$B" run big.pbtxt --out bigrun --threads 1 --quiet) >/dev/null 2>err.txt
  rc=$?
  [ $rc -eq 3 ] && grep -q "out of memory; reduce the scene" err.txt || { cat err.txt; fail "out of memory: exit $rc"; }
  [ -e bigrun/.spinesim.lock ] && fail "out of memory: lock file left"
  echo "ok: out of memory: $(cat err.txt)"
else
  echo "note: out-of-memory check skipped (spinesim does not start under ulimit -v; a sanitizer build?)"
fi
echo "all $checks special-file checks passed; slowest refusal $max_ms ms"
