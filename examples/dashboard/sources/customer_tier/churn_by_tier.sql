-- Churn risk by tier: ct_<program>.churn_risk (customers with a churn flag, not lost),
-- counted per tier and lifecycle stage.  value_at_stake is the predicted CLV over the
-- program's horizon, rounded to the cent here so that the page shows the database's sums.
select c.tier, t.rank, c.lifecycle, count(*) as customers,
       round(sum(c.value_at_stake)::numeric, 2) as value_at_stake,
       sum(c.monetary) as monetary
  from churn_risk as c
  left join tier_summary as t using (tier)
 group by c.tier, t.rank, c.lifecycle
 order by t.rank, c.lifecycle
