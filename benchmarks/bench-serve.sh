#!/usr/bin/env bash
# The serving results of docs/benchmarks.md: `kvasir bench serve` against Kvasir servers over one model.
#   benchmarks/bench-serve.sh KVASIR MODEL.gguf S|M OUTDIR
# KVASIR is the kvasir executable (dotnet build src/Kvasir.Cli -c Release). Preset S suits the SmolLM2-135M
# shape, M the Qwen2.5-0.5B shape (smaller workloads: it runs about three times slower). Runs, in order:
#   1. shared prefix, prefix caching on (A) vs off (B), alternating, one process: all requests at once, then
#      a closed loop of 4 in flight (there TTFT is the prefill a request needs, not the queue in front of it)
#   2. multi-turn, caching on vs off (closed loop, one request in flight per conversation)
#   3. closed-loop concurrency sweep 1, 4, 16, 32 (caching on)
#   4. BurstGPT-shaped replay (benchmarks/traces/burstgpt-synthetic.csv) at a rate the machine carries and at
#      twice it, against a server whose waiting queue is bounded (--max-waiting 8), so overload gives 429s.
set -euo pipefail
kvasir=$1; model=$2; preset=$3; out=$4
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
case $preset in
  S) sp="--sp-num-groups 4 --sp-prompts-per-group 6 --sp-system-prompt-len 768 --sp-question-len 48 --sp-output-len 24"
     mt="--num-prompts 32 --mt-turns 4 --mt-user-len 64 --mt-output-len 32"; mtc=8
     sweep="--random-input-len 128 --random-output-len 64"
     burst="--num-prompts 120"; scale=1.5 ;;
  M) sp="--sp-num-groups 4 --sp-prompts-per-group 4 --sp-system-prompt-len 512 --sp-question-len 32 --sp-output-len 16"
     mt="--num-prompts 16 --mt-turns 4 --mt-user-len 48 --mt-output-len 16"; mtc=4
     sweep="--random-input-len 64 --random-output-len 32"
     burst="--num-prompts 60 --max-input-len 256 --max-output-len 48"; scale=3 ;;
  *) echo "preset must be S or M" >&2; exit 2 ;;
esac

pids=()
serve() { "$kvasir" serve --model "$model" --served-model-name bench --kv-cache-memory 1G --max-model-len 2048 "$@" > "$out/serve-$2.log" 2>&1 & pids+=($!); }
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
serve --port 8101
serve --port 8102 --no-prefix-caching
serve --port 8103 --max-waiting 8
for port in 8101 8102 8103; do
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.5; done
done

bench() { "$kvasir" bench serve --save-detailed "$@"; }
A=http://127.0.0.1:8101; B=http://127.0.0.1:8102; C=http://127.0.0.1:8103

echo "# shared prefix, caching on (A) vs off (B)"
bench --compare $A $B --warmup 1 --seed 0 --dataset shared-prefix $sp --result-file "$out/shared-prefix.json" --plot-dir "$out/plots-shared-prefix" | tee "$out/shared-prefix.md"
echo "# shared prefix, 4 in flight, caching on (A) vs off (B)"
bench --compare $A $B --warmup 1 --seed 1 --dataset shared-prefix $sp --max-concurrency 4 --result-file "$out/shared-prefix-c4.json" | tee "$out/shared-prefix-c4.md"

echo "# multi-turn, caching on (A) vs off (B)"
bench --compare $A $B --warmup 1 --seed 2 --dataset multi-turn $mt --max-concurrency $mtc --result-file "$out/multi-turn.json" | tee "$out/multi-turn.md"

for c in 1 4 16 32; do
  n=$(( c < 4 ? 4 : 2 * c ))
  echo "# closed loop, concurrency $c"
  bench --base-url $A --warmup 1 --seed $((20 + c)) --dataset random $sweep --num-prompts $n --max-concurrency $c --result-file "$out/concurrency-$c.json" | tee "$out/concurrency-$c.md"
done

# Each replay uses its own seed: the prompt words depend on it, so the second run does not hit the cache the first filled.
half=$(python3 -c "print($scale / 2)")
seed=10
for s in $scale $half; do
  seed=$((seed + 1))
  echo "# BurstGPT replay, time scale $s"
  bench --base-url $C --seed $seed --warmup 8 --dataset burstgpt --dataset-path "$here/traces/burstgpt-synthetic.csv" $burst --time-scale $s \
    --goodput ttft:2000 tpot:200 --result-file "$out/burstgpt-$s.json" | tee "$out/burstgpt-$s.md"
done
