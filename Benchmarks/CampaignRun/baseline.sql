-- The ten-node campaign of ten-nodes.json written by hand, node by node, as the statements a
-- person would run in the sqlite3 shell: the same populations (the same seeded order for the
-- sample, the same ranking for the deduplication), the same counts. run.sh times it against
-- `herald run … --dry-run` on the same file. Each "-- node:" line starts a node's statements.
-- node: regulars
CREATE TABLE bench_regulars (key INTEGER PRIMARY KEY);
INSERT INTO bench_regulars SELECT profile_id FROM bookings WHERE status = 'completed' GROUP BY profile_id HAVING count(*) >= 2;
-- node: cancellers
CREATE TABLE bench_cancellers (key INTEGER PRIMARY KEY);
INSERT INTO bench_cancellers SELECT DISTINCT profile_id FROM bookings WHERE status = 'cancelled';
-- node: holdout
CREATE TABLE bench_holdout (key INTEGER PRIMARY KEY);
INSERT INTO bench_holdout SELECT key FROM bench_regulars
  ORDER BY ((key + 283521) * 2654435761) % 4294967296, key LIMIT (SELECT count(*) * 10 / 100 FROM bench_regulars);
CREATE TABLE bench_rest (key INTEGER PRIMARY KEY);
INSERT INTO bench_rest SELECT key FROM bench_regulars WHERE key NOT IN (SELECT key FROM bench_holdout);
-- node: exclude
CREATE TABLE bench_kept (key INTEGER PRIMARY KEY);
INSERT INTO bench_kept SELECT key FROM bench_rest WHERE key NOT IN (SELECT key FROM bench_cancellers);
CREATE TABLE bench_excluded (key INTEGER PRIMARY KEY);
INSERT INTO bench_excluded SELECT key FROM bench_rest WHERE key IN (SELECT key FROM bench_cancellers);
-- node: households
CREATE TABLE bench_households (key INTEGER PRIMARY KEY);
INSERT INTO bench_households SELECT key FROM (
  SELECT w.key AS key, row_number() OVER (
    PARTITION BY p.postal_address, CASE WHEN p.postal_address IS NULL OR p.postal_address = '' THEN w.key END
    ORDER BY p.lifetime_value IS NULL OR p.lifetime_value = '', p.lifetime_value DESC, (w.key * 2654435761) % 4294967296, w.key) AS rank
  FROM bench_kept w JOIN profiles p ON p.id = w.key) WHERE rank <= 1;
CREATE TABLE bench_duplicates (key INTEGER PRIMARY KEY);
INSERT INTO bench_duplicates SELECT key FROM bench_kept WHERE key NOT IN (SELECT key FROM bench_households);
-- node: details
CREATE TABLE bench_details (key INTEGER PRIMARY KEY, confirmed INTEGER, spent REAL);
INSERT INTO bench_details SELECT w.key,
  (SELECT count(*) FROM bookings b WHERE b.profile_id = w.key AND b.status = 'confirmed'),
  coalesce((SELECT sum(b.amount) FROM bookings b WHERE b.profile_id = w.key AND b.status = 'completed'), 0)
  FROM bench_households w;
-- node: trips
CREATE TABLE bench_trips (key INTEGER PRIMARY KEY);
INSERT INTO bench_trips SELECT b.id FROM bench_details w JOIN bookings b ON b.profile_id = w.key;
CREATE TABLE bench_untravelled (key INTEGER PRIMARY KEY, reason TEXT);
INSERT INTO bench_untravelled SELECT w.key, 'unmatched' FROM bench_details w
  WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.profile_id = w.key);
-- node: wait
SELECT count(*) FROM bench_trips;
-- node: mail
SELECT count(*) FROM bench_trips;
-- node: done
SELECT count(*) FROM bench_trips;
-- node: (counts)
SELECT 'regulars.out', count(*) FROM bench_regulars UNION ALL SELECT 'cancellers.out', count(*) FROM bench_cancellers
  UNION ALL SELECT 'holdout.subset1', count(*) FROM bench_holdout UNION ALL SELECT 'holdout.complement', count(*) FROM bench_rest
  UNION ALL SELECT 'exclude.out', count(*) FROM bench_kept UNION ALL SELECT 'exclude.complement', count(*) FROM bench_excluded
  UNION ALL SELECT 'households.out', count(*) FROM bench_households UNION ALL SELECT 'households.complement', count(*) FROM bench_duplicates
  UNION ALL SELECT 'details.out', count(*) FROM bench_details UNION ALL SELECT 'trips.out', count(*) FROM bench_trips
  UNION ALL SELECT 'trips.complement', count(*) FROM bench_untravelled;
-- node: (cleanup)
DROP TABLE bench_regulars; DROP TABLE bench_cancellers; DROP TABLE bench_holdout; DROP TABLE bench_rest; DROP TABLE bench_kept;
DROP TABLE bench_excluded; DROP TABLE bench_households; DROP TABLE bench_duplicates; DROP TABLE bench_details;
DROP TABLE bench_trips; DROP TABLE bench_untravelled;
