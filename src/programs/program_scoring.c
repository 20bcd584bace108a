/*
 * program_scoring.c — a program's scoring of one customer in one call.
 *
 * ScoreStoredCustomer is the one scoring path: the trigger path's commit step
 * (live_apply.c) and the runs (scored_row.c, through rescore_where) call it
 * for each customer, with the columns stored in the customers table and the
 * program's configuration cached in C (program_config.c).  It composes
 * churn_assess's core (churn.c) for p_alive, CLV, flags and lifecycle, then
 * score_customer's core for the R, F and M scores against the stored
 * breakpoints, the value score, the RFM segment, the qualified tier and the
 * next tier after pins and hysteresis, then the tier's name and the
 * since/previous columns that move only on a change.  score_customer calls
 * the same C code as the building blocks score(), value_score(),
 * rfm_segment(), qualify_tier() and next_tier(), with the same checks, so a
 * program scores exactly as the SQL composition of those functions would.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "follow_up.h"
#include "live_rows.h"
#include "money.h"
#include "program_config.h"
#include "result_desc.h"
#include "rfm.h"
#include "scoring.h"
#include "tiering.h"


PG_FUNCTION_INFO_V1(score_customer);
PG_FUNCTION_INFO_V1(program_scored_columns);
PG_FUNCTION_INFO_V1(score_program_customer);
PG_FUNCTION_INFO_V1(population_recency_days);
PG_FUNCTION_INFO_V1(population_monetary);

const char *const stored_column_names[NSTORED] = {
	"purchases", "orders", "monetary", "first_order", "last_order", "tier", "tier_since",
	"pending_since", "abc_class", "lifecycle", "lifecycle_since", "previous_lifecycle",
	"recent_satisfaction", "tier_reason", "rose_at", "last_contact_at"
};

const char *const scored_column_names[PC_NCOLS] = {
	"r_score", "f_score", "m_score", "value_score", "segment", "tier", "tier_since",
	"pending_since", "tier_reason", "changed_by", "p_alive", "predicted_clv", "churn_flags",
	"churn_reasons", "lifecycle", "lifecycle_since", "previous_lifecycle", "tier_rank", "rose_at",
	"follow_up_due_at", "risk_stake", "risk_monetary"
};

/* What the composition below reads, in order. */
enum
{
	PA_CHURN_SETTINGS,
	PA_BGNBD,
	PA_GAMMA_GAMMA,
	PA_PURCHASES,
	PA_MONETARY,
	PA_RECENT_SATISFACTION,
	PA_LIFECYCLE,
	PA_LIFECYCLE_SINCE,
	PA_PREVIOUS_LIFECYCLE,
	PA_LAST_ORDER,
	PA_ORDERS,
	PA_FIRST_ORDER,
	PA_R_BREAKPOINTS,
	PA_F_BREAKPOINTS,
	PA_M_BREAKPOINTS,
	PA_WEIGHTS,
	PA_RULES,
	PA_TIERS,
	PA_TIER,
	PA_TIER_SINCE,
	PA_PENDING_SINCE,
	PA_ABC_CLASS,
	PA_PINNED_RANK,
	PA_GRACE,
	PA_AS_OF,
	PA_MODEL_RULES,
	PA_SOURCE,
	PA_LEGACY_NARGS,			/* the SQL function of 0.2.0 took the ones above */
	PA_TIER_REASON = PA_LEGACY_NARGS,
	PA_CADENCES,
	PA_ROSE_AT,
	PA_LAST_CONTACT_AT,
	PA_NARGS
};

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

StaticAssertDecl(NARGS == SCORE_CUSTOMER_NARGS, "score_customer's arguments");
StaticAssertDecl(NCOLS == SCORE_CUSTOMER_NCOLS, "score_customer's columns");

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

/*
 * A customer's recency in days and monetary value as the population's
 * breakpoints and ABC thresholds take them (refresh_population): the same
 * doubles the scoring compares with them, converted by the same code, with
 * no trip through numeric or text (EXTRACT(EPOCH ...) is numeric, and
 * numeric::double precision goes through its text).
 */
Datum
population_recency_days(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(DaysBetween(PG_GETARG_TIMESTAMPTZ(0), PG_GETARG_TIMESTAMPTZ(1)));
}

Datum
population_monetary(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(NumericToDouble(PG_GETARG_NUMERIC(0)));
}

