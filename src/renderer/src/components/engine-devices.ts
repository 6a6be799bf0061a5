// The device and PyTorch facts the engine pickers show, from the host's device report: the slots
// a run or a model server can take (each GPU with its memory, CPU processes up to 8) and a line
// on what the PyTorch interpreter has. The Train view's Data and devices card and the Evaluate and
// Generate views' engine pickers read the same report through these.
import type { DeviceReport, PytorchReport } from '../../../shared/devices'

export interface DeviceSlot {
  id: string
  label: string
  detail: string
}

/** GPUs first, then cpu:0..; `cpuDetail` says what another CPU process is for (a data-parallel worker, a model server). */
export function deviceSlots(report: DeviceReport | null, cpuDetail: (i: number, cores: number) => string): DeviceSlot[] {
  const devices = report?.devices ?? []
  const out: DeviceSlot[] = []
  for (const d of devices) {
    if (d.kind === 'gpu') out.push({ id: d.id, label: `${d.id} ${d.name}`, detail: `${(d.memoryTotalMiB / 1024).toFixed(1)} GiB, ${(d.memoryUsedMiB / 1024).toFixed(1)} in use` })
  }
  const cpu = devices.find((d) => d.kind === 'cpu')
  const cores = cpu?.kind === 'cpu' ? cpu.cores : 1
  for (let i = 0; i < Math.max(1, Math.min(cores, 8)); i++) out.push({ id: `cpu:${i}`, label: `cpu:${i}`, detail: cpuDetail(i, cores) })
  return out
}

/** "Python 3.11 (/usr/bin/python3), torch 1.13.1, CUDA not available, ..." when the interpreter can run the engine, else null. */
export function torchSummary(t: PytorchReport | null | undefined): string | null {
  if (!t || !t.usable) return null
  const gpus = t.gpus.map((g) => `${g.index}: ${g.name}, ${(g.memoryTotalMiB / 1024).toFixed(1)} GiB`).join('; ')
  return `Python ${t.pythonVersion} (${t.executable}), torch ${t.torch}, CUDA ${t.cudaAvailable ? t.cuda : 'not available'}, NCCL ${t.nccl ?? 'no'}, gloo ${t.gloo ? 'yes' : 'no'}${gpus ? `; GPUs ${gpus}` : '; no GPU'}`
}
