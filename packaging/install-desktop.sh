#!/usr/bin/env bash
# Install the desktop entry, metainfo and icons for the current user (Linux).
set -euo pipefail
cd "$(dirname "$0")/.."
share=${XDG_DATA_HOME:-$HOME/.local/share}
install -Dm644 resources/desktop/io.github.nasstudio.NASStudio.desktop "$share/applications/io.github.nasstudio.NASStudio.desktop"
install -Dm644 resources/desktop/io.github.nasstudio.NASStudio.metainfo.xml "$share/metainfo/io.github.nasstudio.NASStudio.metainfo.xml"
for dir in resources/icons/hicolor/*/apps; do
  size=$(basename "$(dirname "$dir")")
  for f in "$dir"/*; do install -Dm644 "$f" "$share/icons/hicolor/$size/apps/$(basename "$f")"; done
done
command -v update-desktop-database >/dev/null && update-desktop-database "$share/applications" || true
echo "installed into $share"
