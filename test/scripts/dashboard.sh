#!/usr/bin/env bash
# The dashboard (examples/dashboard, an Evidence project, docs/dashboard.md) built
# against the demo data, served on loopback and opened in headless Chromium: every
# figure the page marks with data-check equals the program's views, queried with psql
# as the same reader login once the page has been rendered.
#
#   1. the demo (scripts/demo/*.sql) in a fresh database, a login in customer_tier_reader;
#   2. npm ci in a copy of examples/dashboard, `npm run sources` (the views, read as that
#      login, into the site's data), `npm run build` (the static site);
#   3. a static server on 127.0.0.1; Chromium renders the page (its scripts, its charts),
#      dumps the DOM and takes a screenshot;
#   4. the figures in the DOM against the views queried now, both ways: every figure
#      expected is on the page with the same text, and the page shows no other;
#   5. the same comparison against the views after a new customer's order (in a
#      transaction rolled back) must fail: the comparison sees a changed figure.
#
# Follow-ups fall due and quarters turn with the clock, so the views can change between
# the extraction and the check with nobody writing (about 12 follow-ups a day in the demo).
# When only those figures changed, and the page shows what the views read at the
# extraction, steps 2-4 run once more; any other difference fails.
#
# Under scripts/test.sh it uses the harness's server; run alone (bash
# test/scripts/dashboard.sh) it sets one up with ct_prepare.  CT_DASHBOARD_SCREENSHOT
# names where to keep the screenshot (docs/dashboard.png is one).
set -euo pipefail
source "${CT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/lib.sh"
own_server=false
if [ -z "${CT_DATA:-}" ]; then own_server=true; ct_prepare; fi
cd "$CT_ROOT"

db=ct_dashboard_test
login=ct_dashboard
program_schema=ct_shop
chromium=${CHROMIUM:-/usr/bin/chromium}
python=/usr/bin/python3
work=$(mktemp -d /tmp/customer_tier_dashboard.XXXXXX)
http_pid=
stop_http() {
    if [ -n "$http_pid" ] && kill -0 "$http_pid" 2>/dev/null; then kill "$http_pid"; wait "$http_pid" 2>/dev/null || true; fi
    http_pid=
}
cleanup() {
    cd /  # the work folder goes, and pg_ctl needs a current directory
    stop_http
    rm -rf "$work"
    if $own_server; then ct_cleanup; fi
}
trap cleanup EXIT
now() { date +%s; }
t0=$(now)

for tool in node npm "$chromium"; do
    command -v "$tool" >/dev/null || { echo "dashboard: $tool not found (node and npm: the machine's; chromium: Debian's package)" >&2; exit 1; }
done

