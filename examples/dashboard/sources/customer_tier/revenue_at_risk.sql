-- Revenue at risk: the customers on the churn list (ct_<program>.churn_risk), per tier, with
-- their predicted value over the program's horizon (value_at_stake, predicted CLV; NULL
-- without a fitted model) and the revenue they brought so far (monetary).
select c.tier, t.rank, count(*) as customers,
       round(coalesce(sum(c.value_at_stake), 0)::numeric, 2) as value_at_stake,
       coalesce(sum(c.monetary), 0) as monetary
  from churn_risk as c
  left join tier_summary as t using (tier)
 group by c.tier, t.rank
union all
select 'all tiers', null, count(*),
       round(coalesce(sum(value_at_stake), 0)::numeric, 2),
       coalesce(sum(monetary), 0)
  from churn_risk
 order by 2 nulls last
