/*
 * row_deltas.h — the deltas of single orders, from compiled expressions
 * (row_deltas.c).
 */
#ifndef CUSTOMER_TIER_ROW_DELTAS_H
#define CUSTOMER_TIER_ROW_DELTAS_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "utils/relcache.h"

typedef struct RowDeltas RowDeltas;

/*
 * Compile sql, one flat SELECT of expressions of the row "o" of rel
 * (program_delta_sql, by_row), inside SPI; kept for the backend's life.
 */
extern RowDeltas *PrepareRowDeltas(const char *sql, Relation rel);
/* False once the table or anything the text names has changed: prepare it again. */
extern bool RowDeltasValid(const RowDeltas *r);
extern void FreeRowDeltas(RowDeltas *r);
/* The row's columns of the SELECT; valid until the next call. */
extern TupleTableSlot *RowDeltasOf(RowDeltas *r, TupleTableSlot *row);
/* A slot for rows of the table the expressions read. */
extern TupleTableSlot *RowDeltasInputSlot(RowDeltas *r);

#endif
