/*
 * live_apply.c — the apply step of the trigger path: a transaction's
 * per-customer deltas written to the program's customers at commit.
 *
 * A pass serves up to APPLY_CHUNK customers, in key order: each stored row
 * is found through the primary key and locked (FOR NO KEY UPDATE), read and
 * written back without the SQL executor (live_rows.c); in between, in C,
 * each customer's deltas are merged into its states, and its metrics and
 * every scored column are computed by the one scoring path
 * (ScoreStoredCustomer) against the configuration cached in C
 * (program_config.c).  One statement inserts the new customers (ON CONFLICT
 * DO NOTHING), their rows as an array of the customers table's row type;
 * a pass's changes of tier are recorded by RecordTierChanges
 * (tier_changes.c), and its new customers' first tiers by the trigger
 * tier_first of that statement, which sees the rows it did insert.  A new customer that a concurrent
 * transaction inserted and committed first is then applied again, as a
 * stored one.  A statement per customer would cost its executor start:
 * about 80 us a customer in a bulk load.
 *
 * The stored states are bounded (order_summary.c): orders added after a
 * customer's latest one (the common case) are applied exactly; a removal, or
 * an order dated between the customer's first and latest, has the customer
 * recomputed from the orders table through the index on the customer column,
 * under the row lock, by one more statement per pass; then it is scored as
 * any other.  A removal the stored state cannot hold at all is drift and is
 * also logged in drift_repair.  Customers left without any order are deleted
 * after being scored, as before.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "live_apply.h"
#include "owner.h"
#include "customer_events.h"
#include "live_rows.h"
#include "summary_deltas.h"
#include "tier_changes.h"
#include "order_stats.h"
#include "program_config.h"
#include "scoring.h"

/* What the apply writes after the key: the states, then the metrics (CustomerMetrics' order). */
static const char *const written_columns[2 + ORDER_STATS_RESULT_COLUMNS] = {
	"purchases", "refunds",
	"orders", "monetary", "first_order", "last_order", "mean_gap_days", "gap_stddev_days"
};
#define NWRITTEN (lengthof(written_columns) + PC_NCOLS)

typedef struct ApplyPlans
{
	char		program[NAMEDATALEN];	/* hash key */
	Oid			customers;		/* the program's customers table when planned */
	TupleDesc	rowdesc;		/* its row type (blessed, kept for the backend's life) */
	Oid			rowarray;		/* the array type of its row type */
	int			written[NWRITTEN];	/* attribute index of each written column */
	int			key_att;
	int			updated_at_att;
	int			refunds_att;
	int			tier_att;
	int			tier_reason_att;
	int			changed_by_att;
	int			remove_atts[2];	/* remove_purchases, remove_refunds: NULL once applied */
	int			stored_atts[NSTORED];	/* attribute index of each column the scoring reads */
	/*
	 * [MANY] takes an array; [ONE] the same statement for a single customer,
	 * whose plan starts faster (a single-row insert is the common case).
	 */
	SPIPlanPtr	insert[2];		/* (rows) -> keys inserted */
	SPIPlanPtr	not_inserted;	/* (keys, keys inserted) -> ordinality of the others */
	SPIPlanPtr	emptied;		/* (keys): delete customers left without orders */
	SPIPlanPtr	recompute[2];	/* (keys, horizon) -> ordinality, states from the orders */
	SPIPlanPtr	drift_log;		/* (program, customers, repaired): drift_repair */
	SPIPlanPtr	inputs;			/* (keys) -> ordinality, each of input_columns */
	Oid			orders;			/* the orders table */
} ApplyPlans;

enum
{
	MANY,
	ONE
};

static HTAB *apply_plans = NULL;

/* The stored columns the commit step reads from other tables than the orders. */
static const int input_columns[] = {SC_RECENT_SATISFACTION, SC_LAST_CONTACT_AT};

/*
 * Customers per pass.  A pass holds each of its customers' states, decoded,
 * and rows, more than once (the new rows, their array, the insert's own
 * copies): 7.6 kB a customer in a load of 320 orders each, more as the days
 * of orders in a state fill up (76 MB a pass at 10,000).
 */
