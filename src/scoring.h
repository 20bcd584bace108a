/*
 * scoring.h — the cores of the one scoring path, callable from C.
 *
 * churn_assess() and score_customer() are SQL functions over these cores;
 * score_program_customer() composes the two, so that the scoring fragment
 * of a program (sql/install/64_program_scoring.sql) makes one call per
 * customer.  Each core reads its SQL function's arguments, in order, and
 * fills its result columns.
 */
#ifndef CUSTOMER_TIER_SCORING_H
#define CUSTOMER_TIER_SCORING_H

#include "fmgr.h"

/* churn_assess: 9 arguments -> (p_alive, clv, churn_flags, churn_reasons, lifecycle) */
#define CHURN_ASSESS_NARGS	9
#define CHURN_ASSESS_NCOLS	5
extern void ChurnAssessArgs(const NullableDatum *args, Datum *values, bool *nulls);
extern int32 ChurnStateHorizon(NullableDatum settings);

/*
 * score_customer: 18 arguments -> (r, f, m, value_score, segment, rank,
 * pending_since, reason); the array arguments are detoasted in place.
 */
#define SCORE_CUSTOMER_NARGS	18
#define SCORE_CUSTOMER_NCOLS	8
extern void ScoreCustomerArgs(NullableDatum *args, Datum *values, bool *nulls);

/*
 * score_program_customer: churn_assess and score_customer composed, with
 * the tier's name and the since/previous columns; its arguments, in order.
 */
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
	PA_NARGS
};

/* Columns of its result: customer_tier.program_scored_columns(), in order. */
enum
{
	PC_R,
	PC_F,
	PC_M,
	PC_VALUE_SCORE,
	PC_SEGMENT,
	PC_TIER,
	PC_TIER_SINCE,
	PC_PENDING_SINCE,
	PC_TIER_REASON,
	PC_CHANGED_BY,
	PC_P_ALIVE,
	PC_PREDICTED_CLV,
	PC_CHURN_FLAGS,
	PC_CHURN_REASONS,
	PC_LIFECYCLE,
	PC_LIFECYCLE_SINCE,
	PC_PREVIOUS_LIFECYCLE,
	PC_NCOLS
};

extern void ScoreProgramCustomerArgs(const NullableDatum *args, Datum *values, bool *nulls);

#endif							/* CUSTOMER_TIER_SCORING_H */
