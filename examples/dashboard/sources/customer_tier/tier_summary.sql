-- Tier mix: ct_<program>.tier_summary, one row per tier.
select tier, rank, customers, revenue, customer_share, revenue_share,
       avg_monetary, coalesce(at_risk, 0) as at_risk
  from tier_summary
 order by rank
