SELECT customer_tier.refresh_satisfaction('shop');
