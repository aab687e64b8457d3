-- Room on each page of the schedule for a row's next version. A refresher's claim (and its
-- release) changes only columns no index covers, so with room on the page the update is HOT:
-- no new entry in the schedule's four indexes, and the due query does not walk past the dead
-- entries every claim would otherwise leave there. Pages written from now on keep the room;
-- `VACUUM FULL connection_schedule` (or `pg_repack`) applies it to the pages already full.
ALTER TABLE connection_schedule SET (fillfactor = 80);
