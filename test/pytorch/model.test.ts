// The PyTorch engine's GPT (python/gptw_torch/model.py) against the goldens tools/torch_reference.py
// computed in float64 (test/goldens/README.md): logits over the real vocabulary, the loss (padded
// columns masked out) and the gradients of ten named tensors, relative error under 1e-4 as
// test/torch-reference.test.ts holds the tfjs engine to. The model loads the committed
// Hugging Face-layout checkpoint through the engine's own loader (checkpoint.py).
import path from 'node:path'
import { expect, it } from 'vitest'
import { readSafetensors } from '../../src/core/engine/safetensors'
import { ROOT, tempDir } from '../helpers'
import { describeTorch, python, relativeError } from './helpers'

const GOLDENS = path.join(ROOT, 'test', 'goldens')
const TOLERANCE = 1e-4

// Forward and backward in the engine's float32, on the golden's batch; results written with the
// engine's safetensors writer, so the file also checks that writer against the TypeScript reader.
const SCRIPT = `
import sys, torch
from gptw_torch.checkpoint import load_checkpoint, read_safetensors, write_safetensors
from gptw_torch.model import GPT
ckpt_dir, golden_file, out, grads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
torch.set_num_threads(1)
ckpt = load_checkpoint(ckpt_dir, model_only=True)
model = GPT(ckpt.config)
model.load_state_dict(ckpt.params)
golden, _ = read_safetensors(golden_file)
x, y = golden["inputs"].long(), golden["targets"].long()
logits, loss = model(x, y)
loss.backward()
named = dict(model.named_parameters())
V = ckpt.config.vocab_size
result = {"logits": logits[..., :V], "loss": loss.reshape(1), "padded_wte_grad": named["wte.weight"].grad[V:]}
for n in grads:
    result["grad." + n] = named[n].grad
write_safetensors(out, result)
`

describeTorch('the PyTorch engine against the float64 goldens', () => {
  it('matches logits, loss and the named gradients within 1e-4, and gives the padded rows no gradient', () => {
    const golden = readSafetensors(path.join(GOLDENS, 'tiny-gpt.golden.safetensors'))
    const grads = golden.metadata.grads.split(',')
    expect(grads.length).toBe(10)
    const out = path.join(tempDir(), 'torch.safetensors')
    python(['-c', SCRIPT, path.join(GOLDENS, 'tiny-gpt-hf'), path.join(GOLDENS, 'tiny-gpt.golden.safetensors'), out, grads.join(',')])
    const got = readSafetensors(out).tensors
    expect(got.get('logits')!.shape).toEqual(golden.tensors.get('logits')!.shape)
    const errors: Record<string, number> = {
      logits: relativeError(got.get('logits')!.data, golden.tensors.get('logits')!.data),
      loss: relativeError(got.get('loss')!.data, golden.tensors.get('loss')!.data)
    }
    for (const n of grads) errors[`grad ${n}`] = relativeError(got.get(`grad.${n}`)!.data, golden.tensors.get(`grad.${n}`)!.data)
    const over = Object.entries(errors).filter(([, e]) => !(e < TOLERANCE))
    expect(over, JSON.stringify(errors)).toEqual([])
    // The vocabulary (100) is padded to 128 rows inside the model; those rows are never scored.
    const padded = got.get('padded_wte_grad')!
    expect(padded.shape).toEqual([28, 32])
    expect(padded.data.every((g) => g === 0)).toBe(true)
    console.log(`PyTorch engine vs goldens, max relative error: ${Math.max(...Object.values(errors)).toExponential(2)}`)
  })
})
