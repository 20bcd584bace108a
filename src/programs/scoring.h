/*
 * scoring.h — the cores of the one scoring path, callable from C.
 *
 * churn_assess() (blocks/churn.h) and score_customer() are SQL functions over these cores,
 * each reading its SQL function's arguments, in order, and filling its
 * result columns; ScoreStoredCustomer composes the two for a program's
 * customer, from the columns stored in its customers table.
 */
#ifndef CUSTOMER_TIER_SCORING_H
#define CUSTOMER_TIER_SCORING_H

#include "fmgr.h"

#include "churn.h"

/*
 * score_customer: 18 arguments -> (r, f, m, value_score, segment, rank,
 * pending_since, reason); the array arguments are detoasted in place.
 */
#define SCORE_CUSTOMER_NARGS	18
#define SCORE_CUSTOMER_NCOLS	8
extern void ScoreCustomerArgs(NullableDatum *args, Datum *values, bool *nulls);

/*
 * The stored columns of a customer that its scoring reads, columns of the
 * program's customers table (stored_column_names, in this order).
 */
enum
{
	SC_PURCHASES,
	SC_ORDERS,
	SC_MONETARY,
	SC_FIRST_ORDER,
	SC_LAST_ORDER,
	SC_TIER,
	SC_TIER_SINCE,
	SC_PENDING_SINCE,
	SC_ABC_CLASS,
	SC_LIFECYCLE,
	SC_LIFECYCLE_SINCE,
	SC_PREVIOUS_LIFECYCLE,
	SC_RECENT_SATISFACTION,
	SC_TIER_REASON,
	SC_ROSE_AT,
	SC_LAST_CONTACT_AT,
	NSTORED
};
extern const char *const stored_column_names[NSTORED];

/*
 * The columns the scoring sets, in the order of scored_column_names: the one
 * definition of them (customer_tier.program_scored_columns() lists them).
 */
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
	/* appended in 0.3.0: the 0.2.0 SQL composition returned the ones above */
	PC_TIER_RANK,
	PC_ROSE_AT,
	PC_FOLLOW_UP_DUE_AT,
	PC_RISK_STAKE,
	PC_RISK_MONETARY,
	PC_NCOLS
};

extern const char *const scored_column_names[PC_NCOLS];

/* Two texts, or NULLs, are the same (IS NOT DISTINCT FROM). */
extern bool SameText(NullableDatum a, NullableDatum b);

/*
 * Every scored column of one customer of a program, from its stored columns
 * (stored[SC_*]; the metrics and purchases as they are to be stored), the
 * program's configuration, its pinned tier rank, the time of the scoring and
 * who scores (changed_by): the one scoring path of the trigger path
 * (live_apply.c) and of the runs (scored_row.c).
 */
struct ProgramConfig;
extern void ScoreStoredCustomer(const struct ProgramConfig *config, const NullableDatum *stored,
								NullableDatum pinned_rank, Datum as_of, Datum source,
								Datum *values, bool *nulls);

#endif							/* CUSTOMER_TIER_SCORING_H */
