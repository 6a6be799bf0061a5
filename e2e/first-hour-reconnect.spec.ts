// A tab that lost its host says so and how to get back (issue 15): with a fixed --port the host
// keeps its address and token and the open tab reconnects by itself; a host restarted with a new
// token is told apart from one that is gone.
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { type RunningHost, startHost } from './web-host'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

test.setTimeout(120_000)

test('lost host: the tab says so, reconnects by itself to a fixed --port, and tells a new token apart', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-reconnect-'))
  const port = await freePort()
  let host: RunningHost | null = await startHost(workspace, port)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    await expect(page.getByTestId('connection')).toContainText('Connected')
    await expect(page.getByTestId('connection-lost')).toHaveCount(0)

    // the host stops: after a few tries the tab says it is gone and what to do
    await host.stop()
    host = null
    const banner = page.getByTestId('connection-lost')
    await expect(banner).toHaveAttribute('data-reason', 'lost', { timeout: 20_000 })
    await expect(banner).toContainText(`The workbench host at 127.0.0.1:${port} is not answering.`)
    await expect(banner).toContainText('open the URL it printed')
    await expect(banner).toContainText(`gptw serve --port ${port}`)
    await page.screenshot({ path: 'test-results/screens/first-hour-reconnect-lost-1440x900.png' })
    await page.setViewportSize({ width: 1024, height: 700 })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: 'test-results/screens/first-hour-reconnect-lost-dark-1024x700.png' })
    await page.emulateMedia({ colorScheme: 'light' })

    // the same port again: same address and token (kept in the workspace), the tab reconnects without a reload
    const url = (host = await startHost(workspace, port)).url
    expect(new URL(url).port).toBe(String(port))
    await expect(banner).toHaveCount(0, { timeout: 20_000 })
    await expect(page.getByTestId('connection')).toContainText('Connected')
    expect(fs.statSync(path.join(workspace, 'web-token')).mode & 0o777).toBe(0o600)

    // a restart with a new token (its file removed): the host answers but refuses this tab, and the banner says so
    await host.stop()
    fs.rmSync(path.join(workspace, 'web-token'))
    host = await startHost(workspace, port)
    await expect(banner).toHaveAttribute('data-reason', 'refused', { timeout: 30_000 })
    await expect(banner).toContainText('it was restarted with a new access token')
    await page.screenshot({ path: 'test-results/screens/first-hour-reconnect-refused-1024x700.png' })
    // opening the printed URL gets the tab back
    await page.goto(host.url)
    await expect(page.getByTestId('connection')).toContainText('Connected')
    await expect(banner).toHaveCount(0)
  } finally {
    await host?.stop()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(workspace, { recursive: true, force: true })
  }
})
