-- The one scoring path, as a run reaches it: scored_row() is churn_assess()
-- and score_customer() composed, plus the tier's name and when the tier and
-- the lifecycle stage changed.  Checked against that composition written out
-- in SQL, for every customer of a program and every kind of stored state.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
CREATE TABLE orders (customer_id integer, amount numeric(12,2), ordered_at timestamptz);
INSERT INTO orders
SELECT c, 10 * c + k, now() - ((21 - c) * 17 + k * 9) * interval '1 day'
  FROM generate_series(1, 20) AS c, generate_series(1, 1 + c % 6) AS k;
SELECT customer_tier.create_program('shop', 'orders', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT customer_tier.pin_customer('shop', '4', 'diamond', 'strategic account');

-- Stored states to score from: as stored, a new customer, another tier (one
-- that is not among the program's tiers too), a pending downgrade, another
-- lifecycle stage.
CREATE TEMP TABLE cur AS
SELECT v.variant, c.customer, c.monetary, c.last_order, c.orders, c.first_order, c.purchases,
       c.recent_satisfaction, c.abc_class,
       CASE v.variant WHEN 'new' THEN NULL WHEN 'other tier' THEN 'gold' WHEN 'unknown tier' THEN 'platinum'
                      ELSE c.tier END AS tier,
       CASE v.variant WHEN 'new' THEN NULL ELSE c.tier_since END AS tier_since,
       CASE v.variant WHEN 'pending' THEN now() - interval '3 days' ELSE c.pending_since END AS pending_since,
       CASE v.variant WHEN 'new' THEN NULL WHEN 'other stage' THEN 'lapsed' ELSE c.lifecycle END AS lifecycle,
       CASE v.variant WHEN 'new' THEN NULL ELSE c.lifecycle_since END AS lifecycle_since,
       CASE v.variant WHEN 'new' THEN NULL ELSE c.previous_lifecycle END AS previous_lifecycle,
       CASE v.variant WHEN 'new' THEN NULL ELSE c.rose_at END AS rose_at, c.last_contact_at,
       -- the scored columns, which scored_row sets
       NULL::integer AS r_score, NULL::integer AS f_score, NULL::integer AS m_score,
       NULL::double precision AS value_score, NULL::text AS segment, NULL::text AS tier_reason,
       NULL::text AS changed_by, NULL::double precision AS p_alive, NULL::double precision AS predicted_clv,
       NULL::text[] AS churn_flags, NULL::text[] AS churn_reasons, NULL::integer AS tier_rank,
       NULL::timestamptz AS follow_up_due_at, NULL::double precision AS risk_stake, NULL::numeric AS risk_monetary
  FROM ct_shop.customers AS c,
       (VALUES ('stored'), ('new'), ('other tier'), ('unknown tier'), ('pending'), ('other stage')) AS v(variant);

-- one transaction: scored_row scores as of now(), the transaction's start
BEGIN;
CREATE TEMP TABLE cfg AS
SELECT p.r_breakpoints, p.f_breakpoints, p.m_breakpoints, p.score_weights, p.downgrade_grace,
       customer_tier.tier_rules(p.name) AS rules, customer_tier.tier_model_rules(p.name) AS model_rules,
       ARRAY(SELECT t.tier FROM customer_tier.tier AS t WHERE t.program = p.name ORDER BY t.rank) AS tiers,
       (SELECT customer_tier.churn_settings_array(cs) FROM customer_tier.churn_settings AS cs
         WHERE cs.program = p.name) AS churn,
       now() AS as_of
  FROM customer_tier.program AS p WHERE p.name = 'shop';

CREATE TEMP TABLE by_function AS
SELECT u.variant, u.customer, (r).r_score, (r).f_score, (r).m_score, (r).value_score, (r).segment, (r).tier,
       (r).tier_since, (r).pending_since, (r).tier_reason, (r).changed_by, (r).p_alive, (r).predicted_clv,
       (r).churn_flags, (r).churn_reasons, (r).lifecycle, (r).lifecycle_since, (r).previous_lifecycle,
       (r).risk_stake, (r).risk_monetary
  FROM cur AS u, LATERAL (SELECT customer_tier.scored_row('shop', u, 'test') AS r) AS s;

CREATE TEMP TABLE by_composition AS
SELECT u.variant, u.customer, (sc).r_score, (sc).f_score, (sc).m_score, (sc).value_score, (sc).segment,
       cfg.tiers[(sc).rank] AS tier,
       CASE WHEN cfg.tiers[(sc).rank] IS DISTINCT FROM u.tier THEN cfg.as_of ELSE u.tier_since END AS tier_since,
       (sc).next_pending_since AS pending_since, (sc).reason AS tier_reason, 'test' AS changed_by,
       (ch).p_alive, (ch).clv AS predicted_clv, (ch).churn_flags, (ch).churn_reasons, (ch).lifecycle,
       CASE WHEN (ch).lifecycle IS DISTINCT FROM u.lifecycle THEN cfg.as_of ELSE u.lifecycle_since END
           AS lifecycle_since,
       CASE WHEN (ch).lifecycle IS DISTINCT FROM u.lifecycle THEN u.lifecycle ELSE u.previous_lifecycle END
           AS previous_lifecycle,
       -- the churn list's keys: only while on the list
       CASE WHEN cardinality((ch).churn_flags) > 0 AND (ch).lifecycle IS DISTINCT FROM 'lost'
            THEN coalesce((ch).clv, '-Infinity') END AS risk_stake,
       CASE WHEN cardinality((ch).churn_flags) > 0 AND (ch).lifecycle IS DISTINCT FROM 'lost'
            THEN u.monetary END AS risk_monetary
  FROM cur AS u, cfg,
       LATERAL customer_tier.churn_assess(cfg.churn, NULL, NULL, u.purchases, u.monetary, u.recent_satisfaction,
                                          u.lifecycle, u.lifecycle_since, cfg.as_of) AS ch,
       LATERAL (SELECT array_position(cfg.tiers, p.tier) AS rank FROM customer_tier.pin AS p
                 WHERE p.program = 'shop' AND p.customer = u.customer::text
                UNION ALL SELECT NULL LIMIT 1) AS pin,
       LATERAL customer_tier.score_customer(
           u.last_order, u.orders, u.monetary, u.first_order, cfg.r_breakpoints, cfg.f_breakpoints,
           cfg.m_breakpoints, cfg.score_weights, cfg.rules, array_position(cfg.tiers, u.tier),
           u.pending_since, u.abc_class, pin.rank, cfg.downgrade_grace, cfg.as_of,
           cfg.model_rules, (ch).p_alive, (ch).clv) AS sc;
COMMIT;

SELECT count(*) AS scored, count(DISTINCT variant) AS variants FROM by_function;
SELECT count(*) AS differences
  FROM ((TABLE by_function EXCEPT TABLE by_composition) UNION ALL (TABLE by_composition EXCEPT TABLE by_function)) AS d;
-- the variants move what they should
SELECT variant, count(*) FILTER (WHERE tier_since = (SELECT as_of FROM cfg)) AS tier_changed_now,
       count(*) FILTER (WHERE lifecycle_since = (SELECT as_of FROM cfg)) AS stage_changed_now,
       count(*) FILTER (WHERE tier_reason = 'pinned') AS pinned,
       count(*) FILTER (WHERE risk_stake IS NOT NULL) AS on_churn_list
  FROM by_function GROUP BY variant ORDER BY variant;

-- With an ABC class, it is stored and qualified on.
SELECT (customer_tier.scored_row('shop', u, 'test', 'A')).abc_class FROM cur AS u LIMIT 1;

-- Bad input: a row that is not a customers row names the missing column;
-- the program and the source are required; an unknown program is named.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$scored_row('shop', ROW(1, 2), 'test')$$, $$scored_row(NULL, u, 'test') FROM cur AS u LIMIT 1$$,
    $$scored_row('nosuch', u, 'test') FROM cur AS u LIMIT 1$$);

DROP TABLE cur, cfg, by_function, by_composition;
SELECT customer_tier.drop_program('shop');
DROP TABLE orders;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
