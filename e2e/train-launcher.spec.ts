// The PyTorch engine's launcher in the Train view: hidden for the embedded engine; for PyTorch,
// this machine's torchrun line, a Slurm job's sbatch script, or an SSH hosts list (a bad line named
// beside the field) with what runs on each host; the choice lands in the config (the YAML tab).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { typeSmallConfig } from './train-helpers'
import { type RunningHost, startHost } from './web-host'

test('pick the local, Slurm and SSH launchers and see what each would run', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-launcher-'))
  const host: RunningHost = await startHost(workspace)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    await typeSmallConfig(page, { steps: 10, name: 'e2e launcher' })
    const picker = page.getByTestId('launcher-picker')
    await expect(picker).toHaveCount(0)
    await page.getByTestId('engine-picker').selectOption('pytorch')
    await expect(picker).toBeVisible()
    await expect(page.getByTestId('launcher-local')).toBeChecked()
    await expect(page.getByTestId('launcher-preview')).toContainText('-m torch.distributed.run --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0 --rdzv_id gptw-local --nproc_per_node 1')

    await page.getByTestId('launcher-slurm').check()
    await page.getByTestId('launcher-nodes').fill('3')
    await page.getByTestId('launcher-gpus').fill('4')
    await page.getByTestId('launcher-partition').fill('gpu')
    const preview = page.getByTestId('launcher-preview')
    await expect(preview).toContainText('#SBATCH --nodes=3')
    await expect(preview).toContainText('#SBATCH --gpus-per-node=4')
    await expect(preview).toContainText('#SBATCH --partition=gpu')
    await page.getByTestId('launcher-time').fill('soon')
    await expect(page.getByTestId('launcher-error')).toContainText('time looks like 01:00:00')
    await expect(preview).toHaveCount(0)
    await page.getByTestId('launcher-time').fill('02:00:00')
    await expect(page.getByTestId('launcher-error')).toHaveCount(0)
    await picker.screenshot({ path: 'test-results/screens/launcher-slurm.png' })

    await page.getByTestId('launcher-ssh').check()
    await page.getByTestId('launcher-hosts').fill('gpu1.lab 8 /scratch/gptw\ngpu2.lab eight /scratch/gptw')
    await expect(page.getByTestId('launcher-host-error')).toHaveText('line 2: GPUS must be a whole number from 0 to 64, got "eight"')
    await page.getByTestId('launcher-hosts').fill('gpu1.lab 8 /scratch/gptw\nalice@gpu2.lab 8 /scratch/gptw')
    await expect(page.getByTestId('launcher-host-error')).toHaveCount(0)
    await expect(preview).toContainText('# on alice@gpu2.lab (node 1 of 2), in /scratch/gptw')
    await expect(preview).toContainText('--nnodes 2 --node_rank 1 --nproc_per_node 8 --rdzv_backend static --rdzv_endpoint gpu1.lab:29500')
    await picker.screenshot({ path: 'test-results/screens/launcher-ssh.png' })

    await page.getByTestId('mode-yaml').click()
    const yaml = await page.getByTestId('config-text').inputValue()
    expect(yaml).toMatch(/launcher:\n\s+kind: ssh\n\s+hosts:\n\s+- host: gpu1.lab\n\s+gpus: 8\n\s+workDir: \/scratch\/gptw/)
  } finally {
    await host.stop()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(workspace, { recursive: true, force: true })
  }
})
