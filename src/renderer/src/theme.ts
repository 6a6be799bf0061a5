// Light and dark: the system's choice (prefers-color-scheme) unless the user picked one, kept in
// localStorage. The CSS reads data-theme on <html>; Chart.js draws its ticks and grid from its
// defaults, so those follow the theme too and open charts are redrawn when it changes.
import { Chart } from 'chart.js'

export type ThemeChoice = 'system' | 'light' | 'dark'
export const THEMES: ThemeChoice[] = ['system', 'light', 'dark']
const KEY = 'gptw.theme'
const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null

export function savedTheme(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY)
    return THEMES.includes(value as ThemeChoice) ? (value as ThemeChoice) : 'system'
  } catch {
    return 'system'
  }
}

export function saveTheme(theme: ThemeChoice): void {
  try {
    if (theme === 'system') localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, theme)
  } catch {
    // storage refused: the choice lasts until reload
  }
}

/** The theme drawn now: the user's pick, else the system's. */
export function effectiveTheme(theme: ThemeChoice): 'light' | 'dark' {
  return theme === 'system' ? (media?.matches ? 'dark' : 'light') : theme
}

let current: ThemeChoice = 'system'

export function applyTheme(theme: ThemeChoice): void {
  current = theme
  const shown = effectiveTheme(theme)
  document.documentElement.dataset.theme = shown
  document.documentElement.style.colorScheme = shown
  const dark = shown === 'dark'
  Chart.defaults.color = dark ? '#b9c1ce' : '#5f6775'
  Chart.defaults.borderColor = dark ? 'rgba(255, 255, 255, 0.12)' : 'rgba(0, 0, 0, 0.1)'
  for (const chart of Object.values(Chart.instances)) chart.update('none')
}

/** Applies the saved theme now and follows the system while the choice is "system". */
export function startTheme(): void {
  applyTheme(savedTheme())
  media?.addEventListener('change', () => current === 'system' && applyTheme('system'))
}
