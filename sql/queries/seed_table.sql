-- The seed's flattened table: one line per leaf of the current state.
SELECT pk, key, value
FROM {{current_view}}
ORDER BY pk, sk, attribute, item_index, key, value
