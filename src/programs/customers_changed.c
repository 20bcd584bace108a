/*
 * customers_changed.c — the statement triggers of every program's customers
 * table: what each SQL write of the customers (a run, a pin, a rebuild, the
 * commit step's new customers, an erasure, a TRUNCATE) changed, added to the
 * program's summaries (summary_deltas.c) and change feed
 * (customer_events.c).  The commit step of the trigger path, which updates
 * rows below the executor and so fires no trigger, adds its own changes to
 * both (live_apply.c).
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "citus_shards.h"
#include "customer_events.h"
#include "live_trigger.h"
#include "summary_deltas.h"

PG_FUNCTION_INFO_V1(customers_changed);

Datum
customers_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	TupleDesc	desc;
	SummaryDeltas *summary;
	CustomerEvents *events;
	TupleTableSlot *old_row = NULL,
			   *new_row = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.customers_changed() must be called as a trigger")));
	event = trigdata->tg_event;
	if (!TRIGGER_FIRED_AFTER(event) || !TRIGGER_FIRED_FOR_STATEMENT(event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.customers_changed() must fire AFTER the statement")));
	/*
	 * A Citus shard of a program's customers (citus_shards.c): the summaries
	 * and the change feed are tables of the coordinator, not kept from the
	 * shards yet (docs/citus.md).
	 */
	{
		Oid			table;
		int64		shard;

		if (CitusShardOf(RelationGetRelid(trigdata->tg_relation), &table, &shard) &&
			strcmp(get_rel_name(table), "customers") == 0 &&
			strncmp(get_namespace_name(get_rel_namespace(table)), "ct_", 3) == 0)
		{
			/* the orders' TRUNCATE followed from the coordinator (live_trigger.c) */
			if (TRIGGER_FIRED_BY_TRUNCATE(event))
				PendShardTruncate(get_namespace_name(get_rel_namespace(table)) + 3, table,
								  RelationGetRelid(trigdata->tg_relation));
			return PointerGetDatum(NULL);
		}
	}
	if (strcmp(RelationGetRelationName(trigdata->tg_relation), "customers") != 0 ||
		strncmp(get_namespace_name(RelationGetNamespace(trigdata->tg_relation)), "ct_", 3) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger function customer_tier.customers_changed() serves a program's customers table, not table %s",
						RelationGetRelationName(trigdata->tg_relation))));
	summary = NewSummaryDeltas(trigdata->tg_relation);
	if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		EmptySummaryDeltas(summary);
		return PointerGetDatum(NULL);
	}
	events = NewCustomerEvents(trigdata->tg_relation);
	desc = RelationGetDescr(trigdata->tg_relation);
	if (trigdata->tg_oldtable != NULL)
	{
		old_row = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
		tuplestore_rescan(trigdata->tg_oldtable);
	}
	if (trigdata->tg_newtable != NULL)
	{
		new_row = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
		tuplestore_rescan(trigdata->tg_newtable);
	}
	/* an UPDATE's transition tables hold each row's old and new versions in the same order */
	for (;;)
	{
		bool		has_old = old_row != NULL &&
			tuplestore_gettupleslot(trigdata->tg_oldtable, true, false, old_row);
		bool		has_new = new_row != NULL &&
			tuplestore_gettupleslot(trigdata->tg_newtable, true, false, new_row);

		if (!has_old && !has_new)
			break;
		if (has_old)
		{
			slot_getallattrs(old_row);
			AddSummaryRow(summary, old_row->tts_values, old_row->tts_isnull, -1);
		}
		if (has_new)
		{
			slot_getallattrs(new_row);
			AddSummaryRow(summary, new_row->tts_values, new_row->tts_isnull, +1);
			AddCustomerEvents(events, has_old ? old_row->tts_values : NULL,
							  has_old ? old_row->tts_isnull : NULL,
							  new_row->tts_values, new_row->tts_isnull);
		}
	}
	if (old_row != NULL)
		ExecDropSingleTupleTableSlot(old_row);
	if (new_row != NULL)
		ExecDropSingleTupleTableSlot(new_row);
	FlushSummaryDeltas(summary);
	FlushCustomerEvents(events);
	return PointerGetDatum(NULL);
}
