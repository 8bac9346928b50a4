#!/usr/bin/python3
"""The Llama-family parity fixtures, and the PyTorch reference that checks exported models.

    /usr/bin/python3 scripts/make-llama-fixtures.py              # (re)writes tests/fixtures/{llama,qwen2,llama3}-tiny/
    /usr/bin/python3 scripts/make-llama-fixtures.py --check DIR  # reads {"sequences": [[ids]]} on stdin,
                                                                 # prints {"logprobs": [[...]]} for DIR

transformers is not installed here, so `reference_logprobs` is a plain-PyTorch forward that follows
transformers' LlamaForCausalLM / Qwen2ForCausalLM line by line: RMSNorm, rotary embeddings with
inv_freq and cos/sin computed in float32 exactly as LlamaRotaryEmbedding does (default and llama3
rope scaling), grouped-query attention by repeat_kv, SwiGLU MLP, tied or untied lm_head, q/k/v
(and o_proj) biases. Everything after the rotary tables runs in float64, so the reference is exact
for the stored weights. The three fixtures cover: Llama with tied embeddings and GQA (BF16
weights), Qwen2 untied with q/k/v biases, an explicit head_dim and sharded weights (F16), and
Llama-3 rope scaling with attention_bias (F32).
"""
import importlib.util, json, math, os, struct, sys
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'tests', 'fixtures')
_spec = importlib.util.spec_from_file_location('gpt2fixture', os.path.join(HERE, 'make-gpt2-fixture.py'))
gpt2fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gpt2fixture)

VOCAB = 300
FIXTURE_CONFIGS = {
    'llama-tiny': dict(model_type='llama', architectures=['LlamaForCausalLM'], hidden_size=32, intermediate_size=48,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                       rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True, attention_bias=False,
                       dtype='BF16'),
    'qwen2-tiny': dict(model_type='qwen2', architectures=['Qwen2ForCausalLM'], hidden_size=32, intermediate_size=40,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, head_dim=16,
                       max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False,
                       use_sliding_window=False, sliding_window=None, dtype='F16', shards=2),
    'llama3-tiny': dict(model_type='llama', architectures=['LlamaForCausalLM'], hidden_size=32, intermediate_size=64,
                        num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                        max_position_embeddings=128, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                        attention_bias=True,
                        rope_scaling=dict(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                          original_max_position_embeddings=64),
                        dtype='F32'),
}


def head_dim(cfg):
    return cfg.get('head_dim') or cfg['hidden_size'] // cfg['num_attention_heads']


