-- Items that Time to Live deleted, as they were when they expired: for each
-- (pk, sk, attribute), the rows of the latest version by (event_time,
-- sequence) over the table's whole history, when that version is an EXPIRE
-- (a stream REMOVE made by DynamoDB's Time to Live process, flattened from
-- the expired item's old image). An item written again after it expired has
-- a later version and is not here (it is in the current state). ABSENT rows
-- stay: an attribute the expired item did not have, or, when the stream
-- carried no old image, the expiry itself. The checkpoints leave expired
-- items out, so this view reads the days, every one the lake keeps.
-- value_number and value_bool are typed conveniences; value stays exact.
SELECT DISTINCT {{columns}},
       CASE WHEN value_type IN ('N', 'NS') THEN TRY_CAST(value AS DOUBLE) END AS value_number,
       CASE WHEN value_type = 'BOOL' THEN value = 'true' END AS value_bool
FROM (
  SELECT {{columns}},
         rank() OVER (
           PARTITION BY pk, sk, attribute
           ORDER BY event_time DESC, sequence DESC
         ) AS version_rank
  FROM {{table}}
) AS versions
WHERE version_rank = 1
  AND event_name = 'EXPIRE'
