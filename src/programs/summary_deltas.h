/*
 * summary_deltas.h — what each write of a program's customers changes in
 * its summaries (summary_deltas.c).
 */
#ifndef CUSTOMER_TIER_SUMMARY_DELTAS_H
#define CUSTOMER_TIER_SUMMARY_DELTAS_H

#include "postgres.h"

#include "utils/relcache.h"

typedef struct SummaryDeltas SummaryDeltas;

/* An empty sum of changes for the customers table customers (open). */
extern SummaryDeltas *NewSummaryDeltas(Relation customers);
/* Count a customer row in (sign +1) or out (sign -1) of its group. */
extern void AddSummaryRow(SummaryDeltas *deltas, const Datum *values, const bool *nulls, int sign);
/* Write the groups that changed to the program's summary_deltas table. */
extern void FlushSummaryDeltas(SummaryDeltas *deltas);
/* Empty the program's summary_deltas: its customers were truncated. */
extern void EmptySummaryDeltas(SummaryDeltas *deltas);

#endif
