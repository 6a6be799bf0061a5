// The one client instance of the app, created at start-up for the transport that exists.
import { createClient } from './client'

export const api = createClient()
