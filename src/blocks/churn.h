/*
 * churn.h — the churn rules' core, callable from C (churn.c): the SQL
 * function churn_assess() reads its arguments, in order, and fills its
 * result columns with it; a program's scoring calls it directly
 * (programs/scoring.h).
 */
#ifndef CUSTOMER_TIER_CHURN_H
#define CUSTOMER_TIER_CHURN_H

#include "fmgr.h"

/* churn_assess: 9 arguments -> (p_alive, clv, churn_flags, churn_reasons, lifecycle) */
#define CHURN_ASSESS_NARGS	9
#define CHURN_ASSESS_NCOLS	5
extern void ChurnAssessArgs(const NullableDatum *args, Datum *values, bool *nulls);
extern int32 ChurnStateHorizon(NullableDatum settings);

#endif
