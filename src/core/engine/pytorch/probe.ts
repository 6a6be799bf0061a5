// The PyTorch engine's interpreter: which one (the config's `python`, GPTW_PYTHON, else python3 on
// PATH) and what it sees (Python and torch versions, CUDA / NCCL, gloo, each GPU), from one short
// probe cached per interpreter. Node only: main's device list and the train worker both use it.
import { execFile } from 'node:child_process'
import type { PythonSource, PytorchReport, TorchGpu } from '../../../shared/devices'

export const PYTHON_ENV = 'GPTW_PYTHON'

/** The interpreter to run: the config's setting, else GPTW_PYTHON, else python3 on PATH. */
export function resolvePython(setting?: string, env: NodeJS.ProcessEnv = process.env): { python: string; source: PythonSource } {
  if (setting) return { python: setting, source: 'setting' }
  if (env[PYTHON_ENV]) return { python: env[PYTHON_ENV]!, source: 'GPTW_PYTHON' }
  return { python: 'python3', source: 'PATH' }
}

const SOURCE_TEXT: Record<PythonSource, string> = { setting: "the config's python key", GPTW_PYTHON: 'GPTW_PYTHON', PATH: 'python3 on PATH' }

// Prints one JSON object; an import that fails is reported, not raised, so the reply says what is missing.
const PROBE = `
import json, platform, sys
out = {"executable": sys.executable, "pythonVersion": platform.python_version()}
try:
    import numpy
    import torch
    import torch.distributed as dist
except Exception as e:
    out["problem"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out)); sys.exit(0)
out["torch"] = torch.__version__
out["cuda"] = torch.version.cuda
out["cudaAvailable"] = bool(torch.cuda.is_available())
out["gloo"] = bool(dist.is_available() and dist.is_gloo_available())
nccl = None
if out["cudaAvailable"] and dist.is_available() and dist.is_nccl_available():
    v = torch.cuda.nccl.version()
    nccl = ".".join(map(str, v)) if isinstance(v, tuple) else f"{v // 1000}.{v % 1000 // 100}.{v % 100}"
out["nccl"] = nccl
out["gpus"] = [{"index": i, "name": torch.cuda.get_device_name(i), "memoryTotalMiB": torch.cuda.get_device_properties(i).total_memory // 2**20}
               for i in range(torch.cuda.device_count())] if out["cudaAvailable"] else []
print(json.dumps(out))
`

interface ProbeOutput {
  executable?: string
  pythonVersion?: string
  problem?: string
  torch?: string
  cuda?: string | null
  cudaAvailable?: boolean
  gloo?: boolean
  nccl?: string | null
  gpus?: TorchGpu[]
}

/** Runs the probe once (no cache). Never rejects: a missing interpreter or torch is a report with `problem` set. */
export function probePytorch(python: string, source: PythonSource, timeoutMs = 60_000): Promise<PytorchReport> {
  const base: PytorchReport = {
    python,
    source,
    usable: false,
    problem: null,
    executable: null,
    pythonVersion: null,
    torch: null,
    cuda: null,
    cudaAvailable: false,
    nccl: null,
    gloo: false,
    gpus: [],
    probedAt: Date.now()
  }
  const where = `${python} (${SOURCE_TEXT[source]})`
  const fix = `Set ${PYTHON_ENV} (or the training config's python key) to a Python with torch and numpy, e.g. GPTW_PYTHON=/usr/bin/python3.`
  return new Promise((resolve) => {
    execFile(python, ['-c', PROBE], { timeout: timeoutMs, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve({ ...base, problem: `The Python interpreter ${where} was not found. ${fix}` })
      let out: ProbeOutput | null
      try {
        out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ProbeOutput
      } catch {
        out = null
      }
      if (!out) {
        const why = err ? err.message.split('\n')[0] : 'it printed no report'
        return resolve({ ...base, problem: `The Python interpreter ${where} could not be probed: ${why}${stderr.trim() ? ` (${stderr.trim().split('\n').at(-1)})` : ''}. ${fix}` })
      }
      const found = { ...base, executable: out.executable ?? null, pythonVersion: out.pythonVersion ?? null }
      if (out.problem) return resolve({ ...found, problem: `The Python interpreter ${where} (${out.executable}, Python ${out.pythonVersion}) has no usable torch / numpy: ${out.problem}. ${fix}` })
      resolve({
        ...found,
        usable: true,
        torch: out.torch ?? null,
        cuda: out.cuda ?? null,
        cudaAvailable: out.cudaAvailable ?? false,
        gloo: out.gloo ?? false,
        nccl: out.nccl ?? null,
        gpus: out.gpus ?? []
      })
    })
  })
}

const cache = new Map<string, Promise<PytorchReport>>()

/** The probe for this interpreter, run once per process and interpreter; `refresh` runs it again. */
export function pytorchReport(setting?: string, options: { refresh?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<PytorchReport> {
  const { python, source } = resolvePython(setting, options.env)
  const key = `${source}\0${python}`
  if (options.refresh || !cache.has(key)) cache.set(key, probePytorch(python, source))
  return cache.get(key)!
}
