-- The training stages are no longer listed in SQL: the stage catalogue (src-main/train/stages.ts)
-- declares them and is what checks a stage's name, so a new stage (RLOO, GRPO, …) needs no
-- migration. SQLite cannot drop a CHECK in place, so `checkpoints` and `runs` are rebuilt as its
-- documented ALTER TABLE procedure does (new table, copy, drop, rename), keeping every row, id
-- and column. migrate() (db.ts) runs this with foreign keys off, so dropping the old tables
-- cascades to nothing, and checks the foreign keys before it commits.
CREATE TABLE checkpoints_new (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  stage        TEXT NOT NULL,                -- 'base' or a stage of the catalogue
  run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  parent_id    INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
  step         INTEGER NOT NULL DEFAULT 0,
  model_config TEXT NOT NULL,
  tokenizer    TEXT NOT NULL,
  weights      BLOB NOT NULL,
  optimizer    BLOB,
  extra        TEXT,
  sha256       TEXT NOT NULL,
  created_at   INTEGER NOT NULL
);
INSERT INTO checkpoints_new (id, name, stage, run_id, parent_id, step, model_config, tokenizer, weights, optimizer, extra, sha256, created_at)
  SELECT id, name, stage, run_id, parent_id, step, model_config, tokenizer, weights, optimizer, extra, sha256, created_at FROM checkpoints;
DROP TABLE checkpoints;
ALTER TABLE checkpoints_new RENAME TO checkpoints;
CREATE INDEX checkpoints_run ON checkpoints(run_id, step);

CREATE TABLE runs_new (
  id            INTEGER PRIMARY KEY,
  stage         TEXT NOT NULL,               -- a stage of the catalogue
  name          TEXT NOT NULL,
  config        TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'stopped', 'completed', 'failed')),
  parent_checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
  backend       TEXT,
  error         TEXT,
  total_steps   INTEGER,
  step          INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  tags          TEXT NOT NULL DEFAULT '[]',
  note          TEXT NOT NULL DEFAULT ''
);
INSERT INTO runs_new (id, stage, name, config, status, parent_checkpoint_id, backend, error, total_steps, step, created_at, updated_at, tags, note)
  SELECT id, stage, name, config, status, parent_checkpoint_id, backend, error, total_steps, step, created_at, updated_at, tags, note FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