/* score(value, breakpoints, higher_is_better); NULL when either is NULL (score is STRICT). */
static bool
ScoreValue(double value, bool value_null, NullableDatum breakpoints, bool higher_is_better,
		   int32 *result)
{
	if (value_null || breakpoints.isnull)
		return false;
	*result = ScoreAgainst(value, DatumGetArrayTypeP(breakpoints.value), higher_is_better);
	return true;
}

/* An array argument detoasted once, so that the building blocks do not copy it again. */
static NullableDatum
ArrayArg(NullableDatum *args, int arg)
{
	if (!args[arg].isnull)
		args[arg].value = PointerGetDatum(PG_DETOAST_DATUM(args[arg].value));
	return args[arg];
}

/*
 * The rank qualify_tier gives: with the program's tier conditions on p_alive
 * and predicted CLV (model_rules not NULL), the overload that checks them
 * too, else the plain rules.
 */
static int32
QualifiedRank(const NullableDatum *args, const NullableDatum *qargs)
{
	NullableDatum nine[9];

	if (args[ARG_MODEL_RULES].isnull)
		return TierQualifyArgs(qargs);
	memcpy(nine, qargs, sizeof(NullableDatum) * 6);
	nine[6] = args[ARG_MODEL_RULES];
	nine[7] = args[ARG_P_ALIVE];
	nine[8] = args[ARG_CLV];
	return TierQualifyModelArgs(nine);
}

/*
 * SQL: (r, f, m, value_score, segment, rank, pending_since, reason) of one
 * customer: what score(), value_score(), rfm_segment(), qualify_tier() and
 * next_tier() return for the customer's metrics, composed as the scoring path
 * composes them.
 */
void
ScoreCustomerArgs(NullableDatum *args, Datum *values, bool *nulls)
{
	NullableDatum qargs[6];
	NullableDatum nargs[6];
	NullableDatum weights = ArrayArg(args, ARG_WEIGHTS);
	TimestampTz as_of = DatumGetTimestampTz(args[ARG_AS_OF].value);
	int32		r = 0;
	int32		f = 0;
	int32		m = 0;
	bool		have_r;
	bool		have_f;
	bool		have_m;
	double		monetary = 0;
	TierState	next;
	TierReason	reason;

	memset(nulls, 0, sizeof(bool) * NCOLS);
	if (args[ARG_AS_OF].isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL"),
				 errhint("Pass the time of the scoring, such as now().")));

	/*
	 * recency in days, lower is better; frequency; monetary (numeric to
	 * double as SQL casts it, except that a total beyond double precision,
	 * which a program's amount bound keeps out, scores as +-Infinity instead
	 * of failing the whole run: one customer never stops a program's runs)
	 */
	have_r = ScoreValue(args[ARG_LAST_ORDER].isnull ? 0 :
						DaysBetween(as_of, DatumGetTimestampTz(args[ARG_LAST_ORDER].value)),
						args[ARG_LAST_ORDER].isnull, ArrayArg(args, ARG_R_BREAKPOINTS), false, &r);
	have_f = ScoreValue(args[ARG_ORDERS].isnull ? 0 : (double) DatumGetInt64(args[ARG_ORDERS].value),
						args[ARG_ORDERS].isnull, ArrayArg(args, ARG_F_BREAKPOINTS), true, &f);
	if (!args[ARG_MONETARY].isnull && !args[ARG_M_BREAKPOINTS].isnull)
		monetary = NumericToDouble(DatumGetNumeric(args[ARG_MONETARY].value));
	have_m = ScoreValue(monetary, args[ARG_MONETARY].isnull, ArrayArg(args, ARG_M_BREAKPOINTS), true, &m);

	values[COL_R] = Int32GetDatum(r);
	nulls[COL_R] = !have_r;
	values[COL_F] = Int32GetDatum(f);
	nulls[COL_F] = !have_f;
	values[COL_M] = Int32GetDatum(m);
	nulls[COL_M] = !have_m;
	if (have_r && have_f && have_m && !weights.isnull)
		values[COL_VALUE_SCORE] = Float8GetDatum(ValueScore(r, f, m, DatumGetArrayTypeP(weights.value)));
	else
		nulls[COL_VALUE_SCORE] = true;
	if (have_r && have_f && have_m)
		values[COL_SEGMENT] = CStringGetTextDatum(RfmSegment(r, f, m));
	else
		nulls[COL_SEGMENT] = true;

	/* qualify_tier(rules, value_score, monetary, orders, tenure_days, abc_class) */
	qargs[0] = ArrayArg(args, ARG_RULES);
	qargs[1].value = values[COL_VALUE_SCORE];
	qargs[1].isnull = nulls[COL_VALUE_SCORE];
	qargs[2] = args[ARG_MONETARY];
	qargs[3] = args[ARG_ORDERS];
	qargs[4].isnull = args[ARG_FIRST_ORDER].isnull;
	qargs[4].value = qargs[4].isnull ? (Datum) 0 :
		Float8GetDatum(DaysBetween(as_of, DatumGetTimestampTz(args[ARG_FIRST_ORDER].value)));
	qargs[5] = args[ARG_ABC_CLASS];

	/* next_tier(current_rank, pending_since, qualified_rank, pinned_rank, grace, as_of) */
	nargs[0] = args[ARG_CURRENT_RANK];
	nargs[1] = args[ARG_PENDING_SINCE];
	nargs[2].value = Int32GetDatum(QualifiedRank(args, qargs));
	nargs[2].isnull = false;
	nargs[3] = args[ARG_PINNED_RANK];
	nargs[4] = args[ARG_GRACE];
	nargs[5] = args[ARG_AS_OF];
	reason = TierNextArgs(nargs, &next);

	values[COL_RANK] = Int32GetDatum(next.rank);
	values[COL_PENDING_SINCE] = TimestampTzGetDatum(next.pending_since);
	nulls[COL_PENDING_SINCE] = !next.pending;
	values[COL_REASON] = CStringGetTextDatum(TierReasonName(reason));
}

