"""The SQL dump parser behind the database importers (mysqldump and pg_dump forms)."""

import pytest

from imports.base import SourceError
from imports.sqlsource import DumpFile, parse_dump

MYSQL = r"""-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE `t` (
  `a` int(11) NOT NULL,
  `b` varchar(255) DEFAULT 'x;y',
  `c` text,
  PRIMARY KEY (`a`),
  KEY `b` (`b`(10))
) ENGINE=InnoDB;
INSERT INTO `t` VALUES (1,'it\'s; a \\ test',NULL),(2,'line\nbreak','two''quotes');
INSERT INTO `t` (`c`, `a`) VALUES ('only c',3);
-- Dump completed on 2026-12-01 10:00:00
"""

POSTGRES = """--
-- PostgreSQL database dump
--
CREATE TABLE public.t (
    a integer NOT NULL,
    b character varying(255) DEFAULT 'x'::character varying,
    c boolean
);
COPY public.t (a, b, c) FROM stdin;
1\ttab\\there\tt
2\t\\N\tf
\\.
INSERT INTO public.t (a, b, c) VALUES (3, 'it''s', true);
INSERT INTO public.t VALUES (4, E'back\\\\slash', NULL);
--
-- PostgreSQL database dump complete
--
"""


def test_mysqldump_forms():
    assert parse_dump(MYSQL) == {
        "t": [
            {"a": 1, "b": "it's; a \\ test", "c": None},
            {"a": 2, "b": "line\nbreak", "c": "two'quotes"},
            {"c": "only c", "a": 3},
        ]
    }


def test_pg_dump_forms():
    assert parse_dump(POSTGRES) == {
        "t": [
            {"a": "1", "b": "tab\there", "c": "t"},
            {"a": "2", "b": None, "c": "f"},
            {"a": 3, "b": "it's", "c": True},
            {"a": 4, "b": "back\\slash", "c": None},
        ]
    }


def test_only_ascii_digits_are_numbers_in_a_dump():
    dump = "CREATE TABLE `t` (`a` int, `b` int, `c` int);\nINSERT INTO `t` VALUES (-12,１２,1²);\n"
    assert parse_dump(dump) == {"t": [{"a": -12, "b": "１２", "c": "1²"}]}


# --- a dump that is not whole is refused, naming the line ---------------------------------------


@pytest.mark.parametrize(
    ("dump", "message"),
    [
        (MYSQL.replace("('only c',3);\n", "('only c',3)\n"), "line 11: the last statement has no end"),
        (MYSQL[: MYSQL.index("(2,'line")], "the last statement has no end"),
        (MYSQL[: MYSQL.index("INSERT INTO `t` (`c`")], "without mysqldump's 'Dump completed' line"),
        (MYSQL[: MYSQL.index("break'")], "the dump ends inside a quoted string"),
        (POSTGRES[: POSTGRES.index("\\.")], "the COPY block has no end"),
        (POSTGRES[: POSTGRES.index("INSERT INTO public.t VALUES (4")], "without pg_dump's 'dump complete' line"),
        ("CREATE TABLE t (a int, b int);\nINSERT INTO t VALUES (1, 2), (3);\n", "t: a row has 1 values for 2 columns"),
    ],
    ids=["no-semicolon", "cut-mid-insert", "cut-at-statement", "cut-in-string", "cut-in-copy", "pg-cut", "short-row"],
)
def test_a_dump_cut_short_is_refused_with_the_line(dump, message):
    with pytest.raises(SourceError, match=message):
        parse_dump(dump)


HAND_WRITTEN = """# vmail-sql's init-db.sql, as its author writes it: '#' comments, no dump tool
# and a comment with a quote ' in it, and one with a semicolon; here
CREATE TABLE domain (domain_name varchar(255) NOT NULL, max_popbox int);   # the domains
INSERT INTO domain VALUES ('example.com', 10);  # a trailing comment
# INSERT INTO domain VALUES ('commented.out', 1);
INSERT INTO domain (domain_name, max_popbox) VALUES ('it''s#not.a.comment', 2);
"""


def test_hash_comments_of_a_hand_written_script_are_comments():
    assert parse_dump(HAND_WRITTEN) == {
        "domain": [
            {"domain_name": "example.com", "max_popbox": 10},
            {"domain_name": "it's#not.a.comment", "max_popbox": 2},
        ]
    }


LATIN1 = "-- MySQL dump 10.13\n/*!40101 SET NAMES latin1 */;\nCREATE TABLE `t` (`a` varchar(20));\n" + (
    "INSERT INTO `t` VALUES ('J\u00fcrgen M\u00fcller');\n-- Dump completed on 2026-12-01\n"
)


def test_a_dump_in_the_encoding_it_declares_is_read_right(tmp_path):
    path = tmp_path / "latin1.sql"
    path.write_bytes(LATIN1.encode("latin-1"))
    assert DumpFile(path).table("t") == [{"a": "J\u00fcrgen M\u00fcller"}]


def test_an_undeclared_latin1_dump_is_refused_unless_the_encoding_is_given(tmp_path):
    path = tmp_path / "latin1.sql"
    path.write_bytes(LATIN1.replace("/*!40101 SET NAMES latin1 */;\n", "").encode("latin-1"))
    with pytest.raises(SourceError, match=r"line 3: byte 0xfc is not valid UTF-8 \(give --encoding"):
        DumpFile(path)
    assert DumpFile(path, "latin-1").table("t") == [{"a": "J\u00fcrgen M\u00fcller"}]
