# customer_tier — built with PGXS.  The version comes from the control file only.
EXTENSION   = customer_tier
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = $(EXTENSION)
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is concatenated from sql/install/NN_*.sql in name order.
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
# Released versions' install scripts, frozen as they were built (sql/releases/),
# and the upgrade scripts between versions (sql/upgrade/): ALTER EXTENSION
# customer_tier UPDATE follows them to the current version.
RELEASES    = $(wildcard sql/releases/$(EXTENSION)--*.sql)
DATA        = $(RELEASES) $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql)

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
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CFLAGS  ?= -Wall -Wextra -Werror

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS) $(EXTENSION).control
	cat $(INSTALL_PARTS) > $@

$(OBJS): $(wildcard src/*.h)

.PHONY: check-version
# The control file, META.json and the built install script must agree, and
# every released version must have an upgrade path towards the current one.
check-version: $(DATA_built)
	@grep -q '"version": "$(EXTVERSION)"' META.json || { echo "META.json does not say version $(EXTVERSION)"; exit 1; }
	@test -f $(EXTENSION)--$(EXTVERSION).sql
	@test ! -f sql/releases/$(EXTENSION)--$(EXTVERSION).sql || { echo "version $(EXTVERSION) is released (sql/releases/): a change needs a new default_version in the control file"; exit 1; }
	@for r in $(RELEASES); do v=$${r##*--}; v=$${v%.sql}; \
	    ls sql/upgrade/$(EXTENSION)--$$v--*.sql >/dev/null 2>&1 || { echo "released version $$v has no upgrade script sql/upgrade/$(EXTENSION)--$$v--<next>.sql"; exit 1; }; done
	@ls sql/upgrade/$(EXTENSION)--*--$(EXTVERSION).sql >/dev/null 2>&1 || test -z "$(RELEASES)" || { echo "no upgrade script leads to $(EXTVERSION): add sql/upgrade/$(EXTENSION)--<previous>--$(EXTVERSION).sql"; exit 1; }
	@echo "version $(EXTVERSION) agrees in control file, META.json and install script"
