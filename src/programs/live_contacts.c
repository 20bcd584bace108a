/*
 * live_contacts.c — the trigger of a program's contacts table
 * (docs/followups.md, "How the list stays current").
 *
 * Each customer row stores its last contact and the time its next contact
 * falls due, so that follow_ups_due is an index scan.  One C trigger
 * function, customer_tier.maintain_contacts(program), fires after each
 * statement on the program's contacts table: it keeps the customers whose
 * contacts the statement changed with the transaction's pending deltas
 * (live_trigger.c), and at commit they are scored again with the customers
 * of the orders written, in the same key-order pass, reading their last
 * contact from the table (live_apply.c).  A contact locks no customer row
 * before the commit, so it adds no deadlock to the CRM's writes.
 *
 * A TRUNCATE of the contacts table forgets every customer's last contact at
 * once, as the feedback trigger empties the satisfaction.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "citus_shards.h"
#include "live_trigger.h"
#include "owner.h"
#include "program_config.h"

PG_FUNCTION_INFO_V1(maintain_contacts);

/* The customers of the statement's rows, without repeats, as an array of the program's key type. */
static void
touched_customers(TriggerData *trigdata, Oid *keytype, Datum **keys, int *nkeys)
{
	TriggerEvent event = trigdata->tg_event;
	const char *query =
		TRIGGER_FIRED_BY_INSERT(event) ? "SELECT pg_catalog.array_agg(DISTINCT r.customer) FROM new_rows AS r" :
		TRIGGER_FIRED_BY_DELETE(event) ? "SELECT pg_catalog.array_agg(DISTINCT r.customer) FROM old_rows AS r" :
		"SELECT pg_catalog.array_agg(DISTINCT r.customer)"
		"  FROM (SELECT n.customer FROM new_rows AS n UNION ALL SELECT o.customer FROM old_rows AS o) AS r";
	bool		isnull;
	Datum		touched;
	ArrayType  *array;
	int16		len;
	bool		byval;
	char		align;

	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");
	if (SPI_execute(query, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading the contacts written failed");
	touched = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*nkeys = 0;
	if (isnull)
		return;
	array = DatumGetArrayTypeP(touched);
	*keytype = ARR_ELEMTYPE(array);
	get_typlenbyvalalign(*keytype, &len, &byval, &align);
	deconstruct_array(array, *keytype, len, byval, align, keys, NULL, nkeys);
}

/* A TRUNCATE: no customer has a last contact any more; they are scored again now. */
static void
forget_contacts(const char *program)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(program)};

	if (SPI_execute_with_args("SELECT customer_tier.forget_last_contacts($1)",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
}

Datum
maintain_contacts(PG_FUNCTION_ARGS)
{
	const char *program = TriggerProgram(fcinfo, "customer_tier.maintain_contacts()", true);
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event = trigdata->tg_event;
	Relation	rel = trigdata->tg_relation;
	Oid			customers;
	Oid			keytype = InvalidOid;
	Datum	   *keys = NULL;
	int			nkeys = 0;
	Oid			table;
	int64		shard;
	int64		outer_group;

	/*
	 * On a Citus shard of the contacts (citus_shards.c): the customers are
	 * pended in its shard group, whose commit step scores them there.
	 */
	if (!CitusShardOf(RelationGetRelid(rel), &table, &shard))
	{
		table = RelationGetRelid(rel);
		shard = NO_SHARD;
	}
	outer_group = CitusEnterShardGroup(shard);

	/* it serves its program's own contacts table only, beside the program's customers */
	customers = ProgramCustomersTable(program);
	if (!OidIsValid(customers))
		MissingProgram(program);
	if (get_rel_namespace(table) != get_rel_namespace(customers) ||
		strcmp(get_rel_name(table), "contacts") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger function customer_tier.maintain_contacts() serves program \"%s\", not table %s",
						program, RelationGetRelationName(rel))));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		RoleSwitch	sw;

		BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
		forget_contacts(program);
		EndAsRole(&sw);
	}
	else
		touched_customers(trigdata, &keytype, &keys, &nkeys);
	/* the keys are copied into the transaction's pending deltas */
	PendCustomers(program, keytype, keys, nkeys, event, PENDING_CONTACT);
	SPI_finish();
	(void) CitusEnterShardGroup(outer_group);
	return PointerGetDatum(NULL);
}
