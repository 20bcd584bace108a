-- The CRM's task table the example worker writes (worker.py): one task per
-- event of the change feed.  The worker never writes one twice
-- (test/scripts/feed_worker.sh checks it on a copy of this table without the
-- UNIQUE, where a duplicate would show); the constraint is a second guard.
CREATE SCHEMA IF NOT EXISTS crm;
CREATE TABLE crm.tasks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   bigint NOT NULL UNIQUE,
    customer   text NOT NULL,
    kind       text NOT NULL,
    action     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
