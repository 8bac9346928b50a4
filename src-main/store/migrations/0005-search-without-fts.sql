-- Drops the trigram full-text indexes of 0003: they tripled the cost of every prompt and response
-- insert (100k preference pairs imported in ~3x the time), while a LIKE scan that collects the
-- matching pair ids in one pass answers searches at 100k rows fast enough (measured in
-- tests/main/data/import-perf.test.ts).
DROP TRIGGER IF EXISTS prompts_fts_insert;
DROP TRIGGER IF EXISTS prompts_fts_delete;
DROP TRIGGER IF EXISTS prompts_fts_update;
DROP TABLE IF EXISTS prompts_fts;
DROP TRIGGER IF EXISTS responses_fts_insert;
DROP TRIGGER IF EXISTS responses_fts_delete;
DROP TRIGGER IF EXISTS responses_fts_update;
DROP TABLE IF EXISTS responses_fts;
