#!/usr/bin/env python3
"""Print functions of sql/install/*.sql as CREATE OR REPLACE, for an upgrade script.

A developer tool (the build does not use it).  It splits the install parts
into statements the way PostgreSQL does (dollar quotes, strings, quoted
identifiers, comments, BEGIN ATOMIC bodies, psql backslash lines) and
prints the CREATE FUNCTION / CREATE PROCEDURE statements asked for.

  extract_functions.py NAME|SIGNATURE ...     CREATE OR REPLACE of each (every
                                              overload of a bare name)
  extract_functions.py --with-acl NAME ...    ... followed by its COMMENT ON,
                                              REVOKE and GRANT statements, and
                                              the GRANTs the name list of
                                              90_roles.sql gives it
  extract_functions.py --new NAME ...         CREATE (not OR REPLACE), with
                                              --with-acl implied: a new function
  extract_functions.py --grants NAME ...      only the GRANTs (of functions that an
                                              install part creates verbatim)
  extract_functions.py --drop NAME ...        DROP FUNCTION of the signatures
                                              (use --rev to drop the old ones)
  extract_functions.py --list                 every routine's signature
  extract_functions.py --diff REV             routines new, dropped, changed
                                              (body, comment, grants) between the
                                              install parts of git revision REV
                                              and the working tree
  extract_functions.py --against RELEASE UPGRADE...
                                              routines of the install parts that
                                              the release script followed by the
                                              upgrade scripts does not define
                                              identically: what the upgrade
                                              script still lacks (the comparison
                                              ignores grants); exit status 1
                                              when it lists anything

NAME is customer_tier.foo or foo; SIGNATURE is foo(text, integer) with the
argument types only.  --rev REV reads the install parts of a git revision
instead of the working tree (e.g. --rev 300f6e6 --drop foo prints the old
signature's DROP).  Exit status 1 when a name matches nothing.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
SCHEMA = 'customer_tier'
MULTI_WORD_TYPE = re.compile(r'^(double\s+precision|timestamp\s+with(out)?\s+time\s+zone'
                             r'|time\s+with(out)?\s+time\s+zone|character\s+varying|bit\s+varying)\b', re.I)
ARG_MODES = {'in', 'out', 'inout', 'variadic'}


def split_statements(text):
    """Yield (statement, leading comment) for each SQL statement or psql line."""
    i, n = 0, len(text)
    start = 0
    depth = 0            # BEGIN ATOMIC / CASE ... END nesting, outside quotes
    words = []           # the last words outside quotes, for BEGIN ATOMIC
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == '\\':
            # a psql meta-command line (\echo ... \quit): a statement of its own
            if text[start:i].strip():
                yield text[start:i]
            j = text.find('\n', i)
            j = n if j < 0 else j
            yield text[i:j + 1]
            i = start = j + 1
            continue
        at_line_start = c == '\n' or (at_line_start and c in ' \t')
        if c == '-' and text.startswith('--', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
            continue
        if c == '/' and text.startswith('/*', i):
            level, i = 1, i + 2
            while i < n and level:
                if text.startswith('/*', i):
                    level, i = level + 1, i + 2
                elif text.startswith('*/', i):
                    level, i = level - 1, i + 2
                else:
                    i += 1
            continue
        if c == "'":
            escapes = i > 0 and text[i - 1] in 'eE' and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == '_'))
            i += 1
            while i < n:
                if escapes and text[i] == '\\':
                    i += 2
                    continue
                if text[i] == "'":
                    if text.startswith("''", i):
                        i += 2
                        continue
                    break
                i += 1
            i += 1
            continue
        if c == '"':
            j = i + 1
            while True:
                j = text.find('"', j)
                if j < 0 or not text.startswith('""', j):
                    break
                j += 2
            i = n if j < 0 else j + 1
            continue
        if c == '$' and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] in '_$')):
            m = re.match(r'\$([A-Za-z_][A-Za-z_0-9]*)?\$', text[i:])
            if m:
                tag = m.group(0)
                j = text.find(tag, i + len(tag))
                i = n if j < 0 else j + len(tag)
                continue
        if c.isalpha() or c == '_':
            m = re.match(r'[A-Za-z_][A-Za-z_0-9$]*', text[i:])
            w = m.group(0).upper()
            if w == 'ATOMIC' and words and words[-1] == 'BEGIN':
                depth += 1
            elif w == 'CASE' and depth:
                depth += 1
            elif w == 'END' and depth:
                depth -= 1
            words = (words + [w])[-2:]
            i += len(m.group(0))
            continue
        if c == ';' and depth == 0:
            yield text[start:i + 1]
            i = start = i + 1
            words = []
            continue
        i += 1
    if text[start:].strip():
        yield text[start:]


def strip_leading_comments(stmt):
    """The statement without the comment lines and blank lines before it."""
    lines = stmt.split('\n')
    while lines and (lines[0].strip() == '' or lines[0].lstrip().startswith('--')):
        lines.pop(0)
    return '\n'.join(lines)


def top_level_split(s, sep=','):
    parts, level, cur, i = [], 0, '', 0
    while i < len(s):
        c = s[i]
        if c in '([':
            level += 1
        elif c in ')]':
            level -= 1
        elif c == "'":
            j = s.find("'", i + 1)
            cur += s[i:j + 1]
            i = j + 1
            continue
        if c == sep and level == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += c
        i += 1
    if cur.strip():
        parts.append(cur)
    return parts


def norm_type(t):
    t = ' '.join(t.split()).lower()
    t = re.sub(r'\s*\[\s*\]', '[]', t)
    t = re.sub(r'\s*\(\s*', '(', re.sub(r'\s*\)', ')', t))
    return {'timestamptz': 'timestamp with time zone', 'int': 'integer', 'int4': 'integer',
            'int8': 'bigint', 'float8': 'double precision', 'bool': 'boolean'}.get(t, t)


def arg_types(arglist, with_names=False):
    """Input argument types of a CREATE FUNCTION argument list (or a signature)."""
    out = []
    for a in top_level_split(arglist):
        a = re.split(r'\s+DEFAULT\s+|\s*=\s*', a.strip(), maxsplit=1, flags=re.I)[0].strip()
        if not a:
            continue
        toks = a.split()
        if toks[0].lower() in ARG_MODES:
            mode = toks.pop(0).lower()
            if mode == 'out':
                continue
        if len(toks) > 1 and not MULTI_WORD_TYPE.match(' '.join(toks)):
            toks.pop(0)     # the parameter's name
        out.append(norm_type(' '.join(toks)))
    return out


CREATE_RE = re.compile(r'^CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\s+([\w."]+)\s*\(', re.I)
TARGET_RE = re.compile(r'\b(?:FUNCTION|PROCEDURE|ROUTINE)\s+([\w."]+)\s*\(', re.I)


def qualified(name):
    name = name.replace('"', '').lower()
    return name if '.' in name else SCHEMA + '.' + name


def paren_body(s, open_at):
    """The text inside the parentheses that open at s[open_at]."""
    level = 0
    for j in range(open_at, len(s)):
        if s[j] == '(':
            level += 1
        elif s[j] == ')':
            level -= 1
            if level == 0:
                return s[open_at + 1:j]
    raise ValueError('unbalanced parentheses in: ' + s[:80])


class Routine:
    def __init__(self, kind, name, args, text, path):
        self.kind, self.name, self.args, self.text, self.path = kind, name, args, text, path
        self.extras = []    # COMMENT ON, REVOKE, GRANT statements about it

    @property
    def signature(self):
        return '%s(%s)' % (self.name, ', '.join(self.args))


def read_parts(rev):
    """[(path, text)] of the install parts, of the working tree or of git revision rev."""
    if rev is None:
        return [(os.path.relpath(p, ROOT), open(p, encoding='utf-8').read())
                for p in sorted(glob.glob(os.path.join(ROOT, 'sql', 'install', '*.sql')))]
    names = subprocess.run(['git', '-C', ROOT, 'ls-tree', '--name-only', rev, 'sql/install/'],
                           check=True, capture_output=True, text=True).stdout.split()
    return [(p, subprocess.run(['git', '-C', ROOT, 'show', '%s:%s' % (rev, p)], check=True,
                               capture_output=True, text=True).stdout)
            for p in sorted(names) if p.endswith('.sql')]


def load(rev=None, parts=None):
    """The routines defined by the install parts (or by parts, [(path, text)], in order:
    a later CREATE [OR REPLACE] replaces an earlier one, a DROP removes it)."""
    by_sig, others, role_grants = {}, [], []
    for path, text in (parts if parts is not None else read_parts(rev)):
        for raw in split_statements(text):
            stmt = strip_leading_comments(raw).strip()
            m = CREATE_RE.match(stmt)
            if m:
                args = arg_types(paren_body(stmt, m.end() - 1))
                r = Routine(m.group(1).upper(), qualified(m.group(2)), args, stmt, path)
                by_sig[(r.name, tuple(args))] = r
                continue
            m = re.match(r'^DROP\s+(?:FUNCTION|PROCEDURE|ROUTINE)\s+(?:IF\s+EXISTS\s+)?([\w."]+)\s*\(', stmt, re.I)
            if m:
                by_sig.pop((qualified(m.group(1)), tuple(arg_types(paren_body(stmt, m.end() - 1)))), None)
            elif re.match(r'^(COMMENT\s+ON|REVOKE|GRANT)\b', stmt, re.I) and TARGET_RE.search(stmt):
                others.append(stmt)
            elif stmt.startswith('DO') and '$grants$' in stmt:
                role_grants += re.findall(r"\('(\w+)',\s*'(\w+)'\)", stmt)
    routines = list(by_sig.values())
    for stmt in others:
        m = TARGET_RE.search(stmt)
        key = (qualified(m.group(1)), tuple(arg_types(paren_body(stmt, m.end() - 1))))
        if key in by_sig:
            by_sig[key].extras.append(stmt)
    for fname, role in role_grants:
        for r in routines:
            if r.name == qualified(fname):
                r.extras.append('GRANT EXECUTE ON %s %s TO %s;  -- 90_roles.sql name list'
                                % ('PROCEDURE' if r.kind == 'PROCEDURE' else 'FUNCTION', r.signature, role))
    return routines


def comment_of(r):
    """The last COMMENT ON statement about r, normalised."""
    c = [' '.join(e.split()) for e in r.extras if e.upper().startswith('COMMENT')]
    return c[-1] if c else None


def body_of(r):
    return re.sub(r'^CREATE\s+OR\s+REPLACE\s+', 'CREATE ', r.text, flags=re.I)


def report_differences(old_routines, routines, compare_acl):
    """Print one line per routine that differs; return how many."""
    lines = []
    print_ = lambda *a: (lines.append(a), print(*a))  # noqa: E731
    old = {r.signature: r for r in old_routines}
    new = {r.signature: r for r in routines}
    old_names = {r.name for r in old.values()}
    for sig, r in new.items():
        if sig not in old:
            print_('%-9s %s' % ('new' if r.name not in old_names else 'signature', sig))
        elif body_of(old[sig]) != body_of(r):
            print_('%-9s %s' % ('body', sig))
        elif comment_of(old[sig]) != comment_of(r):
            print_('%-9s %s' % ('comment', sig))
        elif compare_acl and sorted(old[sig].extras) != sorted(r.extras):
            print_('%-9s %s' % ('acl', sig))
    for sig in old:
        if sig not in new:
            print_('%-9s %s' % ('dropped', sig))
    return len(lines)


def select(routines, wanted):
    chosen, missing = [], []
    for w in wanted:
        m = re.match(r'^\s*([\w."]+)\s*(?:\((.*)\))?\s*$', w, re.S)
        if not m:
            missing.append(w)
            continue
        name = qualified(m.group(1))
        args = None if m.group(2) is None else arg_types(m.group(2))
        found = [r for r in routines if r.name == name and (args is None or r.args == args)]
        if not found:
            missing.append(w)
        chosen += [r for r in found if r not in chosen]
    return chosen, missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument('names', nargs='*', help='function names or signatures')
    ap.add_argument('--with-acl', action='store_true', help='add COMMENT ON, REVOKE and GRANT statements')
    ap.add_argument('--new', action='store_true', help='CREATE, not CREATE OR REPLACE (implies --with-acl)')
    ap.add_argument('--grants', action='store_true',
                    help='print only the GRANT statements (90_roles.sql name list included)')
    ap.add_argument('--drop', action='store_true', help='print DROP statements instead')
    ap.add_argument('--list', action='store_true', help='list every routine signature')
    ap.add_argument('--diff', metavar='REV', help='routines new, dropped or changed since git revision REV')
    ap.add_argument('--against', metavar='FILE', nargs='+',
                    help='routines that differ from what these scripts, run in order, define')
    ap.add_argument('--rev', metavar='REV', help='read the install parts of this git revision')
    opts = ap.parse_args()
    routines = load(opts.rev)

    if opts.list:
        for r in routines:
            print('%s %s  -- %s' % (r.kind.lower(), r.signature, r.path))
        return 0
    if opts.diff:
        report_differences(load(opts.diff), routines, True)
        return 0
    if opts.against:
        parts = [(p, open(p, encoding='utf-8').read()) for p in opts.against]
        return 1 if report_differences(load(parts=parts), routines, False) else 0

    chosen, missing = select(routines, opts.names)
    for w in missing:
        print('extract_functions.py: no routine matches %s' % w, file=sys.stderr)
    for r in chosen:
        if opts.drop:
            print('DROP %s %s;' % (r.kind, r.signature))
            continue
        if opts.grants:
            for e in r.extras:
                if e.upper().startswith('GRANT'):
                    print(e)
            continue
        print('-- %s: %s' % (r.signature, r.path))
        text = r.text if opts.new else CREATE_RE.sub(
            lambda m: m.group(0).replace(m.group(0)[:m.start(1) - m.start(0)], 'CREATE OR REPLACE ', 1),
            r.text, count=1)
        print(text)
        if opts.with_acl or opts.new:
            for e in r.extras:
                print(e)
        print()
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