#define APPLY_CHUNK 2000

/* The attribute index (0-based) of a column of the customers table; it must exist. */
static int
column_index(TupleDesc desc, const char *column)
{
	int			attnum = SPI_fnumber(desc, column);

	if (attnum <= 0)
		elog(ERROR, "customers table has no column \"%s\"", column);
	return attnum - 1;
}

/* New customers; returns the keys inserted (a concurrent transaction may have inserted others first). */
static const char *const insert_sql =
"WITH inserted AS ("
"    INSERT INTO %1$s AS c %2$s"
"    ON CONFLICT (customer) DO NOTHING"
"    RETURNING c.customer"
") SELECT pg_catalog.array_agg(i.customer) FROM inserted AS i";

/* Plan the statements of one program (its customers table is customers). */
static void
plan_program(ApplyPlans *p, Oid customers, Oid keytype)
{
	Relation	rel = table_open(customers, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	const char *schema = quote_identifier(get_namespace_name(RelationGetNamespace(rel)));
	const char *table = psprintf("%s.%s", schema, quote_identifier(RelationGetRelationName(rel)));
	const char *columns[NWRITTEN];
	Oid			keyarray = get_array_type(keytype);
	Oid			insert_arg;
	Oid			two_keys[2] = {keyarray, keyarray};
	Oid			recompute_args[2] = {keyarray, INT4OID};
	Oid			log_args[3] = {TEXTOID, INT8OID, BOOLOID};
	TupleDesc	catdesc;
	HeapTuple	cat;
	char	   *recompute;
	bool		isnull;
	MemoryContext old;

	for (int i = 0; i < (int) lengthof(written_columns); i++)
		columns[i] = written_columns[i];
	for (int i = 0; i < PC_NCOLS; i++)
		columns[lengthof(written_columns) + i] = scored_column_names[i];

	old = MemoryContextSwitchTo(TopMemoryContext);
	p->rowdesc = BlessTupleDesc(CreateTupleDescCopy(desc));
	MemoryContextSwitchTo(old);
	p->rowarray = get_array_type(rel->rd_rel->reltype);
	p->key_att = column_index(desc, "customer");
	p->updated_at_att = column_index(desc, "updated_at");
	p->refunds_att = column_index(desc, "refunds");
	p->tier_att = column_index(desc, "tier");
	p->tier_reason_att = column_index(desc, "tier_reason");
	p->changed_by_att = column_index(desc, "changed_by");
	p->remove_atts[0] = column_index(desc, "remove_purchases");
	p->remove_atts[1] = column_index(desc, "remove_refunds");
	for (int i = 0; i < NSTORED; i++)
		p->stored_atts[i] = column_index(desc, stored_column_names[i]);
	for (int i = 0; i < (int) NWRITTEN; i++)
		p->written[i] = column_index(desc, columns[i]);

	insert_arg = p->rowarray;
	p->insert[MANY] = KeepPlan(psprintf(insert_sql, table, "SELECT u.* FROM pg_catalog.unnest($1) AS u"),
							   1, &insert_arg);
	insert_arg = rel->rd_rel->reltype;
	p->insert[ONE] = KeepPlan(psprintf(insert_sql, table, "SELECT ($1).*"), 1, &insert_arg);
	p->not_inserted = KeepPlan(
		"SELECT k.i FROM pg_catalog.unnest($1) WITH ORDINALITY AS k (customer, i)"
		" WHERE NOT k.customer OPERATOR(pg_catalog.=) ANY ($2) ORDER BY k.i", 2, two_keys);
	p->emptied = KeepPlan(psprintf(
		"DELETE FROM %s AS c WHERE c.customer OPERATOR(pg_catalog.=) ANY ($1)"
		"   AND c.purchases IS NULL AND c.refunds IS NULL", table), 1, &keyarray);
	cat = ProgramCatalogRow("SELECT p.orders_table::pg_catalog.oid, customer_tier.program_recompute_sql(p)"
							"  FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) $1",
							p->program, &catdesc);
	p->orders = DatumGetObjectId(heap_getattr(cat, 1, catdesc, &isnull));
	recompute = TextDatumGetCString(heap_getattr(cat, 2, catdesc, &isnull));
	/* many keys: planned for their number (one scan of the orders hashed, or the index per key) */
	p->recompute[MANY] = KeepCustomPlan(recompute, 2, recompute_args);
	p->recompute[ONE] = KeepPlan(recompute, 2, recompute_args);
	p->drift_log = KeepPlan("INSERT INTO customer_tier.drift_repair (program, customers, repaired)"
							" VALUES ($1, $2, $3)", 3, log_args);
	/* input_columns: as feed_recent_satisfaction, the recent score (0..100) over 10; the last contact */
	p->inputs = KeepPlan(psprintf(
		"SELECT k.i, (SELECT s.recent_score OPERATOR(pg_catalog./) 10 FROM %1$s.satisfaction AS s"
		"              WHERE s.customer OPERATOR(pg_catalog.=) k.customer),"
		"       (SELECT l.contacted_at FROM %1$s.contacts AS l"
		"         WHERE l.customer OPERATOR(pg_catalog.=) k.customer ORDER BY l.contacted_at DESC LIMIT 1)"
		"  FROM pg_catalog.unnest($1) WITH ORDINALITY AS k (customer, i)", schema),
		1, &keyarray);
	table_close(rel, AccessShareLock);
	p->customers = customers;
}

static void
forget_plans(ApplyPlans *p)
{
	SPIPlanPtr *all[] = {&p->insert[MANY], &p->insert[ONE], &p->not_inserted, &p->emptied,
	&p->recompute[MANY], &p->recompute[ONE], &p->drift_log, &p->inputs};

	for (int i = 0; i < (int) lengthof(all); i++)
		if (*all[i] != NULL)
		{
			SPI_freeplan(*all[i]);
			*all[i] = NULL;
		}
	if (p->rowdesc != NULL)
		FreeTupleDesc(p->rowdesc);
	p->rowdesc = NULL;
}

/* The program's statements, planned again when its customers table is not the one they were planned for. */
static ApplyPlans *
get_apply_plans(const char *program, Oid customers, Oid keytype)
{
	bool		found;
	ApplyPlans *p = ProgramEntry(&apply_plans, "customer_tier apply plans", sizeof(ApplyPlans),
								 program, &found);

	if (!found)
	{
		p->customers = InvalidOid;
		p->rowdesc = NULL;
		p->insert[MANY] = p->insert[ONE] = p->not_inserted = p->emptied = NULL;
		p->recompute[MANY] = p->recompute[ONE] = p->drift_log = p->inputs = NULL;
	}
	if (p->customers != customers)
	{
		forget_plans(p);
		p->customers = InvalidOid;
		plan_program(p, customers, keytype);
	}
	return p;
}

Datum
MakeArray(Datum *values, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_array(values, n, type, len, byval, align));
}

