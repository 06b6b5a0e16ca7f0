-- A checkpoint without the rows the erasure removes ({{erased}}): the same
-- rows otherwise, with their dt, written beside the checkpoint's objects
-- before those go.
SELECT {{columns}}
FROM {{checkpoints}}
WHERE checkpoint = {{checkpoint}}
  AND NOT ({{erased}})
ORDER BY pk, sk, attribute, item_index, key, value_type, value
