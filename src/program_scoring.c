/*
 * program_scoring.c — a program's scoring of one customer in one call.
 *
 * customer_tier.score_customer(...) is the core of the one scoring path
 * (program_scoring_sql in sql/install/64_program_scoring.sql): R, F and M
 * scores against the stored breakpoints, the value score, the RFM segment,
 * the qualified tier and the next tier after pins and hysteresis.  It calls
 * the same C code as the building blocks score(), value_score(),
 * rfm_segment(), qualify_tier() and next_tier(), with the same checks, so it
 * returns exactly what the SQL composition of those functions returned; doing
 * it in one call spares the executor a sub-plan, two lateral function scans
 * and several numeric-to-double conversions per customer.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "result_desc.h"
#include "tiering.h"

/* The building blocks, SQL-callable C functions of this library. */
extern Datum score(PG_FUNCTION_ARGS);
extern Datum value_score(PG_FUNCTION_ARGS);
extern Datum rfm_segment(PG_FUNCTION_ARGS);
extern Datum qualify_tier_model(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(score_customer);

/* Arguments of score_customer, in order. */
enum
{
	ARG_LAST_ORDER,
	ARG_ORDERS,
	ARG_MONETARY,
	ARG_FIRST_ORDER,
	ARG_R_BREAKPOINTS,
	ARG_F_BREAKPOINTS,
	ARG_M_BREAKPOINTS,
	ARG_WEIGHTS,
	ARG_RULES,
	ARG_CURRENT_RANK,
	ARG_PENDING_SINCE,
	ARG_ABC_CLASS,
	ARG_PINNED_RANK,
	ARG_GRACE,
	ARG_AS_OF,
	ARG_MODEL_RULES,
	ARG_P_ALIVE,
	ARG_CLV,
	NARGS
};

/* Columns of the result, in order. */
enum
{
	COL_R,
	COL_F,
	COL_M,
	COL_VALUE_SCORE,
	COL_SEGMENT,
	COL_RANK,
	COL_PENDING_SINCE,
	COL_REASON,
	NCOLS
};

/* 2^53: below it a count of microseconds converts to double exactly. */
#define EXACT_USECS (INT64CONST(1) << 53)

/*
 * Days from earlier to later, exactly as the SQL expression
 * EXTRACT(EPOCH FROM later - earlier)::double precision / 86400 computes
 * them: the epoch is the exact decimal microseconds / 10^6, rounded once to a
 * double, which is what dividing the exactly converted microseconds by 10^6
 * gives.  Spans beyond 2^53 microseconds (285 years), and infinities (an
 * error), take the SQL functions themselves.
 */
static double
DaysBetween(TimestampTz later, TimestampTz earlier)
{
	int64		usecs;
	double		seconds;

	if (TIMESTAMP_NOT_FINITE(later) || TIMESTAMP_NOT_FINITE(earlier) ||
		pg_sub_s64_overflow(later, earlier, &usecs) ||
		usecs >= EXACT_USECS || usecs <= -EXACT_USECS)
	{
		Datum		span = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(later),
											   TimestampTzGetDatum(earlier));
		Datum		epoch = DirectFunctionCall2(extract_interval, CStringGetTextDatum("epoch"), span);

		seconds = DatumGetFloat8(DirectFunctionCall1(numeric_float8, epoch));
	}
	else
		seconds = (double) usecs / 1000000.0;
	return float8_div(seconds, 86400.0);
}

/* score(value, breakpoints, higher_is_better); NULL when either is NULL (score is STRICT). */
static bool
ScoreValue(double value, bool value_null, NullableDatum breakpoints, bool higher_is_better,
		   int32 *result)
{
	if (value_null || breakpoints.isnull)
		return false;
	*result = DatumGetInt32(DirectFunctionCall3(score, Float8GetDatum(value), breakpoints.value,
												BoolGetDatum(higher_is_better)));
	return true;
}

/* An array argument detoasted once, so that the building blocks do not copy it again. */
static NullableDatum
ArrayArg(FunctionCallInfo fcinfo, int arg)
{
	NullableDatum d = fcinfo->args[arg];

	if (!d.isnull)
		d.value = PointerGetDatum(PG_DETOAST_DATUM(d.value));
	return d;
}

/*
 * The rank qualify_tier gives: with the program's tier conditions on p_alive
 * and predicted CLV (model_rules not NULL), the overload that checks them
 * too (qualify_tier_model), else the plain rules.
 */
static int32
QualifiedRank(FunctionCallInfo fcinfo, const NullableDatum *qargs)
{
	LOCAL_FCINFO(inner, 9);
	Datum		rank;

	if (PG_ARGISNULL(ARG_MODEL_RULES))
		return TierQualifyArgs(qargs);
	InitFunctionCallInfoData(*inner, NULL, 9, InvalidOid, NULL, NULL);
	for (int i = 0; i < 6; i++)
		inner->args[i] = qargs[i];
	inner->args[6] = fcinfo->args[ARG_MODEL_RULES];
	inner->args[7] = fcinfo->args[ARG_P_ALIVE];
	inner->args[8] = fcinfo->args[ARG_CLV];
	rank = qualify_tier_model(inner);
	if (inner->isnull)
		elog(ERROR, "qualify_tier returned NULL");
	return DatumGetInt32(rank);
}

