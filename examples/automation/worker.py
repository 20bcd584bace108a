#!/usr/bin/python3
"""A follow-up task for every event of a customer_tier program's change feed.

Copy it and change describe() and the task table to your CRM's.  It needs
Debian's python3-psycopg (psycopg 3) and a login granted customer_tier_writer
and INSERT on the task table; it connects with the usual PG* variables
(PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD).

    CT_PROGRAM=shop CT_CONSUMER=crm-tasks /usr/bin/python3 worker.py

How it loses nothing and does nothing twice: it takes a batch of events with
customer_tier.consume_events() and writes their tasks in the same
transaction.  The commit acknowledges the events together with the tasks; if
the worker dies before it, both are rolled back and the events are taken
again.  It LISTENs before it catches up, so a wake-up sent while it catches
up is not lost either; several copies may run under one consumer name.
"""
import os
import selectors
import signal
import sys
import time

import psycopg

PROGRAM = os.environ.get("CT_PROGRAM", "shop")
CONSUMER = os.environ.get("CT_CONSUMER", "crm-tasks")
BATCH = int(os.environ.get("CT_BATCH", "100"))
# seconds to wait after each event's task, inside the transaction: a test
# uses it to kill the worker in the middle of a batch
PAUSE = float(os.environ.get("CT_PAUSE_PER_EVENT", "0"))
# with a value, drain once and exit (a benchmark), instead of waiting for more
ONCE = os.environ.get("CT_ONCE", "") != ""
WAKE_EVERY = 5.0


def describe(kind, detail):
    """The task the CRM's team gets for one event."""
    if kind == "tier":
        if detail["from"] is None:
            return "welcome a new %s customer" % detail["to"]
        return "tier %s -> %s: call to acknowledge" % (detail["from"], detail["to"])
    if kind == "lifecycle":
        return "lifecycle %s -> %s: review the account" % (detail["from"], detail["to"])
    if detail["raised"]:
        return "churn risk (%s): make a retention offer" % ", ".join(detail["raised"])
    return "churn flags cleared (%s): no action" % ", ".join(detail["cleared"])


def register(conn):
    try:
        conn.execute("SELECT customer_tier.register_consumer(%s, %s)", (PROGRAM, CONSUMER))
    except psycopg.errors.DuplicateObject:
        pass  # registered by an earlier run, or by another copy of this worker


def drain(conn):
    """Handle every event waiting, one batch per transaction; returns how many."""
    handled = 0
    while True:
        with conn.transaction():
            rows = conn.execute(
                "SELECT event_id, customer, kind, detail FROM customer_tier.consume_events(%s, %s, %s)",
                (PROGRAM, CONSUMER, BATCH)).fetchall()
            for event_id, customer, kind, detail in rows:
                conn.execute(
                    "INSERT INTO crm.tasks (event_id, customer, kind, action) VALUES (%s, %s, %s, %s)",
                    (event_id, customer, kind, describe(kind, detail)))
                if PAUSE:
                    time.sleep(PAUSE)
        handled += len(rows)
        if len(rows) < BATCH:
            return handled


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with psycopg.connect(autocommit=True, application_name="customer_tier feed worker") as conn:
        register(conn)
        conn.execute("LISTEN customer_tier_events")
        waker = selectors.DefaultSelector()
        waker.register(conn.fileno(), selectors.EVENT_READ)
        while True:
            drain(conn)  # first: catch up on what came while the worker was down
            if ONCE:
                return
            # a wake-up, or WAKE_EVERY seconds: a wake-up read while a batch
            # was being taken may belong to an event that batch did not see
            waker.select(timeout=WAKE_EVERY)


if __name__ == "__main__":
    main()
