#!/usr/bin/env python3
"""Writes a Hugging Face Llama folder with random weights in the shape of a named model.

Used by scripts/lora-pipeline.sh to run the LoRA SFT → RM → PPO pipeline on a model of real
size without a download. The init is transformers' (weights N(0, 0.02), norms at 1). The
tokenizer is copied from a folder exported by `rlhf-lab model export` (the project's own BPE):
`vocab_size` stays the shape's, larger than that tokenizer, as real checkpoints pad theirs.

With --instruct the folder reads like an Instruct checkpoint: the tokenizer gains ChatML's
<|im_start|> / <|im_end|> special tokens and SmolLM2-Instruct's chat template, and <|im_end|> is
EOS and padding (scripts/hub-import-demo.sh serves such a folder from a stand-in Hub).
--dtype bf16 stores the weights as bfloat16, as the published SmolLM2 checkpoints are.

usage: make-random-llama.py --shape smollm2 --tokenizer-from DIR --out DIR [--seed S] [--instruct] [--dtype f32|bf16]
"""
import argparse, json, os, shutil, struct

import torch

SHAPES = {
    # HuggingFaceTB/SmolLM2-135M's config.json (architecture fields).
    'smollm2': dict(vocab_size=49152, hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                    num_key_value_heads=3, intermediate_size=1536, max_position_embeddings=2048,
                    rope_theta=100000.0, rms_norm_eps=1e-5, tie_word_embeddings=True),
    # A two-layer twin with the same widths, for trying the script quickly.
    'smollm2-2l': dict(vocab_size=49152, hidden_size=576, num_hidden_layers=2, num_attention_heads=9,
                       num_key_value_heads=3, intermediate_size=1536, max_position_embeddings=2048,
                       rope_theta=100000.0, rms_norm_eps=1e-5, tie_word_embeddings=True),
}


# SmolLM2-135M-Instruct's chat template (ChatML with a default system turn).
SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def write_safetensors(path, tensors, dtype='f32'):
    # The safetensors layout (8-byte header length, JSON header, raw little-endian data), written
    # directly because the `safetensors` Python package is not installed on the build machine.
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        if dtype == 'bf16':
            data = t.contiguous().to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            data = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {'dtype': 'BF16' if dtype == 'bf16' else 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header).encode()
    head += b' ' * ((8 - len(head) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shape', choices=sorted(SHAPES), required=True)
    ap.add_argument('--tokenizer-from', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--instruct', action='store_true')
    ap.add_argument('--dtype', choices=['f32', 'bf16'], default='f32')
    a = ap.parse_args()
    cfg = SHAPES[a.shape]
    torch.manual_seed(a.seed)
    d, h, kv, m = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['intermediate_size']
    hd = d // h
    rnd = lambda *shape: torch.randn(*shape) * 0.02
    t = {'model.embed_tokens.weight': rnd(cfg['vocab_size'], d), 'model.norm.weight': torch.ones(d)}
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        t[p + 'input_layernorm.weight'] = torch.ones(d)
        t[p + 'post_attention_layernorm.weight'] = torch.ones(d)
        t[p + 'self_attn.q_proj.weight'] = rnd(h * hd, d)
        t[p + 'self_attn.k_proj.weight'] = rnd(kv * hd, d)
        t[p + 'self_attn.v_proj.weight'] = rnd(kv * hd, d)
        t[p + 'self_attn.o_proj.weight'] = rnd(d, h * hd)
        t[p + 'mlp.gate_proj.weight'] = rnd(m, d)
        t[p + 'mlp.up_proj.weight'] = rnd(m, d)
        t[p + 'mlp.down_proj.weight'] = rnd(d, m)
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, 'model.safetensors'), t, a.dtype)
    tok_cfg = json.load(open(os.path.join(a.tokenizer_from, 'tokenizer_config.json')))
    config = {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'hidden_act': 'silu',
              'attention_bias': False, 'mlp_bias': False, 'head_dim': hd, 'torch_dtype': 'bfloat16' if a.dtype == 'bf16' else 'float32',
              'initializer_range': 0.02, 'rope_scaling': None, **cfg}
    json.dump(config, open(os.path.join(a.out, 'config.json'), 'w'), indent=2)
    for f in ('tokenizer.json', 'tokenizer_config.json'):
        shutil.copy(os.path.join(a.tokenizer_from, f), os.path.join(a.out, f))
    if a.instruct:
        add_chatml(a.out)
        tok_cfg = json.load(open(os.path.join(a.out, 'tokenizer_config.json')))
    n = sum(x.numel() for x in t.values())
    print(json.dumps({'out': a.out, 'shape': a.shape, 'parameters': n, 'tokenizer': tok_cfg.get('eos_token')}))


def add_chatml(out):
    """<|im_start|> and <|im_end|> as special added tokens (after the largest id), the template, EOS."""
    tok_path, cfg_path = os.path.join(out, 'tokenizer.json'), os.path.join(out, 'tokenizer_config.json')
    tok = json.load(open(tok_path))
    added = tok.setdefault('added_tokens', [])
    next_id = 1 + max([*tok['model']['vocab'].values(), *(t['id'] for t in added)])
    for i, content in enumerate(['<|im_start|>', '<|im_end|>']):
        added.append({'id': next_id + i, 'content': content, 'single_word': False, 'lstrip': False,
                      'rstrip': False, 'normalized': False, 'special': True})
    json.dump(tok, open(tok_path, 'w'), ensure_ascii=False)
    cfg = json.load(open(cfg_path))
    cfg.update({'chat_template': SMOLLM2_CHAT_TEMPLATE, 'eos_token': '<|im_end|>', 'pad_token': '<|im_end|>',
                'bos_token': '<|im_start|>', 'additional_special_tokens': ['<|im_start|>', '<|im_end|>']})
    json.dump(cfg, open(cfg_path, 'w'), indent=2)


if __name__ == '__main__':
    main()
