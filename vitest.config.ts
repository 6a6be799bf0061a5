// Two projects: `unit` (everything quick enough to run on each change) and `slow` (the learning
// test: hundreds of training steps, minutes on two cores). `vitest run` runs both, as npm test does;
// `vitest run --project unit` is the quick one.
import { configDefaults, defineConfig } from 'vitest/config'

const SLOW = ['test/engine/learning.test.ts']

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests fork real worker processes; two at a time suits a 2-core machine.
    maxWorkers: 2,
    // afterAll hooks last-registered first: test/setup-cleanup.ts removes temp folders after each file's own teardown.
    sequence: { hooks: 'stack' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SLOW] } },
      { extends: true, test: { name: 'slow', include: SLOW } }
    ]
  }
})
