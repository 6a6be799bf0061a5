// Builds the three Electron targets; the main target also emits the web host, the CLI and one
// bundle per worker (workers run as plain Node child processes).
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'

const workers = ['tokenize', 'prepare', 'train', 'eval', 'generate']

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          cli: resolve('src/main/cli.ts'),
          ...Object.fromEntries(workers.map((name) => [`workers/${name}`, resolve(`src/workers/${name}.ts`)]))
        }
      }
    }
  },
  preload: {
    build: {
      // The sandboxed preload may only require('electron'): bundle everything else into it.
      externalizeDeps: false,
      rollupOptions: { input: { index: resolve('src/preload/index.ts') }, output: { format: 'cjs' } }
    }
  },
  renderer: {
    root: resolve('src/renderer'),
    build: { rollupOptions: { input: { index: resolve('src/renderer/index.html') } } },
    plugins: [vue()]
  }
})
