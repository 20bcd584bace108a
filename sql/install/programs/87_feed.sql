-- customer_tier install script, part 87: a program's change feed
-- (docs/feed.md).
--
-- While a program has registered consumers, every change of a customer's
-- tier, lifecycle stage or churn flags is an event of the program's table
-- events, with a stable id, and a delivery in event_deliveries for each
-- consumer (src/programs/customer_events.c).  A
-- consumer takes its deliveries, oldest first, with consume_events in the
-- transaction that does the work: the commit acknowledges them, a rollback
-- (or a crash) gives them back, and two workers sharing a consumer name
-- never take the same event (SKIP LOCKED).  NOTIFY customer_tier_events
-- only wakes the workers: {"program", "event_id"}, no customer.  Events
-- follow the program's tier history retention; a consumer whose untaken
-- events were purged is stopped with an error until it is reset.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- Create a program's feed tables (called by create_program_objects, before
-- the customers' triggers that write them).
CREATE OR REPLACE FUNCTION customer_tier.create_feed_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.events (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            happened_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            customer    %2$s NOT NULL,
            kind        text NOT NULL CONSTRAINT events_kind CHECK (kind IN ('tier', 'lifecycle', 'churn_flags')),
            detail      jsonb NOT NULL,
            source      text
        );
        CREATE INDEX ON %1$I.events (customer);
        CREATE INDEX ON %1$I.events (happened_at);
        COMMENT ON TABLE %1$I.events IS %3$L;
        COMMENT ON COLUMN %1$I.events.id IS 'the event''s id: stable, in the order the events were written';
        COMMENT ON COLUMN %1$I.events.happened_at IS 'when (the time of the transaction that made the change)';
        COMMENT ON COLUMN %1$I.events.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.events.kind IS 'tier, lifecycle or churn_flags';
        COMMENT ON COLUMN %1$I.events.detail IS 'tier and lifecycle: {"from", "to"} (from null: a new customer''s first tier); churn_flags: {"raised": [...], "cleared": [...]}';
        COMMENT ON COLUMN %1$I.events.source IS 'what made the change (changed_by): a trigger operation, a run, a pin';

        CREATE TABLE %1$I.event_consumers (
            name          text PRIMARY KEY CONSTRAINT event_consumers_name CHECK (name <> ''),
            registered_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            registered_by name NOT NULL DEFAULT CURRENT_USER,
            missed_before bigint
        );
        COMMENT ON TABLE %1$I.event_consumers IS 'the consumers of the change feed (register_consumer)';
        COMMENT ON COLUMN %1$I.event_consumers.name IS 'the consumer''s name; workers sharing it share its events';
        COMMENT ON COLUMN %1$I.event_consumers.registered_at IS 'when it was registered';
        COMMENT ON COLUMN %1$I.event_consumers.registered_by IS 'the role that registered it';
        COMMENT ON COLUMN %1$I.event_consumers.missed_before IS 'set when events it had not taken were purged (it fell behind the retention): the newest of them plus one; consume_events refuses until reset_consumer';
        -- the trigger path keeps events only while there are consumers, and caches whether there are
        CREATE TRIGGER consumers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %1$I.event_consumers
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.config_changed();
        ALTER TABLE %1$I.event_consumers ENABLE ALWAYS TRIGGER consumers_changed;

        CREATE TABLE %1$I.event_deliveries (
            consumer text NOT NULL REFERENCES %1$I.event_consumers (name) ON DELETE CASCADE,
            event_id bigint NOT NULL REFERENCES %1$I.events (id) ON DELETE CASCADE,
            PRIMARY KEY (consumer, event_id)
        );
        CREATE INDEX ON %1$I.event_deliveries (event_id);
        COMMENT ON TABLE %1$I.event_deliveries IS 'the events each consumer has not taken yet';
        COMMENT ON COLUMN %1$I.event_deliveries.consumer IS 'the consumer';
        COMMENT ON COLUMN %1$I.event_deliveries.event_id IS 'an event it has not taken'
    $sql$, prog.data_schema, prog.customer_type,
        format('program %s: the change feed: changes of tier, lifecycle stage and churn flags', prog.name));
END
$$;
COMMENT ON FUNCTION customer_tier.create_feed_objects(customer_tier.program) IS
    'create a program''s change feed tables: events, event_consumers, event_deliveries';
REVOKE ALL ON FUNCTION customer_tier.create_feed_objects(customer_tier.program) FROM PUBLIC;

-- The schema of a program's feed, for the roles that may not read the
-- catalog (the writer): a program's schema is ct_<name> (create_program).
CREATE OR REPLACE FUNCTION customer_tier.feed_schema(program text)
RETURNS name
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := ('ct_' || program)::name;
BEGIN
    IF program !~ '^[a-z][a-z0-9_]{0,39}$' OR to_regclass(format('%I.event_consumers', s)) IS NULL THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION customer_tier.feed_schema(text) IS
    'the schema of a program''s change feed, found without reading the catalog';
REVOKE ALL ON FUNCTION customer_tier.feed_schema(text) FROM PUBLIC;

