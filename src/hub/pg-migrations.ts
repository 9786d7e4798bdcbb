// The hub's PostgreSQL schema, as ordered migrations. Each runs once, in its own transaction, and is recorded in
// schema_migrations; the whole walk runs under a session advisory lock, so two hub processes starting together
// do not both migrate. A database migrated by a newer vigil is refused: this code would misread it.
import type pg from 'pg';

/** pg_advisory_lock key for the migration walk ("vigil" + 1). */
export const MIGRATION_LOCK = 0x7669_6769_6c01n;

interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'events, partitioned by month, and the replication bookkeeping',
    sql: `
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    -- The hub's own ids: one sequence across every partition (a partitioned table cannot hold a unique index
    -- without the partition key, so the sequence is what makes id unique; get(id) goes through events_id).
    CREATE SEQUENCE events_id_seq AS bigint;
    -- Columns mirror StoredEvent. Partitioned by start_ms, one partition per UTC calendar month, created on
    -- demand by apply(): retention drops a month as a whole instead of deleting millions of rows, and a search
    -- with a time window reads only the months it spans. An event's start never changes on its box, so the
    -- partition an event lives in never changes either.
    CREATE TABLE events (
      id bigint NOT NULL DEFAULT nextval('events_id_seq'),
      box_name text NOT NULL,
      box_id bigint NOT NULL,
      -- The box's seq of the version held.
      seq bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('motion', 'object', 'plate')),
      camera text NOT NULL,
      location text NOT NULL,
      label text,
      score double precision,
      start_ms bigint NOT NULL,
      end_ms bigint,
      -- jsonb, not real[]: real would round the box's one-decimal numbers (0.1 is not a float4 either) and
      -- path is an array of triples; both are only ever read back whole.
      box jsonb,
      path jsonb,
      zones text[] NOT NULL DEFAULT '{}',
      attributes jsonb NOT NULL DEFAULT '{}',
      -- Searchable attributes, derived at write time exactly as the box's event_attributes rows are
      -- (store.ts indexAttributes): 'name:value' for each reading and its alternative, e.g. 'colour:white',
      -- 'plate:贵F12345'. One GIN index answers colour and full-plate searches.
      tags text[] NOT NULL DEFAULT '{}',
      -- The plate reading's text, as the box's plate_text table holds it: fragments match through a trigram index.
      plate_text text,
      frame_sha256 text,
      frame_bytes bigint NOT NULL DEFAULT 0,
      crop_sha256 text,
      crop_bytes bigint NOT NULL DEFAULT 0,
      frame_width integer,
      frame_height integer,
      updated_ms bigint NOT NULL,
      -- What apply() upserts on: an event is (box, its id there); start_ms is in it because every unique
      -- index of a partitioned table must hold the partition key. Also serves deletes by (box_name, box_id).
      CONSTRAINT events_box_key UNIQUE (box_name, box_id, start_ms)
    ) PARTITION BY RANGE (start_ms);
    CREATE INDEX events_id ON events (id);
    -- The box's query shapes (store.ts): each walks in time order and stops at the page's end.
    CREATE INDEX events_start ON events (start_ms);
    CREATE INDEX events_camera_start ON events (camera, start_ms);
    CREATE INDEX events_location_start ON events (location, start_ms);
    CREATE INDEX events_label_start ON events (label, start_ms);
    CREATE INDEX events_location_label_start ON events (location, label, start_ms);
    CREATE INDEX events_kind_label_start ON events (kind, label, start_ms);
    CREATE INDEX events_zones ON events USING gin (zones);
    CREATE INDEX events_tags ON events USING gin (tags);
    CREATE INDEX events_plate_text ON events USING gin (plate_text gin_trgm_ops);
    -- Retention asks which attachments no event references any more.
    CREATE INDEX events_frame_sha256 ON events (frame_sha256) WHERE frame_sha256 IS NOT NULL;
    CREATE INDEX events_crop_sha256 ON events (crop_sha256) WHERE crop_sha256 IS NOT NULL;

    -- How far the hub has read each box; apply() locks the row, so two hub processes never interleave.
    CREATE TABLE box_cursors (
      box text PRIMARY KEY,
      store_id text,
      last_seq bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- Changes a box could no longer serve: recorded, never hidden.
    CREATE TABLE replica_gaps (
      box text NOT NULL,
      from_seq bigint NOT NULL,
      to_seq bigint NOT NULL,
      reason text NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX replica_gaps_box ON replica_gaps (box, recorded_at);
    -- One row per picture, by its SHA-256 (two events may share one).
    CREATE TABLE attachments (
      sha256 text PRIMARY KEY,
      bytes bigint NOT NULL,
      state text NOT NULL CHECK (state IN ('stored', 'refused', 'missing')),
      box text NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()
    );`,
  },
  {
    name: 'full plates on btree indexes',
    // A full plate is found as its reading or runner-up equal to one of ~1,700 variants (one character off,
    // confusable pairs): `= ANY` on a btree is estimated per value and probed per value, where an overlap with
    // the tags array was estimated to match nearly every event (pg-search.ts). Partial indexes: most events have
    // no plate.
    sql: `
    ALTER TABLE events ADD COLUMN plate_alt text;
    UPDATE events SET plate_alt = attributes->'plate'->>'alternative' WHERE jsonb_typeof(attributes->'plate'->'alternative') = 'string';
    CREATE INDEX events_plate_exact ON events (plate_text) WHERE plate_text IS NOT NULL;
    CREATE INDEX events_plate_alt ON events (plate_alt) WHERE plate_alt IS NOT NULL;`,
  },
  {
    name: 'a plate table of its own',
    // A full plate is ~1,700 variants; probed in every monthly partition's index that is ~50,000 probes (242 ms
    // at 10M events). One table of plate values, not partitioned, as the box's event_attributes is, answers it in
    // one index. Triggers keep it equal to the events' plate_text and plate_alt, whatever writes them (apply,
    // retention); dropping a month's partition fires no trigger, so retention removes that month's rows itself.
    sql: `
    CREATE TABLE event_plates (
      value text NOT NULL,
      box_name text NOT NULL,
      box_id bigint NOT NULL,
      start_ms bigint NOT NULL,
      PRIMARY KEY (value, box_name, box_id, start_ms)
    );
    CREATE INDEX event_plates_event ON event_plates (box_name, box_id, start_ms);
    CREATE INDEX event_plates_start ON event_plates (start_ms);
    INSERT INTO event_plates (value, box_name, box_id, start_ms)
      SELECT DISTINCT v, box_name, box_id, start_ms FROM events, unnest(ARRAY[plate_text, plate_alt]) AS v WHERE v IS NOT NULL;
    CREATE FUNCTION event_plates_forget() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
      DELETE FROM event_plates WHERE box_name = OLD.box_name AND box_id = OLD.box_id AND start_ms = OLD.start_ms;
      RETURN NULL;
    END $f$;
    CREATE FUNCTION event_plates_learn() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        DELETE FROM event_plates WHERE box_name = OLD.box_name AND box_id = OLD.box_id AND start_ms = OLD.start_ms;
      END IF;
      INSERT INTO event_plates (value, box_name, box_id, start_ms)
        SELECT v, NEW.box_name, NEW.box_id, NEW.start_ms FROM unnest(ARRAY[NEW.plate_text, NEW.plate_alt]) AS v WHERE v IS NOT NULL
        ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $f$;
    CREATE TRIGGER event_plates_insert AFTER INSERT ON events FOR EACH ROW
      WHEN (NEW.plate_text IS NOT NULL OR NEW.plate_alt IS NOT NULL) EXECUTE FUNCTION event_plates_learn();
    CREATE TRIGGER event_plates_update AFTER UPDATE ON events FOR EACH ROW
      WHEN (OLD.plate_text IS DISTINCT FROM NEW.plate_text OR OLD.plate_alt IS DISTINCT FROM NEW.plate_alt) EXECUTE FUNCTION event_plates_learn();
    CREATE TRIGGER event_plates_delete AFTER DELETE ON events FOR EACH ROW
      WHEN (OLD.plate_text IS NOT NULL OR OLD.plate_alt IS NOT NULL) EXECUTE FUNCTION event_plates_forget();`,
  },
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to PG_SCHEMA_VERSION. Runs on one client (the session advisory lock is the client's);
 * refuses a database whose schema is newer than this code knows. Returns the versions it applied.
 */
export async function migrate(client: pg.ClientBase): Promise<number[]> {
  const applied: number[] = [];
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`its schema version ${current} is newer than this vigil knows (${MIGRATIONS.length}): upgrade vigil`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      const m = MIGRATIONS[v]!;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [v + 1, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${v + 1} (${m.name}) failed: ${(err as Error).message}`);
      }
      applied.push(v + 1);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => undefined);
  }
  return applied;
}
