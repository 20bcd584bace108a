/*
 * citus_shards.h — the trigger path on the shards of a Citus cluster
 * (docs/citus.md).  Everything Citus-specific of the C code is here; without
 * Citus every function answers "not a shard" and changes nothing.
 */
#ifndef CUSTOMER_TIER_CITUS_SHARDS_H
#define CUSTOMER_TIER_CITUS_SHARDS_H

#include "postgres.h"

/* No shard group: the program's own tables are used. */
#define NO_SHARD ((int64) 0)

extern void CitusShardsInit(void);
/*
 * If relid is a shard of a Citus table: its table and shard id (NO_SHARD for
 * the shard of a Citus local table, which is in no shard group); else false.
 */
extern bool CitusShardOf(Oid relid, Oid *table, int64 *shardid);
/* Whether relid is a Citus distributed (hash) table: its rows live in shards. */
extern bool CitusDistributedTable(Oid relid);
/*
 * Whether relid is a Citus reference or Citus local table, or a placement of
 * one, on a node other than the coordinator: the coordinator's placement
 * holds the same rows, and the program's triggers keep the program there.
 */
extern bool CitusIdleReplica(Oid relid);
/* The shard of table in the shard group of shard (InvalidOid: table is not distributed with it). */
extern Oid	CitusColocatedShard(Oid table, int64 shard);

/*
 * The shard group the trigger path works in: while set, the program's tables
 * are the shards of that group (ProgramCustomersTable, KeepPlan's texts).
 * Returns the previous one, to be set back.
 */
extern int64 CitusEnterShardGroup(int64 shard);
extern int64 CitusCurrentShardGroup(void);
/* "nextval('<sequence>'), ": the value of table's identity column on this node. */
extern const char *CitusIdentityDefault(Oid table, const char *column);
/* sql with every table of the current shard group named by its shard (palloc'd); sql itself when none. */
extern const char *CitusShardSql(const char *sql);

#endif
