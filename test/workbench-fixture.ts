// Workbenches over temporary workspaces for API-level tests: open as many as a test needs, and
// the file's afterEach(closeWorkbenches) closes whatever a test left open (workers stopped, lock
// released) before the next one starts.
import { Workbench } from '../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from './helpers'

const open: Workbench[] = []

export function openWorkbench(root: string = tempDir()): Workbench {
  const wb = new Workbench({ workspaceRoot: root, workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

/** Closes one workbench before the test ends (say, to let another process take the workspace). */
export async function closeWorkbench(wb: Workbench): Promise<void> {
  const i = open.indexOf(wb)
  if (i >= 0) open.splice(i, 1)
  await wb.close()
}

export async function closeWorkbenches(): Promise<void> {
  for (const wb of open.splice(0)) await wb.close()
}
