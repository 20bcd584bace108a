/*
 * live_rows.h — a program's customers table read and written by the apply
 * step without the SQL executor (live_rows.c).
 */
#ifndef CUSTOMER_TIER_LIVE_ROWS_H
#define CUSTOMER_TIER_LIVE_ROWS_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/tupdesc.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

typedef struct CustomerRows CustomerRows;

/* Open the customers table for one pass; its row triggers fire at CloseCustomerRows. */
extern CustomerRows *OpenCustomerRows(Oid customers);

/*
 * Find the customer's row through the primary key and lock it (FOR NO KEY
 * UPDATE); false when there is none.  values and nulls (one per column) get
 * the newest version, allocated in the caller's memory context.
 */
extern bool LockCustomerRow(CustomerRows *rows, Datum key, ItemPointer tid, Datum *values, bool *nulls);

/* Replace the row locked at tid, with its indexes, constraints and row triggers. */
extern void UpdateCustomerRow(CustomerRows *rows, ItemPointer tid, Datum *values, bool *nulls);

extern void CloseCustomerRows(CustomerRows *rows);
/* The customers table, open until CloseCustomerRows. */
extern Relation CustomerRowsRelation(CustomerRows *rows);

/*
 * What the commit step and the customers' statement triggers read off a
 * customer row (summary_deltas.c, customer_events.c, program_scoring.c).
 */
/* The attribute index (0-based) of each named column; each must exist. */
extern void CustomerColumns(TupleDesc desc, const char *const *names, int n, AttrNumber *attnums);
/* Two varlena values (texts, arrays) with the same bytes, NULL equal to NULL only. */
extern bool SameBytes(bool a_null, Datum a, bool b_null, Datum b);
/* A text value equals a C string. */
extern bool TextIs(Datum t, const char *s);

#endif
