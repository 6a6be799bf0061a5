// `gptw eval --config FILE` as a real process over a workspace: a seed-style config (eval.py's
// keys) evaluates a checkpoint on tasks served by the local fixture hosts, prints the results
// table and writes the JSON; the API answers the same numbers afterwards; bad configs name the
// file and field.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, ROOT, WORKERS_DIR, tempDir } from '../helpers'
import { startFixtureServer, type FixtureServer } from './fixture-server'
import { randomCheckpoint } from './random-checkpoint'

let server: FixtureServer
beforeAll(async () => {
  server = await startFixtureServer()
})
afterAll(() => server.close())

/** Runs the CLI without blocking this process (the fixture server lives here). */
function gptw(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), ...args], { env: { ...process.env, GPTW_HOME: home } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('gptw eval', () => {
  it('runs a seed-style config, prints the table and writes the results as JSON', async () => {
    const home = tempDir('gptw-eval-cli-')
    const work = tempDir('gptw-eval-cli-work-')
    const ckpt = path.join(work, 'ckpt')
    randomCheckpoint(ckpt, { seed: 9, nCtx: 64 })
    const out = path.join(work, 'results.json')
    const config = {
      model_type: 'gpt2',
      checkpoint_path: ckpt,
      task_list: 'copa,lambada,arithmetic_2da',
      num_fewshot: 0,
      no_cache: false,
      BATCH_SIZE: 2,
      output_path: out,
      bootstrapIters: 100,
      backend: 'wasm',
      sources: server.sources
    }
    fs.writeFileSync(path.join(work, 'eval.json'), JSON.stringify(config))
    const run = await gptw(['eval', '--config', path.join(work, 'eval.json')], home)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('Ignored model_type')
    expect(run.stdout).toMatch(/^\| Task \| Version \| Metric \| n-shot \| .*ckpt \| GPT-2 small \(124M\) \(published\) \|$/m)
    for (const row of [
      /\| copa \| 0 \| acc ↑ \| 0 \| \d\.\d{4} ± \d\.\d{4} \|/,
      /\| lambada \| 0 \| ppl ↓ \| 0 \| .+ \| 40\.0554 ± 1\.4787 \|/,
      /\| arithmetic_2da \| 0 \| acc ↑ \| 0 \| 0\.0000 ± 0\.0000 \|/
    ])
      expect(run.stdout).toMatch(row)
    expect(run.stderr).toContain(`Results written to ${out}`)

    const written = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      state: string
      config: { tasks: string[]; batchSize: number }
      results: { task: string; metric: string; values: Record<string, { value: number }> }[]
      job: { checkpoints: { computed: number }[] }
    }
    expect(written.state).toBe('done')
    expect(written.config).toMatchObject({ tasks: ['copa', 'lambada', 'arithmetic_2da'], batchSize: 2 })
    expect(written.results.map((r) => `${r.task} ${r.metric}`)).toEqual(['arithmetic_2da acc', 'copa acc', 'lambada acc', 'lambada ppl'])
    expect(written.job.checkpoints[0].computed).toBe(2 * 2 + 2 + 2)

    // The workspace holds what the CLI printed, for the app to show.
    const w = new Workbench({ workspaceRoot: home, workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    try {
      const reply = await w.call('evals.results', { checkpoints: [ckpt] })
      if (!reply.ok) throw new Error(reply.error.message)
      const copa = reply.value.rows.find((r) => r.task === 'copa')!
      expect(written.results.find((r) => r.task === 'copa')!.values[ckpt].value).toBe(copa.value)
      expect(w.evals.cache.count()).toBe(8)
    } finally {
      await w.close()
    }

    // A second run answers everything from the cache.
    const again = await gptw(['eval', '--config', path.join(work, 'eval.json'), '--json'], home)
    expect(again.code, again.stderr).toBe(0)
    expect((JSON.parse(again.stdout) as { job: { checkpoints: { computed: number; cached: number }[] } }).job.checkpoints[0]).toMatchObject({ computed: 0, cached: 8 })
  })

  it('names the file and the field of a bad config', async () => {
    const home = tempDir('gptw-eval-cli-')
    const work = tempDir('gptw-eval-cli-work-')
    fs.writeFileSync(path.join(work, 'bad.yaml'), 'checkpoints: [/x]\ntasks: [copa]\nnumFewshot: -1\n')
    const bad = await gptw(['eval', '--config', path.join(work, 'bad.yaml')], home)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`Config file ${path.join(work, 'bad.yaml')}: numFewshot:`)
    const missing = await gptw(['eval'], home)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('eval needs --config FILE')
  })
})
