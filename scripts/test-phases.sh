#!/usr/bin/env bash
# The phases of `make test`, timed: each `run` appends
# "phase<TAB>seconds<TAB>status<TAB>start<TAB>end" to FILE and exits with the phase's own
# status; `report` prints the table (make test calls it on exit, so it prints even when a
# phase failed, and the failing status stands). Phases may run at the same time, so the
# table ends with the wall-clock time from the first start to the last end, beside the
# sum of the phases.
#
#   scripts/test-phases.sh run FILE NAME COMMAND...
#   scripts/test-phases.sh report FILE
set -uo pipefail
action=${1:?run or report}
file=${2:?times file}
shift 2
case "$action" in
  run)
    name=${1:?phase name}
    shift
    start=$(date +%s.%N)
    "$@"
    status=$?
    end=$(date +%s.%N)
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" "$status" "$start" "$end" >>"$file"
    exit "$status"
    ;;
  report)
    [ -s "$file" ] || exit 0
    awk -F '\t' '
      BEGIN { print ""; print "make test: time per phase"; printf "  %-22s %9s  %s\n", "phase", "seconds", "result" }
      {
        total += $2; printf "  %-22s %9.1f  %s\n", $1, $2, ($3 == 0 ? "ok" : "FAILED (exit " $3 ")")
        if (NF >= 5) { if (first == "" || $4 < first) first = $4; if ($5 > last) last = $5 }
      }
      END {
        printf "  %-22s %9.1f\n", "total", total
        if (first != "") printf "  %-22s %9.1f\n", "wall clock", last - first
      }
    ' "$file"
    ;;
  *)
    echo "test-phases.sh: unknown action $action (run or report)" >&2
    exit 2
    ;;
esac
