#!/usr/bin/python3
"""The LoRA parity fixture: a PEFT adapter folder on the llama-tiny fixture, and its log-probs.

    /usr/bin/python3 scripts/make-lora-fixture.py    # (re)writes tests/fixtures/llama-tiny-lora/

Writes what PEFT's save_pretrained writes for a LoraConfig(r=4, lora_alpha=8, lora_dropout=0.05,
target_modules=[q_proj, v_proj, down_proj]) on tests/fixtures/llama-tiny: adapter_config.json and
adapter_model.safetensors with tensors `base_model.model.<module>.lora_A.weight` [r, in] and
`.lora_B.weight` [out, r]. B is random here (PEFT starts it at zero) so the check bites. The
reference forward is make-llama-fixtures.py's in float64 with each adapted Linear computing
x·Wᵀ + (alpha/r)·x·Aᵀ·Bᵀ, PEFT's LoRA Linear in eval mode (no dropout).
"""
import importlib.util, json, os
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'tests', 'fixtures')
_spec = importlib.util.spec_from_file_location('llamafixtures', os.path.join(HERE, 'make-llama-fixtures.py'))
llama = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(llama)

R, ALPHA, DROPOUT, TARGETS = 4, 8, 0.05, ['q_proj', 'v_proj', 'down_proj']


class LoraWeights(dict):
    """The base weights, where an adapted module's `.weight` lookup is its LoRA-updated matrix.

    forward_logits computes x @ w[name].T; with W' = W + scale·B·A that is exactly
    x·Wᵀ + scale·(x·Aᵀ)·Bᵀ in exact arithmetic (float64 here)."""

    def __init__(self, base, adapters, scale):
        super().__init__(base)
        for module, (a, b) in adapters.items():
            self[module + '.weight'] = base[module + '.weight'] + scale * (b @ a)


def main():
    base_dir = os.path.join(FIXTURES, 'llama-tiny')
    out = os.path.join(FIXTURES, 'llama-tiny-lora')
    os.makedirs(out, exist_ok=True)
    w, cfg = llama.load_folder(base_dir)
    gen = torch.Generator().manual_seed(300)
    adapters = {}
    for name in sorted(w):
        if not name.endswith('.weight') or w[name].dim() != 2:
            continue
        module = name[:-len('.weight')]
        if module.split('.')[-1] not in TARGETS:
            continue
        dout, din = w[name].shape
        adapters[module] = (torch.randn(R, din, generator=gen).double() * 0.3, torch.randn(dout, R, generator=gen).double() * 0.3)
    tensors = {}
    for module, (a, b) in adapters.items():
        tensors[f'base_model.model.{module}.lora_A.weight'] = a.float()
        tensors[f'base_model.model.{module}.lora_B.weight'] = b.float()
    llama.write_safetensors(os.path.join(out, 'adapter_model.safetensors'), tensors, 'F32')
    json.dump({
        'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': '../llama-tiny',
        'r': R, 'lora_alpha': ALPHA, 'lora_dropout': DROPOUT, 'target_modules': TARGETS,
        'bias': 'none', 'fan_in_fan_out': False, 'inference_mode': True, 'use_rslora': False,
    }, open(os.path.join(out, 'adapter_config.json'), 'w'), indent=2)
    # The reference sees the stored (float32) adapter values.
    stored = {m: (a.float().double(), b.float().double()) for m, (a, b) in adapters.items()}
    weights = LoraWeights(w, stored, ALPHA / R)
    g = torch.Generator().manual_seed(301)
    sequences = [torch.randint(0, llama.VOCAB, (n,), generator=g).tolist() for n in (9, 33)]
    json.dump({'sequences': sequences, 'logprobs': [llama.reference_logprobs(weights, cfg, s) for s in sequences]},
              open(os.path.join(out, 'reference-logprobs.json'), 'w'))
    print('wrote', os.path.normpath(out))


if __name__ == '__main__':
    main()
