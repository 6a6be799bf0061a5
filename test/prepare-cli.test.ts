// `gptw prepare --config FILE` as a real process: a YAML config with paths relative to it runs
// the pipeline headless and prints what each stage kept and dropped; bad configs are refused
// with the file and field named, and exit code 2.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, sotuSpeeches, tempDir } from './helpers'

function gptw(args: string[], home: string) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), ...args], { env: { ...process.env, GPTW_HOME: home }, encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('gptw prepare', () => {
  it('runs a YAML config headless, resolving paths against the config file, and resumes with --out', () => {
    const home = tempDir()
    const work = tempDir()
    const speeches = sotuSpeeches().slice(0, 12)
    fs.mkdirSync(path.join(work, 'data'))
    fs.writeFileSync(path.join(work, 'data', 'speeches.jsonl'), [...speeches, speeches[0]].map((text, i) => JSON.stringify({ text, url: `https://sotu.example/${i}` })).join('\n'))
    fs.writeFileSync(
      path.join(work, 'prepare.yaml'),
      ['name: Speeches', 'sources:', '  jsonFiles: [data/speeches.jsonl]', 'output:', '  valFraction: 0.1', 'dedupe:', '  groupJaccard: 0.8'].join('\n')
    )
    const run = gptw(['prepare', '--config', path.join(work, 'prepare.yaml')], home)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/Deduplicate\s+13\s+12\s+exact-duplicate 1/)
    expect(run.stdout).toMatch(/Wrote 12 documents to .*train_data\.json; train [\d,]+ tokens, val [\d,]+ tokens/)
    const datasets = fs.readdirSync(path.join(home, 'datasets'))
    expect(datasets).toHaveLength(1)
    expect(datasets[0]).toMatch(/^speeches-/)
    const dir = path.join(home, 'datasets', datasets[0])
    expect(fs.readFileSync(path.join(dir, 'train_data.json'), 'utf8').trim().split('\n')).toHaveLength(12)

    const again = gptw(['prepare', '--config', path.join(work, 'prepare.yaml'), '--out', dir, '--json'], home)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr.match(/reusing its output/g)).toHaveLength(7)
    expect(JSON.parse(again.stdout)).toMatchObject({ documents: 12, datasetDir: dir })
  })

  it('refuses a bad config naming the file and the field, and a missing source naming the path', () => {
    const home = tempDir()
    const work = tempDir()
    const bad = path.join(work, 'bad.json')
    fs.writeFileSync(bad, JSON.stringify({ sources: { jsonFiles: ['x.jsonl'] }, clean: { minTokens: -3 }, dedupe: { bands: 7 } }))
    const r1 = gptw(['prepare', '--config', bad], home)
    expect(r1.code).toBe(2)
    expect(r1.stderr).toContain(`Config file ${bad}`)
    expect(r1.stderr).toContain('clean.minTokens')
    expect(r1.stderr).toContain('bands (7) must divide seeds (100)')

    const missing = path.join(work, 'missing.yaml')
    fs.writeFileSync(missing, 'sources:\n  urlFiles: [lists/none.txt]\n')
    const r2 = gptw(['prepare', '--config', missing], home)
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain(`${path.join(work, 'lists', 'none.txt')} (sources.urlFiles) does not exist`)

    const r3 = gptw(['prepare'], home)
    expect(r3.code).toBe(2)
    expect(r3.stderr).toContain('prepare needs --config FILE')
  })
})
