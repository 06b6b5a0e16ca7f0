-- Current state of every item: the rows of the latest version of each
-- (pk, sk, attribute), ordered by event_time then sequence (snapshot rows
-- carry an all-zero sequence, so a stream record of the same second wins).
-- Versions whose attribute is ABSENT (item removed, or attribute dropped)
-- leave nothing, and so do EXPIRE versions (a Time to Live deletion: the
-- expired_items view keeps them). DISTINCT folds rows that at-least-once delivery wrote into
-- more than one object: within one version no two rows are identical.
-- value_number and value_bool are typed conveniences; value stays exact.
--
-- The rows ranked are the latest checkpoint (the current state as of the
-- first day it does not cover) and the rows of that day and after, never the
-- whole history; each checkpoint run moves both literals below together.
SELECT DISTINCT {{columns}},
       CASE WHEN value_type IN ('N', 'NS') THEN TRY_CAST(value AS DOUBLE) END AS value_number,
       CASE WHEN value_type = 'BOOL' THEN value = 'true' END AS value_bool
FROM (
  SELECT {{columns}},
         rank() OVER (
           PARTITION BY pk, sk, attribute
           ORDER BY event_time DESC, sequence DESC
         ) AS version_rank
  FROM (
    SELECT {{columns}} FROM {{checkpoints}} WHERE checkpoint = {{checkpoint}}
    UNION ALL
    SELECT {{columns}} FROM {{table}} WHERE dt >= {{bound}}
  ) AS state_rows
) AS versions
WHERE version_rank = 1
  AND value_type <> 'ABSENT'
  AND event_name IS DISTINCT FROM 'EXPIRE'
