// The Compare view's state, shared with its components without prop drilling.
import { createContext } from 'svelte';
import type { CompareState } from './compare-state.svelte';

export const [getCompare, setCompare] = createContext<CompareState>();
