/*
 * citus_shards.c — the trigger path on the shards of a Citus cluster
 * (docs/citus.md, "Programs over distributed orders").
 *
 * With orders distributed by the customer key, the program's per-customer
 * tables (customers, tier_history, satisfaction, answers, contacts) are
 * distributed with them, co-located: the shard of each table that holds a
 * customer's rows is in the same shard group, on the same node, as the shard
 * of the orders that holds that customer's orders.  The triggers fire on the
 * orders' shards (orders_102008 on a worker); the commit step then works on
 * the co-located shards of the program's tables, as plain tables of that
 * node: no distributed query runs inside a shard's transaction, and every
 * write of a customer stays inside its shard group.
 *
 * This file is the only C that knows Citus.  It reads Citus's catalog
 * (pg_dist_shard, pg_dist_partition) through SPI and never links to Citus:
 * without those tables every function says "not a shard".  A shard is named
 * <table>_<shardid> in its table's schema; a shard group is the set of
 * shards of co-located tables with the same shardminvalue.
 *
 * Orders in a Citus reference table (one shard, a placement on every node):
 * the program's tables are plain tables of the coordinator, kept by the
 * triggers of the coordinator's placement; on a worker's placement the
 * triggers do nothing (CitusIdleReplica).  The texts the trigger path
 * prepares name that placement, or a Citus local table's shard, instead of
 * the table (CitusShardSql), so that the commit step reads the orders with
 * no Citus query: a write through a worker runs it in a backend Citus opened
 * from the worker, where Citus refuses one.
 *
 * The shard group the trigger path works in is set around a collect and a
 * commit step (CitusEnterShardGroup); while it is set, the SQL texts the
 * trigger path prepares (KeepPlan) name the group's shards instead of their
 * tables (CitusShardSql), and ProgramCustomersTable names the customers'
 * shard.  The answers are cached per backend: a shard's identity does not
 * change while it exists (a shard move keeps its id and name).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "citus_shards.h"
#include "owner.h"

/* What a relation is to Citus. */
typedef struct RelationEntry
{
	Oid			relid;			/* hash key */
	bool		distributed;	/* a distributed (hash) table */
	bool		idle_replica;	/* a reference or Citus local table, or its placement, off the coordinator */
	Oid			table;			/* the table it is a shard of, or InvalidOid */
	int64		shardid;
} RelationEntry;

/* The shard of a table in a shard group. */
typedef struct ColocatedKey
{
	Oid			table;
	int64		shard;
} ColocatedKey;

typedef struct ColocatedEntry
{
	ColocatedKey key;
	Oid			shard_relid;
} ColocatedEntry;

/* The names a shard group's SQL texts change: "schema.table" to "schema.table_<shardid>". */
typedef struct GroupNames
{
	int64		shard;			/* hash key: any shard of the group, as asked */
	int			n;
	char	  **from;
	char	  **to;
} GroupNames;

static HTAB *relations = NULL;
static HTAB *colocated = NULL;
static HTAB *group_names = NULL;
static GroupNames *replica_names = NULL;	/* this node's placements of one-shard tables */
static int64 current_group = NO_SHARD;

/* The names of a GroupNames, freed (TopMemoryContext). */
static void
free_names(GroupNames *g)
{
	for (int i = 0; i < g->n; i++)
	{
		pfree(g->from[i]);
		pfree(g->to[i]);
	}
	pfree(g->from);
	pfree(g->to);
}

/* A relation changed (distributed, dropped): what was said of it is read again. */
static void
RelationsRelcacheCallback(Datum arg pg_attribute_unused(), Oid relid)
{
	/* a table made a reference table, or dropped: its placements are read again */
	if (replica_names != NULL)
	{
		free_names(replica_names);
		pfree(replica_names);
		replica_names = NULL;
	}
	if (relations == NULL)
		return;
	if (!OidIsValid(relid))
	{
		hash_destroy(relations);
		relations = NULL;
	}
	else
		(void) hash_search(relations, &relid, HASH_REMOVE, NULL);
}

void
CitusShardsInit(void)
{
	CacheRegisterRelcacheCallback(RelationsRelcacheCallback, (Datum) 0);
}

/* Whether Citus's catalog is in this database. */
static bool
citus_present(void)
{
	return OidIsValid(get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE)) &&
		OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE));
}

static HTAB *
new_cache(const char *name, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	return hash_create(name, 32, &ctl, HASH_ELEM | HASH_BLOBS);
}

/*
 * Catalog lookups run inside SPI as customer_tier_owner with the search_path
 * pinned (owner.h), like the rest of the trigger path: whatever role wrote
 * the orders, nothing it defines runs here.
 */
