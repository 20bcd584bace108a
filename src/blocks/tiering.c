/*
 * tiering.c — tier qualification and hysteresis, the one scoring path.
 *
 * qualify_tier(rules, value_score, monetary, orders, tenure_days, abc_class)
 * returns the rank of the best tier whose every condition holds, reading the
 * rules compiled by customer_tier.tier_rules() (layout in tiering.h).  The
 * rules are checked on every call, which costs a few comparisons per tier:
 * cheaper than trusting a hand-made array.
 *
 * next_tier(...) applies pins and hysteresis: upgrades at once, a downgrade
 * only once the customer has qualified for a worse tier for the whole grace
 * period.  Both are IMMUTABLE: everything they depend on is an argument, so
 * the triggers and the batch job get the same answer for the same input.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "money.h"
#include "result_desc.h"
#include "tiering.h"

PG_FUNCTION_INFO_V1(qualify_tier);
PG_FUNCTION_INFO_V1(next_tier);

/* Condition names as in customer_tier.tier, indexed by TierCondition. */
static const char *const condition_names[TIER_NCONDITIONS] = {
	"min_value_score", "min_monetary", "min_orders", "min_tenure_days", "abc_class"
};

/* Reason names returned by next_tier, indexed by TierReason. */
static const char *const reason_names[] = {
	"pinned", "new", "upgrade", "unchanged", "downgrade pending", "downgrade"
};

/* Name of a reason, for SQL and for callers in C. */
const char *
TierReasonName(TierReason reason)
{
	return reason_names[reason];
}

/* A threshold is NaN (no condition) or a value its condition can hold. */
static void
CheckThreshold(int rank, int cond, double t)
{
	const char *rule;

	if (isnan(t))
		return;
	switch (cond)
	{
		case TIER_MIN_VALUE_SCORE:
			if (t >= 0 && t <= 100)
				return;
			rule = "A value score threshold must be between 0 and 100.";
			break;
		case TIER_ABC_CLASS:
			if (t == 1 || t == 2 || t == 3)
				return;
			rule = "An ABC class is coded 1 (A), 2 (B) or 3 (C).";
			break;
		default:
			if (t >= 0 && !isinf(t))
				return;
			rule = "A threshold must be a finite number of at least 0.";
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("tier rules: tier %d has an invalid %s condition %s",
					rank, condition_names[cond], float8out_internal(t)),
			 errdetail("%s", rule),
			 errhint("Build the rules with customer_tier.tier_rules(program).")));
}

/*
 * Check the shape and the values of compiled rules; returns the first element
 * of the first row and the number of tiers.  Exported for C callers.
 */
const double *
TierCheckRules(ArrayType *rules, int *ntiers)
{
	const double *data;
	int			n;
	int			r;
	int			c;

	if (ARR_ELEMTYPE(rules) != FLOAT8OID)
		elog(ERROR, "tier rules must be a double precision array, not type %u", ARR_ELEMTYPE(rules));
	if (ARR_NDIM(rules) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tier rules must be a two-dimensional array"),
				 errdetail_plural("The array has %d dimension.", "The array has %d dimensions.",
								  ARR_NDIM(rules), ARR_NDIM(rules)),
				 errhint("Build the rules with customer_tier.tier_rules(program).")));
	if (ARR_DIMS(rules)[1] != TIER_NCONDITIONS)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tier rules must have %d conditions per tier, not %d",
						TIER_NCONDITIONS, ARR_DIMS(rules)[1]),
				 errdetail("The columns are min_value_score, min_monetary, min_orders, min_tenure_days and abc_class."),
				 errhint("Build the rules with customer_tier.tier_rules(program).")));
	if (array_contains_nulls(rules))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tier rules must not contain NULL"),
				 errhint("NaN marks a condition a tier does not have.")));

	n = ARR_DIMS(rules)[0];
	data = (const double *) ARR_DATA_PTR(rules);
	for (r = 0; r < n; r++)
		for (c = 0; c < TIER_NCONDITIONS; c++)
			CheckThreshold(r + 1, c, data[r * TIER_NCONDITIONS + c]);
	for (c = 0; c < TIER_NCONDITIONS; c++)
		if (!isnan(data[(n - 1) * TIER_NCONDITIONS + c]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tier rules: the last tier %d must have no condition, but has %s %s",
							n, condition_names[c],
							float8out_internal(data[(n - 1) * TIER_NCONDITIONS + c])),
					 errdetail("The last tier is the catch-all that every customer qualifies for."),
					 errhint("Build the rules with customer_tier.tier_rules(program).")));
	*ntiers = n;
	return data;
}