/*
 * Run a plan and come back to the caller's memory context: SPI returns in
 * its procedure context, which lives until the commit step ends, and what a
 * pass allocates after a statement would pile up there, customer after
 * customer (160 MB for 50,000 customers), instead of going with its chunk.
 */
void
RunPlan(SPIPlanPtr plan, Datum *args, const char *nulls, int expected)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc = SPI_execute_plan(plan, args, nulls, false, 0);

	MemoryContextSwitchTo(cxt);
	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

/* What one apply pass works with. */
typedef struct ApplyState
{
	const char *program;
	Oid			keytype;
	ProgramConfig *config;
	ApplyPlans *plans;
	Datum		as_of;
	int32		horizon;		/* days of day counts the stored states keep */
	bool		readable;		/* customer_tier_owner may read the orders table */
	const char *unreadable;		/* if not, why (an error detail) */
	const char *read_fix;		/* and what fixes it */
	/* customers to delete (no order left), over all passes */
	Datum	   *emptied;
	int			nemptied;
	/* customers that could not be recomputed (orders unreadable), and how many drifted */
	int64		nunrepaired;
	int64		ndrifted;
} ApplyState;

/* A customer's stored row, locked; found is false for a new customer. */
typedef struct StoredRow
{
	bool		found;
	ItemPointerData tid;
	Datum	   *values;			/* every column, as stored */
	bool	   *nulls;
	NullableDatum refunds;
	NullableDatum scoring[NSTORED];	/* the columns the scoring reads (SC_*), as stored */
} StoredRow;

