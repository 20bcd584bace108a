/*
 * program_config.h — a program's scoring configuration, read once per
 * backend into C and kept until the extension's catalog changes.
 */
#ifndef CUSTOMER_TIER_PROGRAM_CONFIG_H
#define CUSTOMER_TIER_PROGRAM_CONFIG_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/hsearch.h"

/* The parts of the scoring configuration, as ScoreStoredCustomer reads them. */
typedef enum ProgramSetting
{
	SETTING_CHURN,				/* churn_settings_array(), or NULL */
	SETTING_BGNBD,				/* fitted BG/NBD model, or NULL */
	SETTING_GAMMA_GAMMA,		/* fitted Gamma-Gamma model, or NULL */
	SETTING_R_BREAKPOINTS,
	SETTING_F_BREAKPOINTS,
	SETTING_M_BREAKPOINTS,
	SETTING_WEIGHTS,
	SETTING_RULES,
	SETTING_TIERS,
	SETTING_GRACE,
	SETTING_MODEL_RULES,
	SETTING_CADENCES,			/* contact cadence of each tier, best first */
	PROGRAM_NSETTINGS
} ProgramSetting;

typedef struct ProgramConfig
{
	char		program[NAMEDATALEN];	/* hash key */
	bool		valid;			/* false once the catalog changed */
	MemoryContext cxt;			/* owns the values */
	NullableDatum settings[PROGRAM_NSETTINGS];
	bool		has_pins;		/* any pin of the program, expired or not */
	NullableDatum scoring_date;	/* the program's fixed scoring instant, NULL: the clock */
} ProgramConfig;

/* The program's configuration; reads it (through SPI) when not cached. */
extern ProgramConfig *GetProgramConfig(const char *program);
extern ProgramConfig *CachedProgramConfig(const char *program);
extern NullableDatum PinnedRank(const ProgramConfig *config, Datum key, Oid keytype, Datum as_of);
/* The instant the program scores against: its scoring date, else the transaction's start. */
extern Datum ProgramAsOf(const ProgramConfig *config);

/* A prepared plan kept for the backend's life (inside SPI). */
extern SPIPlanPtr KeepPlan(const char *sql, int nargs, Oid *argtypes);
/* As KeepPlan, planned again for the arguments of each execution. */
extern SPIPlanPtr KeepCustomPlan(const char *sql, int nargs, Oid *argtypes);
extern void ProgramConfigInit(void);

/* Catalog helpers of the trigger path. */
extern Oid	ProgramCustomersTable(const char *program);
extern void MissingProgram(const char *program) pg_attribute_noreturn();
extern HeapTuple ProgramCatalogRow(const char *query, const char *program, TupleDesc *desc);
extern void *ProgramEntry(HTAB **table, const char *what, Size entrysize, const char *program,
						  bool *found);

#endif
