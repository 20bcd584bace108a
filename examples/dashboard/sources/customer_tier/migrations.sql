-- Migrations between the two latest reclassification runs: ct_<program>.last_run_migration,
-- one row per (tier after the previous run, tier after the last).  A customer with no tier
-- after a run (new since, or gone) has NULL there: shown as "(none)".
select from_run, to_run, from_finished_at, to_finished_at,
       coalesce(from_tier, '(none)') as from_tier, from_rank,
       coalesce(to_tier, '(none)') as to_tier, to_rank,
       movement, customers, revenue
  from last_run_migration
 order by from_rank nulls first, to_rank nulls first
