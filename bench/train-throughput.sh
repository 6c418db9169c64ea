#!/usr/bin/env bash
# Training throughput of ResNet-20 through the application, interleaved: every round runs each
# contender once, in the same order, so that a machine shared with other work slows all of them
# alike. Reports the median over rounds of each contender's images/s in its last epoch (the first
# one warms up the JIT and oneDNN's kernels) and the median of the per-round ratios.
#
#   bench/train-throughput.sh [ROUNDS] [TRAIN_IMAGES]     (defaults: 3 rounds, 1280 images)
#
# Contenders, all on the same images, epochs and 64 images a step:
#   djl        train --framework djl (PyTorch)
#   dl4j       train --framework dl4j, oneDNN helpers on (the default)
#   dl4j-off   the same with DL4J's built-in layers (-Dorg.eclipse.deeplearning4j.helpers.disable=true)
#   dl4j-none  dl4j with no dropout (--regularizer none): what DropBlock costs
#   spark      spark-train on local[2], 2 workers x 32 images a step
# docs/performance.md has the results and how to read them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
images="${2:-1280}"
epochs=2
work="$(mktemp -d "${TMPDIR:-/tmp}/train-throughput.XXXXXX")"
common=(--train-limit "$images" --test-limit 200 --epochs "$epochs" --seed 1)
names=(djl dl4j dl4j-off dl4j-none spark)
# shellcheck source=bench/interleaved-rounds.sh
source "$ROOT/bench/interleaved-rounds.sh"

run() {
    local name="$1" out="$work/$1-$2"
    local -a args opts=()
    case "$name" in
        djl) args=(train --framework djl) ;;
        dl4j) args=(train --framework dl4j) ;;
        dl4j-off)
            args=(train --framework dl4j)
            opts=(-Dorg.eclipse.deeplearning4j.helpers.disable=true)
            ;;
        dl4j-none) args=(train --framework dl4j --regularizer none) ;;
        spark) args=(spark-train --master 'local[2]' --batch-size 32) ;;
    esac
    JAVA_OPTS="${opts[*]:-}" "$ROOT/dropblock4j" "${args[@]}" "${common[@]}" --out "$out" \
        >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
    # The last epoch's images per second, column samples_per_second of metrics.csv.
    tail -n 1 "$out/metrics.csv" | awk -F, '{print $12}'
}

"$ROOT/dropblock4j" --version >/dev/null # builds the application first, outside the timings
echo "ResNet-20, $images training images, $epochs epochs, $rounds rounds, $(nproc) cores;" \
    "last epoch's images/s (runs in $work)"
run_rounds
grep -h '^oneDNN' "$work"/*-1.log | sed 's/^/  /'

echo
echo "| contender | images/s (median) | / djl | / dl4j |"
echo "|---|---:|---:|---:|"
for name in "${names[@]}"; do
    printf '| %s | %.1f | %.2f | %.2f |\n' "$name" "$(median_rate "$name")" "$(ratios "$name" djl)" "$(ratios "$name" dl4j)"
done
echo
printf 'DropBlock cost in DL4J training: dl4j-none / dl4j = %.3f\n' "$(ratios dl4j-none dl4j)"
