/*
 * partition_events.c — keeping a program exact while its orders table's
 * partitions come and go (docs/programs.md, "Partitioned orders tables").
 *
 * One event trigger function, customer_tier.partition_ddl(), watches the DDL
 * that changes which rows belong to a partitioned orders table:
 *
 *   CREATE TABLE ... PARTITION OF   (end)   the new table gets the program's
 *                                           triggers (it is empty);
 *   ALTER TABLE ... ATTACH PARTITION (end)  the table and its partitions get
 *                                           the triggers, and its rows are
 *                                           added to their customers;
 *   ALTER TABLE ... DETACH PARTITION (start) its rows are subtracted, its
 *                                           triggers dropped; CONCURRENTLY is
 *                                           refused (it commits midway);
 *   DROP TABLE of a partition       (start) refused: its rows are gone before
 *                                           anything could subtract them, so
 *                                           DETACH it first;
 *   renaming, dropping or retyping a column a program reads (start): refused,
 *                                           naming the program.
 *
 * The rows go through the trigger path's own collect step, so they are
 * applied at commit like any write.  The triggers are put and dropped as the
 * role running the DDL (who owns the tables), through the same functions
 * create_program uses; the program catalog is read as customer_tier_owner.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "live_trigger.h"
#include "owner.h"

PG_FUNCTION_INFO_V1(partition_ddl);

/* A program on a partitioned orders table, as the catalog holds it. */
typedef struct PartitionedProgram
{
	char	   *name;
	Datum		row;			/* the customer_tier.program row */
	List	   *members;		/* relid and its partitions (Oid list) */
} PartitionedProgram;

/* The table at the top of relid's partition tree (relid itself if none). */
static Oid
partition_root(Oid relid)
{
	List	   *ancestors = get_partition_ancestors(relid);

	return ancestors == NIL ? relid : llast_oid(ancestors);
}

/*
 * The programs whose orders table is the root of relid's partition tree,
 * with relid and every table under it.  Empty, at no more cost than a
 * catalog lookup, for any table no program watches.
 */
static List *
programs_over(Oid relid)
{
	List	   *found = NIL;
	MemoryContext caller = CurrentMemoryContext;	/* the result outlives SPI */
	RoleSwitch	sw;
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(partition_root(relid)), ObjectIdGetDatum(relid)};

	if (!OidIsValid(get_namespace_oid("customer_tier", true)))
		return NIL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	if (SPI_execute_with_args("SELECT p.name, p, ARRAY(SELECT customer_tier.orders_tables($2::regclass)::oid)"
							  "  FROM customer_tier.program AS p"
							  " WHERE p.orders_table::oid OPERATOR(pg_catalog.=) $1 ORDER BY p.name",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *name = SPI_getvalue(row, desc, 1);
		Datum		program = SPI_getbinval(row, desc, 2, &isnull);
		Datum	   *oids;
		int			n;
		MemoryContext spi = MemoryContextSwitchTo(caller);
		PartitionedProgram *p = palloc(sizeof(PartitionedProgram));

		p->name = pstrdup(name);
		p->row = datumCopy(program, false, -1);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(row, desc, 3, &isnull)),
						  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &oids, NULL, &n);
		p->members = NIL;
		for (int i = 0; i < n; i++)
			p->members = lappend_oid(p->members, DatumGetObjectId(oids[i]));
		found = lappend(found, p);
		MemoryContextSwitchTo(spi);
	}
	EndAsRole(&sw);
	SPI_finish();
	return found;
}

/* put_program_triggers or remove_program_triggers on every table of p, as the caller. */
static void
set_triggers(PartitionedProgram *p, const char *function)
{
	Oid			argtypes[2] = {get_rel_type_id(get_relname_relid("program",
																 get_namespace_oid("customer_tier", false))),
							   REGCLASSOID};
	Oid			fn = LookupFuncName(list_make2(makeString("customer_tier"), makeString(pstrdup(function))),
									2, argtypes, false);
	ListCell   *lc;

	foreach(lc, p->members)
		OidFunctionCall2(fn, p->row, ObjectIdGetDatum(lfirst_oid(lc)));
}

static Oid
relation_of(RangeVar *rv)
{
	return RangeVarGetRelid(rv, NoLock, true);
}

static void
partition_attached(Oid relid)
{
	ListCell   *lc;

	foreach(lc, programs_over(relid))
	{
		PartitionedProgram *p = lfirst(lc);

		set_triggers(p, "remove_program_triggers");
		set_triggers(p, "put_program_triggers");
		CollectPartitionRows(p->name, relid, true);
	}
}

