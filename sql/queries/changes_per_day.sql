-- Item versions per day by kind of change (INSERT, MODIFY, REMOVE, EXPIRE, SNAPSHOT).
SELECT dt, event_name, count(DISTINCT concat(pk, '|', coalesce(sk, ''), '|', sequence)) AS versions
FROM {{table}}
GROUP BY dt, event_name
ORDER BY dt, event_name
