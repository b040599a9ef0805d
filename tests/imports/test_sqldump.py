"""The SQL dump parser behind the database importers (mysqldump and pg_dump forms)."""

from imports.sqlsource import parse_dump

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
