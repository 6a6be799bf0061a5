// The CLI's help comes from one table (src/main/cli/help.ts): `gptw --help` and `gptw COMMAND --help`
// print it, the README's CLI block is the same text, and an unknown option names the nearest one.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { OPTIONS as BATCH } from '../src/main/cli/batch'
import { OPTIONS as BENCH } from '../src/main/cli/bench'
import { OPTIONS as EVAL } from '../src/main/cli/eval'
import { OPTIONS as GENERATE } from '../src/main/cli/generate'
import { COMMANDS, HELP, closest, commandHelp, findCommand } from '../src/main/cli/help'
import { OPTIONS as JOBS } from '../src/main/cli/jobs'
import { OPTIONS as PREPARE } from '../src/main/cli/prepare'
import { OPTIONS as SCORE } from '../src/main/cli/score'
import { OPTIONS as SERVE } from '../src/main/cli/serve'
import { OPTIONS as SERVE_MODEL } from '../src/main/cli/serve-model'
import { OPTIONS as TOKENIZE } from '../src/main/cli/tokenize'
import { ROOT, tempDir } from './helpers'

const GPTW = path.join(ROOT, 'bin', 'gptw.js')

function gptw(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GPTW, ...args], { encoding: 'utf8', env: { ...process.env, GPTW_HOME: tempDir() }, timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('gptw help', () => {
  it("README.md's CLI block is gptw --help's output", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const block = /## The CLI\n\n```\n([\s\S]*?)\n```/.exec(readme)
    expect(block, 'README.md has a "## The CLI" section opening with a fenced block').not.toBeNull()
    expect(block![1]).toBe(HELP)
    expect(gptw('--help').stdout).toBe(HELP + '\n')
  })

  it('gptw COMMAND --help prints that command from the table, for every command', () => {
    for (const c of COMMANDS) {
      const r = gptw(c.name, '--help')
      expect(r.status, `${c.name} --help: ${r.stderr}`).toBe(0)
      expect(r.stdout).toBe(commandHelp(c) + '\n')
      for (const o of c.options) expect(r.stdout).toContain(`--${o.name}`)
      expect(HELP).toContain(`gptw ${c.usage[0]}`.slice(0, 40))
    }
    expect(gptw('help', 'train').stdout).toBe(commandHelp(findCommand('train')!) + '\n')
  }, 120_000)

  it('an unknown option names the closest valid one and exits 2', () => {
    const r = gptw('bench', '--step', '3')
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('unknown option --step; did you mean --steps?')
    const far = gptw('jobs', '--zzzzzzzz')
    expect(far.status).toBe(2)
    expect(far.stderr).toContain('unknown option --zzzzzzzz')
    expect(far.stderr).not.toContain('did you mean')
    const cmd = gptw('trian')
    expect(cmd.status).toBe(2)
    expect(cmd.stderr).toContain('did you mean train?')
  })

  it('closest() prefers prefixes and small edit distances, and gives up when nothing is near', () => {
    expect(closest('step', ['steps', 'backend'])).toBe('steps')
    expect(closest('max-new-token', ['max-new-tokens', 'temperature'])).toBe('max-new-tokens')
    expect(closest('tempreature', ['max-new-tokens', 'temperature'])).toBe('temperature')
    expect(closest('xyz', ['config', 'out', 'json'])).toBeUndefined()
  })

  it("the table lists exactly the flags each command's parseArgs accepts (internal ones aside)", () => {
    const internal: Record<string, string[]> = { bench: ['section', 'torch'] }
    // train.ts keeps its options inline (another engineer's file): read them from its parseArgs call.
    const trainSource = fs.readFileSync(path.join(ROOT, 'src', 'main', 'cli', 'train.ts'), 'utf8')
    const trainBlock = /parseArgs\(\{\s*args: argv,\s*options: \{([\s\S]*?)\n {4}\}/.exec(trainSource)
    expect(trainBlock, 'train.ts calls parseArgs with an inline options object').not.toBeNull()
    const train = Object.fromEntries([...trainBlock![1].matchAll(/'?([a-z-]+)'?: \{ type:/g)].map((m) => [m[1], {}]))
    const parsed: Record<string, object> = {
      serve: SERVE,
      jobs: JOBS,
      tokenize: TOKENIZE,
      prepare: PREPARE,
      train,
      batch: BATCH,
      score: SCORE,
      generate: GENERATE,
      eval: EVAL,
      'serve-model': SERVE_MODEL,
      bench: BENCH
    }
    expect(COMMANDS.map((c) => c.name).sort()).toEqual(Object.keys(parsed).sort())
    for (const c of COMMANDS) {
      const accepted = Object.keys(parsed[c.name]).filter((o) => !(internal[c.name] ?? []).includes(o))
      expect(c.options.map((o) => o.name).sort(), c.name).toEqual(accepted.sort())
    }
  })
})
