-- How many values each key received per day, and how many distinct items
-- they came from: a first look at which nested fields are in use.
SELECT dt, attribute, key, count(*) AS values_written, count(DISTINCT pk) AS items
FROM {{table}}
WHERE event_name <> 'REMOVE' AND value_type <> 'ABSENT'
GROUP BY dt, attribute, key
ORDER BY dt, attribute, key
