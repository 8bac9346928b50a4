// Typed context pairs: App.svelte sets them once, any component below gets them without props.
import { createContext } from 'svelte';
import type { AppState } from './app.svelte';
import type { JobsState } from './jobs.svelte';
import type { ShortcutsState } from './shortcuts.svelte';

export const [getApp, setApp] = createContext<AppState>();
export const [getJobs, setJobs] = createContext<JobsState>();
export const [getShortcuts, setShortcuts] = createContext<ShortcutsState>();
