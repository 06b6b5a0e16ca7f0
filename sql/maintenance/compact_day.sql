-- A compacted day: every distinct row of the day {{dt}}, in the lake's
-- maintenance order, so Parquet row-group statistics prune by key and the
-- versions of each (pk, sk, attribute) follow each other in time. DISTINCT
-- folds the rows at-least-once delivery wrote into more than one object.
-- The day is the object's Hive partition (dt=...): the files hold no dt.
-- {{kept}} is TRUE, or, when an erasure rewrites the day, the rows it keeps.
SELECT DISTINCT {{data_columns}}
FROM {{table}}
WHERE dt = {{dt}}
  AND {{kept}}
ORDER BY pk, sk, attribute, event_time, sequence, item_index, key, value_type, value
