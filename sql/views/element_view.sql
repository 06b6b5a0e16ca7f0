-- One row per element of the exploded attribute {{attribute}} in the current
-- state, with a column per configured key path: the exact text, and
-- <column>_number as DOUBLE when the value is a DynamoDB number. A set-valued
-- key shows its greatest member; the long view has every member. The row of
-- an empty list or map (the attribute itself, no element) is not an element.
SELECT pk, sk, item_index{{key_columns}}{{carried_columns}}, event_time
FROM {{current_view}}
WHERE attribute = {{attribute}}
  AND NOT (item_index IS NULL AND key IS NULL AND value_type IN ('L', 'M'))
GROUP BY pk, sk, item_index{{carried_columns}}, event_time
