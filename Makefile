# customer_tier — built with PGXS.  The version comes from the control file only.
EXTENSION   = customer_tier
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = $(EXTENSION)
# Two layers (docs/architecture.md): src/blocks/, the building blocks any
# query can use (aggregates, scores, models), and src/programs/, what attaches
# to a CRM's tables (the trigger path, the runs' scoring, the feed); a block
# never includes a program's header (check-version checks it).
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/blocks/*.c src/programs/*.c)))

# The install script is concatenated from sql/install/blocks/NN_*.sql, then
# sql/install/programs/NN_*.sql, in name order.
INSTALL_PARTS = $(sort $(wildcard sql/install/blocks/*.sql)) $(sort $(wildcard sql/install/programs/*.sql))
# Released versions' install and upgrade scripts, frozen as they were built
# (sql/releases/): ALTER EXTENSION customer_tier UPDATE follows them.
RELEASES    = $(filter-out $(wildcard sql/releases/$(EXTENSION)--*--*.sql),$(wildcard sql/releases/$(EXTENSION)--*.sql))
PREVIOUS    = $(lastword $(shell printf '%s\n' $(patsubst sql/releases/$(EXTENSION)--%.sql,%,$(RELEASES)) | sort -V))
DATA        = $(wildcard sql/releases/$(EXTENSION)--*.sql)
# The upgrade from the last release is built, not written: its own steps
# (sql/upgrade/before_routines.sql, after_routines.sql) around every routine
# of the install parts, taken from their "-- @routines" regions, which are
# written CREATE OR REPLACE to run again on an existing installation.  A
# routine therefore lives in its install part only (docs/testing.md).  So does
# any other object new in this version: its install part marks it with a
# "-- @new-before" (tables) or "-- @new-after" (triggers, grants) region.
UPGRADE     = $(if $(PREVIOUS),$(EXTENSION)--$(PREVIOUS)--$(EXTVERSION).sql)
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADE)

# pg_regress inputs are the top-level sql/*.sql files, one per feature.
REGRESS      = $(sort $(notdir $(basename $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=.

# Isolation tests (pg_isolation_regress, isolationtester): specs/<name>.spec
# against expected/<name>.out.  They share expected/ with pg_regress, so every
# spec is named iso_*; REGRESS lists sql/*.sql only, so neither suite picks up
# the other's files.  "make installcheck" runs both; scripts/test.sh runs one
# at a time (ISOLATION= or REGRESS= on the command line empties the other).
# (PGXS adds --inputdir=. and --dbname; ISOLATION_OPTS needs nothing more.)
# A step still waiting after PGISOLATIONTIMEOUT seconds (default 300) is
# cancelled, so a test that hangs fails instead; scripts/test.sh lowers it.
ISOLATION   = $(sort $(notdir $(basename $(wildcard specs/iso_*.spec))))

EXTRA_CLEAN = $(EXTENSION)--*.sql results/ regression.diffs regression.out output_iso/

PG_CONFIG  ?= pg_config
# PostgreSQL's own headers are not -Wextra clean; treat them as system headers
# so that -Wall -Wextra -Werror applies to our code only.
PG_CPPFLAGS = -Isrc -Isrc/blocks -Isrc/programs -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CFLAGS  ?= -Wall -Wextra -Werror

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The routines are written CREATE OR REPLACE for the upgrade; a fresh install
# creates them with a plain CREATE, which fails rather than take over an
# object another role planted (CVE-2022-2625; test/pgtap/search_path_attack.sql).
$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS) $(EXTENSION).control Makefile
	sed -E 's/^([[:space:]]*)CREATE OR REPLACE (FUNCTION|PROCEDURE|AGGREGATE) customer_tier\./\1CREATE \2 customer_tier./' $(INSTALL_PARTS) > $@

ifneq ($(UPGRADE),)
$(UPGRADE): sql/upgrade/before_routines.sql $(INSTALL_PARTS) sql/upgrade/after_routines.sql $(EXTENSION).control Makefile
	{ cat sql/upgrade/before_routines.sql; \
	  printf '\n-- ==== objects new in this version, before the routines ("-- @new-before" regions) ====\n'; \
	  sed -n '/^-- @new-before$$/,/^-- @end$$/p' $(INSTALL_PARTS); \
	  printf '\n-- ==== every routine of the install parts (sql/install/*/*.sql, "-- @routines" regions) ====\n'; \
	  sed -n '/^-- @routines$$/,/^-- @end$$/p' $(INSTALL_PARTS); \
	  printf '\n-- ==== objects new in this version, after the routines ("-- @new-after" regions) ====\n'; \
	  sed -n '/^-- @new-after$$/,/^-- @end$$/p' $(INSTALL_PARTS); \
	  printf '\n'; cat sql/upgrade/after_routines.sql; } > $@