# 1. The demo data, and the reader login the dashboard connects as.
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db;
CREATE DATABASE $db;
SQL
# (the demo shows some errors on purpose: its output is kept for a failure only)
ct_run_demo "$db" >"$work/demo.log" 2>&1 || { tail -40 "$work/demo.log"; echo "dashboard: the demo failed" >&2; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$login') THEN
        CREATE ROLE $login LOGIN IN ROLE customer_tier_reader;
    END IF;
END \$\$;
SQL
echo "dashboard: ok demo loaded in $db, login $login in customer_tier_reader ($(( $(now) - t0 )) s)"

# The figures the page must show, from the views, as the reader login.  One line per
# figure: key|kind|value, kind saying how the page formats it.
expected_sql() {
    cat <<SQL
SET search_path = $program_schema;
SELECT 'total-customers|int|' || count(*) FROM segments;
SELECT 'total-follow-ups|int|' || count(*) FROM follow_ups_due;
SELECT 'total-at-risk|int|' || count(*) FROM churn_risk;
SELECT 'total-value-at-stake|money|' || round(coalesce(sum(value_at_stake), 0)::numeric, 2) FROM churn_risk;
SELECT 'tier-customers-' || tier || '|int|' || customers FROM tier_summary;
SELECT 'tier-revenue-' || tier || '|money|' || revenue FROM tier_summary;
SELECT 'tier-at-risk-' || tier || '|int|' || coalesce(at_risk, 0) FROM tier_summary;
SELECT DISTINCT 'migration-from-run|int|' || from_run FROM last_run_migration;
SELECT DISTINCT 'migration-to-run|int|' || to_run FROM last_run_migration;
SELECT 'migration-' || coalesce(from_tier, '(none)') || '-' || coalesce(to_tier, '(none)') || '|int|' || customers
  FROM last_run_migration;
SELECT 'churn-' || tier || '-' || lifecycle || '|int|' || count(*) FROM churn_risk GROUP BY tier, lifecycle;
SELECT 'follow-ups-' || tier || '|int|' || count(*) FROM follow_ups_due GROUP BY tier;
SELECT 'nps-answers-' || to_char(period_start, 'YYYY-"Q"Q') || '-' || tier || '|int|' || nps_answers,
       'nps-' || to_char(period_start, 'YYYY-"Q"Q') || '-' || tier || '|nps|' || coalesce(round(nps::numeric, 1)::text, 'none')
  FROM satisfaction_by_tier('quarter', now() - interval '1 year');
SELECT 'value-at-stake-' || tier || '|money|' || round(coalesce(sum(value_at_stake), 0)::numeric, 2),
       'revenue-so-far-' || tier || '|money|' || coalesce(sum(monetary), 0)
  FROM churn_risk GROUP BY tier;
SQL
}
expected() {  # $1: output file; $2 (optional): SQL run first, in the same transaction
    { echo 'BEGIN;'; printf '%s\n' "${2:-}"; echo "SET ROLE $login;"; expected_sql; echo 'ROLLBACK;'; } \
        | psql -X -q -A -t -F $'\n' -v ON_ERROR_STOP=1 -d "$db" | sed '/^$/d' | sort >"$1"
}

# The page (the DOM Chromium dumped) against figures from expected(); prints the
# differences and fails on any.
compare() {
    "$python" - "$work/dom.html" "$1" <<'PY'
import sys
from decimal import Decimal
from html.parser import HTMLParser

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}

class Figures(HTMLParser):
    """Text of every element with a data-check attribute, and the number of canvases."""
    def __init__(self):
        super().__init__()
        self.open, self.text, self.canvases = [], {}, 0
    def handle_starttag(self, tag, attrs):
        if tag == 'canvas':
            self.canvases += 1
        if tag in VOID:
            return
        key = dict(attrs).get('data-check')
        self.open.append(key)
        if key is not None:
            if key in self.text:
                sys.exit(f'figure {key} is on the page twice')
            self.text[key] = ''
    def handle_startendtag(self, tag, attrs):
        if tag == 'canvas':
            self.canvases += 1
    def handle_endtag(self, tag):
        if tag not in VOID and self.open:
            self.open.pop()
    def handle_data(self, data):
        for key in self.open:
            if key is not None:
                self.text[key] += data

page = Figures()
page.feed(open(sys.argv[1], encoding='utf-8').read())
shown = {k: ' '.join(v.split()) for k, v in page.text.items()}
# The big numbers carry their title ("Customers 4,986"): the figure is the last word.
shown = {k: (v.split()[-1] if k.startswith('total-') and v else v) for k, v in shown.items()}

def fmt(kind, value):
    if value == 'none':
        return 'none'
    d = Decimal(value)
    return {'int': f'{d:,.0f}', 'money': f'{d:,.2f}', 'nps': f'{d:.1f}'}[kind]

expected = {}
for line in open(sys.argv[2], encoding='utf-8'):
    key, kind, value = line.rstrip('\n').split('|')
    expected[key] = fmt(kind, value)

bad = []
for key in sorted(expected):
    if key not in shown:
        bad.append(f'{key}: not on the page (views: {expected[key]})')
    elif shown[key] != expected[key]:
        bad.append(f'{key}: page {shown[key]!r}, views {expected[key]!r}')
for key in sorted(set(shown) - set(expected)):
    bad.append(f'{key}: on the page ({shown[key]!r}), not in the views')
# ECharts draws in the browser only: the six charts are there once the scripts ran.
if page.canvases < 6:
    bad.append(f'{page.canvases} chart canvases in the DOM, 6 expected: the page did not run in the browser')
if len(expected) < 40:
    bad.append(f'only {len(expected)} figures expected: the views returned too little to compare')
for b in bad:
    print('  ' + b)
if bad:
    sys.exit(1)
print(f'{len(expected)} figures, {page.canvases} charts')
PY
}

# 2. npm ci in a copy (the work tree keeps no node_modules).
mkdir "$work/dashboard"
tar -C examples/dashboard --exclude=./node_modules --exclude=./.evidence/template --exclude=./.evidence/meta \
    --exclude=./build --exclude=./.svelte-kit --exclude=./static/data -cf - . | tar -C "$work/dashboard" -xf -
cd "$work/dashboard"
t=$(now)
if ! npm ci --no-audit --no-fund >"$work/npm-ci.log" 2>&1; then tail -40 "$work/npm-ci.log"; echo "dashboard: npm ci failed" >&2; exit 1; fi
echo "dashboard: ok npm ci ($(( $(now) - t )) s, $(find node_modules -maxdepth 2 -name package.json | wc -l) packages at the top levels)"

export EVIDENCE_SOURCE__customer_tier__host=127.0.0.1 EVIDENCE_SOURCE__customer_tier__port="$PGPORT" \
       EVIDENCE_SOURCE__customer_tier__database="$db" EVIDENCE_SOURCE__customer_tier__user="$login" \
       EVIDENCE_SOURCE__customer_tier__schema="$program_schema"
