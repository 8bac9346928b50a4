// The Train view's state, shared by its components without prop drilling.
import { createContext } from 'svelte';
import type { TrainState } from './train-state.svelte';

export const [getTrain, setTrain] = createContext<TrainState>();
