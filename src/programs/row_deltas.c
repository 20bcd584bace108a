/*
 * row_deltas.c — the deltas of a statement of a row or two, without
 * starting a query.
 *
 * A single-row INSERT, UPDATE or DELETE is the write a CRM sends most.  For
 * it, running the collect query (a plan started and torn down for one row)
 * cost more than the rest of the statement trigger's work.  The same SQL
 * text stays the one definition of which rows count and what they add
 * (program_delta_sql, by_row: one flat SELECT of expressions of one order
 * row "o"); it is parsed once per backend as a kept SPI plan, and its
 * columns are compiled into one projection evaluated on each row.  The plan
 * cache tracks what the text depends on (the table, the functions it calls):
 * once it marks the plan stale, the caller prepares the text again.
 */
#include "postgres.h"

#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"

#include "program_config.h"
#include "row_deltas.h"

struct RowDeltas
{
	SPIPlanPtr	plan;			/* kept: its plan source says when the text is stale */
	CachedPlanSource *source;
	MemoryContext cxt;			/* everything below */
	ExprContext *econtext;
	ProjectionInfo *projection;
	TupleTableSlot *input;		/* a row of the table */
};

RowDeltas *
PrepareRowDeltas(const char *sql, Relation rel)
{
	SPIPlanPtr	plan = KeepPlan(sql, 0, NULL);
	CachedPlanSource *source = linitial(SPI_plan_get_plan_sources(plan));
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "customer_tier row deltas",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	RowDeltas  *r = palloc0(sizeof(RowDeltas));
	Query	   *query;
	List	   *tlist = NIL;
	ListCell   *lc;

	if (list_length(source->query_list) != 1)
		elog(ERROR, "customer_tier: the delta of a row is not one statement");
	query = linitial_node(Query, source->query_list);
	if (query->commandType != CMD_SELECT || query->hasAggs || query->hasWindowFuncs ||
		query->hasTargetSRFs || query->hasSubLinks || list_length(query->rtable) != 1 ||
		query->jointree->quals != NULL)
		elog(ERROR, "customer_tier: the delta of a row is not a flat SELECT of one table");
	foreach(lc, query->targetList)
	{
		TargetEntry *planned = flatCopyTargetEntry(lfirst_node(TargetEntry, lc));

		/* constants folded, operators' functions looked up, as the planner would */
		planned->expr = expression_planner(planned->expr);
		tlist = lappend(tlist, planned);
	}
	r->plan = plan;
	r->source = source;
	r->cxt = cxt;
	r->input = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)), &TTSOpsMinimalTuple);
	r->econtext = CreateStandaloneExprContext();
	/* the row's columns are the scan tuple: the text's Vars name its one table */
	r->projection = ExecBuildProjectionInfo(tlist, r->econtext,
											MakeSingleTupleTableSlot(ExecTypeFromTL(tlist), &TTSOpsVirtual),
											NULL, r->input->tts_tupleDescriptor);
	MemoryContextSwitchTo(old);
	return r;
}

bool
RowDeltasValid(const RowDeltas *r)
{
	return r->source->is_valid;
}

void
FreeRowDeltas(RowDeltas *r)
{
	SPI_freeplan(r->plan);
	MemoryContextDelete(r->cxt);
}

TupleTableSlot *
RowDeltasInputSlot(RowDeltas *r)
{
	return r->input;
}

TupleTableSlot *
RowDeltasOf(RowDeltas *r, TupleTableSlot *row)
{
	TupleTableSlot *result;

	ResetExprContext(r->econtext);
	r->econtext->ecxt_scantuple = row;
	result = ExecProject(r->projection);
	slot_getallattrs(result);
	return result;
}
