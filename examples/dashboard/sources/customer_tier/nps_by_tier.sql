-- NPS by tier and quarter, the current quarter and the four before it:
-- ct_<program>.satisfaction_by_tier (a function of the program's schema granted to
-- customer_tier_reader, docs/kpis.md).  The cohort of a quarter is the tier's customers at
-- its start.  NPS is -100..100, NULL without NPS answers; rounded to 0.1 here.
select period_start, tier, tier_rank, customers, respondents, nps_answers,
       round(nps::numeric, 1) as nps, csat_answers, round(csat::numeric, 1) as csat
  from satisfaction_by_tier('quarter', now() - interval '1 year')
 order by period_start, tier_rank
