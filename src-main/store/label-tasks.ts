// Labeling tasks and their items: each item one prompt with its responses in the (shuffled) order
// they are shown. Built by label/tasks.ts; judged through judgments.ts.
import type { DB } from './db.js';
import { LabelingError, parseItem, parseTask, type ItemRow, type LabelItem, type LabelTask, type NewTask, type ResponseInfo, type TaskRow } from './labeling.js';
import type { LabelMode } from '../shared/vocabulary.js';

export class LabelTasksRepo {
  readonly #db: DB;
  readonly #insertTask;
  readonly #insertItem;
  readonly #tasks;
  readonly #task;
  readonly #items;
  readonly #item;
  readonly #itemRefs;
  readonly #firstItem;
  readonly #itemsOfPrompt;
  readonly #responseInfo;

  constructor(db: DB) {
    this.#db = db;
    this.#insertTask = db.prepare<[string, LabelMode, number, number, string | null, number], { id: number }>(
      'INSERT INTO label_tasks (name, mode, k, min_annotators, config, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.#insertItem = db.prepare<[number, number, string, number]>(
      'INSERT INTO label_items (task_id, prompt_id, response_ids, position) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, prompt_id) DO NOTHING',
    );
    const taskCols = `t.id, t.name, t.mode, t.k, t.min_annotators, t.config, t.created_at,
      (SELECT count(*) FROM label_items i WHERE i.task_id = t.id) AS items`;
    this.#tasks = db.prepare<[], TaskRow>(`SELECT ${taskCols} FROM label_tasks t ORDER BY t.id`);
    this.#task = db.prepare<[number], TaskRow>(`SELECT ${taskCols} FROM label_tasks t WHERE t.id = ?`);
    this.#items = db.prepare<[number], ItemRow>(
      'SELECT id, task_id, prompt_id, response_ids, position FROM label_items WHERE task_id = ? ORDER BY position',
    );
    this.#item = db.prepare<[number], ItemRow>('SELECT id, task_id, prompt_id, response_ids, position FROM label_items WHERE id = ?');
    this.#itemRefs = db.prepare<[number], { id: number; position: number }>(
      'SELECT id, position FROM label_items WHERE task_id = ? ORDER BY position',
    );
    this.#firstItem = db.prepare<[number], { id: number }>('SELECT id FROM label_items WHERE task_id = ? ORDER BY position LIMIT 1');
    this.#itemsOfPrompt = db.prepare<[number], ItemRow & { task_name: string }>(
      `SELECT i.id, i.task_id, i.prompt_id, i.response_ids, i.position, t.name AS task_name
       FROM label_items i JOIN label_tasks t ON t.id = i.task_id WHERE i.prompt_id = ? ORDER BY i.id`,
    );
    this.#responseInfo = db.prepare<[number], ResponseInfo>(
      `SELECT r.id, r.text, r.source, r.checkpoint_id, c.name AS checkpoint_name, c.step AS checkpoint_step
       FROM responses r LEFT JOIN checkpoints c ON c.id = r.checkpoint_id WHERE r.id = ?`,
    );
  }

  createTask(t: NewTask): LabelTask {
    return this.#db.transaction(() => {
      const { id } = this.#insertTask.get(t.name, t.mode, t.k, t.minAnnotators, t.config === undefined ? null : JSON.stringify(t.config), Date.now())!;
      t.items.forEach((item, position) => this.#insertItem.run(id, item.promptId, JSON.stringify(item.responseIds), position));
      return this.task(id)!;
    })();
  }

  tasks(): LabelTask[] {
    return this.#tasks.all().map(parseTask);
  }

  task(id: number): LabelTask | undefined {
    const row = this.#task.get(id);
    return row && parseTask(row);
  }

  items(taskId: number): LabelItem[] {
    return this.#items.all(taskId).map(parseItem);
  }

  item(id: number): LabelItem | undefined {
    const row = this.#item.get(id);
    return row && parseItem(row);
  }

  firstItem(taskId: number): number | null {
    return this.#firstItem.get(taskId)?.id ?? null;
  }

  /** A task's item ids in display order, without their response lists. */
  itemRefs(taskId: number): { id: number; position: number }[] {
    return this.#itemRefs.all(taskId);
  }

  /** The responses of an item, in the order given, with where each came from. */
  responses(ids: readonly number[]): ResponseInfo[] {
    return ids.map((id) => {
      const r = this.#responseInfo.get(id);
      if (!r) throw new LabelingError(`Response ${id} no longer exists.`, 'not_found');
      return r;
    });
  }

  /**
   * The label item showing exactly these responses for this prompt, preferring a task of the
   * given name, so that merged judgments count towards the task's progress.
   */
  matchItem(promptId: number, responseIds: readonly number[], taskName: string | null): LabelItem | undefined {
    const want = [...responseIds].sort((a, b) => a - b).join(',');
    const candidates = this.#itemsOfPrompt
      .all(promptId)
      .filter((i) => (JSON.parse(i.response_ids) as number[]).sort((a, b) => a - b).join(',') === want);
    const best = candidates.find((i) => i.task_name === taskName) ?? candidates[0];
    return best && parseItem(best);
  }

  /** The item, or a LabelingError naming it. */
  require(itemId: number): LabelItem {
    const item = this.item(itemId);
    if (!item) throw new LabelingError(`Label item ${itemId} does not exist.`, 'not_found');
    return item;
  }
}
