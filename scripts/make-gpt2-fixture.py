#!/usr/bin/python3
"""The GPT-2 parity fixture, and the PyTorch reference that checks exported models.

    /usr/bin/python3 scripts/make-gpt2-fixture.py              # (re)writes tests/fixtures/gpt2-tiny/
    /usr/bin/python3 scripts/make-gpt2-fixture.py --check DIR  # reads {"sequences": [[ids]]} on stdin,
                                                               # prints {"logprobs": [[...]]} for DIR

transformers is not installed here, so `reference_logprobs` is a plain-PyTorch GPT-2 forward that
follows Hugging Face's GPT2LMHeadModel line by line (Conv1D weights [in, out], gelu_new, pre-LN,
tied lm_head), run in float64 so the reference is exact for the float32 weights. safetensors is not
installed either; the format is a JSON header and raw bytes, written and read by hand below.
"""
import json, math, os, struct, sys
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'tests', 'fixtures', 'gpt2-tiny')
CONFIG = dict(vocab_size=300, n_positions=64, n_embd=64, n_layer=2, n_head=4, layer_norm_epsilon=1e-5)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def reference_logprobs(w, cfg, ids):
    """log p(ids[t+1] | ids[..t]) for one sequence, exactly as HF GPT2LMHeadModel computes it."""
    T, C, H = len(ids), cfg['n_embd'], cfg['n_head']
    eps = cfg['layer_norm_epsilon']
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), w[p + '.weight'], w[p + '.bias'], eps)
    conv1d = lambda x, p: x @ w[p + '.weight'] + w[p + '.bias']
    idx = torch.tensor(ids)
    x = w['wte.weight'][idx] + w['wpe.weight'][torch.arange(T)]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg['n_layer']):
        p = f'h.{i}'
        q, k, v = conv1d(ln(x, p + '.ln_1'), p + '.attn.c_attn').split(C, dim=-1)
        heads = lambda t: t.view(T, H, C // H).transpose(0, 1)  # [H, T, hd]
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        att = torch.where(causal, att, torch.tensor(torch.finfo(att.dtype).min, dtype=att.dtype))
        y = torch.softmax(att, dim=-1) @ v
        x = x + conv1d(y.transpose(0, 1).reshape(T, C), p + '.attn.c_proj')
        h = gelu_new(conv1d(ln(x, p + '.ln_2'), p + '.mlp.c_fc'))
        x = x + conv1d(h, p + '.mlp.c_proj')
    logits = ln(x, 'ln_f') @ w['wte.weight'].T  # lm_head is tied to wte
    logp = torch.log_softmax(logits, dim=-1)
    return logp[torch.arange(T - 1), idx[1:]].tolist()


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {'__metadata__': metadata}, 0, []
    for name in sorted(tensors):
        b = tensors[name].detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(b)]}
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
        assert e['dtype'] == 'F32', f'{name}: only F32 is read here'
        a, b = e['data_offsets']
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype='<f4').reshape(e['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def load_folder(folder):
    cfg = json.load(open(os.path.join(folder, 'config.json')))
    raw = read_safetensors(os.path.join(folder, 'model.safetensors'))
    w = {k[len('transformer.'):] if k.startswith('transformer.') else k: v.double() for k, v in raw.items()}
    return w, cfg


def byte_tokens():
    """GPT-2's bytes_to_unicode: the 256 byte values as printable characters."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tiny_bpe(n_merges):
    """A byte-level BPE with a few merges learnt from one sentence, in GPT-2's vocab.json + merges.txt form."""
    b2u = byte_tokens()
    vocab = {b2u[b]: b for b in range(256)}
    text = ('the cat sat on the mat and the hat; the rat ate the oat cake at the gate. '
            'a reward model learns from human rankings, then the policy improves with proximal '
            'policy optimisation while a penalty keeps it close to the supervised reference. ') * 4
    words = [[b2u[b] for b in (' ' + w if i else w).encode()] for i, w in enumerate(text.split())]
    merges = []
    while len(merges) < n_merges:
        counts = {}
        for wd in words:
            for pair in zip(wd, wd[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        best = max(sorted(counts), key=lambda p: counts[p])
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        for wd in words:
            i = 0
            while i < len(wd) - 1:
                if (wd[i], wd[i + 1]) == best:
                    wd[i:i + 2] = [best[0] + best[1]]
                i += 1
    vocab['<|endoftext|>'] = len(vocab)
    return vocab, merges


def make_fixture():
    torch.manual_seed(1234)
    cfg = CONFIG
    C, V, P = cfg['n_embd'], cfg['vocab_size'], cfg['n_positions']
    # Larger than HF's 0.02 init so the logits are far from uniform and the parity check bites.
    rnd = lambda *s, std=0.1: torch.randn(*s) * std
    w = {'wte.weight': rnd(V, C, std=0.3), 'wpe.weight': rnd(P, C, std=0.1)}
    for i in range(cfg['n_layer']):
        p = f'h.{i}'
        for ln in ('ln_1', 'ln_2'):
            w[f'{p}.{ln}.weight'], w[f'{p}.{ln}.bias'] = 1 + rnd(C, std=0.2), rnd(C)
        for name, (din, dout) in {'attn.c_attn': (C, 3 * C), 'attn.c_proj': (C, C), 'mlp.c_fc': (C, 4 * C), 'mlp.c_proj': (4 * C, C)}.items():
            w[f'{p}.{name}.weight'], w[f'{p}.{name}.bias'] = rnd(din, dout, std=0.15), rnd(dout, std=0.05)
    w['ln_f.weight'], w['ln_f.bias'] = 1 + rnd(C, std=0.2), rnd(C)
    w = {k: v.float() for k, v in w.items()}

    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, 'model.safetensors'), {'transformer.' + k: v for k, v in w.items()}, {'format': 'pt'})
    hf_config = dict(architectures=['GPT2LMHeadModel'], model_type='gpt2', activation_function='gelu_new',
                     n_ctx=cfg['n_positions'], bos_token_id=V - 1, eos_token_id=V - 1, resid_pdrop=0.0,
                     embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True, **cfg)
    json.dump(hf_config, open(os.path.join(OUT, 'config.json'), 'w'), indent=2)
    vocab, merges = tiny_bpe(V - 257)
    assert len(vocab) == V
    json.dump(vocab, open(os.path.join(OUT, 'vocab.json'), 'w'), ensure_ascii=False)
    with open(os.path.join(OUT, 'merges.txt'), 'w') as f:
        f.write('#version: 0.2\n' + ''.join(f'{a} {b}\n' for a, b in merges))

    g = torch.Generator().manual_seed(7)
    sequences = [torch.randint(0, V, (n,), generator=g).tolist() for n in (2, 9, 33, P)]
    w64 = {k: v.double() for k, v in w.items()}
    ref = {'sequences': sequences, 'logprobs': [reference_logprobs(w64, cfg, s) for s in sequences]}
    json.dump(ref, open(os.path.join(OUT, 'reference-logprobs.json'), 'w'))
    print('wrote', os.path.normpath(OUT))


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        weights, config = load_folder(sys.argv[2])
        seqs = json.load(sys.stdin)['sequences']
        print(json.dumps({'logprobs': [reference_logprobs(weights, config, s) for s in seqs]}))
    else:
        make_fixture()
