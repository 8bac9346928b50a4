#!/usr/bin/env bash
# `model import hf:HuggingFaceTB/SmolLM2-135M-Instruct` end to end, on a machine with no route to
# huggingface.co: a stand-in Hub on 127.0.0.1 (scripts/fake-hub.ts, the Hub's API as
# `@huggingface/hub` calls it) serves a folder in SmolLM2-135M-Instruct's layout and shape —
# config.json, model.safetensors in BF16 (random weights), tokenizer.json and tokenizer_config.json
# with ChatML tokens and SmolLM2-Instruct's chat template (the tokenizer's BPE is the demo
# project's; the real one could not be fetched here). Then: the import with its progress, the
# Hugging Face cache it wrote, a second import offline with the stand-in Hub gone, and the list.
#
# usage: scripts/hub-import-demo.sh [WORKDIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$(mktemp -d)}
CLI=(node "$ROOT/bin/rlhf-lab.js")
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$WORK"
cd "$WORK"
rm -rf tok repo hf p.rlhf p.rlhf-* source.rlhf

cp "$ROOT/resources/demo/demo.rlhf" source.rlhf
"${CLI[@]}" model export source.rlhf 1 tok > /dev/null
"$PY" "$ROOT/scripts/make-random-llama.py" --shape smollm2 --instruct --dtype bf16 --tokenizer-from tok --out repo > /dev/null

"$ROOT/node_modules/.bin/tsx" "$ROOT/scripts/fake-hub.ts" HuggingFaceTB/SmolLM2-135M-Instruct=repo > hub.url &
HUB=$!
trap 'kill $HUB 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s hub.url ] && break; sleep 0.2; done
export HF_ENDPOINT=$(head -n 1 hub.url) HF_HOME="$WORK/hf"

"${CLI[@]}" init p.rlhf > /dev/null
echo "\$ rlhf-lab model import p.rlhf hf:HuggingFaceTB/SmolLM2-135M-Instruct"
"${CLI[@]}" model import p.rlhf hf:HuggingFaceTB/SmolLM2-135M-Instruct 2>&1 | tr '\r' '\n' | awk '/^ *[0-9]+% /{ if (!seen[$NF]++) { print; last = "" } else last = $0; next } { if (last) print last; last = ""; print }'
echo "\$ find \$HF_HOME/hub (the standard cache layout)"
(cd "$HF_HOME/hub" && find . -maxdepth 4 | sort | sed 's/^\.\///' | grep -v '^\.$')

kill $HUB; wait $HUB 2>/dev/null || true
echo "\$ HF_HUB_OFFLINE=1 rlhf-lab model import p.rlhf hf:HuggingFaceTB/SmolLM2-135M-Instruct --name again   (stand-in Hub stopped)"
HF_HUB_OFFLINE=1 "${CLI[@]}" model import p.rlhf hf:HuggingFaceTB/SmolLM2-135M-Instruct --name again 2>&1 | tr '\r' '\n' | awk '!/^ *[0-9]+% /'
echo "\$ rlhf-lab model list p.rlhf"
"${CLI[@]}" model list p.rlhf
