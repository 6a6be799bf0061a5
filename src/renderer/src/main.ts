// The renderer's entry: the theme first, then the Vue app with its stores.
import './zod-csp'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import './styles.css'
import { startTheme } from './theme'

// Before mounting, so the first paint is already in the right theme.
startTheme()
createApp(App).use(createPinia()).mount('#app')
