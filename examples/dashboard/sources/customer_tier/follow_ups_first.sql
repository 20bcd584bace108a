-- The first page of the follow-up list, in the view's own order (tier, then priority).
select customer::text as customer, tier, reason, days_overdue, due_at,
       last_contact_at, last_channel, last_outcome, round(value_score::numeric, 1) as value_score
  from follow_ups_due
 order by tier_rank, priority, due_at, customer
 limit 25
