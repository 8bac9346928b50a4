#!/usr/bin/env bash
# The WebGPU backend on a real GPU machine that has Python (PyTorch + CUDA) but no Node and no
# network: `prepare` here packs everything into one folder, `run` there unpacks it and measures.
#
#   scripts/gpu-bench.sh prepare DIR      node + app + dawn.node (scripts/gpu/prepare.mjs) and the
#                                         Vulkan loader .debs (apt-get download) into DIR (< 40 MiB)
#   scripts/gpu-bench.sh run DIR OUT      on the GPU machine: Vulkan loader, NVIDIA ICD, then
#                                         1. bench gpt2 sft_step (the headline number, with a per-kernel profile)
#                                         2. demo --quick with RLHF_BACKEND=webgpu (quality gates, seconds)
#                                         3. bench gpt2 (other rows), small, tiny: PyTorch CUDA fp32/TF32/bf16 beside it
#                                         logs and JSON into OUT
#   scripts/gpu-bench.sh local DIR OUT    `run` on this machine's software adapter (SwiftShader), tiny
#                                         size only: checks the package end to end before a GPU run
set -uo pipefail
mode=${1:?usage: gpu-bench.sh prepare|run|local DIR [OUT]}
dir=$(realpath -m "${2:?DIR}")

if [ "$mode" = prepare ]; then
  set -e
  mkdir -p "$dir/debs"
  node scripts/gpu/prepare.mjs "$dir"
  # The NVIDIA Vulkan ICD needs the loader and the GL/EGL dispatch libraries (libvulkan1 alone: INCOMPATIBLE_DRIVER).
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists'
  mkdir -p /tmp/amd64-lists/partial
  apt-get $o update -qq
  (cd "$dir/debs" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
  du -sh "$dir"
  exit 0
fi

out=$(realpath -m "${3:?OUT}")
mkdir -p "$out"
work=${RLHF_GPU_WORK:-/tmp/rlhf-gpu}
rm -rf "$work" && mkdir -p "$work"
python3 - "$dir" "$work" <<'EOF'
import lzma, os, shutil, sys, tarfile
src, work = sys.argv[1], sys.argv[2]
with lzma.open(os.path.join(src, "node.xz")) as f, open(os.path.join(work, "node"), "wb") as g:
    shutil.copyfileobj(f, g)
os.chmod(os.path.join(work, "node"), 0o755)
with tarfile.open(os.path.join(src, "app.tar.xz")) as t:
    t.extractall(work)
EOF
node="$work/node"
cd "$work/app"

if [ "$mode" = run ]; then
  for f in "$dir"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
  export XDG_RUNTIME_DIR=/tmp
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/gpu.txt"
  first=(--sizes gpt2)
  rest=("--sizes gpt2 --rows reward_step,generate_b1,generate_b16,ppo_iteration" "--sizes small" "--sizes tiny")
  limits=(${RLHF_GPU_GPT2_TIMEOUT:-140} ${RLHF_GPU_SMALL_TIMEOUT:-60} ${RLHF_GPU_TINY_TIMEOUT:-50})
  # A rerun that already has the other GPT-2 rows: RLHF_GPU_SKIP_GPT2_ROWS=1.
  if [ "${RLHF_GPU_SKIP_GPT2_ROWS:-0}" = 1 ]; then rest=("${rest[@]:1}"); limits=("${limits[@]:1}"); fi
else
  # SwiftShader is ~0.1 GFLOP/s: a model smaller than tiny, two rows, and the demo only started.
  export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}
  first=(--layers 1 --heads 2 --embd 32 --ctx 16 --vocab 64 --batch 2)
  rest=("--layers 1 --heads 2 --embd 32 --ctx 16 --vocab 64 --batch 2 --rows generate_b1")
  limits=(120)
  RLHF_GPU_DEMO_TIMEOUT=${RLHF_GPU_DEMO_TIMEOUT:-30}
fi
export RLHF_PYTHON=${RLHF_PYTHON:-python3}

step() { # name, timeout seconds, command…
  local name=$1 limit=$2
  shift 2
  echo "== $name ($(date -u +%T))"
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.json" 2>"$out/$name.log"
  local rc=$?
  echo "   rc=$rc in $((SECONDS - t0)) s"
  tail -n 3 "$out/$name.log"
  # The JSON on stdout too: a run stopped at its time limit still shows every finished step.
  head -c 12000 "$out/$name.json"
  echo
}

# 1. The GPT-2-124M SFT step against PyTorch on the same GPU, and where its time goes.
RLHF_BENCH_PROFILE=1 step bench-sft "${RLHF_GPU_SFT_TIMEOUT:-120}" "$node" rlhf-lab.mjs bench --backend webgpu "${first[@]}" --rows sft_step --json
# 2. The demo pipeline on the GPU: the same quality gates as on wasm.
(cd "$work" && RLHF_BACKEND=webgpu step demo "${RLHF_GPU_DEMO_TIMEOUT:-80}" "$node" app/rlhf-lab.mjs demo --quick --out "$work/demo" --json)
# 3. The other rows, one bench per size (each writes its JSON even if a later one runs out of time).
for k in "${!rest[@]}"; do
  # shellcheck disable=SC2086 # the flags are meant to split
  step "bench-$k" "${limits[$k]}" "$node" rlhf-lab.mjs bench --backend webgpu ${rest[$k]} --json
done
"$node" -e '
  const fs = require("fs");
  for (const f of process.argv.slice(1)) {
    try {
      const r = JSON.parse(fs.readFileSync(f, "utf8"));
      console.log(`-- ${f}: backend ${r.backend} ${r.adapter ? JSON.stringify(r.adapter) : ""}`);
      for (const row of r.rows ?? []) console.log(`${row.size} ${row.name}: ${row.tokens_per_second} tok/s; PyTorch fp32 ${row.reference_tokens_per_second} (x${row.ratio}), TF32 ${row.reference_tf32_tokens_per_second}, bf16 ${row.reference_bf16_tokens_per_second}`);
      for (const p of r.profiles ?? []) console.log(`profile ${p.size}: ${p.kernels} kernels, ${p.wall_ms} ms; ` + p.by_kernel.slice(0, 12).map((k) => `${k.kernel} x${k.count} ${k.ms} ms`).join(", "));
      if (r.stages) console.log(JSON.stringify({ backend: r.backend, seconds: r.seconds, stages: r.stages, compare: r.compare }).slice(0, 1500));
    } catch (e) { console.log(`-- ${f}: ${e.message}`); }
  }' "$out"/bench-sft.json "$out"/demo.json "$out"/bench-[0-9].json
