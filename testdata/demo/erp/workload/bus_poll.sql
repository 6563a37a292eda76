-- Every open browser tab polls the notification bus for what is new on its channels.
\set user random(1, 60)
SELECT max(id) - 20 AS last_id FROM bus_bus \gset
SELECT id, channel, message FROM bus_bus WHERE id > :last_id AND channel IN ('["erp","res.partner",' || :user || ']', '["erp","mail.channel",' || :user || ']') ORDER BY id;