static void
begin_lookup(RoleSwitch *sw)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), sw);
}

static void
end_lookup(RoleSwitch *sw)
{
	EndAsRole(sw);
	SPI_finish();
}

/* Run query with one argument; SPI_processed rows in SPI_tuptable (inside SPI). */
static void
run_query(const char *query, Oid argtype, Datum arg)
{
	if (SPI_execute_with_args(query, 1, &argtype, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the Citus catalog failed");
}

/* The shard id a relation's name ends with ("_<digits>"), or NO_SHARD. */
static int64
name_shardid(const char *relname)
{
	const char *underscore = strrchr(relname, '_');
	int64		id = 0;

	if (underscore == NULL || underscore[1] == '\0')
		return NO_SHARD;
	for (const char *c = underscore + 1; *c != '\0'; c++)
	{
		if (*c < '0' || *c > '9' || id > PG_INT64_MAX / 10 - 10)
			return NO_SHARD;
		id = id * 10 + (*c - '0');
	}
	return id;
}

static RelationEntry *
relation_entry(Oid relid)
{
	RelationEntry *entry;
	bool		found;

	if (relations == NULL)
		relations = new_cache("customer_tier Citus relations", sizeof(Oid), sizeof(RelationEntry));
	entry = hash_search(relations, &relid, HASH_FIND, &found);
	if (found)
		return entry;

	{
		RelationEntry e = {.relid = relid,.distributed = false,.idle_replica = false,.table = InvalidOid,.shardid = NO_SHARD};
		RoleSwitch	sw;
		char	   *relname = get_rel_name(relid);

		if (relname != NULL && citus_present())
		{
			int64		id = name_shardid(relname);

			begin_lookup(&sw);
			run_query("SELECT d.partmethod OPERATOR(pg_catalog.=) 'h',"
					  "       d.partmethod OPERATOR(pg_catalog.=) 'n'"
					  "       AND (SELECT l.groupid OPERATOR(pg_catalog.<>) 0 FROM pg_catalog.pg_dist_local_group AS l)"
					  "  FROM pg_catalog.pg_dist_partition AS d"
					  " WHERE d.logicalrelid OPERATOR(pg_catalog.=) $1",
					  REGCLASSOID, ObjectIdGetDatum(relid));
			if (SPI_processed > 0)
			{
				bool		isnull;

				e.distributed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
				/* a reference or Citus local table, on a worker: its program is on the coordinator */
				e.idle_replica = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) && !isnull;
			}
			else if (id != NO_SHARD)
			{
				run_query("SELECT s.logicalrelid::pg_catalog.oid, d.partmethod OPERATOR(pg_catalog.=) 'h',"
						  "       d.repmodel OPERATOR(pg_catalog.=) 't' AND d.partmethod OPERATOR(pg_catalog.=) 'n'"
						  "       AND (SELECT l.groupid OPERATOR(pg_catalog.<>) 0 FROM pg_catalog.pg_dist_local_group AS l)"
						  "  FROM pg_catalog.pg_dist_shard AS s"
						  "  LEFT JOIN pg_catalog.pg_dist_partition AS d ON d.logicalrelid OPERATOR(pg_catalog.=) s.logicalrelid"
						  " WHERE s.shardid OPERATOR(pg_catalog.=) $1",
						  INT8OID, Int64GetDatum(id));
				if (SPI_processed > 0)
				{
					bool		isnull;
					Oid			table = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
																	   SPI_tuptable->tupdesc, 1, &isnull));
					char	   *table_name = get_rel_name(table);

					/* the shard is named <table>_<shardid> in its table's schema */
					if (table_name != NULL &&
						get_rel_namespace(table) == get_rel_namespace(relid) &&
						strcmp(psprintf("%s_" INT64_FORMAT, table_name, id), relname) == 0)
					{
						bool		hash_null;
						bool		hash = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
																	  SPI_tuptable->tupdesc, 2, &hash_null)) && !hash_null;

						bool		idle = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
																	  SPI_tuptable->tupdesc, 3, &isnull));

						e.table = table;
						/*
						 * The one shard of a Citus local table, or the
						 * coordinator's placement of a reference table: its
						 * program's tables are plain tables of that node, in
						 * no shard group.  A reference table's placement on
						 * a worker holds the same rows as the coordinator's,
						 * whose triggers keep the program: there its
						 * triggers do nothing.
						 */
						e.idle_replica = !isnull && idle;
						e.shardid = hash ? id : NO_SHARD;
					}
				}
			}
			end_lookup(&sw);
		}
		/* an invalidation read by the queries above may have dropped the cache */
		if (relations == NULL)
			relations = new_cache("customer_tier Citus relations", sizeof(Oid), sizeof(RelationEntry));
		entry = hash_search(relations, &relid, HASH_ENTER, &found);
		*entry = e;
	}
	return entry;
}