/*
 * monetary >= threshold, exactly.  The threshold is the double nearest to a
 * decimal of at most 15 significant digits (tier.min_monetary is checked for
 * that), so comparing doubles is exact unless the two doubles are equal; only
 * then are the decimals compared.
 */
static bool
MonetaryAtLeast(const TierMetrics *m, double threshold)
{
	Datum		t;

	if (m->monetary != threshold || m->monetary_exact == NULL)
		return m->monetary >= threshold;
	t = DirectFunctionCall1(float8_numeric, Float8GetDatum(threshold));
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(m->monetary_exact), t)) >= 0;
}

/* Whether every condition of one tier holds for the metrics. */
static bool
TierHolds(const double *row, const TierMetrics *m)
{
	double		t;

	t = row[TIER_MIN_VALUE_SCORE];
	if (!isnan(t) && (m->value_score_null || !(m->value_score >= t)))
		return false;
	t = row[TIER_MIN_MONETARY];
	if (!isnan(t) && (m->monetary_null || !MonetaryAtLeast(m, t)))
		return false;
	/* Thresholds are whole numbers below 2^53, so the conversion is exact enough. */
	t = row[TIER_MIN_ORDERS];
	if (!isnan(t) && (m->orders_null || !((double) m->orders >= t)))
		return false;
	t = row[TIER_MIN_TENURE_DAYS];
	if (!isnan(t) && (m->tenure_null || !(m->tenure_days >= t)))
		return false;
	t = row[TIER_ABC_CLASS];
	if (!isnan(t) && m->abc_class != (int) t)
		return false;
	return true;
}

/* Rank (1-based) of the best tier whose conditions all hold.  Exported for C callers. */
int
TierQualify(const double *rules, int ntiers, const TierMetrics *metrics)
{
	int			r;

	for (r = 0; r < ntiers; r++)
		if (TierHolds(rules + r * TIER_NCONDITIONS, metrics))
			return r + 1;
	/* TierCheckRules guarantees a last tier without conditions. */
	elog(ERROR, "no tier qualifies although the last tier has no condition");
	return ntiers;				/* keep the compiler quiet */
}

/* A metric that is a number must not be NaN: NaN is neither above nor below a threshold. */
static void
CheckMetric(const char *name, double value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NaN", name),
				 errhint("Pass NULL for a metric that is unknown: a condition on it then does not hold.")));
}

/* The ABC class as 1/2/3, 0 for NULL. */
static int
AbcClassCode(text *cls)
{
	char	   *s = text_to_cstring(cls);

	if (strcmp(s, "A") == 0)
		return 1;
	if (strcmp(s, "B") == 0)
		return 2;
	if (strcmp(s, "C") == 0)
		return 3;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("ABC class must be A, B or C, not \"%s\"", s),
			 errhint("Pass the class computed by customer_tier.abc_class(), or NULL.")));
	return 0;					/* keep the compiler quiet */
}

/*
 * The rank of the best tier the metrics qualify for, from qualify_tier's six
 * arguments (rules, value_score, monetary, orders, tenure_days, abc_class),
 * checked as qualify_tier checks them.  Exported for score_customer.
 */
int32
TierQualifyArgs(const NullableDatum *args)
{
	TierMetrics m;
	const double *rules;
	int			ntiers;

	if (args[0].isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tier rules must not be NULL"),
				 errhint("Pass customer_tier.tier_rules(program).")));
	rules = TierCheckRules(DatumGetArrayTypeP(args[0].value), &ntiers);

	memset(&m, 0, sizeof(m));
	m.value_score_null = args[1].isnull;
	if (!m.value_score_null)
	{
		m.value_score = DatumGetFloat8(args[1].value);
		CheckMetric("value score", m.value_score);
	}
	m.monetary_null = args[2].isnull;
	if (!m.monetary_null)
	{
		m.monetary_exact = DatumGetNumeric(args[2].value);
		if (numeric_is_nan(m.monetary_exact))
			CheckMetric("monetary", get_float8_nan());
		m.monetary = NumericToDouble(m.monetary_exact);
	}
	m.orders_null = args[3].isnull;
	if (!m.orders_null)
		m.orders = DatumGetInt64(args[3].value);
	m.tenure_null = args[4].isnull;
	if (!m.tenure_null)
	{
		m.tenure_days = DatumGetFloat8(args[4].value);
		CheckMetric("tenure", m.tenure_days);
	}
	m.abc_class = args[5].isnull ? 0 : AbcClassCode(DatumGetTextPP(args[5].value));

	return TierQualify(rules, ntiers, &m);
}

/* SQL: the rank of the best tier the metrics qualify for. */
Datum
qualify_tier(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(TierQualifyArgs(fcinfo->args));
}