/* SQL: score_customer(...); see ScoreCustomerArgs. */
Datum
score_customer(PG_FUNCTION_ARGS)
{
	Datum		values[NCOLS];
	bool		nulls[NCOLS];

	ScoreCustomerArgs(fcinfo->args, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(CachedResultDesc(fcinfo), values, nulls)));
}

/* Two nullable texts are the same value: SQL's NOT (a IS DISTINCT FROM b). */
bool
SameText(NullableDatum a, NullableDatum b)
{
	if (a.isnull || b.isnull)
		return a.isnull && b.isnull;
	return DatumGetBool(DirectFunctionCall2Coll(texteq, DEFAULT_COLLATION_OID, a.value, b.value));
}

/*
 * The 1-based position of tier in tiers, as array_position(tiers, tier)
 * gives it; none (isnull) for a NULL tier or one that is not there.
 */
static NullableDatum
TierPosition(Datum *tiers, bool *tier_nulls, int ntiers, NullableDatum tier)
{
	NullableDatum pos = {.value = (Datum) 0, .isnull = true};

	if (tier.isnull)
		return pos;
	for (int i = 0; i < ntiers; i++)
		if (!tier_nulls[i] &&
			SameText((NullableDatum) {.value = tiers[i], .isnull = false}, tier))
		{
			pos.value = Int32GetDatum(i + 1);
			pos.isnull = false;
			break;
		}
	return pos;
}

/*
 * When the customer's next contact is due, from its new tier (rank, 0 for
 * none), the time it entered it, its rise into it and its last contact.
 */
static void
set_follow_up_due(const NullableDatum *a, int32 rank, Datum *values, bool *nulls)
{
	NullableDatum cadence = {.value = (Datum) 0, .isnull = true};
	NullableDatum due;

	if (rank > 0 && !a[PA_CADENCES].isnull)
	{
		ArrayType  *cadences = DatumGetArrayTypeP(a[PA_CADENCES].value);
		int			n = ArrayGetNItems(ARR_NDIM(cadences), ARR_DIMS(cadences));

		if (rank <= n && !array_contains_nulls(cadences))
		{
			cadence.value = PointerGetDatum((Interval *) ARR_DATA_PTR(cadences) + (rank - 1));
			cadence.isnull = false;
		}
	}
	due = FollowUpDue(cadence, a[PA_FIRST_ORDER],
					  (NullableDatum) {.value = values[PC_TIER_SINCE], .isnull = nulls[PC_TIER_SINCE]},
					  (NullableDatum) {.value = values[PC_ROSE_AT], .isnull = nulls[PC_ROSE_AT]},
					  a[PA_LAST_CONTACT_AT]);
	values[PC_FOLLOW_UP_DUE_AT] = due.value;
	nulls[PC_FOLLOW_UP_DUE_AT] = due.isnull;
}