bool
CitusShardOf(Oid relid, Oid *table, int64 *shardid)
{
	RelationEntry *entry = relation_entry(relid);

	if (!OidIsValid(entry->table))
		return false;
	*table = entry->table;
	*shardid = entry->shardid;
	return true;
}

bool
CitusDistributedTable(Oid relid)
{
	return relation_entry(relid)->distributed;
}

bool
CitusIdleReplica(Oid relid)
{
	return relation_entry(relid)->idle_replica;
}

/*
 * The shards of the shard group of shard, as (table, shard id) rows in
 * SPI_tuptable (inside SPI): every table co-located with shard's table, and
 * its shard with the same hash range.
 */
static void
read_group(int64 shard)
{
	run_query("SELECT t.logicalrelid::pg_catalog.oid, t.shardid"
			  "  FROM pg_catalog.pg_dist_shard AS o"
			  "  JOIN pg_catalog.pg_dist_partition AS po ON po.logicalrelid OPERATOR(pg_catalog.=) o.logicalrelid"
			  "  JOIN pg_catalog.pg_dist_partition AS pt ON pt.colocationid OPERATOR(pg_catalog.=) po.colocationid"
			  "  JOIN pg_catalog.pg_dist_shard AS t ON t.logicalrelid OPERATOR(pg_catalog.=) pt.logicalrelid"
			  "   AND t.shardminvalue OPERATOR(pg_catalog.=) o.shardminvalue"
			  " WHERE o.shardid OPERATOR(pg_catalog.=) $1",
			  INT8OID, Int64GetDatum(shard));
}

/* The name of table's shard shardid; qualified: quoted, else bare. */
static char *
shard_name(Oid table, int64 shardid, bool qualified)
{
	char	   *name = psprintf("%s_" INT64_FORMAT, get_rel_name(table), shardid);

	return qualified ? quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)), name) : name;
}

Oid
CitusColocatedShard(Oid table, int64 shard)
{
	ColocatedKey key = {.table = table,.shard = shard};
	ColocatedEntry *entry;
	bool		found;

	if (colocated == NULL)
		colocated = new_cache("customer_tier Citus co-located shards", sizeof(ColocatedKey),
							  sizeof(ColocatedEntry));
	memset(&key, 0, sizeof(key));
	key.table = table;
	key.shard = shard;
	entry = hash_search(colocated, &key, HASH_FIND, &found);
	if (found && OidIsValid(entry->shard_relid) && get_rel_name(entry->shard_relid) != NULL)
		return entry->shard_relid;
	{
		Oid			shard_relid = InvalidOid;
		RoleSwitch	sw;

		begin_lookup(&sw);
		read_group(shard);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;

			if (DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull)) == table)
				shard_relid = get_relname_relid(
					shard_name(table, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull)), false),
					get_rel_namespace(table));
		}
		end_lookup(&sw);
		if (!OidIsValid(shard_relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s has no shard on this node co-located with shard " INT64_FORMAT,
							get_rel_name(table), shard),
					 errdetail("A program's tables must be distributed with its orders table (colocate_with)."),
					 errhint("Move the shards of a program's tables together, as a shard group.")));
		entry = hash_search(colocated, &key, HASH_ENTER, &found);
		entry->shard_relid = shard_relid;
		return shard_relid;
	}
}

int64
CitusEnterShardGroup(int64 shard)
{
	int64		previous = current_group;

	current_group = shard;
	return previous;
}

int64
CitusCurrentShardGroup(void)
{
	return current_group;
}

/*
 * The (table, shard id) rows in SPI_tuptable as names to change, in
 * TopMemoryContext: "schema.table" to "schema.table_<shardid>".
 */
static void
read_names(int *n, char ***from, char ***to)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	*n = (int) SPI_processed;
	*from = palloc(Max(*n, 1) * sizeof(char *));
	*to = palloc(Max(*n, 1) * sizeof(char *));
	for (int r = 0; r < *n; r++)
	{
		bool		isnull;
		Oid			table = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));

		(*from)[r] = quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)), get_rel_name(table));
		(*to)[r] = shard_name(table, id, true);
	}
	MemoryContextSwitchTo(old);
}

/* The names the texts of a shard group change, read once per backend. */
static GroupNames *
get_group_names(int64 shard)
{
	GroupNames *g;
	bool		found;

	if (group_names == NULL)
		group_names = new_cache("customer_tier Citus shard group names", sizeof(int64), sizeof(GroupNames));
	g = hash_search(group_names, &shard, HASH_FIND, &found);
	if (found)
		return g;
	{
		RoleSwitch	sw;
		int			n;
		char	  **from;
		char	  **to;

		begin_lookup(&sw);
		read_group(shard);
		read_names(&n, &from, &to);
		end_lookup(&sw);
		g = hash_search(group_names, &shard, HASH_ENTER, &found);
		g->n = n;
		g->from = from;
		g->to = to;
	}
	return g;
}

