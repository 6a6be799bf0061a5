// Issue 13 item 5 in the desktop app: the Electron host enforces the path policy, and a path the
// user picks in its open dialog (main/path-picker.ts) is approved for the API: a picked folder
// with everything under it, a picked file alone; a cancelled dialog approves nothing. Electron's
// dialog cannot run here (no Electron binary), so a scripted one stands in for the user's pick;
// the workbench, its policy and the API calls are the real ones.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type OpenDialogOptions, pickApprovedPath } from '../src/main/path-picker'
import type { Workbench } from '../src/main/services/workbench'
import { parsePathPickRequest } from '../src/shared/path-pick'
import { tempDir } from './helpers'
import { closeWorkbenches, openWorkbench } from './workbench-fixture'

afterAll(closeWorkbenches)

/** A dialog that answers `answer` and records what it was asked. */
function scriptedDialog(answer: string | null): { show: (o: OpenDialogOptions) => Promise<{ canceled: boolean; filePaths: string[] }>; asked: OpenDialogOptions[] } {
  const asked: OpenDialogOptions[] = []
  return {
    asked,
    show: async (options) => {
      asked.push(options)
      return answer === null ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [answer] }
    }
  }
}

async function results(wb: Workbench, checkpoint: string): Promise<string> {
  const reply = await wb.call('evals.results', { checkpoints: [checkpoint] })
  return reply.ok ? 'ok' : reply.error.code
}

describe('desktop path picks', () => {
  it('approves a picked folder and everything under it, and nothing for a cancelled dialog', async () => {
    const wb = openWorkbench(tempDir('gptw-pick-ws-'))
    wb.paths.enforce()
    const outside = tempDir('gptw-pick-out-')
    const checkpoint = path.join(outside, 'runs', '4', 'checkpoints', 'step-10')
    expect(await results(wb, checkpoint)).toBe('forbidden')

    const cancelled = scriptedDialog(null)
    expect(await pickApprovedPath({ kind: 'folder' }, cancelled.show, wb.paths)).toBeNull()
    expect(await results(wb, checkpoint)).toBe('forbidden')

    const folder = scriptedDialog(outside)
    expect(await pickApprovedPath({ kind: 'folder', title: 'Choose a checkpoint folder' }, folder.show, wb.paths)).toEqual({ path: outside })
    expect(folder.asked).toEqual([{ title: 'Choose a checkpoint folder', properties: ['openDirectory', 'createDirectory'] }])
    expect(await results(wb, checkpoint)).toBe('ok')
    expect(await results(wb, `${outside}-sibling/step-10`)).toBe('forbidden')
  })

  it('approves a picked file alone, not its neighbours', async () => {
    const wb = openWorkbench(tempDir('gptw-pick-ws-'))
    wb.paths.enforce()
    const dir = tempDir('gptw-pick-file-')
    const urls = path.join(dir, 'urls.txt')
    fs.writeFileSync(urls, 'https://example.org/\n')
    const file = scriptedDialog(urls)
    expect(await pickApprovedPath({ kind: 'file' }, file.show, wb.paths)).toEqual({ path: urls })
    expect(file.asked[0].properties).toEqual(['openFile'])
    expect(wb.paths.resolve(urls, 'prepare sources.urlFiles')).toBe(urls)
    expect(() => wb.paths.resolve(path.join(dir, 'other.txt'), 'prepare sources.urlFiles')).toThrow(/Forbidden: prepare sources.urlFiles names/)
  })

  it('refuses a malformed request before any dialog opens, naming the field', async () => {
    const wb = openWorkbench(tempDir('gptw-pick-ws-'))
    const dialog = scriptedDialog('/')
    await expect(pickApprovedPath({ kind: 'disk' }, dialog.show, wb.paths)).rejects.toThrow('kind must be "file" or "folder", got "disk".')
    await expect(pickApprovedPath({ kind: 'file', path: '/etc' }, dialog.show, wb.paths)).rejects.toThrow('has no "path" field')
    await expect(pickApprovedPath('folder', dialog.show, wb.paths)).rejects.toThrow('is an object')
    expect(dialog.asked).toEqual([])
    expect(parsePathPickRequest({ kind: 'file', title: 'x'.repeat(201) })).toMatch(/title must be/)
  })
})
