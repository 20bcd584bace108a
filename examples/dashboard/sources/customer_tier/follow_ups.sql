-- Follow-ups overdue: ct_<program>.follow_ups_due holds every customer whose next contact
-- is due (due_at in the past), counted here per tier and reason.
select tier, tier_rank, reason, count(*) as follow_ups,
       max(days_overdue) as max_days_overdue,
       round(avg(days_overdue), 1) as avg_days_overdue
  from follow_ups_due
 group by tier, tier_rank, reason
 order by tier_rank, reason
