// The three browsable lists of the Data view. Held by the view (not by each table) so switching
// tabs keeps each list's search, page and page size.
import type { PairRow, PromptRow, SftRow } from '../../../src-main/shared/contract.js';
import type { Client } from '../../lib/api';
import { PagedQuery } from '../../lib/paged-query.svelte';

/** Pairs have no id of their own: their position in the full list keys them. */
export type KeyedPair = PairRow & { key: number };

export class DataTables {
  readonly prompts: PagedQuery<PromptRow>;
  readonly pairs: PagedQuery<KeyedPair>;
  readonly sft: PagedQuery<SftRow>;

  constructor(client: Client) {
    this.prompts = new PagedQuery((q) => client.call('data.prompts', q));
    this.pairs = new PagedQuery(async (q) => {
      const page = await client.call('data.pairs', q);
      return { ...page, rows: page.rows.map((r, i) => ({ ...r, key: page.offset + i })) };
    });
    this.sft = new PagedQuery((q) => client.call('data.sft', q));
  }
}