-- Register a consumer of a program's feed.  From now on it gets every new
-- event; with replay_from, also the events kept from that id on.  Returns
-- the events waiting for it.
CREATE OR REPLACE FUNCTION customer_tier.register_consumer(program text, consumer text, replay_from bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name;
    n bigint := 0;
BEGIN
    IF program IS NULL OR consumer IS NULL OR consumer = '' THEN
        RAISE EXCEPTION 'program and consumer must not be null or empty'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name the consumer after the worker that reads the feed, e.g. ''crm-tasks''.';
    END IF;
    s := customer_tier.feed_schema(program);
    BEGIN
        EXECUTE format('INSERT INTO %I.event_consumers (name) VALUES ($1)', s) USING consumer;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'consumer "%" of program "%" is already registered', consumer, program
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Workers sharing a consumer name share its events: start another worker with the same name, or register another name.';
    END;
    IF replay_from IS NOT NULL THEN
        EXECUTE format('INSERT INTO %1$I.event_deliveries (consumer, event_id)
                        SELECT $1, e.id FROM %1$I.events AS e WHERE e.id >= $2', s)
          USING consumer, replay_from;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.register_consumer(text, text, bigint) IS
    'register a consumer of a program''s change feed: it gets every new event (and, with replay_from, the events kept from that id); returns the events waiting';
REVOKE ALL ON FUNCTION customer_tier.register_consumer(text, text, bigint) FROM PUBLIC;

-- Unregister a consumer: its untaken events are dropped for it.
CREATE OR REPLACE FUNCTION customer_tier.unregister_consumer(program text, consumer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('DELETE FROM %I.event_consumers AS c WHERE c.name = $1',
                   customer_tier.feed_schema(program))
      USING consumer;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION customer_tier.unregister_consumer(text, text) IS
    'unregister a consumer of a program''s change feed (its untaken events are dropped for it); false when there was none';
REVOKE ALL ON FUNCTION customer_tier.unregister_consumer(text, text) FROM PUBLIC;

-- A consumer that fell behind the retention goes on with the events kept,
-- once whoever runs it has caught up from the CRM's own data.
CREATE OR REPLACE FUNCTION customer_tier.reset_consumer(program text, consumer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('UPDATE %I.event_consumers AS c SET missed_before = NULL WHERE c.name = $1',
                   customer_tier.feed_schema(program)) USING consumer;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION customer_tier.reset_consumer(text, text) IS
    'let a consumer that fell behind the retention go on with the events kept; false when there is no such consumer';
REVOKE ALL ON FUNCTION customer_tier.reset_consumer(text, text) FROM PUBLIC;

-- Take up to max_events of a consumer's events, oldest first.  Call it in
-- the transaction that handles them: its commit acknowledges them; a
-- rollback, or the session's end, gives them back.  Another worker of the
-- same consumer takes other events meanwhile (SKIP LOCKED).  The customer
-- key comes as text (its type's output function).
CREATE OR REPLACE FUNCTION customer_tier.consume_events(program text, consumer text, max_events integer DEFAULT 100)
RETURNS TABLE (event_id bigint, happened_at timestamptz, customer text, kind text, detail jsonb, source text)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name;
    missed bigint;
    found_consumer boolean;
BEGIN
    IF program IS NULL OR consumer IS NULL OR max_events IS NULL THEN
        RAISE EXCEPTION 'program, consumer and max_events must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_events < 1 THEN
        RAISE EXCEPTION 'max_events must be at least 1, not %', max_events
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Take events in batches, e.g. 100.';
    END IF;
    s := customer_tier.feed_schema(program);
    EXECUTE format('SELECT true, c.missed_before FROM %I.event_consumers AS c WHERE c.name = $1', s)
      INTO found_consumer, missed USING consumer;
    IF found_consumer IS NULL THEN
        RAISE EXCEPTION 'consumer "%" of program "%" is not registered', consumer, program
            USING ERRCODE = 'undefined_object',
                  HINT = format('Register it once: SELECT customer_tier.register_consumer(%L, %L).', program, consumer);
    END IF;
    IF missed IS NOT NULL THEN
        RAISE EXCEPTION 'consumer "%" of program "%" fell behind the retention: events it had not taken were purged', consumer, program
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Events before id %s that it had not taken are gone.', missed),
                  HINT = 'Catch up from the program''s views (segments, tier_changes), then call customer_tier.reset_consumer(program, consumer) to go on with the events kept; a longer tier_history retention (set_retention) keeps events longer.';
    END IF;
    RETURN QUERY EXECUTE format($sql$
        WITH taken AS (
            DELETE FROM %1$I.event_deliveries AS d
             WHERE d.consumer = $1
               AND d.event_id IN (SELECT x.event_id FROM %1$I.event_deliveries AS x
                                   WHERE x.consumer = $1
                                   ORDER BY x.event_id LIMIT $2
                                   FOR UPDATE SKIP LOCKED)
            RETURNING d.event_id)
        SELECT e.id, e.happened_at, customer_tier.text_of(e.customer), e.kind, e.detail, e.source
          FROM taken AS t JOIN %1$I.events AS e ON e.id = t.event_id
         ORDER BY e.id$sql$, s)
      USING consumer, max_events;
END
$$;
COMMENT ON FUNCTION customer_tier.consume_events(text, text, integer) IS
    'take up to max_events of a consumer''s events, oldest first; the caller''s commit acknowledges them, a rollback gives them back';
REVOKE ALL ON FUNCTION customer_tier.consume_events(text, text, integer) FROM PUBLIC;
-- @end
