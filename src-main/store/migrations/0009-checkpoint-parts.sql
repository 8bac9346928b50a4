-- A checkpoint blob larger than one SQLite value may hold through better-sqlite3 (its bound
-- buffers stop at V8's largest string, 2^29 − 24 bytes ≈ 512 MiB) is stored in parts: the
-- weights of a 135M-parameter model in float32 are 538 MB, AdamW's state of a 124M model 1 GB.
-- Such a checkpoint keeps an empty blob in `checkpoints.weights` (and `optimizer`), and its bytes
-- here in order; a blob that fits stays inline as before (store/checkpoints.ts).
CREATE TABLE checkpoint_parts (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
  blob          TEXT NOT NULL CHECK (blob IN ('weights', 'optimizer')),
  part          INTEGER NOT NULL,
  bytes         BLOB NOT NULL,
  UNIQUE (checkpoint_id, blob, part)
);
