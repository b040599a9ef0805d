"""The domain list, the domain page (constant queries at any size), settings and domain aliases."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_script_prefix
from django.urls import reverse

from accounts.models import Mailbox
from aliases.models import Alias
from domains import services as domains
from domains.models import Domain, DomainAlias
from mailadmin.lib.sizes import MB
from tests import factories

pytestmark = pytest.mark.django_db


def add_mailboxes(domain, count, prefix="m"):
    """Many mailboxes at once, straight through the ORM (speed; the services are tested elsewhere)."""
    Mailbox.objects.bulk_create(
        Mailbox(
            domain=domain,
            local_part=f"{prefix}{i:05d}",
            address=f"{prefix}{i:05d}@{domain.name}",
            password="!",  # noqa: S106 (unusable: these never log in)
            quota_bytes=100 * MB,
            usage_bytes=i * 1000,
        )
        for i in range(count)
    )
    Alias.objects.bulk_create(
        Alias(
            domain=domain,
            local_part=f"a{prefix}{i:05d}",
            address=f"a{prefix}{i:05d}@{domain.name}",
            destinations=f"{prefix}00000@{domain.name}",
        )
        for i in range(count // 10)
    )


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("who", ["superuser", "admin_org"])
def test_domain_page_queries_do_not_grow_with_mailboxes(client, personas, who):
    client.force_login(getattr(personas, who))
    small = factories.domain("small.example")
    big = factories.domain("big.example")
    add_mailboxes(small, 10)
    add_mailboxes(big, 1000)
    if who == "admin_org":
        from domains import services

        services.grant_set(
            origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org, small, big]
        )
    small_count, _ = queries_for(client, reverse("domains:detail", args=[small.pk]))
    big_count, response = queries_for(client, reverse("domains:detail", args=[big.pk]))
    assert big_count == small_count
    assert big_count <= 20
    assert response.content.count(b'name="mailboxes"') == 50  # one page of 50 ticks
    # the last page stays constant; a search costs one query more (its total is counted with its
    # ids, before its rows: mailadmin.shortcuts.page_of; past its end, its last page instead)
    last, _ = queries_for(client, reverse("domains:detail", args=[big.pk]) + "?page=20")
    assert last == big_count
    searched, response = queries_for(client, reverse("domains:detail", args=[big.pk]) + "?q=m0099")
    assert searched == big_count + 1 and response.context["mailboxes"].paginator.count == 10
    past, response = queries_for(client, reverse("domains:detail", args=[big.pk]) + "?q=m0099&page=2")
    assert past == big_count + 1 and response.context["mailboxes"].paginator.count == 10


def test_domain_page_costs_a_domain_admin_the_queries_it_costs_a_superuser(client, personas):
    big = factories.domain("big.example")
    add_mailboxes(big, 120)
    domains.grant_set(origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org, big])
    url = reverse("domains:detail", args=[big.pk])
    counts = {}
    for who in ("superuser", "admin_org"):
        client.force_login(getattr(personas, who))
        counts[who] = [queries_for(client, url + query)[0] for query in ("", "?page=3", "?q=m0011", "?q=m0011&page=9")]
    assert counts["superuser"] == counts["admin_org"]
    first, last, search, search_past_the_end = counts["superuser"]
    assert first == last and search == first + 1 and search_past_the_end == first + 1


def test_domain_page_last_page_shows_the_last_mailboxes(client, personas):
    big = factories.domain("big.example")
    add_mailboxes(big, 120)
    client.force_login(personas.admin_org)
    domains.grant_set(origin="test", acting_user=None, admin=personas.admin_org, domains=[big])
    url = reverse("domains:detail", args=[big.pk])
    for query in ("?page=3", "?page=99", "?page=-1"):  # past the end: the last page, as before
        response = client.get(url + query)
        page = response.context["mailboxes"]
        assert [m.local_part for m in page] == [f"m{i:05d}" for i in range(100, 120)]
        assert page.number == 3 and page.paginator.count == 120
        assert "Page 3 of 3 (120)" in response.content.decode()
    first = client.get(url + "?page=x").context["mailboxes"]  # not a number: the first page
    assert [m.local_part for m in first][:2] == ["m00000", "m00001"] and first.number == 1
    assert all(m.manageable for m in first)
    assert client.get(url).context["usage"]["mailboxes"] == 120  # the grant's usage, from the same figures
    big.mailboxes.filter(local_part__in=["m00051", "m00074"]).delete()  # 118: the back half read from the end
    pages = [[m.local_part for m in client.get(url, {"page": n}).context["mailboxes"]] for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [50, 50, 18]
    assert sum(pages, []) == sorted(big.mailboxes.values_list("local_part", flat=True))  # each once, in order


def test_domain_page_search_finds_by_address_or_name_start_and_says_so(client, personas):
    factories.mailbox("anna.berg@example.org", first_name="Anna", last_name="Berg")
    factories.mailbox("zoe@example.org", first_name="Zoë", last_name="Adams-Berg")
    client.force_login(personas.superuser)
    url = reverse("domains:detail", args=[personas.org.pk])

    def found(term):
        response = client.get(url, {"q": term})
        return sorted(m.address for m in response.context["mailboxes"]), response.content.decode()

    addresses, page = found("anna.b")
    assert addresses == ["anna.berg@example.org"]
    assert "Searched for <strong>anna.b</strong>" in page and "starts with it" in page
    assert found("ANNA.BERG@example.org")[0] == ["anna.berg@example.org"]  # a whole address, any case
    assert found("berg")[0] == ["anna.berg@example.org"]  # a last name's start
    assert found("adams")[0] == ["zoe@example.org"]
    assert found("anna b")[0] == ["anna.berg@example.org"]  # first and last name
    assert found("erg")[0] == []  # the middle of a name or address is not its start
    assert found("anna_b")[0] == found("ann%")[0] == []  # LIKE's wildcards are letters here
    if connection.vendor != "sqlite":  # (SQLite's LIKE ignores the case of ASCII letters)
        assert not personas.org.mailboxes.filter(local_part__prefix="ANNA").exists()  # exact, as the column
    response = client.get(url, {"q": "anna", "page": "7"})  # past the end of the matches: their last page
    assert [m.address for m in response.context["mailboxes"]] == ["anna.berg@example.org"]
    assert "Search finds mailboxes by the start of their address" in client.get(url).content.decode()


def test_the_search_reads_index_ranges_on_postgresql_and_mariadb(personas):
    """Each prefix of ``MailboxQuerySet.search`` is a range of an index, not a filter over the domain's
    entries: on PostgreSQL the expressions of accounts 0019 (``text_pattern_ops``); on MariaDB the
    unique (domain, local part) index, read as a range because ``local_part__prefix`` is a plain
    ``LIKE`` (Django's ``LIKE BINARY`` is not), and the name indexes of accounts 0020, which let
    MariaDB merge the three ranges for the whole search. SQLite serves small sites: no such indexes."""
    names = ("accounts_mailbox_search_first", "accounts_mailbox_search_last")
    found = {index for index in connection.introspection.get_constraints(connection.cursor(), "accounts_mailbox")}
    if connection.vendor == "sqlite":
        assert not found & {*names, "accounts_mailbox_search_local"}
        return
    add_mailboxes(personas.org, 500)  # (enough rows, and their statistics, for the planner to choose)
    if connection.vendor == "postgresql":  # (MariaDB estimates ranges from the index itself; its ANALYZE would commit)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_mailbox")
    mailboxes = personas.org.mailboxes.order_by()
    local = "accounts_mailbox_search_local" if connection.vendor == "postgresql" else "mailbox_unique_local_part"
    each = {  # (the three prefixes of MailboxQuerySet.search, one at a time: each is a range of its index)
        local: mailboxes.filter(local_part__prefix="anna"),
        names[0]: mailboxes.filter(first_name__istartswith="anna"),
        names[1]: mailboxes.filter(last_name__istartswith="anna"),
    }
    for name, queryset in each.items():
        plan = explain(queryset.values("pk"))
        if connection.vendor == "postgresql":
            assert name in plan and "~>=~" in plan, plan  # the prefix as the index's range, not a filter
        else:
            assert plan[0]["type"] == "range" and plan[0]["key"] == name, plan
    if connection.vendor == "mysql":  # the whole search: the three ranges merged, not the domain's entries read
        plan = explain(mailboxes.search("anna").values("pk"))
        assert plan[0]["type"] == "index_merge" and "sort_union" in plan[0]["Extra"], plan
        assert set(plan[0]["key"].split(",")) == {local, *names}, plan


def explain(queryset):
    """The database's plan of ``queryset``: PostgreSQL's text, MariaDB's rows as dicts."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        if connection.vendor == "postgresql":
            return "\n".join(row[0] for row in cursor.fetchall())
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_domain_page_search_finds_aliases_by_address_start_or_destination(client, personas):
    factories.alias("sales@example.org", "user")
    factories.alias("info@example.org", "user, partner@elsewhere.example")
    client.force_login(personas.superuser)
    url = reverse("domains:detail", args=[personas.org.pk])
    assert [a.address for a in client.get(url, {"q": "sal"}).context["aliases"]] == ["sales@example.org"]
    assert [a.address for a in client.get(url, {"q": "partner"}).context["aliases"]] == ["info@example.org"]
    response = client.get(url)
    assert response.context["aliases"].paginator.count == 2 and "Deleted mailboxes (0)" in response.content.decode()


def test_domain_list_queries_do_not_grow_with_domains(client, personas):
    client.force_login(personas.superuser)
    few, _ = queries_for(client, reverse("domains:list"))
    for n in range(30):
        add_mailboxes(factories.domain(f"d{n}.example"), 3, prefix="x")
    many, response = queries_for(client, reverse("domains:list"))
    assert many == few
    assert b"d29.example" in response.content


def test_domain_list_shows_counts_and_searches(client, personas):
    client.force_login(personas.superuser)
    response = client.get(reverse("domains:list"), {"q": "net"})
    assert [d.name for d in response.context["page"]] == ["example.net"]
    page = client.get(reverse("domains:list")).context["page"]
    org = next(d for d in page if d.name == "example.org")
    assert org.mailbox_count == 3 and org.alias_count == 0


def test_domain_list_admin_sees_only_granted_domains_and_grant_usage(client, personas):
    client.force_login(personas.admin_org)
    response = client.get(reverse("domains:list"))
    assert [d.name for d in response.context["page"]] == ["example.org"]
    assert b"Your grant" in response.content
    assert response.context["usage"]["mailboxes"] == 3


def test_domain_list_refuses_end_users_and_wrong_method(client, personas):
    client.force_login(personas.user)
    assert client.get(reverse("domains:list")).status_code == 403
    client.force_login(personas.superuser)
    assert client.post(reverse("domains:list")).status_code == 405


def test_idn_domain_created_and_shown_as_unicode(client, personas):
    client.force_login(personas.superuser)
    data = {
        "name": "Bücher.Example",
        "max_mailboxes": 5,
        "max_aliases": 0,
        "max_quota_bytes": 0,
        "default_quota_bytes": 0,
        "active": "on",
        "logins_enabled": "on",
    }
    response = client.post(reverse("domains:create"), data)
    domain = Domain.objects.get(name="xn--bcher-kva.example")
    assert response["Location"] == reverse("domains:detail", args=[domain.pk])
    assert "bücher.example" in client.get(response["Location"]).content.decode()
    assert domain.max_mailboxes == 5 and not domain.default_may_relay


def test_duplicate_domain_is_a_form_error(client, personas):
    client.force_login(personas.superuser)
    data = {"name": "EXAMPLE.org", "max_mailboxes": 0, "max_aliases": 0, "max_quota_bytes": 0, "default_quota_bytes": 0}
    response = client.post(reverse("domains:create"), data)
    assert response.status_code == 200 and Domain.objects.count() == 2
    assert response.context["form"].errors


def test_settings_change_and_limit_checks(client, personas):
    client.force_login(personas.superuser)
    url = reverse("domains:settings", args=[personas.org.pk])
    data = {"description": "Main", "max_mailboxes": 1, "max_aliases": 0, "max_quota_bytes": 0, "default_quota_bytes": 0}
    response = client.post(url, data)
    assert response.status_code == 200  # three mailboxes already: the limit would not hold
    assert "already has 3 mailboxes" in response.content.decode()
    data["max_mailboxes"] = 10
    assert client.post(url, data).status_code == 302
    personas.org.refresh_from_db()
    assert (personas.org.description, personas.org.max_mailboxes, personas.org.active) == ("Main", 10, False)


def test_domain_admin_cannot_change_settings_or_see_other_domains(client, personas):
    client.force_login(personas.admin_org)
    assert client.get(reverse("domains:settings", args=[personas.org.pk])).status_code == 403
    assert client.get(reverse("domains:detail", args=[personas.net.pk])).status_code == 404
    assert client.post(reverse("domains:delete", args=[personas.net.pk]), {"force": "on"}).status_code == 404
    assert Domain.objects.filter(pk=personas.net.pk).exists()


def test_delete_domain_needs_force_with_mailboxes(client, personas):
    client.force_login(personas.superuser)
    url = reverse("domains:delete", args=[personas.net.pk])
    assert client.get(url).status_code == 405
    client.post(url)
    assert Domain.objects.filter(pk=personas.net.pk).exists()
    assert client.post(url, {"force": "on"})["Location"] == reverse("domains:list")
    assert not Domain.objects.filter(pk=personas.net.pk).exists()


def test_domain_aliases_add_toggle_delete(client, personas):
    client.force_login(personas.admin_org)
    # only superusers add one (it makes the name local for every sender): no form, and a 403
    page = client.get(reverse("domains:detail", args=[personas.org.pk])).content.decode()
    assert reverse("domains:alias_create", args=[personas.org.pk]) not in page
    response = client.post(reverse("domains:alias_create", args=[personas.org.pk]), {"name": "gmail.com"})
    assert response.status_code == 403 and not DomainAlias.objects.exists()
    client.force_login(personas.superuser)
    page = client.get(reverse("domains:detail", args=[personas.org.pk])).content.decode()
    assert reverse("domains:alias_create", args=[personas.org.pk]) in page
    client.post(reverse("domains:alias_create", args=[personas.org.pk]), {"name": "Org-Alias.Example", "active": "on"})
    alias = DomainAlias.objects.get(name="org-alias.example")
    client.post(reverse("domains:alias_toggle", args=[alias.pk]))
    alias.refresh_from_db()
    assert not alias.active
    client.force_login(personas.admin_org)  # the domain's admin may not switch it back on (nor delete it)
    assert client.post(reverse("domains:alias_toggle", args=[alias.pk])).status_code == 403
    assert client.post(reverse("domains:alias_delete", args=[alias.pk])).status_code == 403
    # a domain alias cannot shadow a domain: a flash error, nothing stored
    client.force_login(personas.superuser)
    response = client.post(
        reverse("domains:alias_create", args=[personas.org.pk]), {"name": "example.net"}, follow=True
    )
    assert "already a domain" in response.content.decode()
    client.force_login(personas.admin_net)
    assert client.post(reverse("domains:alias_delete", args=[alias.pk])).status_code == 404
    client.force_login(personas.superuser)
    client.post(reverse("domains:alias_delete", args=[alias.pk]))
    assert not DomainAlias.objects.exists()


def test_domain_page_marks_outranking_mailboxes_without_actions(client, personas):
    client.force_login(personas.admin_org)
    response = client.get(reverse("domains:detail", args=[personas.org.pk]))
    rows = {m.address: m.manageable for m in response.context["mailboxes"]}
    assert rows == {"root@example.org": False, "admin@example.org": False, "user@example.org": True}
    client.force_login(personas.superuser)
    rows = {
        m.address: m.manageable
        for m in client.get(reverse("domains:detail", args=[personas.org.pk])).context["mailboxes"]
    }
    assert all(rows.values())


def test_admin_cannot_switch_back_on_a_domain_alias_a_superuser_switched_off(client, personas):
    alias = domains.domain_alias_create(origin="test", acting_user=None, name="org-alias.example", target=personas.org)
    domains.domain_alias_update(origin="test", acting_user=personas.superuser, alias=alias, active=False)
    client.force_login(personas.admin_org)
    page = client.get(reverse("domains:detail", args=[personas.org.pk])).content.decode()
    assert "org-alias.example" in page and reverse("domains:alias_toggle", args=[alias.pk]) not in page
    assert client.post(reverse("domains:alias_toggle", args=[alias.pk])).status_code == 403
    assert client.post(reverse("domains:alias_delete", args=[alias.pk])).status_code == 403
    alias.refresh_from_db()
    assert not alias.active
    with pytest.raises(PermissionDenied):
        domains.domain_alias_update(origin="test", acting_user=personas.admin_org, alias=alias, active=True)
    with pytest.raises(PermissionDenied):
        domains.domain_alias_delete(origin="test", acting_user=personas.admin_org, alias=alias)
    assert not DomainAlias.objects.get(pk=alias.pk).active


# --- 3. information items -------------------------------------------------------------------


def test_domain_page_links_follow_the_prefix_the_panel_is_served_under(client, personas):
    """The page's links are reversed once and remembered (mailadmin.shortcuts.link): served under
    /mail/ (as behind a proxy that mounts the panel there) and then at the root, each page links
    where it is served: the menu, the domain's own buttons and its mailboxes alike."""
    client.force_login(personas.superuser)
    pk = personas.org.pk
    user = Mailbox.objects.get(address="user@example.org").pk
    for prefix in ("/mail/", "/", "/mail/"):
        with override_script_prefix(prefix):
            html = client.get(f"/domains/{pk}/").content.decode()
        for path in (f"domains/{pk}/dns/", "domains/", f"mailboxes/{user}/", f"domains/{pk}/mailboxes/new/"):
            assert f'href="{prefix}{path}"' in html, (prefix, path)
        assert f'href="{"/mail/" if prefix == "/" else "/"}domains/' not in html
