#!/usr/bin/env bash
# LoRA SFT → reward model → PPO on a random model of real shape, through the CLI, then the PPO
# adapter exported as a PEFT folder and imported back (`model import --adapter`), its log-probs
# compared with the stored checkpoint's (they must be bit-identical).
#
# usage: scripts/lora-pipeline.sh [SHAPE] [WORKDIR]     SHAPE: smollm2 (default) or smollm2-2l
# Data: a slice of the bundled demo project (64 SFT examples, 48 rankings, 64 prompts), so every
# stage takes a few steps. Each stage's peak RSS is its own process's (GNU time, when installed).
set -euo pipefail
SHAPE=${1:-smollm2}
WORK=${2:-$(mktemp -d)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=(node "$ROOT/bin/rlhf-lab.js")
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$WORK"
cd "$WORK"
P=pipeline.rlhf
rm -f "$P" "$P"-* reimport.rlhf reimport.rlhf-*

timed() { # timed NAME cmd… : the command's stdout to NAME.json, its peak RSS to NAME.rss
  local name=$1; shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$name.rss" "$@" > "$name.json"
  else
    "$@" > "$name.json"; echo '?' > "$name.rss"
  fi
}
jget() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8'));console.log($2)"; }

cp "$ROOT/resources/demo/demo.rlhf" source.rlhf
"${CLI[@]}" export source.rlhf all-sft.jsonl --as sft > /dev/null
"${CLI[@]}" export source.rlhf all-rankings.jsonl --as rankings > /dev/null
"${CLI[@]}" export source.rlhf all-prompts.jsonl --as prompts > /dev/null
head -n 64 all-sft.jsonl > sft.jsonl
head -n 48 all-rankings.jsonl > rankings.jsonl
awk '/"split":"train"/ && n++ < 64' all-prompts.jsonl > prompts.jsonl
"${CLI[@]}" init "$P" > /dev/null
"${CLI[@]}" import "$P" sft.jsonl --as sft > /dev/null
"${CLI[@]}" import "$P" rankings.jsonl --as rankings > /dev/null
"${CLI[@]}" import "$P" prompts.jsonl --as prompts > /dev/null

# The project's own tokenizer (the demo base's BPE) on a random model of the shape.
rm -rf tok model
"${CLI[@]}" model export source.rlhf 1 tok > /dev/null
"$PY" "$ROOT/scripts/make-random-llama.py" --shape "$SHAPE" --tokenizer-from tok --out model
timed import "${CLI[@]}" model import "$P" model --name "random $SHAPE" --json
BASE=$(jget import.json 'j.checkpoint ?? j.id ?? j.base')

LORA=(--lora-r 8 --lora-alpha 16 --lora-targets q_proj,v_proj)
timed sft "${CLI[@]}" train sft "$P" --from "$BASE" "${LORA[@]}" --set max_steps=4 --set batch_size=4 \
  --set max_length=96 --set warmup_steps=1 --set eval_every=4 --set eval_max_examples=8 --set sample_count=1 \
  --set sample_max_tokens=8 --json
SFT=$(jget sft.json 'j.checkpoint')
timed rm "${CLI[@]}" train rm "$P" --from "$SFT" "${LORA[@]}" --set epochs=1 --set batch_prompts=8 \
  --set warmup_steps=1 --set eval_every=4 --set norm_samples=8 --set norm_max_new_tokens=8 --json
RM=$(jget rm.json 'j.checkpoint')
timed ppo "${CLI[@]}" train ppo "$P" --from "$SFT" "${LORA[@]}" --set reward_model="$RM" --set steps=3 \
  --set batch_size=8 --set num_mini_batches=2 --set num_ppo_epochs=1 --set max_new_tokens=16 \
  --set sample_every=1 --json
PPO=$(jget ppo.json 'j.checkpoint')

# The PPO adapter leaves as a PEFT folder and comes back on its base exported as a Hugging Face
# folder: the base is the SFT model merged (a LoRA run from a LoRA checkpoint trains fresh adapters
# on its merged start, so the adapters off are exactly that start; engine/io/train-start.ts).
"${CLI[@]}" model list "$P" --json > list.json
PPO_BASE=$(jget list.json "j.checkpoints.find((c) => c.id === $PPO).adapter.base")
rm -rf adapter base-of-ppo
"${CLI[@]}" model export "$P" "$PPO" adapter > /dev/null
"${CLI[@]}" model export "$P" "$PPO_BASE" base-of-ppo > /dev/null
"${CLI[@]}" init reimport.rlhf > /dev/null
"${CLI[@]}" model import reimport.rlhf base-of-ppo --adapter adapter --json > reimport.json
BACK=$(jget reimport.json 'j.checkpoint')
TEXT="Hi, my charger delivery is late again. - Chloe"
"${CLI[@]}" logprobs "$P" --checkpoint "$PPO" --text "$TEXT" --json > lp-stored.json
"${CLI[@]}" logprobs reimport.rlhf --checkpoint "$BACK" --text "$TEXT" --json > lp-back.json
node -e "
const a=require('$WORK/lp-stored.json').logprobs, b=require('$WORK/lp-back.json').logprobs;
const same=a.length===b.length && a.every((x,i)=>Object.is(x,b[i]));
const max=Math.max(...a.map((x,i)=>Math.abs(x-b[i])));
console.log(JSON.stringify({tokens:a.length, bit_identical:same, max_abs_diff:max}));
if(!same) process.exit(1);"
"${CLI[@]}" model list "$P"
for s in import sft rm ppo; do echo "$s: peak RSS $(cat $s.rss) KB; $(head -c 400 $s.json)"; done
