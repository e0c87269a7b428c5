-- The NOTIFY that wakes the gateways' event feeds moves out of the saga's writes. PostgreSQL serialises every
-- transaction that notifies: it takes one database-wide lock before the commit and holds it until after the commit's
-- WAL flush, so the notification queue stays in commit order. With the trigger of 0009 every saga write notified, and
-- so waited for the flush of the one before it: at 124 to 143 jobs/s a fifth of the active backends' samples waited on
-- that lock, and the saga could never commit more often than once per WAL flush. The scheduler now sends the
-- NOTIFY itself after its writes commit, at most one every 20 ms (TransitionsNotifier). Readers still read the table
-- for what is new, and poll it every second besides, so a notification sent late or lost delays, never loses.
DROP TRIGGER job_transitions_notify ON job_transitions;
DROP FUNCTION job_transitions_notify();