def inv_freq(cfg):
    """LlamaRotaryEmbedding's inv_freq in float32 (rope_init_fn 'default' or 'llama3')."""
    dim, base = head_dim(cfg), cfg.get('rope_theta', 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.get('rope_scaling')
    if rs and (rs.get('rope_type') or rs.get('type')) == 'llama3':
        factor, low, high = rs['factor'], rs['low_freq_factor'], rs['high_freq_factor']
        old = rs['original_max_position_embeddings']
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def rope_tables(cfg, T):
    """cos, sin [T, hd] as LlamaRotaryEmbedding.forward computes them (float32), then float64."""
    freqs = (inv_freq(cfg)[:, None].float() @ torch.arange(T)[None, :].float()).transpose(0, 1)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().double(), emb.sin().double()


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def qwen_biases(cfg):
    return cfg['model_type'] == 'qwen2'


def forward_logits(w, cfg, ids):
    """Logits [T, V] for one sequence, as *ForCausalLM computes them (no padding)."""
    T, C = len(ids), cfg['hidden_size']
    H, KV, hd = cfg['num_attention_heads'], cfg.get('num_key_value_heads') or cfg['num_attention_heads'], head_dim(cfg)
    eps = cfg['rms_norm_eps']
    qkv_bias = qwen_biases(cfg) or cfg.get('attention_bias', False)
    o_bias = not qwen_biases(cfg) and cfg.get('attention_bias', False)

    def rms(x, name):
        var = x.pow(2).mean(-1, keepdim=True)
        return w[name] * (x * torch.rsqrt(var + eps))

    def lin(x, name, bias):
        y = x @ w[name + '.weight'].T
        return y + w[name + '.bias'] if bias else y

    idx = torch.tensor(ids)
    x = w['model.embed_tokens.weight'][idx]
    cos, sin = rope_tables(cfg, T)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        a = rms(x, p + 'input_layernorm.weight')
        q = lin(a, p + 'self_attn.q_proj', qkv_bias).view(T, H, hd).transpose(0, 1)
        k = lin(a, p + 'self_attn.k_proj', qkv_bias).view(T, KV, hd).transpose(0, 1)
        v = lin(a, p + 'self_attn.v_proj', qkv_bias).view(T, KV, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k[:, None].expand(KV, H // KV, T, hd).reshape(H, T, hd)  # repeat_kv
        v = v[:, None].expand(KV, H // KV, T, hd).reshape(H, T, hd)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = torch.where(causal, att, torch.tensor(torch.finfo(att.dtype).min, dtype=att.dtype))
        y = (torch.softmax(att, dim=-1) @ v).transpose(0, 1).reshape(T, H * hd)
        x = x + lin(y, p + 'self_attn.o_proj', o_bias)
        m = rms(x, p + 'post_attention_layernorm.weight')
        x = x + lin(torch.nn.functional.silu(lin(m, p + 'mlp.gate_proj', False)) * lin(m, p + 'mlp.up_proj', False), p + 'mlp.down_proj', False)
    x = rms(x, 'model.norm.weight')
    out = w['model.embed_tokens.weight'] if cfg.get('tie_word_embeddings', False) else w['lm_head.weight']
    return x @ out.T


def reference_logprobs(w, cfg, ids):
    logp = torch.log_softmax(forward_logits(w, cfg, ids), dim=-1)
    return logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].tolist()


def greedy(w, cfg, prompt, n):
    """Greedy continuation by full recomputation each step: tokens and their log-probs."""
    seq, tokens, logprobs = list(prompt), [], []
    for _ in range(n):
        logp = torch.log_softmax(forward_logits(w, cfg, seq)[-1], dim=-1)
        t = int(torch.argmax(logp))
        top2 = torch.topk(logp, 2).values
        assert float(top2[0] - top2[1]) > 1e-3, 'a near-tie in the greedy reference would make the float32 check flaky: change the seed'
        tokens.append(t)
        logprobs.append(float(logp[t]))
        seq.append(t)
    return {'prompt': list(prompt), 'tokens': tokens, 'logprobs': logprobs}


DTYPES = {'F32': (torch.float32, '<f4'), 'F16': (torch.float16, '<f2'), 'BF16': (torch.bfloat16, None)}


def tensor_bytes(t, dtype):
    if dtype == 'BF16':
        return t.to(torch.bfloat16).contiguous().view(torch.int16).numpy().astype('<i2').tobytes()
    torch_dtype, np_dtype = DTYPES[dtype]
    return t.to(torch_dtype).contiguous().numpy().astype(np_dtype).tobytes()


def write_safetensors(path, tensors, dtype):
    header, offset, blobs = {'__metadata__': {'format': 'pt'}}, 0, []
    for name in sorted(tensors):
        b = tensor_bytes(tensors[name], dtype)
        header[name] = {'dtype': dtype, 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def read_safetensors(path):
    import numpy as np
    data = open(path, 'rb').read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        raw = data[8 + n + a:8 + n + b]
        if e['dtype'] == 'BF16':
            t = torch.from_numpy(np.frombuffer(raw, dtype='<i2').copy()).view(torch.bfloat16)
        elif e['dtype'] == 'F16':
            t = torch.from_numpy(np.frombuffer(raw, dtype='<f2').copy())
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype='<f4').copy())
        out[name] = t.reshape(e['shape']).double()
    return out


def load_folder(folder):
    cfg = json.load(open(os.path.join(folder, 'config.json')))
    single = os.path.join(folder, 'model.safetensors')
    if os.path.exists(single):
        w = read_safetensors(single)
    else:
        index = json.load(open(os.path.join(folder, 'model.safetensors.index.json')))
        w = {}
        for shard in sorted(set(index['weight_map'].values())):
            w.update(read_safetensors(os.path.join(folder, shard)))
    return w, cfg


def random_weights(cfg, gen):
    C, I, V = cfg['hidden_size'], cfg['intermediate_size'], VOCAB
    H, KV, hd = cfg['num_attention_heads'], cfg['num_key_value_heads'], head_dim(cfg)
    qkv_bias = qwen_biases(cfg) or cfg.get('attention_bias', False)
    o_bias = not qwen_biases(cfg) and cfg.get('attention_bias', False)
    # Larger than transformers' 0.02 init so the logits are far from uniform and the parity check bites.
    rnd = lambda *s, std: torch.randn(*s, generator=gen) * std
    w = {'model.embed_tokens.weight': rnd(V, C, std=0.5)}
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        w[p + 'input_layernorm.weight'] = 1 + rnd(C, std=0.2)
        w[p + 'post_attention_layernorm.weight'] = 1 + rnd(C, std=0.2)
        for name, (dout, din) in {'self_attn.q_proj': (H * hd, C), 'self_attn.k_proj': (KV * hd, C), 'self_attn.v_proj': (KV * hd, C),
                                  'self_attn.o_proj': (C, H * hd), 'mlp.gate_proj': (I, C), 'mlp.up_proj': (I, C), 'mlp.down_proj': (C, I)}.items():
            w[p + name + '.weight'] = rnd(dout, din, std=0.25)
            if (qkv_bias and name in ('self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj')) or (o_bias and name == 'self_attn.o_proj'):
                w[p + name + '.bias'] = rnd(dout, std=0.1)
    w['model.norm.weight'] = 1 + rnd(C, std=0.2)
    if not cfg['tie_word_embeddings']:
        w['lm_head.weight'] = rnd(V, C, std=0.5)
    return w


def make_fixture(name, spec, seed):
    out = os.path.join(FIXTURES, name)
    os.makedirs(out, exist_ok=True)
    spec = dict(spec)
    dtype, shards = spec.pop('dtype'), spec.pop('shards', 1)
    cfg = dict(spec, vocab_size=VOCAB, hidden_act='silu', bos_token_id=VOCAB - 1, eos_token_id=VOCAB - 1, torch_dtype='float32')
    gen = torch.Generator().manual_seed(seed)
    w = random_weights(cfg, gen)
    # The reference sees exactly the stored values (BF16/F16 rounding included).
    stored = {k: (v.to(torch.bfloat16) if dtype == 'BF16' else v.to(torch.float16) if dtype == 'F16' else v).double() for k, v in w.items()}
    for f in os.listdir(out):
        if f.endswith('.safetensors') or f.endswith('.index.json'):
            os.remove(os.path.join(out, f))
    if shards == 1:
        write_safetensors(os.path.join(out, 'model.safetensors'), w, dtype)
    else:
        names = sorted(w)
        parts = [names[i::shards] for i in range(shards)]
        weight_map = {}
        for i, part in enumerate(parts):
            file = f'model-{i + 1:05d}-of-{shards:05d}.safetensors'
            write_safetensors(os.path.join(out, file), {n: w[n] for n in part}, dtype)
            weight_map.update({n: file for n in part})
        json.dump({'metadata': {'total_size': 0}, 'weight_map': weight_map}, open(os.path.join(out, 'model.safetensors.index.json'), 'w'), indent=2)
    json.dump(cfg, open(os.path.join(out, 'config.json'), 'w'), indent=2)
    vocab, merges = gpt2fixture.tiny_bpe(VOCAB - 257)
    json.dump(vocab, open(os.path.join(out, 'vocab.json'), 'w'), ensure_ascii=False)
    with open(os.path.join(out, 'merges.txt'), 'w') as f:
        f.write('#version: 0.2\n' + ''.join(f'{a} {b}\n' for a, b in merges))

    g = torch.Generator().manual_seed(seed + 1)
    P = cfg['max_position_embeddings']
    sequences = [torch.randint(0, VOCAB, (n,), generator=g).tolist() for n in (2, 9, 33, P)]
    prompt = torch.randint(0, VOCAB, (5,), generator=g).tolist()
    ref = {
        'sequences': sequences,
        'logprobs': [reference_logprobs(stored, cfg, s) for s in sequences],
        'greedy': greedy(stored, cfg, prompt, 24),
    }
    json.dump(ref, open(os.path.join(out, 'reference-logprobs.json'), 'w'))
    print('wrote', os.path.normpath(out))


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        weights, config = load_folder(sys.argv[2])
        seqs = json.load(sys.stdin)['sequences']
        print(json.dumps({'logprobs': [reference_logprobs(weights, config, s) for s in seqs]}))
    else:
        for i, (name, spec) in enumerate(FIXTURE_CONFIGS.items()):
            make_fixture(name, spec, 100 + i)
