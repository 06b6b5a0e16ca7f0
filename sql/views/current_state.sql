-- Current state of every item: the rows of the latest version of each
-- (pk, sk, attribute), ordered by event_time then sequence (snapshot rows
-- carry an all-zero sequence, so a stream record of the same second wins).
-- Versions whose attribute is ABSENT (item removed, or attribute dropped)
-- leave nothing. DISTINCT folds rows that at-least-once delivery wrote into
-- more than one object: within one version no two rows are identical.
SELECT DISTINCT {{columns}}
FROM (
  SELECT {{columns}},
         rank() OVER (
           PARTITION BY pk, sk, attribute
           ORDER BY event_time DESC, sequence DESC
         ) AS version_rank
  FROM {{table}}
) AS versions
WHERE version_rank = 1
  AND value_type <> 'ABSENT'
