-- Compare view: a comparison (checkpoints, prompts, generation settings) and its rows, kept so the
-- view can reload them. Blind votes are `comparisons` rows (context 'compare'); comparison_votes
-- links each to its comparison and the checkpoints behind A and B, since two checkpoints that write
-- the same text share one `responses` row and its checkpoint_id names only the first.
CREATE TABLE comparison_sets (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  config     TEXT NOT NULL,                 -- JSON: checkpoints (reference first), prompts, generation
  status     TEXT NOT NULL DEFAULT 'running'
             CHECK (status IN ('running', 'completed', 'cancelled', 'failed')),
  error      TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE comparison_rows (
  set_id        INTEGER NOT NULL REFERENCES comparison_sets(id) ON DELETE CASCADE,
  prompt_id     INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
  checkpoint_id INTEGER NOT NULL,           -- no foreign key: a comparison outlives a deleted checkpoint
  response_id   INTEGER REFERENCES responses(id) ON DELETE SET NULL,
  text          TEXT NOT NULL,
  score         REAL,                       -- reward model score; null without a reward model
  kl            REAL,                       -- sum over the response of log π − log π_ref
  tokens        INTEGER NOT NULL,
  seed          INTEGER NOT NULL,
  PRIMARY KEY (set_id, prompt_id, checkpoint_id)
);

CREATE TABLE comparison_votes (
  comparison_id INTEGER PRIMARY KEY REFERENCES comparisons(id) ON DELETE CASCADE,
  set_id        INTEGER NOT NULL REFERENCES comparison_sets(id) ON DELETE CASCADE,
  checkpoint_a  INTEGER NOT NULL,
  checkpoint_b  INTEGER NOT NULL
);
CREATE INDEX comparison_votes_set ON comparison_votes(set_id);
