-- Demo part 40: the nightly reclassification job and the verification.
\echo
\echo '== The nightly job: CALL customer_tier.reclassify(''shop'') re-ranks everyone, logged in customer_tier.run'
CALL customer_tier.reclassify('shop');
SELECT id, outcome, customers, batches, tier_changes, changes_by_tier, finished_at - started_at AS took
  FROM customer_tier.run;

\echo
\echo '== The maintained state equals a recomputation from the orders (no rows = no drift)'
SELECT count(*) AS differences FROM customer_tier.verify_program('shop');
