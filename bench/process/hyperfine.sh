# Sourced by the process benchmarks: reading hyperfine's JSON export.
#   hyperfine_median FILE.json NAME-PREFIX   the median (s) of the command whose name starts with NAME-PREFIX
#   ratio A B                                A / B with two decimals
# shellcheck shell=bash
hyperfine_median() { sed -n "/\"command\": \"$2/,/\"median\"/p" "$1" | sed -n 's/.*"median": \([0-9.]*\).*/\1/p' | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
