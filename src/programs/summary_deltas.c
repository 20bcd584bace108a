/*
 * summary_deltas.c — the program's summaries (tier_summary, segment_summary)
 * without a row that every writer updates (docs/views.md, "Summaries").
 *
 * Each write of customer rows adds what it changed to the program's table
 * summary_deltas, one row per group (tier, segment, on the churn list or
 * not) whose counts moved: customers, revenue, value score sum and count.
 * The summaries sum that table, so a writer only ever inserts: two writers
 * never wait for each other there, and no writer can fail to serialize on
 * it.  The rows are folded into one per group now and then
 * (customer_tier.compact_summary), under an advisory lock, by the writer
 * that has added COMPACT_EVERY rows since its last fold, and by every run.
 *
 * The commit step of the trigger path (live_apply.c), which updates rows
 * below the executor, adds its changes here itself; every other write of
 * the customers table (SQL: runs, pins, rebuilds, new customers, erasure)
 * goes through the statement triggers of customers_changed.c.  Both count
 * rows with AddSummaryRow.
 */
#include "postgres.h"

#include "catalog/pg_class.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"

#include "live_rows.h"
#include "owner.h"
#include "summary_deltas.h"

/* Rows a backend adds before it folds the table. */
#define COMPACT_EVERY 2000

enum
{
	G_TIER,
	G_SEGMENT,
	G_MONETARY,
	G_VALUE_SCORE,
	G_RISK_STAKE,
	G_NCOLUMNS
};

static const char *const group_columns[G_NCOLUMNS] = {
	"tier", "segment", "monetary", "value_score", "risk_stake"
};

typedef struct SummaryGroup
{
	text	   *tier;			/* NULL pointer for SQL NULL */
	text	   *segment;
	bool		at_risk;		/* on the churn list (risk_stake set): a flag raised, not lost */
	int64		customers;
	Datum		revenue;		/* numeric */
	Datum		value_sum;		/* numeric: adds and subtracts exactly */
	int64		value_n;
} SummaryGroup;

struct SummaryDeltas
{
	Oid			table;			/* the program's summary_deltas */
	AttrNumber	attnums[G_NCOLUMNS];	/* 0-based, in the customers table */
	MemoryContext cxt;
	SummaryGroup *groups;
	int			ngroups;
	int			capacity;
};

static int	added_since_fold = 0;

static Datum
zero_numeric(void)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum("0"), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

SummaryDeltas *
NewSummaryDeltas(Relation customers)
{
	SummaryDeltas *d = palloc0(sizeof(SummaryDeltas));
	TupleDesc	desc = RelationGetDescr(customers);

	d->table = get_relname_relid("summary_deltas", RelationGetNamespace(customers));
	/* a view of the distributed customers on a Citus cluster: nothing to add to */
	if (OidIsValid(d->table) && get_rel_relkind(d->table) != RELKIND_RELATION)
		d->table = InvalidOid;
	CustomerColumns(desc, group_columns, G_NCOLUMNS, d->attnums);
	d->cxt = CurrentMemoryContext;
	return d;
}

static bool
same_text(text *a, text *b)
{
	return SameBytes(a == NULL, PointerGetDatum(a), b == NULL, PointerGetDatum(b));
}

