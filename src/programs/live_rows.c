/*
 * live_rows.c — a program's customers table read and written by the apply
 * step without the SQL executor.
 *
 * The apply step locks each customer's row, reads it and writes it back
 * once per commit.  Through SPI each of those statements costs its
 * executor start and end, which for a single-row insert was most of what
 * the program added to the CRM's write.  Here a row is found by an index
 * scan on the primary key, locked as SELECT ... FOR NO KEY UPDATE locks it
 * (ExecLockRows: the newest version in READ COMMITTED, a serialization
 * failure under a transaction snapshot), and replaced by the routine the
 * logical-replication apply worker uses (ExecSimpleRelationUpdate), which
 * checks the constraints and inserts the index entries of a non-HOT update.
 * No trigger fires: the table's statement triggers (tier_changed, the
 * summaries') see the changes of any other UPDATE, and the apply step
 * records the changes it makes itself, a pass's at once (RecordTierChanges);
 * nobody but customer_tier_owner, the table's owner, can add another.  No permission
 * is checked: the apply step runs as that owner.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "fmgr.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "live_rows.h"

struct CustomerRows
{
	Relation	rel;
	Relation	pkey;
	IndexScanDesc scan;
	ScanKeyData key;
	EState	   *estate;
	ResultRelInfo *result;
	EPQState	epq;
	TupleTableSlot *found;		/* the row as locked */
	TupleTableSlot *updated;	/* its new version */
};

CustomerRows *
OpenCustomerRows(Oid customers)
{
	CustomerRows *rows = palloc0(sizeof(CustomerRows));
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	Oid			eq;

	rows->rel = table_open(customers, RowExclusiveLock);
	RelationGetIndexList(rows->rel);	/* sets rd_pkindex */
	if (!OidIsValid(rows->rel->rd_pkindex))
		elog(ERROR, "table \"%s\" has no primary key", RelationGetRelationName(rows->rel));
	rows->pkey = index_open(rows->rel->rd_pkindex, RowExclusiveLock);
	eq = get_opfamily_member(rows->pkey->rd_opfamily[0], rows->pkey->rd_opcintype[0],
							 rows->pkey->rd_opcintype[0], BTEqualStrategyNumber);
	if (!OidIsValid(eq))
		elog(ERROR, "no equality operator for the primary key of \"%s\"", RelationGetRelationName(rows->rel));
	ScanKeyInit(&rows->key, 1, BTEqualStrategyNumber, get_opcode(eq), (Datum) 0);
	rows->key.sk_collation = rows->pkey->rd_indcollation[0];

	rows->estate = CreateExecutorState();
	rte->rtekind = RTE_RELATION;
	rte->relid = customers;
	rte->relkind = rows->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	CompatExecInitRangeTable(rows->estate, list_make1(rte));
	rows->result = makeNode(ResultRelInfo);
	ExecInitResultRelation(rows->estate, rows->result, 1);
	rows->result->ri_TrigDesc = NULL;	/* the apply step records its changes of tier itself */
	ExecOpenIndices(rows->result, false);
	CompatEvalPlanQualInit(&rows->epq, rows->estate);
	PushActiveSnapshot(GetTransactionSnapshot());
	rows->estate->es_snapshot = GetActiveSnapshot();
	rows->estate->es_output_cid = GetCurrentCommandId(true);
	rows->scan = index_beginscan(rows->rel, rows->pkey, rows->estate->es_snapshot, 1, 0);
	rows->found = table_slot_create(rows->rel, &rows->estate->es_tupleTable);
	rows->updated = ExecInitExtraTupleSlot(rows->estate, RelationGetDescr(rows->rel), &TTSOpsVirtual);
	return rows;
}

/* As ExecLockRows reports a row it may not lock under a transaction snapshot. */
static void
serialization_failure(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not serialize access due to concurrent %s", what)));
}

