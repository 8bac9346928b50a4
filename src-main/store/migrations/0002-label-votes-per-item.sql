-- Label's pairwise mode: a vote belongs to one label item, and an annotator votes on an item once.
-- The unique index is what keeps concurrent LAN submissions (and retried requests) from
-- duplicating a vote; Compare's blind votes have no item and are unaffected.
ALTER TABLE comparisons ADD COLUMN item_id INTEGER REFERENCES label_items(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX comparisons_one_per_item ON comparisons(item_id, annotator_id) WHERE item_id IS NOT NULL;
