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

/*
 * score_customer: 18 arguments -> (r, f, m, value_score, segment, rank,
 * pending_since, reason); the array arguments are detoasted in place.
 */
#define SCORE_CUSTOMER_NARGS	18
#define SCORE_CUSTOMER_NCOLS	8
extern void ScoreCustomerArgs(NullableDatum *args, Datum *values, bool *nulls);

#endif							/* CUSTOMER_TIER_SCORING_H */