/*
 * Pins, then hysteresis.  A downgrade is due once the customer has qualified
 * for a worse tier for the whole grace period, counted from the first time
 * (pending_since); with no pending downgrade the clock starts at as_of, so a
 * zero grace downgrades at once.  Intervals compare as PostgreSQL compares
 * them (a month is 30 days, a day 24 hours), which keeps this IMMUTABLE.
 * Exported for C callers.
 */
TierReason
TierNextStep(const TierState *current, int32 qualified_rank, bool pinned, int32 pinned_rank,
			 const Interval *grace, TimestampTz as_of, TierState *next)
{
	int128		grace_span;
	int128		elapsed;
	TimestampTz since;

	next->has_rank = true;
	next->pending = false;
	next->pending_since = 0;
	if (pinned)
	{
		next->rank = pinned_rank;
		return TIER_REASON_PINNED;
	}
	next->rank = qualified_rank;
	if (!current->has_rank)
		return TIER_REASON_NEW;
	if (qualified_rank < current->rank)
		return TIER_REASON_UPGRADE;
	if (qualified_rank == current->rank)
		return TIER_REASON_UNCHANGED;

	since = current->pending ? current->pending_since : as_of;
	grace_span = (int128) grace->time +
		((int128) grace->day + (int128) grace->month * DAYS_PER_MONTH) * USECS_PER_DAY;
	elapsed = (int128) as_of - (int128) since;
	if (elapsed >= grace_span)
		return TIER_REASON_DOWNGRADE;
	next->rank = current->rank;
	next->pending = true;
	next->pending_since = since;
	return TIER_REASON_DOWNGRADE_PENDING;
}

/* Ranks are 1-based positions in the program's tiers. */
static void
CheckRank(const char *name, int32 rank)
{
	if (rank < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at least 1, not %d", name, rank),
				 errhint("Ranks number a program's tiers from 1, the best.")));
}

/* Grace is measured between finite instants; infinity would make "elapsed" meaningless. */
static void
CheckFiniteTime(const char *name, TimestampTz t, const char *hint)
{
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be finite", name),
				 errhint("%s", hint)));
}

/* An argument that next_tier cannot do without. */
static void
CheckNotNull(const NullableDatum *args, int arg, const char *name)
{
	if (args[arg].isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 errhint("Only current_rank, pending_since and pinned_rank may be NULL.")));
}

/*
 * The next tier of a customer from next_tier's six arguments (current_rank,
 * pending_since, qualified_rank, pinned_rank, grace, as_of), checked as
 * next_tier checks them.  Exported for score_customer.
 */
TierReason
TierNextArgs(const NullableDatum *args, TierState *next)
{
	TierState	current;
	int32		qualified_rank;
	bool		pinned = !args[3].isnull;
	int32		pinned_rank = 0;
	Interval   *grace;

	CheckNotNull(args, 2, "qualified_rank");
	CheckNotNull(args, 4, "grace");
	CheckNotNull(args, 5, "as_of");

	current.has_rank = !args[0].isnull;
	current.rank = current.has_rank ? DatumGetInt32(args[0].value) : 0;
	if (current.has_rank)
		CheckRank("current_rank", current.rank);
	current.pending = !args[1].isnull;
	current.pending_since = current.pending ? DatumGetTimestampTz(args[1].value) : 0;
	if (current.pending)
		CheckFiniteTime("pending_since", current.pending_since,
						"Pass the pending_since that next_tier returned last time, or NULL.");
	CheckFiniteTime("as_of", DatumGetTimestampTz(args[5].value), "Pass the time of the run, such as now().");
	qualified_rank = DatumGetInt32(args[2].value);
	CheckRank("qualified_rank", qualified_rank);
	if (pinned)
	{
		pinned_rank = DatumGetInt32(args[3].value);
		CheckRank("pinned_rank", pinned_rank);
	}
	grace = DatumGetIntervalP(args[4].value);
	if (grace->time + ((int128) grace->day + (int128) grace->month * DAYS_PER_MONTH) * USECS_PER_DAY < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("grace must not be negative, not %s",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(grace)))),
				 errhint("Pass the program's downgrade_grace, such as '90 days'; '0' downgrades at once.")));

	return TierNextStep(&current, qualified_rank, pinned, pinned_rank, grace,
						DatumGetTimestampTz(args[5].value), next);
}

/* SQL: the next (rank, pending_since, reason) of a customer. */
Datum
next_tier(PG_FUNCTION_ARGS)
{
	TierState	next;
	TierReason	reason;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	reason = TierNextArgs(fcinfo->args, &next);
	tupdesc = CachedResultDesc(fcinfo);
	values[0] = Int32GetDatum(next.rank);
	values[1] = TimestampTzGetDatum(next.pending_since);
	nulls[1] = !next.pending;
	values[2] = CStringGetTextDatum(TierReasonName(reason));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
