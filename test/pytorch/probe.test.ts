// The PyTorch section of devices.list: the interpreter (setting, GPTW_PYTHON, else python3 on
// PATH) probed for Python, torch, CUDA / NCCL and gloo, cached per interpreter and refreshable; an
// interpreter that is missing, or has no torch, says so and names GPTW_PYTHON.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { probePytorch, resolvePython } from '../../src/core/engine/pytorch/probe'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from '../helpers'
import { PYTHON, describeTorch } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

function workbench(): Workbench {
  const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

describe('the PyTorch interpreter', () => {
  it('comes from the setting, else GPTW_PYTHON, else python3 on PATH', () => {
    expect(resolvePython('/opt/py/bin/python', { GPTW_PYTHON: '/usr/bin/python3' })).toEqual({ python: '/opt/py/bin/python', source: 'setting' })
    expect(resolvePython(undefined, { GPTW_PYTHON: '/usr/bin/python3' })).toEqual({ python: '/usr/bin/python3', source: 'GPTW_PYTHON' })
    expect(resolvePython(undefined, {})).toEqual({ python: 'python3', source: 'PATH' })
  })

  it('a missing interpreter is a report that says so and names GPTW_PYTHON', async () => {
    const r = await probePytorch('/nonexistent/python3', 'GPTW_PYTHON')
    expect(r).toMatchObject({ usable: false, torch: null, gpus: [], python: '/nonexistent/python3' })
    expect(r.problem).toMatch(/\/nonexistent\/python3 \(GPTW_PYTHON\) was not found/)
    expect(r.problem).toContain('Set GPTW_PYTHON')
  })

  it('an interpreter without torch says which one it is and what failed', async () => {
    // The same Python with -S -I (no site-packages) cannot see Debian's dist-packages torch: an interpreter that runs but has no torch,
    // as the pyenv python3 on this machine's PATH.
    const script = path.join(tempDir(), 'python-no-torch')
    fs.writeFileSync(script, `#!/bin/sh\nexec ${PYTHON} -S -I "$@"\n`, { mode: 0o755 })
    const without = await probePytorch(script, 'PATH')
    expect(without.usable).toBe(false)
    expect(without.pythonVersion).toMatch(/^3\./)
    expect(without.problem).toMatch(/python3 on PATH\).*has no usable torch \/ numpy: ModuleNotFoundError: No module named '(numpy|torch)'/)
    expect(without.problem).toContain('Set GPTW_PYTHON')
  })
})

describeTorch('devices.list: the PyTorch section', () => {
  it('probes the real interpreter once, answers from the cache, and probes again on refresh', async () => {
    const wb = workbench()
    const first = await wb.call('devices.list', { python: PYTHON })
    if (!first.ok) throw new Error(first.error.message)
    const t = first.value.pytorch
    console.log(`probe of ${PYTHON}: Python ${t.pythonVersion}, torch ${t.torch}, CUDA ${t.cudaAvailable ? t.cuda : 'no'}, NCCL ${t.nccl ?? 'no'}, gloo ${t.gloo}, ${t.gpus.length} GPU(s)`)
    expect(t).toMatchObject({ python: PYTHON, source: 'setting', usable: true, problem: null, gloo: true })
    expect(t.torch).toMatch(/^\d+\.\d+/)
    expect(t.pythonVersion).toMatch(/^3\.\d+/)
    expect(t.gpus.length > 0).toBe(t.cudaAvailable)
    expect(first.value.devices.some((d) => d.kind === 'cpu')).toBe(true)
    const cached = await wb.call('devices.list', { python: PYTHON })
    expect(cached.ok && cached.value.pytorch.probedAt).toBe(t.probedAt)
    const fresh = await wb.call('devices.list', { python: PYTHON, refresh: true })
    expect(fresh.ok && fresh.value.pytorch.probedAt).toBeGreaterThan(t.probedAt)
    expect(fresh.ok && fresh.value.pytorch.torch).toBe(t.torch)
  })

  it('a missing interpreter through the API: the ladder still answers, the PyTorch section says why not', async () => {
    const wb = workbench()
    const r = await wb.call('devices.list', { python: '/nonexistent/bin/python3' })
    if (!r.ok) throw new Error(r.error.message)
    expect(r.value.devices.length).toBeGreaterThan(0)
    expect(r.value.pytorch.usable).toBe(false)
    expect(r.value.pytorch.problem).toMatch(/was not found.*GPTW_PYTHON/)
  })
})
