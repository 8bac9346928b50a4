#!/usr/bin/python3
"""PyTorch reference for `rlhf-lab bench`: the same GPT-2 (or Llama) and the same work as the engine rows.

Reads a JSON job from stdin: {"sizes": [{"name", "config": {vocab_size, n_positions, n_embd,
n_layer, n_head}, "batch", "seq", "gen_prompt", "gen_new", "ppo": {...}}], "rows": [...],
"seed", "gpu"} and prints one JSON object: {"torch", "threads", "device", "rows": [{"name", "size",
"tokens_per_second", "cpu_tokens_per_second", "peak_rss_mb"}]} (per wall-clock and per process-CPU
second; the peak RSS of the process since the row started: the bench runs one row per process, and
a row's peak is reset before it where Linux allows, /proc/self/clear_refs). Plain torch (no
transformers) so it runs on Debian's python3-torch.

With "gpu": true (the engine ran on a GPU) and CUDA present, every row runs on the GPU in float32
(TF32 off), then again with TF32 matmuls and with bf16 autocast: "tf32_tokens_per_second" and
"bf16_tokens_per_second" beside the float32 numbers.

Every row mirrors src-main/engine/bench/bench.ts: model structure (HF GPT-2: Conv1D weights [in,out],
pre-LN, gelu_new, tied embeddings, additive attention mask), AdamW with grad clipping 1.0,
sampling in the loop from the probabilities, and the PPO iteration of engine/train/ppo.ts
(rollout, policy/ref/value/reward forwards, 4 epochs x minibatches of policy+value updates).
A size whose config has "family": "llama" uses `Llama` below (engine/models/llama.ts: RMSNorm,
rotary embeddings, grouped-query attention, SwiGLU, tied embeddings) for the same rows.
The lora_sft_step row trains LoRA adapters (PEFT's: y = xW + (alpha/r)·x·Aᵀ·Bᵀ, A Kaiming-uniform,
B zero, rank 8, alpha 16) on c_attn (GPT-2) or q and v (Llama), the base frozen (requires_grad False),
as engine/models/lora.ts does.
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

# Where the rows run: set once in main() ("cpu", or "cuda" for a GPU engine's reference).
DEVICE = "cpu"


def lora_delta(block, name, x):
    """(alpha/r)·x·Aᵀ·Bᵀ for the adapted matrix `name` of a block, or 0 when it has no adapter."""
    ab = block.lora.get(name)
    if ab is None:
        return 0
    A, B, scale = ab
    return scale * ((x @ A.t()) @ B.t())


def add_lora(model, r, alpha, gen):
    """PEFT-style adapters on c_attn (GPT-2) or q and v (Llama); the base frozen. Returns A and B of every block."""
    for p in model.parameters():
        p.requires_grad_(False)
    targets = ["q", "v"] if isinstance(model, Llama) else ["c_attn_w"]
    params = []
    for block in model.h:
        for t in targets:
            fan_in, fan_out = getattr(block, t).shape
            A = torch.nn.Parameter((torch.rand(r, fan_in, generator=gen, device=DEVICE) * 2 - 1) / math.sqrt(fan_in))
            B = torch.nn.Parameter(torch.zeros(fan_out, r, device=DEVICE))
            block.lora[t] = (A, B, alpha / r)
            params += [A, B]
    return params


class Block(torch.nn.Module):
    def __init__(self, c, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = torch.nn.LayerNorm(c, eps=1e-5)
        self.c_attn_w = torch.nn.Parameter(torch.randn(c, 3 * c) * 0.02)
        self.c_attn_b = torch.nn.Parameter(torch.zeros(3 * c))
        self.c_proj_w = torch.nn.Parameter(torch.randn(c, c) * 0.02)
        self.c_proj_b = torch.nn.Parameter(torch.zeros(c))
        self.ln_2 = torch.nn.LayerNorm(c, eps=1e-5)
        self.fc_w = torch.nn.Parameter(torch.randn(c, 4 * c) * 0.02)
        self.fc_b = torch.nn.Parameter(torch.zeros(4 * c))
        self.proj_w = torch.nn.Parameter(torch.randn(4 * c, c) * 0.02)
        self.proj_b = torch.nn.Parameter(torch.zeros(c))
        self.lora = {}

    delta = lambda self, name, x: lora_delta(self, name, x)

    def forward(self, x, mask_add, past=None):
        B, T, C = x.shape
        H = self.n_head
        hd = C // H
        a = self.ln_1(x).view(B * T, C)
        qkv = (torch.addmm(self.c_attn_b, a, self.c_attn_w) + self.delta("c_attn_w", a)).view(B, T, 3 * C)
        q, k, v = qkv.split(C, dim=2)
        q = q.view(B, T, H, hd).transpose(1, 2)
        k = k.view(B, T, H, hd).transpose(1, 2)
        v = v.view(B, T, H, hd).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + mask_add
        y = F.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).reshape(B * T, C)
        x = x + torch.addmm(self.c_proj_b, y, self.c_proj_w).view(B, T, C)
        h = F.gelu(torch.addmm(self.fc_b, self.ln_2(x).view(B * T, C), self.fc_w), approximate="tanh")
        x = x + torch.addmm(self.proj_b, h, self.proj_w).view(B, T, C)
        return x, (k, v)


class GPT(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["n_embd"]
        self.cfg = cfg
        self.wte = torch.nn.Parameter(torch.randn(cfg["vocab_size"], c) * 0.02)
        self.wpe = torch.nn.Parameter(torch.randn(cfg["n_positions"], c) * 0.02)
        self.h = torch.nn.ModuleList([Block(c, cfg["n_head"]) for _ in range(cfg["n_layer"])])
        self.ln_f = torch.nn.LayerNorm(c, eps=1e-5)

    def hidden(self, ids, attn_mask, past=None, positions=None):
        B, T = ids.shape
        if positions is None:
            positions = (attn_mask.long().cumsum(-1) - 1).clamp(min=0)
        x = self.wte[ids] + self.wpe[positions]
        total = T if past is None else past[0][0].shape[2] + T
        causal = torch.ones(total, total, device=ids.device).tril()[total - T:]
        key_mask = attn_mask if past is None else None
        visible = causal.view(1, 1, T, total)
        if key_mask is not None:
            visible = visible * key_mask.view(B, 1, 1, total)
        mask_add = (1.0 - visible) * -1e9
        presents = []
        for i, block in enumerate(self.h):
            x, kv = block(x, mask_add, None if past is None else past[i])
            presents.append(kv)
        return self.ln_f(x), presents

    def logits(self, h):
        return h @ self.wte.t()

    def token_logprobs(self, ids, attn_mask, temperature=1.0, entropy=False):
        h, _ = self.hidden(ids, attn_mask)
        logits = self.logits(h[:, :-1]) / temperature
        logp_all = F.log_softmax(logits, dim=-1)
        logp = logp_all.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        if entropy:
            return logp, -(logp_all.exp() * logp_all).sum(-1)
        return logp


class LlamaBlock(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, self.H, self.KV, self.hd = cfg["n_embd"], cfg["n_head"], cfg["n_kv_head"], cfg["head_dim"]
        i = cfg["intermediate_size"]
        w = lambda a, b: torch.nn.Parameter(torch.randn(a, b) * 0.02)
        self.ln_1, self.ln_2 = torch.nn.Parameter(torch.ones(c)), torch.nn.Parameter(torch.ones(c))
        self.q, self.k, self.v = w(c, self.H * self.hd), w(c, self.KV * self.hd), w(c, self.KV * self.hd)
        self.o = w(self.H * self.hd, c)
        self.gate, self.up, self.down = w(c, i), w(c, i), w(i, c)
        self.lora = {}

    delta = lambda self, name, x: lora_delta(self, name, x)

    @staticmethod
    def rms(x, g):
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))

    @staticmethod
    def rope(x, cos, sin):
        half = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), -1) * sin

    def forward(self, x, mask_add, cos, sin, past=None):
        B, T, C = x.shape
        H, KV, hd = self.H, self.KV, self.hd
        a = self.rms(x, self.ln_1).view(B * T, C)
        q = (a @ self.q + self.delta("q", a)).view(B, T, H, hd).transpose(1, 2)
        k = (a @ self.k).view(B, T, KV, hd).transpose(1, 2)
        v = (a @ self.v + self.delta("v", a)).view(B, T, KV, hd).transpose(1, 2)
        q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        kr, vr = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
        att = (q @ kr.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + mask_add
        y = (F.softmax(att, dim=-1) @ vr).transpose(1, 2).reshape(B * T, H * hd)
        x = x + (y @ self.o).view(B, T, C)
        m = self.rms(x, self.ln_2).view(B * T, C)
        x = x + ((F.silu(m @ self.gate) * (m @ self.up)) @ self.down).view(B, T, C)
        return x, (k, v)


class Llama(torch.nn.Module):
    """The engine's Llama family (tied embeddings, rope_theta 10000), same interface as GPT."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = torch.nn.Parameter(torch.randn(cfg["vocab_size"], cfg["n_embd"]) * 0.02)
        self.h = torch.nn.ModuleList([LlamaBlock(cfg) for _ in range(cfg["n_layer"])])
        self.ln_f = torch.nn.Parameter(torch.ones(cfg["n_embd"]))
        hd = cfg["head_dim"]
        self.inv_freq = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2).float() / hd))

    def hidden(self, ids, attn_mask, past=None, positions=None):
        B, T = ids.shape
        if positions is None:
            positions = (attn_mask.long().cumsum(-1) - 1).clamp(min=0)
        freqs = positions.float().unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)  # [B, 1, T, hd]
        x = self.wte[ids]
        total = T if past is None else past[0][0].shape[2] + T
        visible = torch.ones(total, total).tril()[total - T:].view(1, 1, T, total)
        if past is None:
            visible = visible * attn_mask.view(B, 1, 1, total)
        mask_add = (1.0 - visible) * -1e9
        presents = []
        for i, block in enumerate(self.h):
            x, kv = block(x, mask_add, cos, sin, None if past is None else past[i])
            presents.append(kv)
        return LlamaBlock.rms(x, self.ln_f), presents

    logits = GPT.logits
    token_logprobs = GPT.token_logprobs