bool
LockCustomerRow(CustomerRows *rows, Datum key, ItemPointer tid, Datum *values, bool *nulls)
{
	TM_FailureData tmfd;
	TM_Result	result;
	HeapTuple	copy;

	rows->key.sk_argument = key;
	index_rescan(rows->scan, &rows->key, 1, NULL, 0);
	if (!index_getnext_slot(rows->scan, ForwardScanDirection, rows->found))
		return false;
	result = table_tuple_lock(rows->rel, &rows->found->tts_tid, rows->estate->es_snapshot, rows->found,
							  rows->estate->es_output_cid, LockTupleNoKeyExclusive, LockWaitBlock,
							  IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
	switch (result)
	{
		case TM_Ok:
			break;
		case TM_Updated:
			/* only under a transaction snapshot: otherwise the newest version is locked */
			serialization_failure("update");
			break;
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				serialization_failure("delete");
			return false;		/* gone since the scan: a new customer now */
		default:
			elog(ERROR, "unexpected result %d locking a customer row", (int) result);
	}
	*tid = rows->found->tts_tid;
	/* the values outlive the slot, which the next customer's scan reuses */
	copy = ExecCopySlotHeapTuple(rows->found);
	heap_deform_tuple(copy, RelationGetDescr(rows->rel), values, nulls);
	return true;
}

void
UpdateCustomerRow(CustomerRows *rows, ItemPointer tid, Datum *values, bool *nulls)
{
	int			natts = RelationGetDescr(rows->rel)->natts;

	ExecClearTuple(rows->found);
	rows->found->tts_tid = *tid;
	ExecClearTuple(rows->updated);
	memcpy(rows->updated->tts_values, values, natts * sizeof(Datum));
	memcpy(rows->updated->tts_isnull, nulls, natts * sizeof(bool));
	ExecStoreVirtualTuple(rows->updated);
	ExecSimpleRelationUpdate(rows->result, rows->estate, &rows->epq, rows->found, rows->updated);
	ResetPerTupleExprContext(rows->estate);
}

Relation
CustomerRowsRelation(CustomerRows *rows)
{
	return rows->rel;
}

void
CloseCustomerRows(CustomerRows *rows)
{
	index_endscan(rows->scan);
	EvalPlanQualEnd(&rows->epq);
	ExecCloseResultRelations(rows->estate);
	ExecCloseRangeTableRelations(rows->estate);
	ExecResetTupleTable(rows->estate->es_tupleTable, false);
	FreeExecutorState(rows->estate);
	PopActiveSnapshot();
	index_close(rows->pkey, NoLock);
	table_close(rows->rel, NoLock);
	/* what comes next (SPI statements, the next pass) sees these writes */
	CommandCounterIncrement();
}

void
CustomerColumns(TupleDesc desc, const char *const *names, int n, AttrNumber *attnums)
{
	for (int i = 0; i < n; i++)
	{
		int			attnum = InvalidAttrNumber;

		for (int a = 0; a < desc->natts && attnum == InvalidAttrNumber; a++)
			if (!TupleDescAttr(desc, a)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, a)->attname), names[i]) == 0)
				attnum = a + 1;
		if (attnum == InvalidAttrNumber)
			elog(ERROR, "customers table has no column \"%s\"", names[i]);
		attnums[i] = attnum - 1;
	}
}

bool
SameBytes(bool a_null, Datum a, bool b_null, Datum b)
{
	struct varlena *va,
			   *vb;

	if (a_null || b_null)
		return a_null && b_null;
	va = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
	vb = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));
	return VARSIZE_ANY_EXHDR(va) == VARSIZE_ANY_EXHDR(vb) &&
		memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), VARSIZE_ANY_EXHDR(va)) == 0;
}

bool
TextIs(Datum t, const char *s)
{
	text	   *v = DatumGetTextPP(t);

	return VARSIZE_ANY_EXHDR(v) == strlen(s) && memcmp(VARDATA_ANY(v), s, strlen(s)) == 0;
}
