#!/usr/bin/env bash
# Small files with one job: fail when a source file (tests and fixtures excepted) passes the
# budget. Usage: tools/line-budget.sh [max-lines] (default 500).
set -euo pipefail
cd "$(dirname "$0")/.."
max="${1:-500}"
over=$(git ls-files '*.ts' '*.cc' '*.cpp' '*.cu' '*.h' '*.cuh' \
  | grep -v -E '(^|/)(test|tests|fixtures)/' \
  | xargs -r wc -l | awk -v max="$max" '$2 != "total" && $1 > max {print "  " $2 " (" $1 " lines)"}')
if [ -n "$over" ]; then
  echo "files over the ${max}-line budget:"; echo "$over"; exit 1
fi
total=$(git ls-files '*.ts' '*.cc' '*.cpp' '*.cu' '*.h' '*.cuh' | xargs -r cat | wc -l)
echo "line budget ok: no source file over ${max} lines (${total} lines in all)"