def Model(cfg):
    return Llama(cfg) if cfg.get("family") == "llama" else GPT(cfg)


class ScalarHead(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(c, 1) / math.sqrt(c + 1))
        self.b = torch.nn.Parameter(torch.zeros(1))

    def forward(self, h):
        B, T, C = h.shape
        return torch.addmm(self.b, h.reshape(B * T, C), self.w).view(B, T)


def adamw(params, lr):
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def step(opt, params, loss):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    return float(loss), float(norm)


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed(fn, warmup, reps):
    """(wall seconds, process CPU seconds) per call, after `warmup` untimed calls (GPU work finished)."""
    for _ in range(warmup):
        fn()
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        fn()
    sync()
    return (time.perf_counter() - t0) / reps, (time.process_time() - c0) / reps


def rate(tokens, t):
    return {"tokens_per_second": tokens / t[0], "cpu_tokens_per_second": tokens / t[1]}


def sample_rows(logits, gen):
    probs = F.softmax(logits.double(), dim=-1)
    return torch.multinomial(probs, 1, generator=gen).squeeze(-1)


@torch.no_grad()
def generate(model, prompts, new_tokens, gen, temperature=1.0):
    """KV-cache sampling: one prefill, then one token per step (fixed length, no EOS)."""
    B, P = prompts.shape
    mask = torch.ones(B, P, device=prompts.device)
    h, past = model.hidden(prompts, mask)
    logits = model.logits(h[:, -1]) / temperature
    out = []
    pos = P
    for t in range(new_tokens):
        nxt = sample_rows(logits, gen)
        out.append(nxt)
        if t == new_tokens - 1:
            break
        h, past = model.hidden(nxt.view(B, 1), None, past, torch.full((B, 1), pos, dtype=torch.long, device=prompts.device))
        pos += 1
        logits = model.logits(h[:, -1]) / temperature
    return torch.stack(out, 1)