/*
 * The churn list's order (risk_stake, risk_monetary), set only while the
 * customer is on it: a churn flag raised and not lost.  The one definition of
 * "on the churn list": the view churn_risk and the summaries' at_risk read
 * risk_stake IS NOT NULL.  The list's index keys on
 * these rather than on predicted_clv and monetary, which change with every
 * order; so an order of a customer off the list changes no indexed column and
 * can be a HOT update (docs/views.md, "A lean table").
 */
static void
set_churn_list_key(const NullableDatum *a, Datum *values, bool *nulls)
{
	bool		on_list = false;

	if (!nulls[PC_CHURN_FLAGS])
	{
		ArrayType  *flags = DatumGetArrayTypeP(values[PC_CHURN_FLAGS]);

		on_list = ArrayGetNItems(ARR_NDIM(flags), ARR_DIMS(flags)) > 0 &&
			(nulls[PC_LIFECYCLE] || !TextIs(values[PC_LIFECYCLE], "lost"));
	}
	nulls[PC_RISK_STAKE] = !on_list;
	values[PC_RISK_STAKE] = nulls[PC_PREDICTED_CLV] ? Float8GetDatum(-get_float8_infinity())
		: values[PC_PREDICTED_CLV];
	values[PC_RISK_MONETARY] = a[PA_MONETARY].value;
	nulls[PC_RISK_MONETARY] = !on_list || a[PA_MONETARY].isnull;
}

/*
 * Every scored column of one customer: churn_assess for p_alive, CLV, flags
 * and lifecycle, then score_customer with them for the scores and the next
 * tier, the tier's name, and when the tier and the lifecycle stage changed.
 */
