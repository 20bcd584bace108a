-- Demo part 70: erasure on request and retention (docs/data-protection.md).
\echo
\echo '== Erasure: forget() refuses while the CRM still holds the customer''s orders (SQLSTATE 55000)'
\set ON_ERROR_STOP off
SELECT customer_tier.forget('shop', '7');
\set ON_ERROR_STOP on

\echo
\echo '== The CRM deletes its own rows first; then forget() removes every derived row and logs a keyed hash'
DELETE FROM shop.orders WHERE customer_id = 7;
DELETE FROM shop.feedback WHERE customer_id = 7;
SELECT customer_tier.forget('shop', '7') AS rows_deleted;
SELECT program, session_role, total, rows_deleted, length(customer_hash) AS hash_bytes
  FROM customer_tier.erasure_log ORDER BY id;
SELECT customer_tier.was_forgotten('shop', '7') AS customer_7_forgotten,
       customer_tier.was_forgotten('shop', '8') AS customer_8_forgotten;

\echo
\echo '== Retention: defaults per program, set_retention() to change them, purge() (also run by reclassify)'
SELECT * FROM customer_tier.retention_policy;
SELECT program, tier_history, rejects FROM customer_tier.set_retention('shop', '{"rejects": "30 days"}');
SELECT customer_tier.purge('shop') AS purged;
