-- Preference pairs and text search that stay fast at 100k rows (issue 2: browsing stays responsive).
--
-- pairs: every (chosen, rejected) pair, kept by triggers from submitted rankings (two responses in
-- different rank groups; tied responses give no pair) and from comparisons with a winner. Expanding
-- each ranking's JSON per page took 300-800 ms at 100k rankings; reading this table is indexed.
CREATE TABLE pairs (
  id            INTEGER PRIMARY KEY,
  prompt_id     INTEGER NOT NULL,
  chosen_id     INTEGER NOT NULL,
  rejected_id   INTEGER NOT NULL,
  annotator_id  INTEGER NOT NULL,
  ranking_id    INTEGER,
  comparison_id INTEGER
);
CREATE INDEX pairs_ranking ON pairs(ranking_id) WHERE ranking_id IS NOT NULL;
CREATE INDEX pairs_comparison ON pairs(comparison_id) WHERE comparison_id IS NOT NULL;
CREATE INDEX pairs_prompt ON pairs(prompt_id);

CREATE TRIGGER rankings_pairs_insert AFTER INSERT ON rankings WHEN NEW.status = 'submitted'
BEGIN
  INSERT INTO pairs (prompt_id, chosen_id, rejected_id, annotator_id, ranking_id)
  SELECT NEW.prompt_id, w.value, l.value, NEW.annotator_id, NEW.id
  FROM json_each(NEW.ranking) g1 JOIN json_each(NEW.ranking) g2 ON g2.key > g1.key
  JOIN json_each(g1.value) w JOIN json_each(g2.value) l
  ORDER BY g1.key, g2.key, w.key, l.key;
END;

CREATE TRIGGER rankings_pairs_update AFTER UPDATE OF prompt_id, annotator_id, status, ranking ON rankings
BEGIN
  DELETE FROM pairs WHERE ranking_id = OLD.id;
  INSERT INTO pairs (prompt_id, chosen_id, rejected_id, annotator_id, ranking_id)
  SELECT NEW.prompt_id, w.value, l.value, NEW.annotator_id, NEW.id
  FROM json_each(NEW.ranking) g1 JOIN json_each(NEW.ranking) g2 ON g2.key > g1.key
  JOIN json_each(g1.value) w JOIN json_each(g2.value) l
  WHERE NEW.status = 'submitted'
  ORDER BY g1.key, g2.key, w.key, l.key;
END;

CREATE TRIGGER rankings_pairs_delete AFTER DELETE ON rankings
BEGIN
  DELETE FROM pairs WHERE ranking_id = OLD.id;
END;

CREATE TRIGGER comparisons_pairs_insert AFTER INSERT ON comparisons WHEN NEW.outcome IN ('a', 'b')
BEGIN
  INSERT INTO pairs (prompt_id, chosen_id, rejected_id, annotator_id, comparison_id)
  VALUES (NEW.prompt_id,
          CASE NEW.outcome WHEN 'a' THEN NEW.response_a ELSE NEW.response_b END,
          CASE NEW.outcome WHEN 'a' THEN NEW.response_b ELSE NEW.response_a END,
          NEW.annotator_id, NEW.id);
END;

CREATE TRIGGER comparisons_pairs_update AFTER UPDATE OF prompt_id, response_a, response_b, outcome, annotator_id ON comparisons
BEGIN
  DELETE FROM pairs WHERE comparison_id = OLD.id;
  INSERT INTO pairs (prompt_id, chosen_id, rejected_id, annotator_id, comparison_id)
  SELECT NEW.prompt_id,
         CASE NEW.outcome WHEN 'a' THEN NEW.response_a ELSE NEW.response_b END,
         CASE NEW.outcome WHEN 'a' THEN NEW.response_b ELSE NEW.response_a END,
         NEW.annotator_id, NEW.id
  WHERE NEW.outcome IN ('a', 'b');
END;

CREATE TRIGGER comparisons_pairs_delete AFTER DELETE ON comparisons
BEGIN
  DELETE FROM pairs WHERE comparison_id = OLD.id;
END;

-- Existing judgments, in the order they were made.
INSERT INTO pairs (prompt_id, chosen_id, rejected_id, annotator_id, ranking_id, comparison_id)
SELECT prompt_id, chosen_id, rejected_id, annotator_id, ranking_id, comparison_id FROM (
  SELECT r.created_at AS t, r.id AS ord, g1.key AS k1, g2.key AS k2, w.key AS k3, l.key AS k4,
         r.prompt_id, w.value AS chosen_id, l.value AS rejected_id, r.annotator_id, r.id AS ranking_id, NULL AS comparison_id
  FROM rankings r, json_each(r.ranking) g1, json_each(r.ranking) g2, json_each(g1.value) w, json_each(g2.value) l
  WHERE r.status = 'submitted' AND g2.key > g1.key
  UNION ALL
  SELECT c.created_at, c.id, 0, 0, 0, 0, c.prompt_id,
         CASE c.outcome WHEN 'a' THEN c.response_a ELSE c.response_b END,
         CASE c.outcome WHEN 'a' THEN c.response_b ELSE c.response_a END,
         c.annotator_id, NULL, c.id
  FROM comparisons c WHERE c.outcome IN ('a', 'b'))
ORDER BY t, ord, k1, k2, k3, k4;

-- Substring search over prompt and response texts (trigram full-text index, kept by triggers).
CREATE VIRTUAL TABLE prompts_fts USING fts5(text, content = 'prompts', content_rowid = 'id', tokenize = 'trigram');
CREATE TRIGGER prompts_fts_insert AFTER INSERT ON prompts BEGIN
  INSERT INTO prompts_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER prompts_fts_delete AFTER DELETE ON prompts BEGIN
  INSERT INTO prompts_fts (prompts_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;
CREATE TRIGGER prompts_fts_update AFTER UPDATE OF text ON prompts BEGIN
  INSERT INTO prompts_fts (prompts_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
  INSERT INTO prompts_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
INSERT INTO prompts_fts (prompts_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE responses_fts USING fts5(text, content = 'responses', content_rowid = 'id', tokenize = 'trigram');
CREATE TRIGGER responses_fts_insert AFTER INSERT ON responses BEGIN
  INSERT INTO responses_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER responses_fts_delete AFTER DELETE ON responses BEGIN
  INSERT INTO responses_fts (responses_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;
CREATE TRIGGER responses_fts_update AFTER UPDATE OF text ON responses BEGIN
  INSERT INTO responses_fts (responses_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
  INSERT INTO responses_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
INSERT INTO responses_fts (responses_fts) VALUES ('rebuild');
