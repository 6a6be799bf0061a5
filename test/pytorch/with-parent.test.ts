// gptw_torch.with_parent passes a pause on to torchrun's ranks as one SIGTERM each, however many
// SIGUSR1 it gets: a Pause and then the worker's death, or the kernel's parent-death signal sent
// again as the dying worker's threads exit one by one. A rank takes a second SIGTERM as "stop at
// once", before its checkpoint (a CI run lost the checkpoint of worker-killed.test.ts that way).
//
// A stand-in for torchrun, run by with_parent in its own process: two ranks that count SIGTERMs,
// SIGUSR1 to itself twice (a signal a process sends itself is handled before the next bytecode),
// each after the ranks answered the one before. The second SIGTERM, if sent, is pending at the
// ranks before their input closes, so their count includes it.
import fs from 'node:fs'
import path from 'node:path'
import { expect, it } from 'vitest'
import { tempDir } from '../helpers'
import { PACKAGE_DIR, describeTorch, python } from './helpers'

const RANK = `
import signal, sys
terms = 0
def on_term(signum, frame):
    global terms
    terms += 1
    print("term", flush=True)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
sys.stdin.read()
print(f"SIGTERMs {terms}", flush=True)
`

const LAUNCHER = `
import os, signal, subprocess, sys
ranks = [subprocess.Popen([sys.executable, "-c", ${JSON.stringify(RANK)}], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(2)]
for r in ranks:
    assert r.stdout.readline() == "ready\\n"
os.kill(os.getpid(), signal.SIGUSR1)  # the app's Pause
for r in ranks:
    assert r.stdout.readline() == "term\\n"
os.kill(os.getpid(), signal.SIGUSR1)  # the worker's death, or its next thread's
for r in ranks:
    r.stdin.close()
for r in ranks:
    print(r.stdout.read().strip().replace("\\n", "; "))
    r.wait()
`

describeTorch('gptw_torch.with_parent', () => {
  it('sends each rank one SIGTERM however many pauses or parent-death signals it gets', () => {
    const dir = tempDir('gptw-with-parent-')
    fs.writeFileSync(path.join(dir, 'fake_torchrun.py'), LAUNCHER)
    const { stdout } = python(['-m', 'gptw_torch.with_parent', '-m', 'fake_torchrun'], { env: { PYTHONPATH: `${PACKAGE_DIR}:${dir}` }, timeoutMs: 60_000 })
    expect(stdout.trim().split('\n')).toEqual(['SIGTERMs 1', 'SIGTERMs 1'])
  })
})
