-- The eligibility gates of the benchmark's e-mail node, written by hand in the shape of the
-- statement Herald runs: the same verdicts (no address, opted out, suppressed, duplicate address,
-- frequency cap over the history) and the same columns (recipient, address, zone, reason) in the
-- same order (by recipient), read from the population's keys and written to a table in a file of
-- their own, attached, as a run's work file is. Herald also checks each address's syntax (a function of its own, which the shell
-- does not have): the shell's statement is the cheaper one.
-- run.sh runs it in the sqlite3 shell against the same store, with the work file's path in
-- place of WORKFILE.
ATTACH 'WORKFILE' AS work;
CREATE TABLE work.population (key INTEGER PRIMARY KEY);
INSERT INTO work.population SELECT id FROM profiles WHERE email IS NOT NULL AND email <> '';
CREATE TABLE work.verdicts (profile_key, entity_key, address TEXT, zone TEXT, reason TEXT);
.timer on
INSERT INTO work.verdicts
WITH g AS MATERIALIZED (
  SELECT a.profile_key, a.entity_key, a.address, a.zone, ifnull(h.n, 0) AS recent,
    CASE WHEN a.address IS NULL OR a.address = '' THEN 'no_address'
         WHEN c.status = 'opted_out' THEN 'opted_out'
         WHEN s.address IS NOT NULL THEN 'suppressed' END AS reason
  FROM (
    SELECT p.id AS profile_key, NULL AS entity_key, lower(trim(p.email)) AS address, p.time_zone AS zone
    FROM work.population w JOIN profiles p ON p.id = w.key
  ) a
  LEFT JOIN main.herald_consent c ON c.profile_key = +a.profile_key AND c.channel = 'email'
  LEFT JOIN main.herald_suppressions s ON s.channel = 'email' AND s.address = a.address
  LEFT JOIN (SELECT profile_key, count(*) AS n FROM main.herald_messages
             WHERE channel = 'email' AND category = 'marketing' AND status IN ('queued', 'deferred', 'claimed', 'sent', 'unknown')
               AND coalesce(sent_at, created_at) > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
               AND NOT (ifnull(run_id, 0) = 0 AND ifnull(node_id, '') = 'mail')
             GROUP BY profile_key) h ON h.profile_key = +a.profile_key
),
firsts AS MATERIALIZED (
  SELECT address, min(profile_key) AS first_profile FROM g WHERE reason IS NULL GROUP BY address HAVING count(*) > 1
)
SELECT g.profile_key, g.entity_key, g.address, g.zone,
  coalesce(g.reason, CASE WHEN f.first_profile IS NOT NULL AND f.first_profile IS NOT g.profile_key THEN 'duplicate_address'
                          WHEN g.recent + 1 > 3 THEN 'frequency_cap' END) AS reason
FROM g LEFT JOIN firsts f ON f.address = g.address
ORDER BY g.profile_key, g.entity_key;
.timer off
SELECT count(*), count(reason) FROM work.verdicts;
