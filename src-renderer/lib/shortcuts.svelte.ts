// The list the `?` overlay shows. Views register their own keys while they are mounted, so the
// overlay always describes what works on the current screen.
import { untrack } from 'svelte';

export interface Shortcut {
  /** Keys pressed together, e.g. ['Ctrl', '1']. */
  keys: string[];
  does: string;
}
export interface ShortcutGroup {
  title: string;
  items: Shortcut[];
}

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
export const modKey = isMac ? '⌘' : 'Ctrl';

export class ShortcutsState {
  #groups = $state.raw<ShortcutGroup[]>([]);
  overlayOpen = $state(false);

  get groups(): ShortcutGroup[] {
    return this.#groups;
  }

  /** Adds a group; call the returned function to remove it (e.g. from an $effect teardown). */
  register(group: ShortcutGroup): () => void {
    // untrack: registering from an $effect must not make that effect depend on the list it changes.
    untrack(() => (this.#groups = [...this.#groups, group]));
    return () => untrack(() => (this.#groups = this.#groups.filter((g) => g !== group)));
  }
}

/** True when a key press belongs to a text field and must not trigger app shortcuts. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'range', 'file'].includes(target.type);
}

/**
 * True while a modal dialog (the `?` list, a form) is open: a view's single-key shortcuts must not
 * act behind it — Escape there closes the dialog, it must not also cancel the view's job.
 */
export function dialogOpen(): boolean {
  return document.querySelector('dialog[open]') !== null;
}