/*
 * SQL: (r, f, m, value_score, segment, rank, pending_since, reason) of one
 * customer: what score(), value_score(), rfm_segment(), qualify_tier() and
 * next_tier() return for the customer's metrics, composed as the scoring path
 * composes them.
 */
Datum
score_customer(PG_FUNCTION_ARGS)
{
	Datum		values[NCOLS];
	bool		nulls[NCOLS];
	NullableDatum qargs[6];
	NullableDatum nargs[6];
	NullableDatum weights = ArrayArg(fcinfo, ARG_WEIGHTS);
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(ARG_AS_OF);
	int32		r = 0;
	int32		f = 0;
	int32		m = 0;
	bool		have_r;
	bool		have_f;
	bool		have_m;
	double		monetary = 0;
	TierState	next;
	TierReason	reason;

	memset(nulls, 0, sizeof(nulls));
	if (PG_ARGISNULL(ARG_AS_OF))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL"),
				 errhint("Pass the time of the scoring, such as now().")));

	/* recency in days, lower is better; frequency; monetary (numeric to double as SQL casts it) */
	have_r = ScoreValue(PG_ARGISNULL(ARG_LAST_ORDER) ? 0 :
						DaysBetween(as_of, PG_GETARG_TIMESTAMPTZ(ARG_LAST_ORDER)),
						PG_ARGISNULL(ARG_LAST_ORDER), ArrayArg(fcinfo, ARG_R_BREAKPOINTS), false, &r);
	have_f = ScoreValue(PG_ARGISNULL(ARG_ORDERS) ? 0 : (double) PG_GETARG_INT64(ARG_ORDERS),
						PG_ARGISNULL(ARG_ORDERS), ArrayArg(fcinfo, ARG_F_BREAKPOINTS), true, &f);
	if (!PG_ARGISNULL(ARG_MONETARY) && !PG_ARGISNULL(ARG_M_BREAKPOINTS))
		monetary = DatumGetFloat8(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(ARG_MONETARY)));
	have_m = ScoreValue(monetary, PG_ARGISNULL(ARG_MONETARY), ArrayArg(fcinfo, ARG_M_BREAKPOINTS), true, &m);

	values[COL_R] = Int32GetDatum(r);
	nulls[COL_R] = !have_r;
	values[COL_F] = Int32GetDatum(f);
	nulls[COL_F] = !have_f;
	values[COL_M] = Int32GetDatum(m);
	nulls[COL_M] = !have_m;
	if (have_r && have_f && have_m && !weights.isnull)
		values[COL_VALUE_SCORE] = DirectFunctionCall4(value_score, Int32GetDatum(r), Int32GetDatum(f),
													  Int32GetDatum(m), weights.value);
	else
		nulls[COL_VALUE_SCORE] = true;
	if (have_r && have_f && have_m)
		values[COL_SEGMENT] = DirectFunctionCall3(rfm_segment, Int32GetDatum(r), Int32GetDatum(f),
												  Int32GetDatum(m));
	else
		nulls[COL_SEGMENT] = true;

	/* qualify_tier(rules, value_score, monetary, orders, tenure_days, abc_class) */
	qargs[0] = ArrayArg(fcinfo, ARG_RULES);
	qargs[1].value = values[COL_VALUE_SCORE];
	qargs[1].isnull = nulls[COL_VALUE_SCORE];
	qargs[2] = fcinfo->args[ARG_MONETARY];
	qargs[3] = fcinfo->args[ARG_ORDERS];
	qargs[4].isnull = PG_ARGISNULL(ARG_FIRST_ORDER);
	qargs[4].value = qargs[4].isnull ? (Datum) 0 :
		Float8GetDatum(DaysBetween(as_of, PG_GETARG_TIMESTAMPTZ(ARG_FIRST_ORDER)));
	qargs[5] = fcinfo->args[ARG_ABC_CLASS];

	/* next_tier(current_rank, pending_since, qualified_rank, pinned_rank, grace, as_of) */
	nargs[0] = fcinfo->args[ARG_CURRENT_RANK];
	nargs[1] = fcinfo->args[ARG_PENDING_SINCE];
	nargs[2].value = Int32GetDatum(QualifiedRank(fcinfo, qargs));
	nargs[2].isnull = false;
	nargs[3] = fcinfo->args[ARG_PINNED_RANK];
	nargs[4] = fcinfo->args[ARG_GRACE];
	nargs[5] = fcinfo->args[ARG_AS_OF];
	reason = TierNextArgs(nargs, &next);

	values[COL_RANK] = Int32GetDatum(next.rank);
	values[COL_PENDING_SINCE] = TimestampTzGetDatum(next.pending_since);
	nulls[COL_PENDING_SINCE] = !next.pending;
	values[COL_REASON] = CStringGetTextDatum(TierReasonName(reason));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(CachedResultDesc(fcinfo), values, nulls)));
}