/*
 * The customer's new states from its stored ones and its deltas, or
 * DELTA_RECOMPUTE / DELTA_DRIFT when the customer must be recomputed from
 * the orders table.
 */
static DeltaOutcome
new_states(ApplyState *st, const CustomerDelta *d, const StoredRow *stored,
		   NullableDatum *purchases, NullableDatum *refunds)
{
	DeltaOutcome p;
	DeltaOutcome r;

	if (d->recompute)
		return DELTA_RECOMPUTE;
	p = OrderStatsApplyDelta(stored->scoring[SC_PURCHASES], d->add_purchases, d->remove_purchases,
							 st->horizon, purchases);
	r = OrderStatsApplyDelta(stored->refunds, d->add_refunds, d->remove_refunds,
							 st->horizon, refunds);
	return Max(p, r);
}

/*
 * The customer's new row (values and nulls of every column), from its stored
 * row and its new states; false when there is nothing to store (a new
 * customer whose orders came and went, or one known only to the orders
 * table).  Columns the scoring does not set keep their stored value (NULL
 * for a new customer); the deltas to remove are NULL once applied.
 */
static bool
new_row(ApplyState *st, const CustomerDelta *d, const StoredRow *stored,
		NullableDatum purchases, NullableDatum refunds, Datum *values, bool *nulls)
{
	ApplyPlans *plans = st->plans;
	TupleDesc	desc = plans->rowdesc;
	Datum		written[NWRITTEN];
	bool		written_nulls[NWRITTEN];
	NullableDatum scoring[NSTORED];

	if (!stored->found && purchases.isnull && refunds.isnull)
		return false;
	if (stored->found && purchases.isnull && refunds.isnull)
		st->emptied[st->nemptied++] = d->key;

	written[0] = purchases.value;
	written_nulls[0] = purchases.isnull;
	written[1] = refunds.value;
	written_nulls[1] = refunds.isnull;
	CustomerMetrics(purchases, refunds, written + 2, written_nulls + 2);

	/* scored on the new states and metrics, the rest as stored */
	memcpy(scoring, stored->scoring, sizeof(scoring));
	scoring[SC_PURCHASES] = purchases;
	scoring[SC_ORDERS] = (NullableDatum) {.value = written[2], .isnull = written_nulls[2]};
	scoring[SC_MONETARY] = (NullableDatum) {.value = written[3], .isnull = written_nulls[3]};
	scoring[SC_FIRST_ORDER] = (NullableDatum) {.value = written[4], .isnull = written_nulls[4]};
	scoring[SC_LAST_ORDER] = (NullableDatum) {.value = written[5], .isnull = written_nulls[5]};
	ScoreStoredCustomer(st->config, scoring, PinnedRank(st->config, d->key, st->keytype, st->as_of), st->as_of,
						CStringGetTextDatum(d->source), written + lengthof(written_columns),
						written_nulls + lengthof(written_columns));

	if (stored->found)
	{
		memcpy(values, stored->values, desc->natts * sizeof(Datum));
		memcpy(nulls, stored->nulls, desc->natts * sizeof(bool));
	}
	else
		memset(nulls, true, desc->natts * sizeof(bool));
	nulls[plans->remove_atts[0]] = nulls[plans->remove_atts[1]] = true;
	values[plans->key_att] = d->key;
	nulls[plans->key_att] = false;
	/* when written, whatever instant it was scored against */
	values[plans->updated_at_att] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	nulls[plans->updated_at_att] = false;
	/* the inputs read again (read_inputs) */
	for (int i = 0; i < (int) lengthof(input_columns); i++)
	{
		int			c = input_columns[i];

		values[plans->stored_atts[c]] = stored->scoring[c].value;
		nulls[plans->stored_atts[c]] = stored->scoring[c].isnull;
	}
	for (int i = 0; i < (int) NWRITTEN; i++)
	{
		values[plans->written[i]] = written[i];
		nulls[plans->written[i]] = written_nulls[i];
	}
	return true;
}

