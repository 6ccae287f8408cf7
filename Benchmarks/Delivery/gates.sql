-- The eligibility gates of the benchmark's e-mail node, written by hand: the same verdicts
-- Herald computes (no address, opted out, suppressed, duplicate address, frequency cap), over a
-- table of the population's keys. Run by run.sh in the sqlite3 shell against the same store.
CREATE TEMP TABLE population AS SELECT id AS key FROM profiles WHERE email IS NOT NULL AND email <> '';
.timer on
CREATE TEMP TABLE verdicts AS
SELECT profile_key, address,
  coalesce(reason, CASE WHEN first_profile IS NOT profile_key THEN 'duplicate_address'
                        WHEN recent + nth > 3 THEN 'frequency_cap' END) AS reason
FROM (
  SELECT *,
    CASE WHEN reason IS NULL THEN min(CASE WHEN reason IS NULL THEN profile_key END) OVER (PARTITION BY address) END AS first_profile,
    1 AS nth
  FROM (
    SELECT p.id AS profile_key, lower(trim(p.email)) AS address, ifnull(h.n, 0) AS recent,
      CASE WHEN p.email IS NULL OR trim(p.email) = '' THEN 'no_address'
           WHEN c.status = 'opted_out' THEN 'opted_out'
           WHEN s.address IS NOT NULL THEN 'suppressed' END AS reason
    FROM population w JOIN profiles p ON p.id = w.key
    LEFT JOIN herald_consent c ON c.profile_key = +p.id AND c.channel = 'email'
    LEFT JOIN herald_suppressions s ON s.channel = 'email' AND s.address = lower(trim(p.email))
    LEFT JOIN (SELECT profile_key, count(*) AS n FROM herald_messages
               WHERE channel = 'email' AND category = 'marketing' AND status IN ('queued', 'deferred', 'claimed', 'sent', 'unknown')
                 AND coalesce(sent_at, created_at) > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
               GROUP BY profile_key) h ON h.profile_key = +p.id
  )
);
.timer off
SELECT count(*), count(reason) FROM verdicts;
