#!/usr/bin/env bash
# Replays the fault table against Tallyfy's official Python SDK (PyPI `tallyfy`, 3.x):
# installs it in a virtual environment, starts the conformance server, runs run.py, and
# writes REPORT.md and report.json.
#
#   bash tests/conformance/python/run.sh [--out DIR] [--ops mixed|all|representative]
#                                        [--only TEXT] [--real-waits]
#
# --out defaults to this folder (the committed report). Exits 0 whatever the SDK does
# (a report, not a gate), and when Python or the package registry is unavailable (it
# says "skipped: ..."); non-zero only when the kit or the runner itself breaks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
export PYTHONDONTWRITEBYTECODE=1

out="$here"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "skipped: no $python"
  exit 0
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
  echo "skipped: $("$python" --version 2>&1) is older than the SDK needs (3.9)"
  exit 0
fi

venv="${TALLYFY_PY_VENV:-$root/target/conformance/python-venv}"
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$(dirname "$venv")"
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    echo "skipped: could not create a virtual environment (is python3-venv installed?)"
    exit 0
  fi
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --retries 1 --timeout 15 'tallyfy==3.*' >"$out/.pip.log" 2>&1; then
  echo "skipped: could not install tallyfy==3.* from the package registry:"
  tail -n 3 "$out/.pip.log" | sed 's/^/  /'
  rm -f "$out/.pip.log"
  exit 0
fi
rm -f "$out/.pip.log"
echo "tallyfy $("$venv/bin/python" -c 'import tallyfy; print(tallyfy.__version__)') in $venv"

cargo build --quiet --locked -p tallyfy-fake
server="$root/target/debug/tallyfy-fake"

# The server runs the runner and stops when it ends; its exit status is the runner's.
runner="$(printf '%q ' "$venv/bin/python" "$here/run.py" --out "$out" ${args[@]+"${args[@]}"})"
"$server" conformance --run "$runner"

if [ "$out" != "$here" ] && [ ${#args[@]} -eq 0 ]; then
  if cmp -s "$out/REPORT.md" "$here/REPORT.md"; then
    echo "the committed report (tests/conformance/python/REPORT.md) is current"
  else
    echo "note: the committed report differs from this run's ($out/REPORT.md);" \
      "bash tests/conformance/python/run.sh refreshes it"
  fi
fi