endif

$(OBJS): $(wildcard src/*.h src/blocks/*.h src/programs/*.h)

.PHONY: check-version
# The control file, META.json and the built install script must agree, and
# every released version must have an upgrade path towards the current one.
check-version: $(DATA_built)
	@grep -q '"version": "$(EXTVERSION)"' META.json || { echo "META.json does not say version $(EXTVERSION)"; exit 1; }
	@test -f $(EXTENSION)--$(EXTVERSION).sql
	@test ! -f sql/releases/$(EXTENSION)--$(EXTVERSION).sql || { echo "version $(EXTVERSION) is released (sql/releases/): a change needs a new default_version in the control file"; exit 1; }
	@for r in $(RELEASES); do v=$${r##*--}; v=$${v%.sql}; test "$$v" = "$(PREVIOUS)" && continue; \
	    ls sql/releases/$(EXTENSION)--$$v--*.sql >/dev/null 2>&1 || { echo "released version $$v has no frozen upgrade script sql/releases/$(EXTENSION)--$$v--<next>.sql"; exit 1; }; done
	@test -z "$(UPGRADE)" || test -f $(UPGRADE) || { echo "the upgrade script $(UPGRADE) was not built"; exit 1; }
	@for h in $(notdir $(wildcard src/programs/*.h)); do \
	    ! grep -l "#include \"$$h\"" src/blocks/*.[ch] || { echo "a building block (above) includes $$h of src/programs/: move what it needs into src/blocks/"; exit 1; }; done
	@awk 'FNR == 1 { if (inside) { print prev ": -- @routines without -- @end"; bad = 1 } inside = 0; prev = FILENAME } \
	     /^-- @(routines|new-before|new-after)$$/ { if (inside) { print FILENAME ":" FNR ": nested region"; bad = 1 } \
	         inside = ($$0 == "-- @routines") ? 1 : 2 } \
	     /^-- @end$$/ { if (!inside) { print FILENAME ":" FNR ": -- @end without -- @routines or -- @new-*"; bad = 1 } inside = 0 } \
	     /^CREATE (FUNCTION|PROCEDURE|AGGREGATE)/ { print FILENAME ":" FNR ": a routine is CREATE OR REPLACE, in a -- @routines region (docs/testing.md, Upgrades)"; bad = 1 } \
	     /^CREATE OR REPLACE (FUNCTION|PROCEDURE|AGGREGATE)/ && inside != 1 { print FILENAME ":" FNR ": a routine outside the -- @routines regions is missing from the upgrade script"; bad = 1 } \
	     /^CREATE OR REPLACE (FUNCTION|PROCEDURE)/ { routine = $$0; pinned = 0; header = 1 } \
	     header && /^SET search_path = pg_catalog, pg_temp$$/ { pinned = 1 } \
	     header && /^(AS |BEGIN ATOMIC|RETURN )/ { header = 0 } \
	     /^(COMMENT ON|REVOKE|GRANT|-- @end)/ { routine = ""; pinned = 0 } \
	     pinned && routine !~ /_sql\(|program_row_checks\(/ && /OPERATOR\(pg_catalog\./ { \
	         print FILENAME ":" FNR ": the search_path is pinned here: write the operator plain (docs/security.md, Operators)"; bad = 1 } \
	     END { if (inside) { print prev ": -- @routines without -- @end"; bad = 1 } exit bad }' $(INSTALL_PARTS)
	@echo "version $(EXTVERSION) agrees in control file, META.json and install script"