port=${CT_DASHBOARD_PORT:-}
if [ -z "$port" ]; then
    for p in $(seq 25860 25899); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { port=$p; break; }; done
fi
[ -n "$port" ] || { echo "dashboard: no free port in 25860-25899" >&2; exit 1; }
url=http://127.0.0.1:$port/
# As root Chromium needs --no-sandbox; no background connections (the machine has no
# network), a profile of its own.  The virtual time budget lets the page's scripts run
# (queries, charts) before the DOM is dumped or the screenshot taken.
browse() {
    timeout 180 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/chromium" --hide-scrollbars --virtual-time-budget=20000 "$@" "$url" 2>>"$work/chromium.log"
}
shot=${CT_DASHBOARD_SCREENSHOT:-$work/dashboard.png}
case $shot in /*) ;; *) shot=$CT_ROOT/$shot ;; esac

for round in 1 2; do
    # The views must read the same before and after the extraction, or it is repeated.
    t=$(now)
    for attempt in 1 2 3; do
        expected "$work/before"
        if ! npm run sources >"$work/sources.log" 2>&1; then cat "$work/sources.log"; echo "dashboard: npm run sources failed" >&2; exit 1; fi
        expected "$work/extracted"
        cmp -s "$work/before" "$work/extracted" && break
        [ "$attempt" -lt 3 ] || { echo "dashboard: the views kept changing during the extraction" >&2; exit 1; }
    done
    echo "dashboard: ok sources: $(grep -c 'Finished, wrote' "$work/sources.log") queries of the views as $login ($(( $(now) - t )) s)"
    t=$(now)
    if ! npm run build >"$work/build.log" 2>&1; then tail -60 "$work/build.log"; echo "dashboard: npm run build failed" >&2; exit 1; fi
    [ -f build/index.html ] || { echo "dashboard: the build wrote no build/index.html" >&2; exit 1; }
    echo "dashboard: ok build ($(( $(now) - t )) s)"

    # 3. Serve the site on loopback, render it in Chromium.
    t=$(now)
    "$python" -m http.server --bind 127.0.0.1 --directory build "$port" >"$work/http.log" 2>&1 &
    http_pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
    browse --window-size=1280,1000 --dump-dom >"$work/dom.html"
    browse --window-size=1280,5300 --screenshot="$shot" >/dev/null
    stop_http
    [ "$(stat -c %s "$shot")" -gt 50000 ] || { echo "dashboard: screenshot $shot is too small to show the page" >&2; exit 1; }
    echo "dashboard: ok Chromium rendered $url ($(( $(now) - t )) s, screenshot $shot)"

    # 4. The page against the views, now.
    expected "$work/expected"
    if result=$(compare "$work/expected"); then break; fi
    changed=$(comm -3 "$work/extracted" "$work/expected" | sed 's/^\t//; s/|.*//' | sort -u)
    if [ "$round" = 1 ] && [ -n "$changed" ] && ! grep -qvE '^(total-follow-ups|follow-ups-.*|nps-.*)$' <<<"$changed" \
       && compare "$work/extracted" >/dev/null; then
        echo "dashboard: the clock moved follow-ups or quarters since the extraction ($(tr '\n' ' ' <<<"$changed")): once more"
        continue
    fi
    echo "$result"
    echo "dashboard: FAILED the page's figures differ from the views" >&2
    exit 1
done
echo "dashboard: ok the page shows the views' figures ($result): tier mix, migrations, churn risk, follow-ups, NPS, revenue at risk"

# 5. A figure that changed must be seen: a new customer with an order (rolled back).
expected "$work/changed" "INSERT INTO shop.customers VALUES (999999, 'Dashboard check', current_date);
INSERT INTO shop.orders (customer_id, ordered_at, amount) VALUES (999999, now(), 5000);
DO \$\$ BEGIN PERFORM customer_tier.apply_pending(); END \$\$;"
if cmp -s "$work/expected" "$work/changed"; then
    echo "dashboard: FAILED a new customer's order changed no figure of the views" >&2
    exit 1
fi
if diffs=$(compare "$work/changed"); then
    echo "dashboard: FAILED the comparison passed against views that had changed" >&2
    exit 1
fi
grep -q 'total-customers' <<<"$diffs" || { echo "$diffs"; echo "dashboard: FAILED the changed customer count was not seen" >&2; exit 1; }
echo "dashboard: ok against changed views the comparison fails ($(grep -c . <<<"$diffs") figures differ)"

cd "$CT_ROOT"
psql -X -q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE $login" >/dev/null
echo "dashboard: ok in $(( $(now) - t0 )) s"
