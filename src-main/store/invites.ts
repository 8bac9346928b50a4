// Invite tokens for LAN mode: each binds one annotator. Only the token's sha256 is stored,
// so a copied project file does not hand out working invites.
import { createHash, randomBytes } from 'node:crypto';
import type { InviteInfo } from '../shared/contract.js';
import type { DB } from './db.js';


const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export class InvitesRepo {
  readonly #insert;
  readonly #lookup;
  readonly #list;
  readonly #revoke;
  readonly #annotatorExists;

  constructor(db: DB) {
    this.#insert = db.prepare('INSERT INTO invites (token, annotator_id, created_at) VALUES (?, ?, ?)');
    this.#lookup = db.prepare<[string], { annotator_id: number }>(
      'SELECT annotator_id FROM invites WHERE token = ? AND revoked_at IS NULL',
    );
    this.#list = db.prepare<[], InviteInfo>(
      `SELECT i.token AS id, i.annotator_id AS annotatorId, a.name AS annotator,
              i.created_at AS createdAt, i.revoked_at AS revokedAt
         FROM invites i JOIN annotators a ON a.id = i.annotator_id ORDER BY i.created_at, i.token`,
    );
    this.#revoke = db.prepare('UPDATE invites SET revoked_at = ? WHERE token = ? AND revoked_at IS NULL');
    this.#annotatorExists = db.prepare<[number], { id: number }>('SELECT id FROM annotators WHERE id = ?');
  }

  /** Creates an invite for an existing annotator; returns the secret token (shown once). */
  create(annotatorId: number): { token: string; id: string } | null {
    if (!this.#annotatorExists.get(annotatorId)) return null;
    const token = randomBytes(24).toString('base64url');
    this.#insert.run(hash(token), annotatorId, Date.now());
    return { token, id: hash(token) };
  }

  /** The annotator a valid, unrevoked token is bound to, or null. */
  annotatorFor(token: string): number | null {
    return this.#lookup.get(hash(token))?.annotator_id ?? null;
  }

  list(): InviteInfo[] {
    return this.#list.all();
  }

  /** Returns false when no active invite has that id. */
  revoke(id: string): boolean {
    return this.#revoke.run(Date.now(), id).changes > 0;
  }
}
