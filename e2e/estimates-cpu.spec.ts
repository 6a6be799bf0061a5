// The time estimate before any run on this machine (issue 15: the Tiny preset read 56 min and
// trained in minutes), in Chromium against the web host over an empty workspace: the Train view's
// estimates card derives the CPU's rate from the host's probed peak (cores x SIMD lanes x FMA x
// clock) times the engine's measured efficiency and shows that arithmetic; the Start view says
// where its guess comes from. Screenshot: test-results/screens/estimates-cpu.png.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { cpuEfficiency } from '../src/shared/config/estimates'
import { startHost } from './web-host'

test("the Train view's CPU time estimate comes from the probed peak x the engine's efficiency, and says so", async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-estimate-'))
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await expect(page.getByTestId('start-estimate')).toContainText("a FLOP count at this CPU's peak x the engine's measured efficiency (")
    await page.getByTestId('nav-train').click()
    await expect(page.getByTestId('preset-picker')).toHaveValue('preset:tiny-cpu')
    const derivation = page.getByTestId('est-step-derivation')
    // tiny-cpu is 128 wide: the engine's share of this CPU's peak as measured on its SIMD width, whose own arithmetic follows.
    const worked = /GFLOP\/s peak x (\d+)% \(width 128\) = [\d.]+ GFLOP\/s; peak: .+ cores x (\d+) fp32 lanes .+ GHz .+= [\d.]+ GFLOP\/s/
    await expect(derivation).toContainText(worked)
    const [, percent, lanes] = worked.exec(await derivation.innerText())!
    expect(Number(percent)).toBe(Math.round(cpuEfficiency(128, Number(lanes)) * 100))
    await expect(page.getByTestId('est-step-source')).toContainText("this CPU's peak x the engine's measured efficiency")
    // The whole run (400 steps) in minutes, not the old guess's 56 min: the text reads "(whole run N min)".
    const step = (await page.getByTestId('est-step').innerText()).replace(/\s+/g, ' ')
    const whole = /whole run ([\d.]+) (s|min)\)/.exec(step)
    expect(whole, step).not.toBeNull()
    const minutes = Number(whole![1]) / (whole![2] === 's' ? 60 : 1)
    expect(minutes).toBeGreaterThan(1)
    expect(minutes).toBeLessThan(20)
    await page.getByTestId('estimates').scrollIntoViewIfNeeded()
    await page.screenshot({ path: 'test-results/screens/estimates-cpu.png' })
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
