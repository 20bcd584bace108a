/*
 * follow_up.h — when a customer is next due for a contact (follow_up.c).
 */
#ifndef CUSTOMER_TIER_FOLLOW_UP_H
#define CUSTOMER_TIER_FOLLOW_UP_H

#include "postgres.h"

#include "datatype/timestamp.h"

/*
 * When the contact with a customer falls due: the tier's cadence (a span,
 * months of 30 days and days of 24 hours) after the last contact, or after
 * the first order (the time it entered its tier without one) when never
 * contacted; at once (rose_at) after a rise into the tier that no contact has
 * followed yet.  NULL (isnull) without a cadence or a time to count from.
 */
extern NullableDatum FollowUpDue(NullableDatum cadence, NullableDatum first_order, NullableDatum tier_since,
								 NullableDatum rose_at, NullableDatum last_contact_at);

#endif
