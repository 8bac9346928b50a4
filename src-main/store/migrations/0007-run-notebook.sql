-- Runs as a lab notebook: tags (a JSON array of strings) and a free-text note per run.
ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
