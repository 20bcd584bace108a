# customer_tier — built with PGXS.  The version comes from the control file only.
EXTENSION   = customer_tier
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = $(EXTENSION)
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is concatenated from sql/install/NN_*.sql in name order.
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql)

# pg_regress inputs are the top-level sql/*.sql files, one per feature.
REGRESS      = $(sort $(notdir $(basename $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=.

EXTRA_CLEAN = $(EXTENSION)--*.sql results/ regression.diffs regression.out

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
# The control file, META.json and the built install script must agree.
check-version: $(DATA_built)
	@grep -q '"version": "$(EXTVERSION)"' META.json || { echo "META.json does not say version $(EXTVERSION)"; exit 1; }
	@test -f $(EXTENSION)--$(EXTVERSION).sql
	@echo "version $(EXTVERSION) agrees in control file, META.json and install script"