/*
 * This node's placements of Citus tables of one shard (reference tables and
 * Citus local tables), read once per backend (until a relation changes).
 * The coordinator's placement of a program's orders of that kind is read
 * directly by the trigger path: its commit step may run in a backend that
 * Citus opened from a worker to write that placement, where Citus refuses a
 * query through the table ("cannot execute a distributed query from a query
 * on a shard").  The placement's rows are the table's, the transaction's own
 * writes included.
 */
static GroupNames *
get_replica_names(void)
{
	if (replica_names == NULL)
	{
		GroupNames *g = MemoryContextAllocZero(TopMemoryContext, sizeof(GroupNames));
		RoleSwitch	sw;

		if (citus_present())
		{
			begin_lookup(&sw);
			if (SPI_execute("SELECT s.logicalrelid::pg_catalog.oid, s.shardid"
							"  FROM pg_catalog.pg_dist_shard AS s"
							"  JOIN pg_catalog.pg_dist_partition AS d ON d.logicalrelid OPERATOR(pg_catalog.=) s.logicalrelid"
							" WHERE d.partmethod OPERATOR(pg_catalog.=) 'n'"
							"   AND EXISTS (SELECT FROM pg_catalog.pg_dist_placement AS p, pg_catalog.pg_dist_local_group AS l"
							"                WHERE p.shardid OPERATOR(pg_catalog.=) s.shardid"
							"                  AND p.groupid OPERATOR(pg_catalog.=) l.groupid)",
							true, 0) != SPI_OK_SELECT)
				elog(ERROR, "reading the Citus catalog failed");
			read_names(&g->n, &g->from, &g->to);
			end_lookup(&sw);
		}
		else
		{
			g->from = MemoryContextAlloc(TopMemoryContext, sizeof(char *));
			g->to = MemoryContextAlloc(TopMemoryContext, sizeof(char *));
		}
		/* an invalidation read by the query may have dropped an earlier one */
		if (replica_names != NULL)
		{
			free_names(replica_names);
			pfree(replica_names);
		}
		replica_names = g;
	}
	return replica_names;
}

static bool
identifier_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '$' || c == '"' || c == '.' || IS_HIGHBIT_SET(c);
}

/* sql with each name of g's tables, standing alone, changed to its shard's (palloc'd). */
static const char *
replace_names(const char *sql, const GroupNames *g)
{
	StringInfoData out;
	const char *p = sql;

	if (g->n == 0)
		return sql;
	initStringInfo(&out);
	while (*p != '\0')
	{
		bool		replaced = false;

		if (p == sql || !identifier_char(p[-1]))
			for (int i = 0; i < g->n && !replaced; i++)
			{
				size_t		len = strlen(g->from[i]);

				if (strncmp(p, g->from[i], len) == 0 && !identifier_char(p[len]))
				{
					appendStringInfoString(&out, g->to[i]);
					p += len;
					replaced = true;
				}
			}
		if (!replaced)
			appendStringInfoChar(&out, *p++);
	}
	return out.data;
}

/*
 * The trigger path's texts name tables as quote_qualified_identifier does
 * (the generators' %I.customers, regclass's output under the pinned
 * search_path): each such name of a table of the current shard group, and
 * of a reference or Citus local table with a placement on this node,
 * standing alone, becomes its shard's.
 */
const char *
CitusShardSql(const char *sql)
{
	if (current_group != NO_SHARD)
		sql = replace_names(sql, get_group_names(current_group));
	return replace_names(sql, get_replica_names());
}

/*
 * The next value of an identity column of a distributed table, for a write
 * to its shard: Citus gives the table on each node a sequence of its own
 * range, and its shards no default.
 */
const char *
CitusIdentityDefault(Oid table, const char *column)
{
	AttrNumber	attnum = get_attnum(table, column);
	Oid			sequence = OidIsValid(table) && attnum != InvalidAttrNumber ?
		getIdentitySequence(table, attnum, true) : InvalidOid;

	if (!OidIsValid(sequence))
		elog(ERROR, "column %s of table %s has no identity sequence", column, get_rel_name(table));
	return psprintf("pg_catalog.nextval(%s::pg_catalog.regclass), ",
					quote_literal_cstr(quote_qualified_identifier(get_namespace_name(get_rel_namespace(sequence)),
																  get_rel_name(sequence))));
}