/*
 * The states of the customers at recompute[] (ascending indexes of deltas),
 * recomputed from the orders table (NULL: no orders left), or, when
 * customer_tier_owner may not read it, counted as unrepaired.
 * The rows are locked already: a concurrent writer's orders are either
 * committed, and read here, or still to be applied on top.
 */
static SPITupleTable *
recompute_states(ApplyState *st, const CustomerDelta *deltas, const int *recompute, int n,
				 NullableDatum *purchases, NullableDatum *refunds)
{
	Datum	   *keys = palloc(n * sizeof(Datum));
	Datum		args[2];

	if (!st->readable)
	{
		st->nunrepaired += n;
		return NULL;
	}
	for (int k = 0; k < n; k++)
	{
		keys[k] = deltas[recompute[k]].key;
		purchases[recompute[k]].isnull = refunds[recompute[k]].isnull = true;
	}
	args[0] = MakeArray(keys, n, st->keytype);
	args[1] = Int32GetDatum(st->horizon);
	RunPlan(st->plans->recompute[n == 1 ? ONE : MANY], args, NULL, SPI_OK_SELECT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			i = recompute[DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull)) - 1];

		purchases[i].value = SPI_getbinval(row, desc, 2, &purchases[i].isnull);
		refunds[i].value = SPI_getbinval(row, desc, 3, &refunds[i].isnull);
	}
	return SPI_tuptable;
}

/*
 * The scoring's inputs kept in other tables than the orders (input_columns),
 * read again in place of the stored values for the customers whose answers
 * or contacts changed, and for new customers, whose answers and contacts may
 * predate their first order.  The satisfaction rows are settled by now; one
 * statement reads both, the stored values being current for a customer whose
 * other input did not change.  Returns the rows read (NULL: none), for the
 * caller to free once the pass is written.
 */
static SPITupleTable *
read_inputs(ApplyState *st, const CustomerDelta *deltas, StoredRow *stored, int n)
{
	Datum	   *keys = palloc(n * sizeof(Datum));
	int		   *at = palloc(n * sizeof(int));
	int			m = 0;
	Datum		arg;

	for (int i = 0; i < n; i++)
		if (deltas[i].satisfaction || deltas[i].contact || !stored[i].found)
		{
			keys[m] = deltas[i].key;
			at[m++] = i;
		}
	if (m == 0)
		return NULL;
	arg = MakeArray(keys, m, st->keytype);
	RunPlan(st->plans->inputs, &arg, NULL, SPI_OK_SELECT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		StoredRow  *s = &stored[at[DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull)) - 1]];

		for (int c = 0; c < (int) lengthof(input_columns); c++)
			s->scoring[input_columns[c]].value =
				SPI_getbinval(row, desc, c + 2, &s->scoring[input_columns[c]].isnull);
	}
	return SPI_tuptable;
}

/*
 * One pass over deltas (sorted by key): lock and read the stored rows, build
 * the new ones, write them.  Returns how many new customers a concurrent
 * transaction inserted first; their deltas are moved to the front of deltas,
 * to be applied again.
 */