def sft_row(size, gen, lora=False):
    cfg, B, T = size["config"], size["batch"], size["seq"]
    model = Model(cfg)
    # LoRA as the engine's lora_sft_step (engine/bench/bench-rows.ts BENCH_LORA): rank 8, alpha 16.
    params = add_lora(model, 8, 16, gen) if lora else list(model.parameters())
    opt = adamw(params, 3e-4)
    ids = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    mask = torch.ones(B, T, device=DEVICE)
    return rate(B * T, timed(lambda: step(opt, params, -model.token_logprobs(ids, mask).mean()), 2, size["reps"]))


def reward_row(size, gen):
    cfg, B, T = size["config"], size["batch"], size["seq"]
    model = Model(cfg)
    head = ScalarHead(cfg["n_embd"])
    params = list(model.parameters()) + list(head.parameters())
    opt = adamw(params, 1e-5)
    ids = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    mask = torch.ones(B, T, device=DEVICE)

    def one():
        h, _ = model.hidden(ids, mask)
        r = head(h)[:, -1]
        loss = -F.logsigmoid(r[0::2] - r[1::2]).mean()
        step(opt, params, loss)

    return rate(B * T, timed(one, 2, size["reps"]))


def generation_row(size, batch, gen):
    cfg = size["config"]
    model = Model(cfg)
    prompts = torch.randint(0, cfg["vocab_size"], (batch, size["gen_prompt"]), generator=gen)
    n = size["gen_new"]
    return rate(batch * n, timed(lambda: generate(model, prompts, n, gen), 2, size["gen_reps"]))


