/*
 * live_rows.h — a program's customers table read and written by the apply
 * step without the SQL executor (live_rows.c).
 */
#ifndef CUSTOMER_TIER_LIVE_ROWS_H
#define CUSTOMER_TIER_LIVE_ROWS_H

#include "postgres.h"

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

#endif