static void
compose_scores(const NullableDatum *a, Datum *values, bool *nulls)
{
	NullableDatum churn_args[CHURN_ASSESS_NARGS];
	Datum		churn[CHURN_ASSESS_NCOLS];
	bool		churn_nulls[CHURN_ASSESS_NCOLS];
	NullableDatum score_args[NARGS];
	Datum		scored[NCOLS];
	bool		scored_nulls[NCOLS];
	Datum	   *tiers = NULL;
	bool	   *tier_nulls = NULL;
	int			ntiers = 0;
	NullableDatum tier = {.value = (Datum) 0, .isnull = true};
	NullableDatum stage;
	int32		rank;

	if (a[PA_AS_OF].isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL"),
				 errhint("Pass the time of the scoring, such as now().")));
	if (!a[PA_TIERS].isnull)
		deconstruct_array(DatumGetArrayTypeP(a[PA_TIERS].value), TEXTOID, -1, false, TYPALIGN_INT,
						  &tiers, &tier_nulls, &ntiers);

	churn_args[0] = a[PA_CHURN_SETTINGS];
	churn_args[1] = a[PA_BGNBD];
	churn_args[2] = a[PA_GAMMA_GAMMA];
	churn_args[3] = a[PA_PURCHASES];
	churn_args[4] = a[PA_MONETARY];
	churn_args[5] = a[PA_RECENT_SATISFACTION];
	churn_args[6] = a[PA_LIFECYCLE];
	churn_args[7] = a[PA_LIFECYCLE_SINCE];
	churn_args[8] = a[PA_AS_OF];
	ChurnAssessArgs(churn_args, churn, churn_nulls);

	score_args[ARG_LAST_ORDER] = a[PA_LAST_ORDER];
	score_args[ARG_ORDERS] = a[PA_ORDERS];
	score_args[ARG_MONETARY] = a[PA_MONETARY];
	score_args[ARG_FIRST_ORDER] = a[PA_FIRST_ORDER];
	score_args[ARG_R_BREAKPOINTS] = a[PA_R_BREAKPOINTS];
	score_args[ARG_F_BREAKPOINTS] = a[PA_F_BREAKPOINTS];
	score_args[ARG_M_BREAKPOINTS] = a[PA_M_BREAKPOINTS];
	score_args[ARG_WEIGHTS] = a[PA_WEIGHTS];
	score_args[ARG_RULES] = a[PA_RULES];
	score_args[ARG_CURRENT_RANK] = TierPosition(tiers, tier_nulls, ntiers, a[PA_TIER]);
	score_args[ARG_PENDING_SINCE] = a[PA_PENDING_SINCE];
	score_args[ARG_ABC_CLASS] = a[PA_ABC_CLASS];
	score_args[ARG_PINNED_RANK] = a[PA_PINNED_RANK];
	score_args[ARG_GRACE] = a[PA_GRACE];
	score_args[ARG_AS_OF] = a[PA_AS_OF];
	score_args[ARG_MODEL_RULES] = a[PA_MODEL_RULES];
	score_args[ARG_P_ALIVE] = (NullableDatum) {.value = churn[0], .isnull = churn_nulls[0]};
	score_args[ARG_CLV] = (NullableDatum) {.value = churn[1], .isnull = churn_nulls[1]};
	ScoreCustomerArgs(score_args, scored, scored_nulls);

	memset(nulls, 0, PC_NCOLS * sizeof(bool));
	for (int i = COL_R; i <= COL_SEGMENT; i++)
	{
		values[PC_R + i] = scored[i];
		nulls[PC_R + i] = scored_nulls[i];
	}
	/* tiers[rank]: NULL outside the array, as SQL's subscript gives */
	rank = DatumGetInt32(scored[COL_RANK]);
	if (!scored_nulls[COL_RANK] && rank >= 1 && rank <= ntiers && !tier_nulls[rank - 1])
		tier = (NullableDatum) {.value = tiers[rank - 1], .isnull = false};
	values[PC_TIER] = tier.value;
	nulls[PC_TIER] = tier.isnull;
	values[PC_TIER_RANK] = Int32GetDatum(rank);
	nulls[PC_TIER_RANK] = tier.isnull;
	if (SameText(tier, a[PA_TIER]))
	{
		values[PC_TIER_SINCE] = a[PA_TIER_SINCE].value;
		nulls[PC_TIER_SINCE] = a[PA_TIER_SINCE].isnull;
		values[PC_ROSE_AT] = a[PA_ROSE_AT].value;
		nulls[PC_ROSE_AT] = a[PA_ROSE_AT].isnull;
	}
	else
	{
		NullableDatum was = score_args[ARG_CURRENT_RANK];

		values[PC_TIER_SINCE] = a[PA_AS_OF].value;
		/* a rise from one of the program's tiers to a better one */
		values[PC_ROSE_AT] = a[PA_AS_OF].value;
		nulls[PC_ROSE_AT] = tier.isnull || was.isnull || rank >= DatumGetInt32(was.value);
	}
	set_follow_up_due(a, tier.isnull ? 0 : rank, values, nulls);
	values[PC_PENDING_SINCE] = scored[COL_PENDING_SINCE];
	nulls[PC_PENDING_SINCE] = scored_nulls[COL_PENDING_SINCE];
	values[PC_TIER_REASON] = scored[COL_REASON];
	nulls[PC_TIER_REASON] = scored_nulls[COL_REASON];
	/*
	 * A customer who keeps its tier keeps the reason it got it (new, upgrade,
	 * downgrade) rather than turn "unchanged": the reason says why the
	 * customer has its tier, and a rescore that changes nothing else (a run
	 * after create_program, every run after a change) then writes nothing.
	 */
	if (SameText(tier, a[PA_TIER]) && TextIs(values[PC_TIER_REASON], "unchanged") &&
		!a[PA_TIER_REASON].isnull &&
		(TextIs(a[PA_TIER_REASON].value, "new") || TextIs(a[PA_TIER_REASON].value, "upgrade") ||
		 TextIs(a[PA_TIER_REASON].value, "downgrade")))
		values[PC_TIER_REASON] = a[PA_TIER_REASON].value;
	values[PC_CHANGED_BY] = a[PA_SOURCE].value;
	nulls[PC_CHANGED_BY] = a[PA_SOURCE].isnull;
	for (int i = 0; i < CHURN_ASSESS_NCOLS; i++)
	{
		values[PC_P_ALIVE + i] = churn[i];
		nulls[PC_P_ALIVE + i] = churn_nulls[i];
	}
	/* the stage's since and previous move only when the stage changes */
	set_churn_list_key(a, values, nulls);
	stage = (NullableDatum) {.value = churn[4], .isnull = churn_nulls[4]};
	if (SameText(stage, a[PA_LIFECYCLE]))
	{
		values[PC_LIFECYCLE_SINCE] = a[PA_LIFECYCLE_SINCE].value;
		nulls[PC_LIFECYCLE_SINCE] = a[PA_LIFECYCLE_SINCE].isnull;
		values[PC_PREVIOUS_LIFECYCLE] = a[PA_PREVIOUS_LIFECYCLE].value;
		nulls[PC_PREVIOUS_LIFECYCLE] = a[PA_PREVIOUS_LIFECYCLE].isnull;
	}
	else
	{
		values[PC_LIFECYCLE_SINCE] = a[PA_AS_OF].value;
		values[PC_PREVIOUS_LIFECYCLE] = a[PA_LIFECYCLE].value;
		nulls[PC_PREVIOUS_LIFECYCLE] = a[PA_LIFECYCLE].isnull;
	}
}

