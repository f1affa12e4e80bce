#!/usr/bin/env bash
# Gets the charts ready for the validation tests: the chart tools (install-chart-tools.sh), then
# `helm dependency build` of the service charts (galion-lib) and of the umbrella (every chart),
# only when a chart's sources changed. Serialised with flock: jest runs test files in parallel.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/chart-tools"
mkdir -p "$CACHE"
exec 9>"$CACHE/.prepare.lock"
flock 9
bash "$ROOT/scripts/install-chart-tools.sh"
HELM="$CACHE/bin/helm"
# The service charts of services.json, as folders under charts/.
mapfile -t SERVICE_CHARTS < <(node -e 'for (const s of require(process.argv[1]).services) console.log(require("node:path").relative("charts", s.chart))' "$ROOT/services.json")
[ "${#SERVICE_CHARTS[@]}" -gt 0 ] || { echo "prepare.sh: no service read from services.json (node on PATH?)" >&2; exit 1; }
sources_hash() { # the chart sources the packaged dependencies are made of
  (cd "$ROOT/charts" && find galion-lib "${SERVICE_CHARTS[@]}" galion -type f \
    -not -path '*/charts/*' -not -path '*/tests/*' -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-40)
}
want="$(sources_hash)"
stamp="$ROOT/charts/galion/charts/.deps-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
for chart in "${SERVICE_CHARTS[@]}" galion; do
  "$HELM" dependency build "$ROOT/charts/$chart" >/dev/null
done
echo "$want" >"$stamp"
