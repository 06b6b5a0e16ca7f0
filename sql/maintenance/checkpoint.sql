-- A checkpoint: the current-state view as of {{until}}, the first day it does
-- not cover. It is the view's own SQL (sql/views/current_state.sql) over the
-- previous checkpoint and the days from its bound, with the table cut at
-- {{until}}, so the checkpoint and the view cannot disagree. The rows keep
-- their dt as data (a checkpoint holds rows of many days); the view's typed
-- conveniences (value_number, value_bool) are computed again when read.
-- In key order, as compacted days are: each output file sorted (Athena's
-- UNLOAD sorts within a file), so row-group statistics prune by key and
-- the repeated keys compress (a quarter of the bytes in DuckDB: bench).
SELECT {{columns}}
FROM (
{{current_state}}
) AS current_state
ORDER BY pk, sk, attribute, item_index, key, value_type, value
