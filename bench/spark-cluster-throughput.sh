#!/usr/bin/env bash
# spark-train's throughput on a standalone Spark cluster on 127.0.0.1 next to local[2], on the same
# data, epochs, workers and minibatches, interleaved: every round runs each contender once, so that
# a machine shared with other work slows both alike. Reports the median over rounds of each one's
# images/s in its last epoch (the first warms up the JIT and oneDNN) and the median per-round ratio.
#
#   bench/spark-cluster-throughput.sh [ROUNDS] [TRAIN_IMAGES]     (defaults: 3 rounds, 960 images)
#
# Contenders, both 2 workers of 32 images, averaging every 5 minibatches:
#   local     ./dropblock4j spark-train --master local[2]: two task threads in one JVM
#   loopback  the packaged jar submitted through Spark's SparkSubmit to Spark's own Master and two
#             one-core Workers, each a JVM of its own on 127.0.0.1 that starts its executor
#             (what LoopbackClusterIT runs, with the README's cluster options)
# docs/performance.md has the results and how to read them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
images="${2:-960}"
epochs=2
work="$(mktemp -d "${TMPDIR:-/tmp}/spark-cluster-throughput.XXXXXX")"
common=(spark-train --train-limit "$images" --test-limit 200 --epochs "$epochs" --seed 1
    --batch-size 32 --workers 2 --averaging-frequency 5)
names=(local loopback)
# shellcheck source=bench/interleaved-rounds.sh
source "$ROOT/bench/interleaved-rounds.sh"
lib="$ROOT/cli/target/lib"
opens_file="$ROOT/spark/src/main/resources/io/github/dropblock4j/spark/add-opens.args"
OPENS="$(paste -sd' ' "$opens_file")"
ONEDNN="-Dorg.bytedeco.javacpp.platform.extension=-onednn -Dorg.eclipse.deeplearning4j.helpers.disable=false"
export OMP_WAIT_POLICY=PASSIVE

"$ROOT/dropblock4j" --version >/dev/null # builds the application first, outside the timings

# A Spark installation for the master and workers: Spark's jars and the Scala, SLF4J, Commons,
# Kryo and stream jars it shares with the application.
home="$work/spark-home"
mkdir -p "$home/jars"
ln -s "$ROOT"/cli/target/spark-lib/*.jar "$home/jars/"
for jar in "$lib"/*.jar; do
    case "$(basename "$jar")" in
        scala-* | slf4j-* | commons-* | stream-* | kryo-* | minlog-* | objenesis-*) ln -s "$jar" "$home/jars/" ;;
    esac
done
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
daemon() { # LOG MAIN ARGS...
    local log="$1"
    shift
    SPARK_HOME="$home" SPARK_SCALA_VERSION=2.12 java @"$opens_file" -Xmx512m -cp "$home/jars/*" "$@" >"$log" 2>&1 &
    pids+=($!)
}
port="$(free_port)"
master="spark://127.0.0.1:$port"
daemon "$work/master.log" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port "$(free_port)"
for i in 1 2; do
    mkdir -p "$work/worker$i"
    daemon "$work/worker$i.log" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
        --memory 2g --webui-port "$(free_port)" --work-dir "$work/worker$i" "$master"
done
for ((t = 0; t < 600; t++)); do
    [[ "$(grep -c 'Registering worker' "$work/master.log" 2>/dev/null)" -ge 2 ]] && break
    sleep 0.2
done
[[ "$(grep -c 'Registering worker' "$work/master.log")" -ge 2 ]] || { cat "$work/master.log" >&2; exit 1; }

run() {
    local name="$1" out="$work/$1-$2"
    case "$name" in
        local) "$ROOT/dropblock4j" "${common[@]}" --master 'local[2]' --out "$out" >"$out.log" 2>&1 ;;
        loopback)
            java @"$opens_file" -Djava.awt.headless=true \
                -cp "$ROOT/cli/target/spark-lib/*:$lib/*" org.apache.spark.deploy.SparkSubmit \
                --master "$master" --class io.github.dropblock4j.cli.DropBlockCli \
                --jars "$(ls "$lib"/*.jar | paste -sd, -)" --executor-memory 1500m \
                --conf "spark.executor.extraJavaOptions=$OPENS $ONEDNN" \
                --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE --conf spark.cores.max=2 \
                --conf spark.scheduler.minRegisteredResourcesRatio=1.0 \
                --conf spark.scheduler.maxRegisteredResourcesWaitingTime=120s \
                "$ROOT/cli/target/dropblock4j-cli.jar" "${common[@]}" --out "$out" >"$out.log" 2>&1
            ;;
    esac || { cat "$out.log" >&2; exit 1; }
    # The last epoch's images per second, column samples_per_second of metrics.csv.
    tail -n 1 "$out/metrics.csv" | awk -F, '{print $12}'
}

echo "ResNet-20 on spark-train, $images training images, $epochs epochs, 2 workers x 32 images," \
    "$rounds rounds, $(nproc) cores; last epoch's images/s (runs in $work)"
run_rounds

echo
echo "| contender | images/s (median) | / local |"
echo "|---|---:|---:|"
for name in "${names[@]}"; do
    printf '| %s | %.1f | %.2f |\n' "$name" "$(median_rate "$name")" "$(ratios "$name" local)"
done