static int
apply_pass(ApplyState *st, CustomerDelta *deltas, int n)
{
	ApplyPlans *plans = st->plans;
	int			natts = plans->rowdesc->natts;
	Datum	   *keys = palloc(n * sizeof(Datum));
	StoredRow  *stored = palloc0(n * sizeof(StoredRow));
	Datum	   *insert_rows = palloc(n * sizeof(Datum));
	int		   *inserted_from = palloc(n * sizeof(int));
	NullableDatum *purchases = palloc(n * sizeof(NullableDatum));
	NullableDatum *refunds = palloc(n * sizeof(NullableDatum));
	int		   *recompute = palloc(n * sizeof(int));
	Datum	   *values = palloc(natts * sizeof(Datum));
	bool	   *nulls = palloc(natts * sizeof(bool));
	int			nrecompute = 0;
	SPITupleTable *recomputed_rows = NULL;
	SPITupleTable *input_rows;
	int			ninsert = 0;
	int			again = 0;
	int			how = n == 1 ? ONE : MANY;
	TierChange *changes = palloc(n * sizeof(TierChange));
	int			nchanges = 0;
	CustomerRows *rows = OpenCustomerRows(plans->customers);
	SummaryDeltas *summary = NewSummaryDeltas(CustomerRowsRelation(rows));
	CustomerEvents *events = NewCustomerEvents(CustomerRowsRelation(rows));

	/* in key order, as every transaction locks them */
	for (int i = 0; i < n; i++)
	{
		StoredRow  *s = &stored[i];

		keys[i] = deltas[i].key;
		for (int c = 0; c < NSTORED; c++)
			s->scoring[c].isnull = true;
		s->refunds.isnull = true;
		s->values = palloc(natts * sizeof(Datum));
		s->nulls = palloc(natts * sizeof(bool));
		s->found = LockCustomerRow(rows, keys[i], &s->tid, s->values, s->nulls);
		if (!s->found)
			continue;
		s->refunds = (NullableDatum) {s->values[plans->refunds_att], s->nulls[plans->refunds_att]};
		for (int c = 0; c < NSTORED; c++)
			s->scoring[c] = (NullableDatum) {s->values[plans->stored_atts[c]], s->nulls[plans->stored_atts[c]]};
	}
	input_rows = read_inputs(st, deltas, stored, n);
	for (int i = 0; i < n; i++)
	{
		DeltaOutcome outcome = new_states(st, &deltas[i], &stored[i], &purchases[i], &refunds[i]);

		if (outcome == DELTA_APPLIED)
			continue;
		st->ndrifted += outcome == DELTA_DRIFT;
		recompute[nrecompute++] = i;
	}
	if (nrecompute > 0)
		recomputed_rows = recompute_states(st, deltas, recompute, nrecompute, purchases, refunds);
	for (int i = 0, k = 0; i < n; i++)
	{
		bool		recomputed = k < nrecompute && recompute[k] == i;

		k += recomputed;
		if (recomputed && !st->readable)
			continue;			/* left as it was, counted as unrepaired */
		if (!new_row(st, &deltas[i], &stored[i], purchases[i], refunds[i], values, nulls))
			continue;
		if (stored[i].found)
		{
			/* the change of tier, from the stored tier */
			TierChange	change = {
				.customer = deltas[i].key,
				.from_tier = stored[i].scoring[SC_TIER],
				.to_tier = {values[plans->tier_att], nulls[plans->tier_att]},
				.reason = {values[plans->tier_reason_att], nulls[plans->tier_reason_att]},
				.source = {values[plans->changed_by_att], nulls[plans->changed_by_att]}
			};

			AddSummaryRow(summary, stored[i].values, stored[i].nulls, -1);
			AddSummaryRow(summary, values, nulls, +1);
			AddCustomerEvents(events, stored[i].values, stored[i].nulls, values, nulls);
			UpdateCustomerRow(rows, &stored[i].tid, values, nulls);
			if (!SameText(change.to_tier, change.from_tier))
				changes[nchanges++] = change;
		}
		else
		{
			inserted_from[ninsert] = i;
			insert_rows[ninsert++] = HeapTupleGetDatum(heap_form_tuple(plans->rowdesc, values, nulls));
		}
	}
	CloseCustomerRows(rows);
	/* what the statement trigger changes_update adds for any other UPDATE */
	FlushSummaryDeltas(summary);
	FlushCustomerEvents(events);
	/* what the statement trigger tier_changed records for any other UPDATE, in key order */
	RecordTierChanges(st->program, plans->customers, changes, nchanges);
	if (ninsert > 0)
	{
		Datum		arg = how == MANY ? MakeArray(insert_rows, ninsert, plans->rowdesc->tdtypeid) : insert_rows[0];
		bool		none;
		Datum		inserted;

		RunPlan(plans->insert[how], &arg, NULL, SPI_OK_SELECT);
		inserted = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &none);
		if (none || ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(inserted)),
								   ARR_DIMS(DatumGetArrayTypeP(inserted))) < ninsert)
		{
			/* rare: some were inserted by a concurrent transaction that committed first */
			Datum		new_keys[2];
			CustomerDelta *redo = palloc(ninsert * sizeof(CustomerDelta));

			for (int j = 0; j < ninsert; j++)
				keys[j] = deltas[inserted_from[j]].key;
			new_keys[0] = MakeArray(keys, ninsert, st->keytype);
			new_keys[1] = none ? MakeArray(NULL, 0, st->keytype) : inserted;
			RunPlan(plans->not_inserted, new_keys, NULL, SPI_OK_SELECT);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				bool		isnull;
				int64		j = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
															 SPI_tuptable->tupdesc, 1, &isnull)) - 1;

				redo[again++] = deltas[inserted_from[j]];
			}
			memcpy(deltas, redo, again * sizeof(CustomerDelta));
		}
	}
	/* the states recomputed and the inputs read are written by now; SPI would keep them until the commit step ends */
	if (recomputed_rows != NULL)
		SPI_freetuptable(recomputed_rows);
	if (input_rows != NULL)
		SPI_freetuptable(input_rows);
	return again;
}