def ppo_row(size, gen):
    """One PPO iteration as engine/train/ppo.ts does it; tokens/s = response tokens per iteration second."""
    cfg, p = size["config"], size["ppo"]
    B, P, N = p["batch_size"], p["prompt_len"], p["max_new_tokens"]
    policy, ref, value, reward = Model(cfg), Model(cfg), Model(cfg), Model(cfg)
    vhead, rhead = ScalarHead(cfg["n_embd"]), ScalarHead(cfg["n_embd"])
    params = list(policy.parameters()) + list(value.parameters()) + list(vhead.parameters())
    opt = adamw(params, 1e-5)
    prompts = torch.randint(0, cfg["vocab_size"], (B, P), generator=gen)
    temp, mb_count, epochs = p["temperature"], p["num_mini_batches"], p["num_ppo_epochs"]

    def iteration():
        resp = generate(policy, prompts, N, gen, temp)
        ids = torch.cat([prompts, resp], 1)
        mask = torch.ones_like(ids, dtype=torch.float)
        with torch.no_grad():
            old_logp = policy.token_logprobs(ids, mask, temp)[:, -N:]
            ref_logp = ref.token_logprobs(ids, mask, temp)[:, -N:]
            old_values = vhead(value.hidden(ids, mask)[0])[:, :-1][:, -N:]
            score = rhead(reward.hidden(ids, mask)[0])[:, -1]
            kl = old_logp - ref_logp
            rewards = -0.05 * kl
            rewards[:, -1] += score
            adv = torch.zeros_like(rewards)
            last = torch.zeros(B, device=DEVICE)
            for t in reversed(range(N)):
                nv = old_values[:, t + 1] if t + 1 < N else torch.zeros(B, device=DEVICE)
                delta = rewards[:, t] + nv - old_values[:, t]
                last = delta + 0.95 * last
                adv[:, t] = last
            returns = adv + old_values
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        mb = max(1, math.ceil(B / mb_count))
        for _ in range(epochs):
            order = torch.randperm(B, generator=gen)
            for s in range(0, B, mb):
                idx = order[s:s + mb]
                logp, ent = policy.token_logprobs(ids[idx], mask[idx], temp, entropy=True)
                logp, ent = logp[:, -N:], ent[:, -N:]
                vpred = vhead(value.hidden(ids[idx], mask[idx])[0])[:, :-1][:, -N:]
                ratio = torch.exp(logp - old_logp[idx])
                a = adv[idx]
                pg = torch.max(-a * ratio, -a * ratio.clamp(0.8, 1.2)).mean()
                ov = old_values[idx]
                vclip = ov + (vpred - ov).clamp(-0.2, 0.2)
                vf = 0.5 * torch.max((vpred - returns[idx]) ** 2, (vclip - returns[idx]) ** 2).mean()
                _ = ent.mean().item(), ((logp - old_logp[idx]) ** 2).mean().item()
                step(opt, params, pg + 0.1 * vf)

    return rate(B * N, timed(iteration, 2, size["ppo_reps"]))