void
AddSummaryRow(SummaryDeltas *d, const Datum *values, const bool *nulls, int sign)
{
	const AttrNumber *at = d->attnums;
	text	   *tier = nulls[at[G_TIER]] ? NULL : DatumGetTextPP(values[at[G_TIER]]);
	text	   *segment = nulls[at[G_SEGMENT]] ? NULL : DatumGetTextPP(values[at[G_SEGMENT]]);
	/* the scoring sets risk_stake exactly while the customer is on the churn list */
	bool		at_risk = !nulls[at[G_RISK_STAKE]];
	SummaryGroup *g = NULL;
	PGFunction	add = sign > 0 ? numeric_add : numeric_sub;
	MemoryContext old;

	for (int i = 0; i < d->ngroups && g == NULL; i++)
		if (d->groups[i].at_risk == at_risk && same_text(d->groups[i].tier, tier) &&
			same_text(d->groups[i].segment, segment))
			g = &d->groups[i];
	old = MemoryContextSwitchTo(d->cxt);
	if (g == NULL)
	{
		if (d->ngroups == d->capacity)
		{
			d->capacity = Max(16, d->capacity * 2);
			d->groups = d->groups == NULL ? palloc(d->capacity * sizeof(SummaryGroup)) :
				repalloc(d->groups, d->capacity * sizeof(SummaryGroup));
		}
		g = &d->groups[d->ngroups++];
		g->tier = tier == NULL ? NULL : DatumGetTextPCopy(PointerGetDatum(tier));
		g->segment = segment == NULL ? NULL : DatumGetTextPCopy(PointerGetDatum(segment));
		g->at_risk = at_risk;
		g->customers = g->value_n = 0;
		g->revenue = g->value_sum = zero_numeric();
	}
	g->customers += sign;
	g->revenue = DirectFunctionCall2(add, g->revenue, values[at[G_MONETARY]]);
	if (!nulls[at[G_VALUE_SCORE]])
	{
		g->value_sum = DirectFunctionCall2(add, g->value_sum,
										   DirectFunctionCall1(float8_numeric, values[at[G_VALUE_SCORE]]));
		g->value_n += sign;
	}
	MemoryContextSwitchTo(old);
}

static bool
numeric_is_zero(Datum n)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, n, zero_numeric())) == 0;
}

/*
 * Run query with the summary_deltas table as $1, as customer_tier_owner (the
 * writer whose statement fired the trigger may not write that table).
 */
static void
run_as_owner(const char *query, Oid table)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1] = {ObjectIdGetDatum(table)};
	RoleSwitch	sw;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	if (SPI_execute_with_args(query, 1, argtypes, args, NULL, false, 0) < 0)
		elog(ERROR, "SPI_execute_with_args failed");
	EndAsRole(&sw);
	SPI_finish();
}

/* The customers are gone (a TRUNCATE), and so is everything they added. */
void
EmptySummaryDeltas(SummaryDeltas *d)
{
	if (OidIsValid(d->table))
		run_as_owner("SELECT customer_tier.compact_summary($1, false, true)", d->table);
}

void
FlushSummaryDeltas(SummaryDeltas *d)
{
	Relation	rel;
	int			written = 0;

	if (!OidIsValid(d->table) || d->ngroups == 0)
		return;
	rel = table_open(d->table, RowExclusiveLock);
	for (int i = 0; i < d->ngroups; i++)
	{
		SummaryGroup *g = &d->groups[i];
		Datum		values[7];
		bool		nulls[7] = {g->tier == NULL, g->segment == NULL, false, false, false, false, false};
		HeapTuple	tuple;

		if (g->customers == 0 && g->value_n == 0 && numeric_is_zero(g->revenue) && numeric_is_zero(g->value_sum))
			continue;
		values[0] = PointerGetDatum(g->tier);
		values[1] = PointerGetDatum(g->segment);
		values[2] = BoolGetDatum(g->at_risk);
		values[3] = Int64GetDatum(g->customers);
		values[4] = g->revenue;
		values[5] = g->value_sum;
		values[6] = Int64GetDatum(g->value_n);
		tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
		simple_heap_insert(rel, tuple);
		heap_freetuple(tuple);
		written++;
	}
	table_close(rel, NoLock);
	d->ngroups = 0;
	added_since_fold += written;
	/* a fold under a transaction snapshot could fail to serialize against another */
	if (added_since_fold >= COMPACT_EVERY && XactIsoLevel == XACT_READ_COMMITTED)
	{
		added_since_fold = 0;
		CommandCounterIncrement();
		/* unless another backend is folding it now */
		run_as_owner("SELECT customer_tier.compact_summary($1, false)", d->table);
	}
}