void
ApplyCustomerDeltas(const char *program, Oid keytype, const CustomerDelta *deltas, int n)
{
	Oid			customers = ProgramCustomersTable(program);
	ApplyState	st;
	CustomerDelta *todo = palloc(Min(n, APPLY_CHUNK) * sizeof(CustomerDelta));
	int			left;
	MemoryContext chunk_cxt;

	if (!OidIsValid(customers))
		MissingProgram(program);
	st.program = program;
	st.keytype = keytype;
	st.config = GetProgramConfig(program);
	st.plans = get_apply_plans(program, customers, keytype);
	st.as_of = ProgramAsOf(st.config);
	st.horizon = ChurnStateHorizon(st.config->settings[SETTING_CHURN]);
	st.unreadable = OwnerCannotRead(st.plans->orders, &st.read_fix);
	st.readable = st.unreadable == NULL;
	st.emptied = palloc_extended(n * sizeof(Datum), MCXT_ALLOC_HUGE);
	st.nemptied = 0;
	st.nunrepaired = st.ndrifted = 0;

	/*
	 * In chunks of customers, in key order: an array of a whole bulk load's
	 * rows would outgrow a varlena (1 GB), and each chunk's memory goes when
	 * it is written.
	 */
	chunk_cxt = AllocSetContextCreate(CurrentMemoryContext, "customer_tier apply chunk",
									  ALLOCSET_DEFAULT_SIZES);
	for (int start = 0; start < n; start += APPLY_CHUNK)
	{
		MemoryContext old = MemoryContextSwitchTo(chunk_cxt);

		left = Min(APPLY_CHUNK, n - start);
		memcpy(todo, deltas + start, left * sizeof(CustomerDelta));
		while (left > 0)
			left = apply_pass(&st, todo, left);
		MemoryContextSwitchTo(old);
		MemoryContextReset(chunk_cxt);
	}
	MemoryContextDelete(chunk_cxt);

	if (st.nemptied > 0)
	{
		Datum		keys = MakeArray(st.emptied, st.nemptied, keytype);

		RunPlan(st.plans->emptied, &keys, NULL, SPI_OK_DELETE);
	}
	if (st.nunrepaired > 0 || st.ndrifted > 0)
	{
		Datum		log[3] = {CStringGetTextDatum(program), Int64GetDatum(st.nunrepaired > 0 ? st.nunrepaired : st.ndrifted),
		BoolGetDatum(st.nunrepaired == 0)};

		RunPlan(st.plans->drift_log, log, NULL, SPI_OK_INSERT);
	}
	if (st.nunrepaired > 0)
		ereport(WARNING,
				(errmsg("program \"%s\": " INT64_FORMAT " customer(s) drifted and cannot be repaired",
						program, st.nunrepaired),
				 errdetail("%s", st.unreadable),
				 errhint("%s, then SELECT customer_tier.rebuild_program(%s).",
						 st.read_fix, quote_literal_cstr(program))));
}