def gemm_row(m, k, n):
    """GFLOP/s of one [m,k] x [k,n] float32 matmul, by wall clock and by process CPU time."""
    a = torch.randn(m, k, device=DEVICE)
    b = torch.randn(k, n, device=DEVICE)
    reps = max(3, int(2e9 // (2 * m * k * n)))
    wall, cpu = timed(lambda: torch.mm(a, b), 2, reps)
    return {"shape": [m, k, n], "gflops": 2 * m * k * n / wall / 1e9, "cpu_gflops": 2 * m * k * n / cpu / 1e9}


def run_row(row, size, gen):
    if row == "sft_step":
        return sft_row(size, gen)
    if row == "lora_sft_step":
        return sft_row(size, gen, lora=True)
    if row == "reward_step":
        return reward_row(size, gen)
    if row == "generate_b1":
        return generation_row(size, 1, gen)
    if row == "generate_b16":
        return generation_row(size, 16, gen)
    if row == "ppo_iteration":
        return ppo_row(size, gen)
    raise SystemExit(f"unknown row {row}")


def reset_peak_rss():
    """Resets this process's peak RSS to its current RSS (Linux ≥ 4.0); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """VmHWM (peak RSS since the last reset) in MB, else the process's lifetime peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def main():
    global DEVICE
    job = json.load(sys.stdin)
    if job.get("gpu") and torch.cuda.is_available():
        DEVICE = "cuda"
        torch.set_default_device("cuda")
        set_tf32(False)
    torch.manual_seed(job.get("seed", 0))
    gen = torch.Generator(device=DEVICE).manual_seed(job.get("seed", 0))
    if job.get("threads"):
        torch.set_num_threads(int(job["threads"]))
    rows = []
    for size in job["sizes"]:
        for row in job["rows"]:
            reset_peak_rss()
            tps = run_row(row, size, gen)
            if DEVICE == "cuda":
                set_tf32(True)
                tps["tf32_tokens_per_second"] = run_row(row, size, gen)["tokens_per_second"]
                set_tf32(False)
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    tps["bf16_tokens_per_second"] = run_row(row, size, gen)["tokens_per_second"]
            rows.append({"name": row, "size": size["name"], **tps, "peak_rss_mb": round(peak_rss_mb())})
            print(json.dumps({"progress": rows[-1]}), file=sys.stderr, flush=True)
    gemm = [gemm_row(*shape) for shape in job.get("gemm", [])]
    device = f"cuda ({torch.cuda.get_device_name()})" if DEVICE == "cuda" else "cpu"
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": device, "rows": rows, "gemm": gemm}))


if __name__ == "__main__":
    main()
