// A one-line terminal progress bar (redrawn in place on a TTY, plain lines otherwise).
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr, width = 30) {
  let lastPlainAt = 0
  return {
    update(done: number, total: number, text: string): void {
      const fraction = total > 0 ? Math.min(1, done / total) : 0
      if (stream.isTTY) {
        const filled = Math.round(fraction * width)
        stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${text}\x1b[K`)
      } else if (Date.now() - lastPlainAt > 2000 || fraction >= 1) {
        lastPlainAt = Date.now()
        stream.write(`${(fraction * 100).toFixed(0)}% ${text}\n`)
      }
    },
    done(): void {
      if (stream.isTTY) stream.write('\n')
    }
  }
}
