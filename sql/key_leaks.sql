-- Customer keys never reach an error message (docs/data-protection.md): a
-- key is personal data (here an e-mail address), and an error's message,
-- detail, hint and context go to the server log.  Every function that takes
-- a customer key is called with a recognisable one in each way it can fail;
-- the errors are shown, and then checked for the key, context included.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never

CREATE SCHEMA crm;
-- cr keys customers by bigint, so an e-mail address is not a valid key;
-- crt keys them by text, so it is one, of a customer who has orders
CREATE TABLE crm.orders (id bigint PRIMARY KEY, customer bigint, amount numeric, ordered_at timestamptz);
CREATE TABLE crm.mail_orders (id bigint PRIMARY KEY, customer text, amount numeric, ordered_at timestamptz);
INSERT INTO crm.orders SELECT i, i % 3, 10 * i, now() - i * interval '3 days' FROM generate_series(1, 12) AS i;
INSERT INTO crm.mail_orders VALUES (1, 'jane.doe@example.com', 50, now() - interval '2 days'),
                                   (2, 'joe@example.com', 20, now() - interval '9 days');
SELECT customer_tier.create_program('cr', 'crm.orders', 'customer', 'amount', 'ordered_at');
SELECT customer_tier.create_program('crt', 'crm.mail_orders', 'customer', 'amount', 'ordered_at');

-- ==== the errors, as a client sees them ====
-- pins
SELECT customer_tier.unpin_customer('cr', 'jane.doe@example.com');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.pin_customer('cr', 'jane.doe@example.com', 'gold', 'key account');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.pin_customer('cr', '99999999999999999999', 'gold', 'key account');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.pin_customer('crt', 'jane.doe@example.com', 'platinum', 'key account');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.pin_customer('crt', 'jane.doe@example.com', 'gold', ' ');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.rescore_program('cr', 'test', 'jane.doe@example.com');
\echo :LAST_ERROR_SQLSTATE
-- the contact log
SELECT customer_tier.log_contact('cr', 'jane.doe@example.com', 'phone');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.log_contact('cr', '99999999999999999999', 'phone');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.log_contact('crt', 'jane.doe@example.org', 'phone');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.log_contact('crt', 'jane.doe@example.com', 'fax');
\echo :LAST_ERROR_SQLSTATE
-- erasure
SELECT customer_tier.forget('cr', 'jane.doe@example.com');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.forget('crt', 'jane.doe@example.com');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.forget('jane.doe@example.com');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.was_forgotten('cr', 'jane.doe@example.com') AS forgotten;
-- the internal helper the pins call
SELECT customer_tier.customer_key_text('cr', 'jane.doe@example.com');
\echo :LAST_ERROR_SQLSTATE

-- ==== nowhere in the message, detail, hint or context ====
-- Each call is run with the key as a bind parameter ($1), as a client should
-- pass it (docs/data-protection.md), so that the statement text in the
-- context holds "$1": what is left would be the extension's doing.
CREATE FUNCTION crm.error_of(call text, key text)
RETURNS TABLE (state text, key_in_error boolean)
LANGUAGE plpgsql AS $$
DECLARE
    m text; d text; h text; c text;
BEGIN
    EXECUTE call USING key;
    RETURN QUERY SELECT 'no error'::text, false;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
                            h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
    RETURN QUERY SELECT state, strpos(concat_ws(E'\n', m, d, h, c), key) > 0;
END
$$;
SELECT e.state, e.key_in_error, x.call
  FROM (VALUES
    ($$SELECT customer_tier.unpin_customer('cr', $1)$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.pin_customer('cr', $1, 'gold', 'key account')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.pin_customer('cr', $1, 'gold', 'key account')$$, '99999999999999999999'),
    ($$SELECT customer_tier.pin_customer('crt', $1, 'platinum', 'key account')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.pin_customer('crt', $1, 'gold', ' ')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.pin_customer('crt', $1, 'gold', 'x', now() - interval '1 day')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.rescore_program('cr', 'test', $1)$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.log_contact('cr', $1, 'phone')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.log_contact('cr', $1, 'phone')$$, '99999999999999999999'),
    ($$SELECT customer_tier.log_contact('crt', $1, 'phone')$$, 'jane.doe@example.org'),
    ($$SELECT customer_tier.log_contact('crt', $1, 'fax')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.log_contact('crt', $1, 'phone', contacted_at => 'infinity')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.log_contact('crt', $1, 'phone', contacted_at => now() + interval '1 day')$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.forget('cr', $1)$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.forget('crt', $1)$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.forget($1)$$, 'jane.doe@example.com'),
    ($$SELECT customer_tier.customer_key_text('cr', $1)$$, 'jane.doe@example.com')
  ) AS x (call, key),
  LATERAL crm.error_of(x.call, x.key) AS e;

-- and the check sees a key when there is one: an error of our own making
SELECT e.state, e.key_in_error
  FROM crm.error_of($q$DO $d$ BEGIN RAISE EXCEPTION 'customer % failed', 'jane.doe@example.com'; END $d$$q$,
                    'jane.doe@example.com') AS e;

SELECT customer_tier.drop_program('cr');
SELECT customer_tier.drop_program('crt');
DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