static void
partition_created(Oid relid)
{
	ListCell   *lc;

	foreach(lc, programs_over(relid))
		set_triggers(lfirst(lc), "put_program_triggers");
}

static void
partition_detaching(Oid relid, bool concurrently)
{
	ListCell   *lc;

	foreach(lc, programs_over(relid))
	{
		PartitionedProgram *p = lfirst(lc);

		if (concurrently)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("program \"%s\" cannot follow DETACH PARTITION CONCURRENTLY of %s",
							p->name, get_rel_name(relid)),
					 errdetail("It commits halfway, before the program could subtract the partition's orders."),
					 errhint("Detach it without CONCURRENTLY.")));
		CollectPartitionRows(p->name, relid, false);
		set_triggers(p, "remove_program_triggers");
	}
}

static void
partition_dropping(Oid relid)
{
	List	   *programs;

	if (!get_rel_relispartition(relid))
		return;
	programs = programs_over(relid);
	if (programs != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop %s: program \"%s\" counts its orders",
						get_rel_name(relid), ((PartitionedProgram *) linitial(programs))->name),
				 errhint("Detach it first (ALTER TABLE ... DETACH PARTITION), which subtracts its orders, then drop it.")));
}

/*
 * Refuse to rename, drop or retype a column of an orders table that a
 * program reads: the program's queries name it, and every write of the CRM
 * would fail on them afterwards.
 */
static void
column_changing(Oid relid, const char *column, const char *change)
{
	RoleSwitch	sw;
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		args[2] = {ObjectIdGetDatum(partition_root(relid)), CStringGetTextDatum(column)};
	char	   *program = NULL;

	if (column == NULL || !OidIsValid(get_namespace_oid("customer_tier", true)))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	if (SPI_execute_with_args("SELECT p.name FROM customer_tier.program AS p"
							  " WHERE p.orders_table::oid OPERATOR(pg_catalog.=) $1"
							  "   AND $2::name OPERATOR(pg_catalog.=) ANY (ARRAY[p.customer_column, p.amount_column,"
							  "       p.ordered_at_column, p.status_column, p.order_id_column])"
							  " ORDER BY p.name LIMIT 1",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed > 0)
		program = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	EndAsRole(&sw);
	if (program != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot %s column %s of %s: program \"%s\" reads it",
						change, column, get_rel_name(relid), program),
				 errhint("Drop the program (customer_tier.drop_program), change the column, and create the program again naming the new column.")));
	SPI_finish();
}

Datum
partition_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *tree;
	bool		at_start;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.partition_ddl() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	tree = trigdata->parsetree;
	at_start = strcmp(trigdata->event, "ddl_command_start") == 0;

	if (IsA(tree, CreateStmt) && !at_start && ((CreateStmt *) tree)->partbound != NULL)
	{
		Oid			relid = relation_of(((CreateStmt *) tree)->relation);

		if (OidIsValid(relid))
			partition_created(relid);
	}
	else if (IsA(tree, AlterTableStmt))
	{
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) tree)->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);
			Oid			relid;

			if (at_start && (cmd->subtype == AT_DropColumn || cmd->subtype == AT_AlterColumnType))
			{
				relid = relation_of(((AlterTableStmt *) tree)->relation);
				if (OidIsValid(relid))
					column_changing(relid, cmd->name,
									cmd->subtype == AT_DropColumn ? "drop" : "change the type of");
				continue;
			}
			if (cmd->subtype != AT_AttachPartition && cmd->subtype != AT_DetachPartition)
				continue;
			relid = relation_of(((PartitionCmd *) cmd->def)->name);
			if (!OidIsValid(relid))
				continue;
			if (cmd->subtype == AT_AttachPartition && !at_start)
				partition_attached(relid);
			else if (cmd->subtype == AT_DetachPartition && at_start)
				partition_detaching(relid, ((PartitionCmd *) cmd->def)->concurrent);
		}
	}
	else if (IsA(tree, RenameStmt) && at_start && ((RenameStmt *) tree)->renameType == OBJECT_COLUMN)
	{
		RenameStmt *rename = (RenameStmt *) tree;
		Oid			relid = relation_of(rename->relation);

		if (OidIsValid(relid))
			column_changing(relid, rename->subname, "rename");
	}
	else if (IsA(tree, DropStmt) && at_start && ((DropStmt *) tree)->removeType == OBJECT_TABLE)
	{
		ListCell   *lc;

		foreach(lc, ((DropStmt *) tree)->objects)
		{
			Oid			relid = relation_of(makeRangeVarFromNameList(lfirst(lc)));

			if (OidIsValid(relid))
				partition_dropping(relid);
		}
	}
	PG_RETURN_VOID();
}
