"""Write the figures of bench/results/*.json into bench/RESULTS.md.

    .venv/bin/python bench/report.py

Only the part between the ``<!-- generated:begin -->`` and ``<!-- generated:end -->``
markers is replaced; everything else in RESULTS.md (the analysis, other benchmarks'
sections) is kept as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"
DBS = {"mariadb": "MariaDB", "postgresql": "PostgreSQL"}


def load(kind: str, db: str) -> dict | None:
    path = HERE / "results" / f"{kind}-{db}.json"
    return json.loads(path.read_text()) if path.exists() else None


def ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def machine(data: dict) -> str:
    m = data["machine"]
    return (
        f"{m['date']}; {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}; {m['mariadb'] or ''} "
        f"{m['postgresql'] or ''}; Python {m['python']}, Django {m['django']}; load average at the end "
        f"{', '.join(str(x) for x in m['load_average'])}"
    )


def generate_section(db: str, data: dict) -> list[str]:
    out = [
        f"#### Generator ({DBS[db]}, scale {data['scale']})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        "| rows | count | seconds | rows/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind, phase in data["phases"].items():
        out.append(
            f"| {kind.replace('_', ' ')} | {phase['rows']:,} | {phase['seconds']:,} | {phase['rows_per_second']:,} |"
        )
    t = data["total"]
    out += [
        f"| **total** | {t['rows']:,} | {t['seconds']:,} | {t['rows_per_second']:,} |",
        "",
        f"Migrations before the load: {data['migrate_seconds']} s. Passwords: {data['password_hash_scheme']}.",
        "",
    ]
    return out


def lookups_section(db: str, data: dict) -> list[str]:
    server = ", ".join(f"{k} {v}" for k, v in data.get("server", {}).items())
    out = [
        f"#### Lookups ({DBS[db]}, {data['mailboxes']:,} mailboxes{', ' + data['tag'] if data.get('tag') else ''})",
        "",
        f"`{data['command']}` - {machine(data)}" + (f"; server: {server}" if server else ""),
        "",
        f"{data['keys_per_query']:,} keys per query (half hits, half misses) in {data['runs']} runs; each figure "
        "is the median over the runs of that run's percentile. Baseline: `SELECT 1` timed just before each "
        "lookup on the same connection (the lookup user's). Target: p99 <= 1 ms and <= 3x the `SELECT 1` p99.",
        "",
        "| where (shipped configuration) | user | p50 ms | p99 ms | SELECT 1 p50 / p99 ms | ratio p50 / p99 | "
        "plan | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for e in data["lookups"]:
        plan = "index" if not e["full_scans_in_plan"] else "scan: " + ", ".join(e["full_scans_in_plan"])
        out.append(
            f"| {e['where']}<br>`{e['sql']}` | {e['user']} | {e['p50_ms']:.3f} | {e['p99_ms']:.3f} | "
            f"{e['base_p50_ms']:.3f} / {e['base_p99_ms']:.3f} | {e['ratio_p50']} / {e['ratio_p99']} | {plan} | "
            f"{ok(e['meets_target'])} |"
        )
    return out + [""]


def pages_section(db: str, data: dict) -> list[str]:
    tag = f", {data['tag']}" if data.get("tag") else ""
    out = [
        f"#### Panel pages ({DBS[db]}, {data['domains']:,} domains, {data['mailboxes']:,} mailboxes{tag})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
    ]
    if "baseline" in data:  # bench/pages.py since issue 13.4: both roles against an empty page
        return out + _pages_against_empty(data)
    out += [
        f"Superuser, Django test client (whole request, no network); median of {data['repeat']} requests after "
        f"one warm-up. Baseline: the page of a domain with {data['small_domain_mailboxes']} mailboxes. The big "
        f"domain has {data['big_domain_mailboxes']:,} mailboxes. Target: the domain page <= 100 ms with a query "
        "count that does not grow with the number of mailboxes.",
        "",
        "| page | URL | median ms | min - max ms | ratio to baseline | SQL queries |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for label, e in data["pages"].items():
        out.append(
            f"| {label} | `{e['url']}` | {e['median_ms']} | {e['min_ms']} - {e['max_ms']} | {e['ratio']} | "
            f"{', '.join(map(str, e['queries']))} |"
        )
    return out + [""]


def _pages_against_empty(data: dict) -> list[str]:
    out = [
        f"Django test client (whole request, no network); median of {data['repeat']} requests after one warm-up. "
        f"Baseline: an {data['baseline']} (`bench/urls.py`: middleware, session and user, nothing else), requested "
        "by the same client before each request of every page (alternating); the ratio is of the two medians. "
        f"The big domain has {data['big_domain_mailboxes']:,} mailboxes, the small one "
        f"{data['small_domain_mailboxes']}; the domain admin's grant covers both. Target (issue 13.4): the big "
        f"domain's page, last page and search <= {data['target_ratio']}x the empty page, the same query count for "
        "both roles.",
        "",
        "| as | page | URL | median ms | min - max ms | empty page alongside, ms | ratio | SQL queries | target |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for e in data["pages"].values():
        target = ok(e["meets_target"]) if "meets_target" in e else ""
        out.append(
            f"| {e['role']} | {e['page']} | `{e['url']}` | {e['median_ms']} | {e['min_ms']} - {e['max_ms']} | "
            f"{e.get('baseline_ms', '')} | {e['ratio']} | {', '.join(map(str, e['queries']))} | {target} |"
        )
    return out + [""]


def bulk_section(db: str, data: dict) -> list[str]:
    n, size, loader, hashing = (
        data["mailboxes"],
        data["per_submission"],
        data["loader_baseline"],
        data["production_hashing"],
    )
    rows = []
    for label, key in (
        ("panel, superuser", "panel_superuser"),
        ("panel, domain admin (grant of more than 10,000)", "panel_domain_admin"),
    ):
        run, ms = data[key], data[key]["beyond_hashing_ms_per_mailbox"]
        rows.append(
            f"| {label} | {ms['first']} | {ms['last']} | {ms['median']} | {ms['max']} | {run['beyond_hashing_s']} | "
            f"{run['hashing_s']} | {ok(ms['max'] <= data['target_ms_beyond_hashing'])} |"
        )
    return [
        f"#### Bulk creation of {n:,} mailboxes through the panel's bulk path ({DBS[db]})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        f"`accounts.bulk.mailbox_bulk_create` in {data['panel_superuser']['submissions']} "
        f"submissions of {size} lines (generated passwords, hashed with `hash_many` over the cores before any "
        f"lock, one batch and one audit entry per submission), into a fresh domain; {data['directory_before']}. "
        "Run hashes are cheap (Argon2 m=1 MiB, t=1) and timed apart. Target: at most "
        f"{data['target_ms_beyond_hashing']} ms per mailbox beyond hashing, first and last submission alike.",
        "",
        "| acting as | first ms/mailbox | last | median | worst | beyond hashing s | hashing s (cheap) | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
        f"| baseline: bulk loader, one precomputed hash | | | {loader['ms_per_mailbox']} | | "
        f"{loader['seconds']} | 0 | |",
        "",
        f"Production hashing ({hashing['scheme']}, {hashing['sample']} passwords): {hashing['one_by_one_ms']} ms "
        f"each one by one, {hashing['hash_many_ms']} ms each with `hash_many` ({hashing['speedup']}x): "
        f"{data['production_hashing_of_all_s']} s for all {n:,}.",
        "",
    ]


def mailstack_section(db: str, data: dict) -> list[str]:
    logins = data["imap_logins"]
    return [
        f"#### Delivery through Exim + Dovecot LMTP ({DBS[db]}, {data['mailboxes']:,} mailboxes"
        f"{', ' + data['tag'] if data.get('tag') else ''})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        f"{data['messages_per_run']:,} messages per run to {data['recipients']} random mailboxes over "
        f"{data['connections']} SMTP connections at once, until Exim logged every delivery; the two variants "
        f"alternate, {data['repeat']} runs each, median. Target: SQL lookups >= 90 % of the static-file rate.",
        "",
        "| variant | messages/s (median) | runs | ratio to static |",
        "| --- | ---: | --- | ---: |",
        f"| SQL lookups (shipped configuration) | {data['sql_messages_per_second']} | "
        f"{', '.join(map(str, data['runs']['sql']))} | {data['ratio']:.0%} ({ok(data['ratio'] >= 0.9)}) |",
        f"| static files (same routing, DBM + passwd-file) | {data['static_messages_per_second']} | "
        f"{', '.join(map(str, data['runs']['static']))} | 100 % |",
        "",
        *_paired(data),
        f"IMAP logins (IMAPS, one connection per login, {logins['users']} users, SQL variant): "
        f"{logins.get('cold', '-')} per second with the auth cache cold, {logins.get('warm', '-')} warm.",
        "",
        *_statements(data),
    ]


def _paired(data: dict) -> list[str]:
    """Each SQL run against the static run next to it (they alternate), and the machine's CPU per
    message where it was recorded: on a shared host the wall clock of one run moves more than the gap
    between the variants, the pairs and the CPU less."""
    sql, static = data["runs"]["sql"], data["runs"]["static"]
    pairs = [round(a / b, 2) for a, b in zip(sql, static, strict=True)]
    lines = [f"Paired runs, SQL / static: {', '.join(map(str, pairs))}; median {median(pairs):.2f}."]
    cpu = data.get("cpu_ms_per_message_runs")
    if cpu:
        costs = [round(b / a, 2) for a, b in zip(cpu["sql"], cpu["static"], strict=True)]
        lines.append(
            f"The machine's CPU per message (`/proc/stat`: user, nice, system, irq, softirq; not idle or stolen), "
            f"SQL {', '.join(map(str, cpu['sql']))} ms, static {', '.join(map(str, cpu['static']))} ms; "
            f"static / SQL paired {', '.join(map(str, costs))}, median {median(costs):.2f}."
        )
    return [" ".join(lines), ""]


def _statements(data: dict) -> list[str]:
    """What the mail servers asked the database per delivered message (runs from issue 13 on)."""
    if data.get("statements_per_message") is None:
        return []
    counted = data.get("statements_counted_as") or (
        "SELECT_COMMANDS of the lookup users (USER_STATISTICS)"
        if data["db"] == "mariadb"
        else "transactions of the database (pg_stat_database)"
    )
    runs = ", ".join(map(str, data["statements_per_message_runs"]))
    line = (
        f"Per delivered message (SQL variant, the database's own statistics): {data['statements_per_message']} "
        f"({counted}; runs {runs})"
    )
    if data.get("lookup_table_reads_per_message") is not None:
        line += f"; {data['lookup_table_reads_per_message']} reads of the v2 lookup tables (pg_stat_user_tables)"
    if data.get("connections_per_message") is not None:
        runs = ", ".join(map(str, data["connections_per_message_runs"]))
        counted = data["connections_counted_as"]
        line += f"; {data['connections_per_message']} connections opened ({counted}; runs {runs})"
    return [line + ".", ""]


def soak_section(db: str, data: dict) -> list[str]:
    churn = sum(data["churn_done"].values())
    failed = sum(data["churn_failed"].values())
    good = data["lost"] == data["doubled"] == data["misplaced"] == data["bounced"] == 0
    return [
        f"#### Soak: delivery while the directory changes and its database restarts ({DBS[db]})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        f"{data['messages']:,} messages from many senders to mailboxes, aliases (one or two destinations), "
        f"a domain alias and a catch-all, over 16 SMTP clients, while the services made {churn} changes to "
        f"other mailboxes and aliases ({failed} failed: the database was down, or an earlier step had "
        "failed) and the database was "
        f"stopped and started {data['restarts']} times (down {', '.join(f'{s} s' for s in data['outages_s'])}); "
        "nobody reloaded Exim or Dovecot. Clients offered again whatever got a 4xx.",
        "",
        "| accepted | 4xx answers (offered again) | deliveries expected | lost | doubled | misplaced | bounced |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {data['accepted']:,} | {data['answers'].get('4', 0):,} | {data['deliveries_expected']:,} | "
        f"{data['lost']} | {data['doubled']} | {data['misplaced']} | {data['bounced']} |",
        "",
        f"{data['messages_per_s']} messages/s accepted over the {data['sending_s']} s of sending, restarts "
        f"included ({ok(good)}: every accepted message in exactly its mailboxes, found by Message-ID).",
        "",
    ]


def _singles(data: dict) -> str:
    if data["single_calls_timed"] >= data["mailboxes"]:
        return f"all timed: {data.get('single_calls_s_timed_total', '?')} s in all; the column shows the median x count"
    return f"{data['single_calls_timed']} timed, median x count"


def cli_many_section(db: str, data: dict) -> list[str]:
    return [
        f"#### Many mailboxes from the command line ({DBS[db]})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        f"{data['mailboxes']:,} mailboxes with generated passwords and the production hashing, each variant "
        "as real `manage.py` processes in the same run. Baseline: one `mailbox add` process per mailbox.",
        "",
        "| variant | seconds | ms per mailbox |",
        "| --- | ---: | ---: |",
        f"| `mailbox add-many` (one process, lines on stdin) | {data['add_many_s']} | "
        f"{data['add_many_ms_per_mailbox']} |",
        f"| `mailbox add` x {data['mailboxes']:,} ({_singles(data)}) | {data['single_calls_s_extrapolated']} | "
        f"{data['single_call_ms_median']} |",
        "",
        f"One process for all is {data['ratio_singles_to_add_many']}x faster; Django's start-up alone "
        f"(`mailbox list`, nothing hashed) takes {data['startup_ms_median']} ms of each single call.",
        "",
    ]


def sizing_section(db: str, data: dict) -> list[str]:
    tag = f", {data['tag']}" if data.get("tag") else ""
    server = ", ".join(f"{k} {v}" for k, v in data["server"].items())
    out = [
        f"#### Memory and connections ({DBS[db]}{tag})",
        "",
        f"`{data['command']}` - {machine(data)}; {data['mailboxes']:,} mailboxes; server: {server}",
        "",
        "| tables | data MB | index MB | total MB | MB per million mailboxes |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, g in data["groups"].items():
        sizes = f"{g['data_mb']:,} | {g['index_mb']:,} | {g['total_mb']:,}"
        out.append(f"| {label} | {sizes} | {g['mb_per_million_mailboxes']:,} |")
    c = data["connections"]
    out += [
        "",
        f"Database connections one mail host may open (from the rendered configuration): Exim up to "
        f"{c['exim_receiving_max']} receiving processes and {c['exim_delivering_max']} delivering ones, one "
        f"connection each; Dovecot up to {c['dovecot_auth_workers_max']} auth workers, one each: at most "
        f"{c['per_host_max']} per host.",
        "",
    ]
    return out


def app_passwords_section(db: str, data: dict) -> list[str]:
    f = data["logins_per_second"]
    runs = data["runs"]
    tag = f", {data['tag']}" if data.get("tag") else ""
    return [
        f"#### IMAP logins: app passwords against main passwords ({DBS[db]}{tag})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        f"{data['users']} mailboxes, each logging in once per phase (a new IMAPS connection, LOGIN, LOGOUT) from "
        f"{data['clients']} clients at once, the auth cache flushed before every phase: every login verifies "
        f"its password. Median of {data['repeat']} rounds, phases in rotating order. Dovecot's processes: "
        f"`MAIL_DOVECOT_LOGIN_MODE={data.get('login_mode', 'performance')}`.",
        "",
        "| password | logins per second | rounds |",
        "| --- | ---: | --- |",
        f"| main password (Argon2id, m=64 MiB, t=3) | {f['main']} | {', '.join(map(str, runs['main']))} |",
        f"| app password, the mailbox's only one | {f['app1']} | {', '.join(map(str, runs['app1']))} |",
        f"| app password, the last of the mailbox's twenty | {f['app20']} | {', '.join(map(str, runs['app20']))} |",
        "",
        f"App passwords log in {data['ratio_app_to_main']}x as fast as main passwords; twenty app passwords "
        f"against one: {data['ratio_app20_to_app1']}x the rate (goal: no slower). Goal at least "
        f"{data['goal_app_logins_per_second']:.0f} per second with app passwords: {ok(data['goal_met'])}.",
        "",
    ]


def api_section(db: str, data: dict) -> list[str]:
    out = [
        f"#### Listing 10,000 mailboxes through the REST API ({DBS[db]})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        f"Every mailbox of a domain of {data['mailboxes']:,}, page by page (following `next`), with a read-only "
        "token, through Django's test client (middleware, token check and rate-limit count included, no "
        f"network); median of {data['repeat']} walks. Baseline in the same run: as many `GET /api/v1/me`.",
        "",
        "| token, page size | pages | seconds for all | ms per page | statements first / last page | "
        "baseline s | ratio | goal (≤ 2 s, constant statements) |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for label, r in data["runs"].items():
        first, last = r["statements_first_last_page"]
        out.append(
            f"| {label} | {r['pages']} | {r['seconds']} | {r['ms_per_page']} | {first} / {last} | "
            f"{r['baseline_me_s']} | {r['ratio_to_baseline']} | {ok(r['goal_met'])} |"
        )
    return [*out, ""]


def traffic_parse_section(data: dict) -> list[str]:
    """bench/traffic_parse.py: our Exim log parser against eximstats on the same file (no database)."""
    log, m, tag = data["log"], data["machine"], f", {data['tag']}" if data.get("tag") else ""
    mix = ", ".join(f"{kind.replace('_', ' ')} {n:,}" for kind, n in log["mix"].items())
    rows = [
        (
            "ours: `mailserver.traffic._read_from` into a `Tally` (`manage.py traffic collect` without the database)",
            "ours",
        ),
        (f"eximstats, the same work: `{data['eximstats']['command']}`", "eximstats"),
        (f"eximstats, its default report: `{data['eximstats_default']['command']}`", "eximstats_default"),
    ]
    out = [
        f"### Traffic statistics: Exim's main log parsed (issue 18{tag})",
        "",
        f"`{data['command']}` - {machine(data)}; eximstats {m['eximstats']}, perl {m['perl']}",
        "",
        f"A generated Exim 4.96 main log of {data['lines']:,} lines ({log['bytes'] / 1e6:.0f} MB, {log['from']} to "
        f"{log['to']} UTC; {log['domains']:,} domains, {log['domain_aliases']:,} domain aliases, "
        f"{log['mailboxes']:,} mailboxes, {log['aliases']:,} aliases; seed {data['seed']}), the same file for every "
        f"parser, read once before (page cache warm); the parsers alternate, {data['runs']} runs each, median. "
        f"Lines: {mix}. Goal: ours at least as fast as eximstats.",
        "",
        "| parser | lines/s (median) | seconds per run | CPU seconds per run | ours / this |",
        "| --- | ---: | --- | --- | ---: |",
    ]
    for label, key in rows:
        r = data[key]
        ratio = "" if key == "ours" else f"{data['ours']['lines_per_second'] / r['lines_per_second']:.2f}x"
        out.append(
            f"| {label} | {r['lines_per_second']:,} | {', '.join(map(str, r['seconds']))} | "
            f"{', '.join(map(str, r['cpu_seconds']))} | {ratio} |"
        )
    ours = data["ours"]
    out += [
        "",
        f"Ours / eximstats: {data['ratio']}x in wall time, {data['ratio_cpu']}x in CPU time ({ok(data['goal_met'])}). "
        f"Ours counted {ours['lines_counted']:,} lines into {ours['hourly_counts']:,} hourly counts and "
        f"{ours['party_counts']:,} sender and recipient counts; its totals for the whole host are the generated "
        f"lines' kinds: {'yes' if ours.get('totals_match_log') else '**no**'}.",
        "",
    ]
    if "collect" in data:
        c = data["collect"]
        out += [
            f"`traffic.collect()` of the whole file into a fresh database ({c['db']}; parse and store, one "
            f"transaction): {c['seconds']} s, {c['lines_per_second']:,} lines/s; {c['count_rows']:,} hourly rows and "
            f"{c['party_rows']:,} sender and recipient rows written; stored totals equal the parse's: "
            f"{'yes' if c['stored_totals_match_parse'] else '**no**'}.",
            "",
        ]
    return out


def history_section(db: str, data: dict) -> list[str]:
    """bench/history.py: the usage history's size, and the statistics pages with two years of it."""
    tag = f", {data['tag']}" if data.get("tag") else ""
    out = [
        f"### Usage history and the statistics pages ({DBS[db]}, issue 18{tag})",
        "",
        f"`{data['command']}` - {machine(data)}",
        "",
        f"{data['mailboxes']:,} mailboxes in {data['domains']:,} domains with {data['days']} days of history as the "
        f"usage job keeps it (each domain a row a day; each mailbox a row on the days it changed, here "
        f"{data['change']:.0%} of them, over the last three months and a row a month before; the hours of the "
        "last two days). Per million mailboxes by proportion: "
        f"{data['rows_per_million_mailboxes']:,} rows, {data['bytes_per_million_mailboxes'] / 2**30:.1f} GiB "
        "with their indexes.",
        "",
        "| table | rows | data | indexes |",
        "| --- | ---: | ---: | ---: |",
    ]
    for table, size in sorted(data["tables"].items()):
        out.append(
            f"| `{table}` | {size['rows']:,} | {size['data_bytes'] / 2**20:,.1f} MiB | "
            f"{size['index_bytes'] / 2**20:,.1f} MiB |"
        )
    out += [
        "",
        "Pages (superuser, Django test client; median against an empty logged-in page requested alternately):",
        "",
        "| page | median ms | ratio | SQL queries |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, r in data["pages"].items():
        out.append(f"| {label} | {r['median_ms']} | {r.get('ratio', 1.0)}x | {', '.join(map(str, r['queries']))} |")
    return [*out, ""]


def generated() -> str:
    out = []
    for db in DBS:
        kinds = ("generate", "sizing", "lookups", "pages", "bulk_create", "cli_many", "mailstack", "soak")
        kinds += ("app_passwords", "api")
        sections = [(kind, load(kind, db)) for kind in kinds]
        if not any(data for _, data in sections):
            out += [f"### {DBS[db]}", "", "Not measured yet.", ""]
            continue
        out += [f"### {DBS[db]}", ""]
        for kind in ("sizing", "lookups", "pages", "mailstack", "app_passwords"):  # variants of the set-up, tagged
            for path in sorted((HERE / "results").glob(f"{kind}-{db}-*.json")):
                sections.append((kind, {**json.loads(path.read_text()), "tag": path.stem.split("-", 2)[2]}))
        for kind, data in sections:
            if data is None:
                out += [f"#### {kind.replace('_', ' ').capitalize()} ({DBS[db]})", "", "Not measured.", ""]
                continue
            out += {
                "generate": generate_section,
                "lookups": lookups_section,
                "pages": pages_section,
                "bulk_create": bulk_section,
                "cli_many": cli_many_section,
                "mailstack": mailstack_section,
                "soak": soak_section,
                "sizing": sizing_section,
                "app_passwords": app_passwords_section,
                "api": api_section,
            }[kind](db, data)
    for db in DBS:  # the usage history (bench/history.py), in a database of its own
        for path in sorted((HERE / "results").glob(f"history-{db}*.json")):
            tag = path.stem.removeprefix(f"history-{db}").removeprefix("-")
            out += history_section(db, {**json.loads(path.read_text()), "tag": tag})
    for path in sorted((HERE / "results").glob("traffic-parse*.json")):  # no database: once, after both
        tag = path.stem.removeprefix("traffic-parse").removeprefix("-")
        out += traffic_parse_section({**json.loads(path.read_text()), "tag": tag})
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    RESULTS.write_text(f"{head}{BEGIN}\n{generated()}{END}{tail}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