void
ScoreStoredCustomer(const ProgramConfig *config, const NullableDatum *stored, NullableDatum pinned_rank,
					Datum as_of, Datum source, Datum *values, bool *nulls)
{
	NullableDatum args[PA_NARGS];

	args[PA_CHURN_SETTINGS] = config->settings[SETTING_CHURN];
	args[PA_BGNBD] = config->settings[SETTING_BGNBD];
	args[PA_GAMMA_GAMMA] = config->settings[SETTING_GAMMA_GAMMA];
	args[PA_PURCHASES] = stored[SC_PURCHASES];
	args[PA_MONETARY] = stored[SC_MONETARY];
	args[PA_RECENT_SATISFACTION] = stored[SC_RECENT_SATISFACTION];
	args[PA_LIFECYCLE] = stored[SC_LIFECYCLE];
	args[PA_LIFECYCLE_SINCE] = stored[SC_LIFECYCLE_SINCE];
	args[PA_PREVIOUS_LIFECYCLE] = stored[SC_PREVIOUS_LIFECYCLE];
	args[PA_LAST_ORDER] = stored[SC_LAST_ORDER];
	args[PA_ORDERS] = stored[SC_ORDERS];
	args[PA_FIRST_ORDER] = stored[SC_FIRST_ORDER];
	args[PA_R_BREAKPOINTS] = config->settings[SETTING_R_BREAKPOINTS];
	args[PA_F_BREAKPOINTS] = config->settings[SETTING_F_BREAKPOINTS];
	args[PA_M_BREAKPOINTS] = config->settings[SETTING_M_BREAKPOINTS];
	args[PA_WEIGHTS] = config->settings[SETTING_WEIGHTS];
	args[PA_RULES] = config->settings[SETTING_RULES];
	args[PA_TIERS] = config->settings[SETTING_TIERS];
	args[PA_TIER] = stored[SC_TIER];
	args[PA_TIER_SINCE] = stored[SC_TIER_SINCE];
	args[PA_PENDING_SINCE] = stored[SC_PENDING_SINCE];
	args[PA_ABC_CLASS] = stored[SC_ABC_CLASS];
	args[PA_PINNED_RANK] = pinned_rank;
	args[PA_GRACE] = config->settings[SETTING_GRACE];
	args[PA_AS_OF] = (NullableDatum) {.value = as_of, .isnull = false};
	args[PA_MODEL_RULES] = config->settings[SETTING_MODEL_RULES];
	args[PA_SOURCE] = (NullableDatum) {.value = source, .isnull = false};
	args[PA_TIER_REASON] = stored[SC_TIER_REASON];
	args[PA_CADENCES] = config->settings[SETTING_CADENCES];
	args[PA_ROSE_AT] = stored[SC_ROSE_AT];
	args[PA_LAST_CONTACT_AT] = stored[SC_LAST_CONTACT_AT];
	compose_scores(args, values, nulls);
}

/*
 * SQL, before 0.3.0: the composition with its 27 arguments (PA_*, in order),
 * which the runs called.  0.3.0 has no SQL function over it (the 0.2.0 ->
 * 0.3.0 upgrade drops it), but an update from an older version runs that
 * version's scripts, which create and call it, against this library.
 */
Datum
score_program_customer(PG_FUNCTION_ARGS)
{
	Datum		values[PC_NCOLS];
	bool		nulls[PC_NCOLS];
	NullableDatum args[PA_NARGS];

	memcpy(args, fcinfo->args, PA_LEGACY_NARGS * sizeof(NullableDatum));
	for (int i = PA_LEGACY_NARGS; i < PA_NARGS; i++)
		args[i].isnull = true;
	compose_scores(args, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(CachedResultDesc(fcinfo), values, nulls)));
}

/* SQL: the names of the columns the scoring sets, comma-separated, in order. */
Datum
program_scored_columns(PG_FUNCTION_ARGS pg_attribute_unused())
{
	StringInfoData names;

	initStringInfo(&names);
	for (int i = 0; i < PC_NCOLS; i++)
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", scored_column_names[i]);
	PG_RETURN_TEXT_P(cstring_to_text(names.data));
}
