// Environment every compute worker starts with. glibc hands out big buffers (the logits and
// their gradient are ~200 MB a step) with fresh mmaps that are zero-filled page by page on first
// touch: on these VMs that costs ~0.4 s per 100 MB. Keeping large blocks on the heap lets a freed
// buffer be reused at memset speed instead. Ignored by other C libraries and platforms.
export const WORKER_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_MAX_: '0',
  MALLOC_TRIM_THRESHOLD_: String(16 * 2 ** 30),
  MALLOC_TOP_PAD_: String(256 * 2 ** 20)
}
