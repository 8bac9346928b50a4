-- Blind pairs handed out and not voted yet (compare.nextBlind → compare.vote). Kept in the project
-- so a restart of the app keeps them, and counted per annotator so one teammate cannot expire
-- everyone else's open pairs.
CREATE TABLE blind_pairs (
  token TEXT PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES comparison_sets(id) ON DELETE CASCADE,
  annotator_id INTEGER NOT NULL REFERENCES annotators(id) ON DELETE CASCADE,
  prompt_id INTEGER NOT NULL,
  response_a INTEGER NOT NULL,
  response_b INTEGER NOT NULL,
  checkpoint_a INTEGER NOT NULL,
  checkpoint_b INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX blind_pairs_annotator ON blind_pairs (annotator_id, created_at);

-- Who is training a run right now: one owner at a time (a process, or a job's thread inside one),
-- kept alive by a heartbeat. A lease whose heartbeat is old, or whose process on this machine is
-- gone, is free: a crash releases it.
CREATE TABLE run_leases (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  token TEXT NOT NULL,
  owner TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
