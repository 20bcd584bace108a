/*
 * rfm.h — the cores of score(), value_score() and rfm_segment(), callable
 * from C (breakpoints.c, rfm.c); the SQL functions are thin wrappers.
 */
#ifndef CUSTOMER_TIER_RFM_H
#define CUSTOMER_TIER_RFM_H

#include "postgres.h"

#include "utils/array.h"

/* score(value, breakpoints, higher_is_better): 1..n against n - 1 breakpoints. */
extern int32 ScoreAgainst(double value, ArrayType *breakpoints, bool higher_is_better);

/* value_score(r, f, m, weights): the weighted mean of the scores rescaled to 0..100. */
extern double ValueScore(int32 r, int32 f, int32 m, ArrayType *weights);

/* rfm_segment(r, f, m): the segment's name. */
extern const char *RfmSegment(int32 r, int32 f, int32 m);

#endif
