-- The days that hold a row the erasure removes: rows of the erased keys
-- written before the erasure was asked for ({{erased}}). Only pk, sk,
-- event_time and the partition are read.
SELECT DISTINCT dt
FROM {{table}}
WHERE {{erased}}
