/*
 * follow_up.c — the due time of a customer's next contact, stored with the
 * customer by the scoring path (program_scoring.c) so that a program's
 * follow_ups_due list is an index scan (docs/followups.md).
 *
 * The cadence counts as a pure time span, as the downgrade grace does
 * (grace_span): the stored instant is then the same whatever the TimeZone of
 * the session that scored the customer.
 */
#include "postgres.h"

#include "common/int.h"
#include "utils/timestamp.h"

#include "follow_up.h"

/* t plus the interval counted as a span; infinite past the timestamp range. */
static TimestampTz
AddSpan(TimestampTz t, const Interval *span)
{
	int128		usecs = (int128) span->time +
		((int128) span->day + (int128) span->month * DAYS_PER_MONTH) * USECS_PER_DAY + t;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (usecs >= END_TIMESTAMP)
		return DT_NOEND;
	if (usecs < MIN_TIMESTAMP)
		return DT_NOBEGIN;
	return (TimestampTz) usecs;
}

static NullableDatum
First(NullableDatum a, NullableDatum b, NullableDatum c)
{
	return !a.isnull ? a : !b.isnull ? b : c;
}

NullableDatum
FollowUpDue(NullableDatum cadence, NullableDatum first_order, NullableDatum tier_since,
			NullableDatum rose_at, NullableDatum last_contact_at)
{
	NullableDatum from = First(last_contact_at, first_order, tier_since);
	TimestampTz due;

	if (cadence.isnull || from.isnull)
		return (NullableDatum) {.value = (Datum) 0, .isnull = true};
	due = AddSpan(DatumGetTimestampTz(from.value), DatumGetIntervalP(cadence.value));
	/* a welcome: the rise is newer than the last contact */
	if (!rose_at.isnull &&
		(last_contact_at.isnull ||
		 DatumGetTimestampTz(rose_at.value) > DatumGetTimestampTz(last_contact_at.value)))
		due = Min(due, DatumGetTimestampTz(rose_at.value));
	return (NullableDatum) {.value = TimestampTzGetDatum(due), .isnull = false};
}
