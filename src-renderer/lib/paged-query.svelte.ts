// One server-side paged list (prompts, pairs, SFT examples …): search, offset and page size live
// here; only the visible page is ever fetched, so 100k rows cost the same as 100.
import { untrack } from 'svelte';
import type { Page } from '../../src-main/shared/contract.js';
import { clampOffset } from './format';

export interface PageQuery {
  search?: string;
  offset: number;
  limit: number;
}
export type PageFetcher<T> = (q: PageQuery) => Promise<Page<T>>;

const SEARCH_DEBOUNCE_MS = 200;

export class PagedQuery<T> {
  #fetch: PageFetcher<T>;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  search = $state('');
  offset = $state(0);
  limit = $state(50);
  rows = $state.raw<T[]>([]);
  total = $state(0);
  loading = $state(false);
  error = $state<string | null>(null);

  constructor(fetch: PageFetcher<T>, limit = 50) {
    this.#fetch = fetch;
    this.limit = limit;
  }

  get hasPrev(): boolean {
    return this.offset > 0;
  }
  get hasNext(): boolean {
    return this.offset + this.limit < this.total;
  }

  /** Fetches the current page; answers to older requests are dropped so fast typing never flickers. */
  async load(): Promise<void> {
    const seq = ++this.#seq;
    this.loading = true;
    // Untracked: an $effect that calls load() re-runs on its own triggers, not on every page turn.
    const q = untrack(() => ({ search: this.search.trim() || undefined, offset: this.offset, limit: this.limit }));
    try {
      const page = await this.#fetch(q);
      if (seq !== this.#seq) return;
      this.rows = page.rows;
      this.total = page.total;
      this.error = null;
      // The data shrank under us (e.g. another search, a re-import): show the last real page.
      if (page.rows.length === 0 && page.total > 0 && this.offset > 0) this.goTo(page.total - 1);
    } catch (e) {
      if (seq !== this.#seq) return;
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  setSearch(value: string): void {
    this.search = value;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.offset = 0;
      void this.load();
    }, SEARCH_DEBOUNCE_MS);
  }

  goTo(offset: number): void {
    this.offset = clampOffset(offset, this.limit, this.total);
    void this.load();
  }
  next(): void {
    if (this.hasNext) this.goTo(this.offset + this.limit);
  }
  prev(): void {
    if (this.hasPrev) this.goTo(this.offset - this.limit);
  }
  first(): void {
    this.goTo(0);
  }
  last(): void {
    this.goTo(this.total - 1);
  }
  setLimit(limit: number): void {
    this.limit = limit;
    this.offset = Math.floor(this.offset / limit) * limit;
    void this.load();
  }
}
