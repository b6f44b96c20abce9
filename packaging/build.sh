#!/usr/bin/env bash
# Build the wheel (dist/) and, unless --wheel-only, the PyInstaller one-folder bundle
# (dist/nas-studio/). Uses the project's .venv when present.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
"$PY" -m pip wheel --no-deps --no-build-isolation -w dist . 
echo "wheel: $(ls -1 dist/nas_studio-*.whl | tail -1)"
if [ "${1:-}" = "--wheel-only" ]; then exit 0; fi
"$PY" -m pip install -q "pyinstaller>=6.5"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/nas-studio.spec
echo "bundle: dist/nas-studio ($(du -sh dist/nas-studio | cut -f1)) in $(( $(date +%s) - start )) s"
# Smoke test: the bundled binary answers --version and opens offscreen.
QT_QPA_PLATFORM=offscreen dist/nas-studio/nas-studio --version
